import json
from pathlib import Path

import pytest

from domain.customer.events import CUSTOMER_EVENT_TYPES
from infrastructure.event_catalogue import event_catalogue

pytestmark = pytest.mark.unit
COMMITTED = Path(__file__).parents[2] / "docs" / "asyncapi.json"


def test_the_committed_asyncapi_document_is_the_one_the_code_generates():
    # If this fails: crm events-catalogue > docs/asyncapi.json
    assert json.loads(COMMITTED.read_text()) == json.loads(json.dumps(event_catalogue()))


def test_every_published_event_has_a_versioned_message_with_its_data_schema():
    messages = event_catalogue()["components"]["messages"]
    assert {message["name"] for message in messages.values()} == {
        event.routing_key for event in CUSTOMER_EVENT_TYPES.values()
    }
    linked = messages["customer_order_linked"]
    assert linked["payload"]["properties"]["schema_version"] == {"const": 1, "type": "integer"}
    schema = event_catalogue()["components"]["schemas"]["OrderLinked"]
    assert {"order_id", "first_time", "customer_snapshot"} <= set(schema["required"])
