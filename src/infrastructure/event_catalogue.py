"""The AsyncAPI document of every event published on the `customers` exchange, generated
from the event classes: the envelope (`PublishedEvent`) with each event's `data` schema.

`docs/asyncapi.json` is this document, committed; a test fails when they differ
(`crm events-catalogue > docs/asyncapi.json` regenerates it). The API serves it at
`/api/events`.
"""

from typing import Any

from domain.customer.events import CUSTOMER_EVENT_TYPES
from infrastructure.event_codec import PublishedEvent

ASYNCAPI_VERSION = "3.0.0"


def event_catalogue(exchange: str = "customers") -> dict[str, Any]:
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for event_class in sorted(CUSTOMER_EVENT_TYPES.values(), key=lambda event: event.routing_key):
        if not event_class.published:
            continue
        name = event_class.routing_key.replace(".", "_")
        data_schema = event_class.model_json_schema(ref_template="#/components/schemas/{model}")
        for definition_name, definition in data_schema.pop("$defs", {}).items():
            schemas[definition_name] = definition
        schemas[event_class.__name__] = data_schema
        envelope = PublishedEvent.model_json_schema(ref_template="#/components/schemas/{model}")
        for definition_name, definition in envelope.pop("$defs", {}).items():
            schemas[definition_name] = definition
        envelope["properties"]["event_type"] = {"const": event_class.routing_key, "type": "string"}
        envelope["properties"]["schema_version"] = {"const": event_class.schema_version, "type": "integer"}
        envelope["properties"]["data"] = {"$ref": f"#/components/schemas/{event_class.__name__}"}
        envelope["title"] = f"{event_class.routing_key} v{event_class.schema_version}"
        messages[name] = {
            "name": event_class.routing_key,
            "title": event_class.__name__,
            "summary": (event_class.__doc__ or "").strip() or None,
            "contentType": "application/json",
            "payload": envelope,
            "bindings": {"amqp": {"messageType": event_class.routing_key, "deliveryMode": 2}},
            "x-schema-version": event_class.schema_version,
        }
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "crm: events on the customers exchange",
            "version": "1.0.0",
            "description": "Every event the customer service publishes. Routing key = event_type; at least once, "
            "in global-position order; deduplicate by event_id or (customer_id, version).",
        },
        "channels": {
            exchange: {
                "address": exchange,
                "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in messages},
                "bindings": {"amqp": {"is": "routingKey", "exchange": {"name": exchange, "type": "topic", "durable": True}}},
            }
        },
        "operations": {
            "publishCustomerEvents": {
                "action": "send",
                "channel": {"$ref": f"#/channels/{exchange}"},
                "messages": [{"$ref": f"#/channels/{exchange}/messages/{name}"} for name in messages],
            }
        },
        "components": {"messages": messages, "schemas": dict(sorted(schemas.items()))},
    }
