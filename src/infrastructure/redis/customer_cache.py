"""Customer views in Redis, in front of the read model.

Each entry is `<version>|<state as JSON>`, written by a script that refuses to replace a
newer version: a reader that fetched version N from MongoDB just before the projector
stored N+1 cannot put N back. Keys carry the cache epoch (see `cache_epoch`): a refresh
that cannot reach Redis moves the epoch on, so the entry it missed is never read again.
"""

from collections.abc import Sequence

import redis.asyncio as redis
from redis.exceptions import RedisError

from application.ports import CustomerCache
from domain.customer.state import CustomerState
from infrastructure.observability.metrics import CACHE_LOOKUPS
from infrastructure.redis.availability import RedisAvailability
from infrastructure.redis.cache_epoch import CacheEpoch

_PUT_UNLESS_NEWER = """
local current = redis.call('GET', KEYS[1])
if current then
  local cached_version = tonumber(string.match(current, '^(%d+)|'))
  if cached_version and cached_version >= tonumber(ARGV[1]) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. ARGV[2], 'EX', ARGV[3])
return 1
"""


class RedisCustomerCache(CustomerCache):
    def __init__(
        self,
        client: redis.Redis,
        key_prefix: str,
        ttl_seconds: int,
        availability: RedisAvailability,
        epoch: CacheEpoch,
    ):
        self._client = client
        self._epoch = epoch
        self._key_prefix = key_prefix
        self._ttl = ttl_seconds
        self._availability = availability
        self._put_unless_newer = client.register_script(_PUT_UNLESS_NEWER)

    async def key(self, business_id: str, customer_id: str) -> str:
        return f"{self._key_prefix}customer:{await self._epoch.current()}:{business_id}:{customer_id}"

    async def get(self, business_id: str, customer_id: str) -> CustomerState | None:
        if not self._availability.usable():
            return None
        try:
            entry = await self._client.get(await self.key(business_id, customer_id))
        except (RedisError, OSError) as error:
            self._availability.failed("read the cache", error)
            return None
        CACHE_LOOKUPS.labels("miss" if entry is None else "hit").inc()
        if entry is None:
            return None
        _, _, state = entry.partition(b"|")
        return CustomerState.model_validate_json(state)

    async def put_many(self, states: Sequence[CustomerState]) -> None:
        if not states:
            return
        if not self._availability.usable():
            await self._epoch.advance()  # a refresh skipped is an entry gone stale
            return
        try:
            async with self._client.pipeline(transaction=False) as pipeline:
                for state in states:
                    await self._put_unless_newer(
                        keys=[await self.key(state.business_id, state.id)],
                        # As the views: the purchase history stays in its own records.
                        args=[state.version, state.model_dump_json(exclude={"purchases"}), self._ttl],
                        client=pipeline,
                    )
                await pipeline.execute()
        except (RedisError, OSError) as error:
            self._availability.failed("refresh the cache", error)
            await self._epoch.advance()

    async def forget_all(self) -> int:
        """Deletes every cached customer (after a rebuild swapped the read model); returns how many."""
        forgotten = 0
        try:
            batch: list[bytes] = []
            async for key in self._client.scan_iter(match=f"{self._key_prefix}customer:*", count=1000):
                batch.append(key)
                if len(batch) >= 1000:
                    forgotten += await self._client.delete(*batch)
                    batch = []
            if batch:
                forgotten += await self._client.delete(*batch)
        except (RedisError, OSError) as error:
            # Entries left behind expire within the TTL.
            self._availability.failed("forget the cache", error)
        return forgotten
