import json
import shutil
import subprocess
from pathlib import Path

import pytest

from application.integration.messages import ROUTING_KEYS_BY_EXCHANGE
from domain.customer.events import CUSTOMER_EVENT_TYPES
from domain.segment.events import SEGMENT_EVENT_TYPES
from infrastructure.event_catalogue import event_catalogue

pytestmark = pytest.mark.unit
ROOT = Path(__file__).parents[2]
COMMITTED = ROOT / "docs" / "asyncapi.json"
PARSER = ROOT / "scripts" / "asyncapi"


def test_the_committed_asyncapi_document_is_the_one_the_code_generates():
    # If this fails: crm events-catalogue > docs/asyncapi.json
    assert json.loads(COMMITTED.read_text()) == json.loads(json.dumps(event_catalogue()))


def test_every_published_event_has_a_versioned_message_with_its_data_schema():
    messages = event_catalogue()["components"]["messages"]
    published = {event.routing_key for event in [*CUSTOMER_EVENT_TYPES.values(), *SEGMENT_EVENT_TYPES.values()]}
    consumed = {key for keys in ROUTING_KEYS_BY_EXCHANGE.values() for key in keys}
    assert {message["name"] for message in messages.values()} == published | consumed
    linked = messages["customer_order_linked"]
    assert linked["payload"]["properties"]["schema_version"] == {"const": 1, "type": "integer"}
    schema = event_catalogue()["components"]["schemas"]["OrderLinked"]
    assert {"order_id", "first_time", "customer_snapshot"} <= set(schema["required"])


def test_the_inbound_subscriptions_are_receive_operations_on_their_exchanges():
    document = event_catalogue()
    for exchange, routing_keys in ROUTING_KEYS_BY_EXCHANGE.items():
        operation = document["operations"][f"consume{exchange.capitalize()}Events"]
        assert operation["action"] == "receive"
        assert operation["channel"] == {"$ref": f"#/channels/{exchange}"}
        names = {
            document["components"]["messages"][ref["$ref"].rsplit("/", 1)[1]]["name"] for ref in operation["messages"]
        }
        assert names == set(routing_keys)
    placed = document["components"]["messages"]["order_placed"]["payload"]
    assert {"event_id", "event_type", "schema_version", "business_id", "data"} <= set(placed["required"])


def parse_with_the_official_parser(path: Path) -> tuple[int, list[dict]]:
    if shutil.which("node") is None or not (PARSER / "node_modules" / "@asyncapi" / "parser").is_dir():
        pytest.skip("the AsyncAPI parser is not installed (scripts/ensure-tools.sh installs it)")
    result = subprocess.run(
        ["node", str(PARSER / "validate.mjs"), str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    return result.returncode, [json.loads(line) for line in result.stdout.splitlines()]


def test_the_asyncapi_document_is_valid_for_the_official_parser():
    returncode, diagnostics = parse_with_the_official_parser(COMMITTED)
    assert (returncode, diagnostics) == (0, [])


def test_the_official_parser_reports_an_invalid_document(tmp_path):
    # The check above can fail: a message binding with an operation's field is an error.
    document = event_catalogue()
    document["components"]["messages"]["order_placed"]["bindings"]["amqp"]["deliveryMode"] = 2
    broken = tmp_path / "asyncapi.json"
    broken.write_text(json.dumps(document))
    returncode, diagnostics = parse_with_the_official_parser(broken)
    assert returncode == 1
    assert any(d["path"] == "components.messages.order_placed.bindings.amqp.deliveryMode" for d in diagnostics)
