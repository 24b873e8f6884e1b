"""One relay replica: which log partitions it relays, and when.

Replicas divide the log partitions by rendezvous hashing over the live members; a replica
holds a lease on each partition it relays. When a replica dies, its heartbeats stop, the
others stop counting it within `ttl`, and the partition's new owner takes the lease once
it has expired (at most `ttl` after the last renewal): publishing resumes within about
`ttl` seconds. A replica publishes only while its lease has more than `margin` seconds
left by its own clock, so a replica paused past its lease (it cannot know) has stopped
publishing before another can start; its progress writes are fenced by the epoch anyway.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog

from application.outbox_relay import OutboxRelay
from application.partitions import log_partition_of, owned_by
from application.ports import AppendSignal, Lease, LeaseLost, Membership, PartitionLeases, RelayProgress
from application.stopping import repeat_until_stopped

log = structlog.get_logger(__name__)

GROUP = "relay"


@dataclass
class _Held:
    lease: Lease
    valid_until: float  # monotonic
    swept: bool = False
    # Another member owns it now: handed over between two batches, never during one.
    handing_over: bool = False


class RelayWorker:
    def __init__(
        self,
        relay: OutboxRelay,
        leases: PartitionLeases,
        membership: Membership,
        progress: RelayProgress,
        appended: AppendSignal,
        member: str,
        log_partitions: int,
        ttl_seconds: float,
        margin_seconds: float,
        sweep_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self._relay = relay
        self._leases = leases
        self._membership = membership
        self._progress = progress
        self._appended = appended
        self._member = member
        self._log_partitions = log_partitions
        self._ttl = ttl_seconds
        self._margin = margin_seconds
        self._sweep_every = sweep_seconds
        self._monotonic = monotonic
        self.held: dict[int, _Held] = {}

    async def run(self, stop: asyncio.Event) -> None:
        keeper = asyncio.create_task(self._keep_leases(stop))
        try:
            next_sweep = 0.0
            while not stop.is_set():
                if keeper.done():
                    keeper.result()  # a keeper that failed ends the worker (it is restarted)
                # Businesses with the head their append announced; those a sweep finds
                # have no announced head (0): the relay reads theirs.
                businesses = await self._appended.wait(set(self.held), timeout=self._sweep_every)
                if self._monotonic() >= next_sweep:
                    for partition in list(self.held):
                        _add_unannounced(businesses, await self._progress.behind(partition))
                    next_sweep = self._monotonic() + self._sweep_every
                for partition, held in list(self.held.items()):
                    if not held.swept:  # just taken over: whatever the last holder left
                        _add_unannounced(businesses, await self._progress.behind(partition))
                        held.swept = True
                await self._relay_all(businesses)
        finally:
            keeper.cancel()
            await asyncio.gather(keeper, return_exceptions=True)
            for held in self.held.values():
                await _quietly(self._leases.release(held.lease))
            await _quietly(self._membership.leave(GROUP, self._member))
            self.held.clear()

    async def _relay_all(self, businesses: dict[str, int]) -> None:
        await self._hand_over()
        by_partition: dict[int, dict[str, int]] = {}
        for business_id, head in businesses.items():
            by_partition.setdefault(log_partition_of(business_id, self._log_partitions), {})[business_id] = head
        for partition, members in by_partition.items():
            announced = {business_id: head for business_id, head in members.items() if head}
            while (held := self.held.get(partition)) is not None and self._still_valid(held) and not held.handing_over:
                try:
                    # A batch that was not full left nothing behind: no read to find that out.
                    if await self._relay.publish_pending(held.lease, set(members), announced) < self._relay.batch_size:
                        break
                    announced = {}  # past the first batch, the heads are read again
                except LeaseLost:
                    log.warning("relay lease lost", partition=partition)
                    self.held.pop(partition, None)

    async def _hand_over(self) -> None:
        """Releases the partitions another member now owns; only here, between batches, so
        that the next owner never publishes while this one still is."""
        for partition, held in list(self.held.items()):
            if held.handing_over:
                del self.held[partition]
                await self._leases.release(held.lease)
                log.info("relay partition handed over", partition=partition)

    def _still_valid(self, held: _Held) -> bool:
        return held.valid_until - self._monotonic() > self._margin

    async def _keep_leases(self, stop: asyncio.Event) -> None:
        # A failure (the database away) is logged: the leases run out by themselves.
        await repeat_until_stopped(self.keep_leases_once, self._ttl / 4, stop, "relay lease keeping failed")

    async def keep_leases_once(self) -> None:
        members = await self._membership.heartbeat(GROUP, self._member)
        wanted = owned_by(self._member, self._log_partitions, members)
        for partition in sorted(set(self.held) - wanted):
            self.held[partition].handing_over = True
        for partition in sorted(wanted):
            started = self._monotonic()
            lease = await self._leases.acquire(GROUP, partition, self._member)
            if lease is None:
                self.held.pop(partition, None)
                continue
            held = self.held.get(partition)
            if held is None or held.lease.epoch != lease.epoch:
                log.info("relay partition taken", partition=partition, epoch=lease.epoch)
                self.held[partition] = _Held(lease, started + self._ttl)
            else:
                held.valid_until = started + self._ttl
                held.handing_over = False


async def _quietly(awaitable: Awaitable[object]) -> None:
    try:
        await awaitable
    except Exception:
        log.warning("could not release on the way out")


def _add_unannounced(businesses: dict[str, int], found: set[str]) -> None:
    for business_id in found:
        businesses.setdefault(business_id, 0)
