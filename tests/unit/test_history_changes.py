"""The from/to values of history entries, folded from the events (`application.queries.history_changes`)."""

from datetime import UTC, datetime, timedelta

import pytest

from application.events import EventMetadata, RecordedEvent
from application.queries.history_changes import changes_by_version
from domain.customer.aggregate import Customer, ProfileInput

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def recorded(customer: Customer) -> list[RecordedEvent]:
    metadata = EventMetadata(business_id="biz_1", actor="user_1", correlation_id="c", causation_id="c")
    return [
        RecordedEvent(
            event_id=f"e{version}",
            stream_id=customer.id,
            version=version,
            position=version,
            recorded_at=NOW,
            metadata=metadata,
            event=event,
        )
        for version, event in enumerate(customer.pending_events, start=1)
    ]


def customer_with_changes() -> Customer:
    customer = Customer.register(
        customer_id="cus_1", business_id="biz_1", profile=ProfileInput(first_name="Ana"), default_region="PT", now=NOW
    )
    later = NOW + timedelta(hours=1)
    customer.update_profile({"email": "ana@example.com"}, "PT", later)  # v2, and the type's move: v3
    customer.update_preferences({"language": "pt"}, later)  # v4
    customer.record_consent("offers", True, "app", None, later)  # v5
    return customer


def test_each_changed_field_has_its_value_before_and_after():
    customer = customer_with_changes()
    stream = recorded(customer)
    changes = changes_by_version("cus_1", stream, {r.version: r.event.changed_fields() for r in stream})
    assert changes[1]["first_name"] == {"from": None, "to": "Ana"}
    assert changes[2] == {"email": {"from": None, "to": "ana@example.com"}}
    assert changes[3] == {"type": {"from": "anonymous", "to": "new"}}
    assert changes[4] == {"preferences.language": {"from": None, "to": "pt"}}
    assert changes[5]["consents.offers"]["from"] is None
    assert changes[5]["consents.offers"]["to"]["granted"] is True


def test_once_erased_the_past_holds_no_personal_data():
    customer = customer_with_changes()
    customer.erase(NOW + timedelta(days=1))
    changes = changes_by_version("cus_1", recorded(customer), {2: ("email",), 6: ("status", "email")})
    assert changes[2] == {"email": {"from": None, "to": None}}
    assert changes[6] == {"status": {"from": "active", "to": "erased"}, "email": {"from": None, "to": None}}
