"""Adapters for time and identity, which the domain never produces by itself."""

from datetime import UTC, datetime

from ulid import ULID

from application.ports import Clock, IdGenerator


class SystemClock(Clock):
    def now(self) -> datetime:
        # Millisecond precision: what MongoDB stores, so a value reads back as it was written.
        now = datetime.now(UTC)
        return now.replace(microsecond=now.microsecond // 1000 * 1000)


class UlidIdGenerator(IdGenerator):
    def new_customer_id(self) -> str:
        # ULIDs sort by creation time, which keeps index inserts at the right edge.
        return f"cus_{ULID()}"

    def new_note_id(self) -> str:
        return f"note_{ULID()}"

    def new_segment_id(self) -> str:
        return f"seg_{ULID()}"
