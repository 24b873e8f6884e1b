"""Times as the store gives them back: MongoDB keeps UTC without a zone, so a datetime read
back is naive; compared with an aware one it must be made aware first."""

from datetime import UTC, datetime


def utc(moment: datetime) -> datetime:
    """Comparable whatever the store gave back (a naive datetime is UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
