"""The AsyncAPI document of the service's messages, generated from the code:

- what it publishes on the `customers` exchange: the envelope (`PublishedEvent`, or
  `PublishedSegmentEvent`) with each event's `data` schema;
- what it consumes from the `orders` and `payments` exchanges: the inbound contract's
  models (`application.integration.messages`), which are what it accepts.

`docs/asyncapi.json` is this document, committed; a test fails when they differ
(`crm events-catalogue > docs/asyncapi.json` regenerates it), and another validates it
with the official AsyncAPI parser. The API serves it at `/api/events`.
"""

from typing import Any

from pydantic import BaseModel

from application.integration.messages import INBOUND_MESSAGE_TYPES, ROUTING_KEYS_BY_EXCHANGE
from domain.customer.events import CUSTOMER_EVENT_TYPES
from domain.events import DomainEvent
from domain.segment.events import SEGMENT_EVENT_TYPES
from infrastructure.event_codec import PublishedEvent, PublishedSegmentEvent

ASYNCAPI_VERSION = "3.1.0"
AMQP_BINDING_VERSION = "0.3.0"
SCHEMA_REF = "#/components/schemas/{model}"


class _Catalogue:
    def __init__(self) -> None:
        self.messages: dict[str, Any] = {}
        self.schemas: dict[str, Any] = {}

    def schema_of(self, model: type[BaseModel]) -> dict[str, Any]:
        """The model's JSON schema, its definitions moved to the shared components."""
        schema = model.model_json_schema(ref_template=SCHEMA_REF)
        self.schemas.update(schema.pop("$defs", {}))
        return schema

    def add_message(self, routing_key: str, title: str, summary: str, payload: dict[str, Any], version: int) -> str:
        name = routing_key.replace(".", "_")
        if name in self.messages:
            raise ValueError(f"two messages named {name}")
        message: dict[str, Any] = {
            "name": routing_key,
            "title": title,
            "contentType": "application/json",
            "payload": payload,
            "bindings": {"amqp": {"messageType": routing_key, "bindingVersion": AMQP_BINDING_VERSION}},
            "x-schema-version": version,
        }
        if summary:
            message["summary"] = summary
        self.messages[name] = message
        return name

    def add_published(self, event_class: type[DomainEvent], envelope_model: type[BaseModel]) -> str:
        self.schemas[event_class.__name__] = self.schema_of(event_class)
        envelope = self.schema_of(envelope_model)
        envelope["properties"]["event_type"] = {"const": event_class.routing_key, "type": "string"}
        envelope["properties"]["schema_version"] = {"const": event_class.schema_version, "type": "integer"}
        envelope["properties"]["data"] = {"$ref": SCHEMA_REF.format(model=event_class.__name__)}
        envelope["title"] = f"{event_class.routing_key} v{event_class.schema_version}"
        summary = (event_class.__doc__ or "").strip()
        return self.add_message(
            event_class.routing_key, event_class.__name__, summary, envelope, event_class.schema_version
        )

    def add_consumed(self, routing_key: str, model: type[BaseModel]) -> str:
        payload = self.schema_of(model)
        return self.add_message(routing_key, model.__name__, (model.__doc__ or "").strip(), payload, 1)


def _exchange_channel(exchange: str, names: list[str], description: str) -> dict[str, Any]:
    return {
        "address": exchange,
        "description": description,
        "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in names},
        "bindings": {
            "amqp": {
                "is": "routingKey",
                "exchange": {"name": exchange, "type": "topic", "durable": True, "autoDelete": False},
                "bindingVersion": AMQP_BINDING_VERSION,
            }
        },
    }


def _operation(action: str, channel: str, names: list[str], summary: str, amqp: dict[str, Any]) -> dict[str, Any]:
    return {
        "action": action,
        "summary": summary,
        "channel": {"$ref": f"#/channels/{channel}"},
        "messages": [{"$ref": f"#/channels/{channel}/messages/{name}"} for name in names],
        "bindings": {"amqp": {**amqp, "bindingVersion": AMQP_BINDING_VERSION}},
    }


def event_catalogue(exchange: str = "customers") -> dict[str, Any]:
    catalogue = _Catalogue()
    published: list[str] = []
    for customer_event in sorted(CUSTOMER_EVENT_TYPES.values(), key=lambda event: event.routing_key):
        if customer_event.published:
            published.append(catalogue.add_published(customer_event, PublishedEvent))
    for segment_event in sorted(SEGMENT_EVENT_TYPES.values(), key=lambda event: event.routing_key):
        if segment_event.published:
            published.append(catalogue.add_published(segment_event, PublishedSegmentEvent))

    channels = {
        exchange: _exchange_channel(
            exchange, published, "The service's own events, routing key = event_type (persistent messages)."
        )
    }
    operations = {
        "publishCustomerEvents": _operation(
            "send", exchange, published, "Every committed event, in global-position order", {"deliveryMode": 2}
        )
    }
    for inbound_exchange, routing_keys in ROUTING_KEYS_BY_EXCHANGE.items():
        names = [catalogue.add_consumed(key, INBOUND_MESSAGE_TYPES[key]) for key in routing_keys]
        channels[inbound_exchange] = _exchange_channel(
            inbound_exchange,
            names,
            f"The {inbound_exchange} service's events, which the integration worker consumes "
            "(../shared/contracts/inbound-events.md).",
        )
        operations[f"consume{inbound_exchange.capitalize()}Events"] = _operation(
            "receive",
            inbound_exchange,
            names,
            f"Match the people of {inbound_exchange} events to customers; a message that breaks the contract is parked",
            {"ack": True},
        )
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "crm: the events it publishes and consumes",
            "version": "1.0.0",
            "description": "Every event the customer service publishes on the customers exchange (at least once, "
            "in global-position order; deduplicate by event_id or by the stream id and version), and the order "
            "and payment events it consumes.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": catalogue.messages, "schemas": dict(sorted(catalogue.schemas.items()))},
    }
