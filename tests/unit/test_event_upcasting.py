import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from domain.customer.aggregate import Customer
from domain.customer.events import ConsentRecorded, CustomerRegistered
from domain.customer.profile import CustomerSegment, CustomerType
from infrastructure.event_codec import from_document

pytestmark = pytest.mark.unit
V1_DOCUMENT = json.loads((Path(__file__).parents[1] / "fixtures" / "consent_recorded_v1.json").read_text())


def v1_document(stream_id: str = "cus_1") -> dict:
    recorded_at = datetime.fromisoformat(V1_DOCUMENT["recorded_at"])
    return {**V1_DOCUMENT, "stream_id": stream_id, "position": 2, "recorded_at": recorded_at}


def test_a_v1_consent_is_read_in_the_v2_shape():
    recorded = from_document(v1_document(), key=None)
    assert isinstance(recorded.event, ConsentRecorded)
    assert (recorded.event.purpose, recorded.event.granted, recorded.event.source) == (
        "marketing_email",
        True,
        "signup_form",
    )
    assert recorded.event.entry.at == recorded.event.occurred_at
    assert "entry" not in recorded.event.model_dump()


def test_a_customer_loads_from_a_history_holding_a_v1_event():
    registered = CustomerRegistered(
        occurred_at=datetime(2025, 3, 1, 9, 0, tzinfo=UTC),
        business_id="biz_1",
        first_name="Ana",
        type=CustomerType.NEW,
        segment=CustomerSegment.REGULAR,
    )
    customer = Customer.from_history("cus_1", [registered, from_document(v1_document(), key=None).event])
    consent = customer.state.consents["marketing_email"]
    assert (consent.granted, consent.legal_basis, customer.version) == (True, "consent", 2)


def test_a_payload_newer_than_the_code_is_refused():
    with pytest.raises(ValueError, match="newer"):
        from_document({**v1_document(), "schema_version": 3}, key=None)


def test_the_current_version_is_stored_and_published():
    assert ConsentRecorded.schema_version == 2
