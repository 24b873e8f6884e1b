"""How work is divided: log partitions by business, and which live member owns a partition.

- A business's events are relayed by the owner of its *log partition*
  (`log_partition_of`), so one relay publishes a business's log in order.
- Replicas of a worker divide partitions by rendezvous (highest-random-weight) hashing
  over the live members: every member computes the same owner from the same member list,
  with no coordinator, and when a member joins or dies only the partitions it gains or
  loses move.

The hash is SHA-1 based, not Python's `hash` (which is salted per process).
"""

import hashlib
from collections.abc import Iterable


def stable_hash(*parts: str) -> int:
    digest = hashlib.sha1("\x1f".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def log_partition_of(business_id: str, log_partitions: int) -> int:
    return stable_hash("log", business_id) % log_partitions


def owner_of(partition: int, members: Iterable[str]) -> str | None:
    """The member that owns `partition` among `members`, or None when there is none."""
    return max(members, key=lambda member: (stable_hash(member, str(partition)), member), default=None)


def owned_by(member: str, partitions: int, members: Iterable[str]) -> set[int]:
    """The partitions `member` owns when `members` are alive (it counts itself in)."""
    everyone = {*members, member}
    return {partition for partition in range(partitions) if owner_of(partition, everyone) == member}
