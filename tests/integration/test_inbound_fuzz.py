"""Malformed inbound messages made by hypothesis: every one is parked, the queue never stops."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infrastructure.messaging.inbound_codec import decode_inbound
from tests.inbound import Publisher, envelope, order_placed, wait_until_processed

pytestmark = pytest.mark.integration

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
VALID = envelope("order.placed", order_placed())


def _broken_envelope(field: str, value: object) -> bytes:
    return json.dumps({**VALID, field: value}).encode()


def _broken_data(field: str, value: object) -> bytes:
    return json.dumps({**VALID, "data": {**VALID["data"], field: value}}).encode()


malformed_bodies = st.one_of(
    st.binary(max_size=200),  # not JSON, or not UTF-8
    json_values.map(lambda value: json.dumps(value).encode()),  # JSON, but no envelope
    st.builds(_broken_envelope, st.sampled_from(sorted(VALID)), json_values),
    st.builds(_broken_data, st.sampled_from(sorted(VALID["data"])), json_values),
).filter(lambda body: body != json.dumps(VALID).encode())


def _bodies(count: int) -> list[bytes]:
    """Draws `count` malformed bodies (hypothesis explores; we keep what it drew)."""
    drawn: list[bytes] = []

    @settings(max_examples=count, database=None, suppress_health_check=list(HealthCheck), deadline=None)
    @given(malformed_bodies)
    def draw(body: bytes) -> None:
        drawn.append(body)

    draw()
    return drawn[:count]


def _still_valid(body: bytes) -> bool:
    """A drawn change can leave the message valid (say, a null `last_name`): not poison."""
    try:
        decode_inbound(body)
        return True
    except Exception:
        return False


async def test_fuzzed_messages_are_all_parked_and_a_valid_one_after_them_is_processed(workers, container):
    bodies = [body for body in _bodies(60) if not _still_valid(body)]
    assert len(bodies) >= 30
    names = container.amqp_names()
    good = envelope("order.placed", order_placed("ord_after_the_fuzz"))
    async with Publisher(container) as publisher:
        for body in bodies:
            await publisher.publish_raw(body, "order.placed")
        await publisher.publish(good)
        await wait_until_processed(container, good["event_id"], seconds=60)
        dead_letters = await publisher.channel.declare_queue(
            names.dead_letter_queue(names.inbound_stream("orders")), passive=True
        )
        parked = []
        for _ in bodies:
            message = await dead_letters.get(timeout=10)
            parked.append(message.body)
            assert message.headers["x-crm-reason-code"] in (
                "invalid_json",
                "schema_mismatch",
                "unknown_event_type",
                "unknown_schema_version",
                "too_large",
            )
            await message.ack()
        assert await dead_letters.get(fail=False) is None
    assert sorted(parked) == sorted(bodies)
