"""The relay's wake over Redis: each group commit announces its business's new head, and
the relay's signal hands each partition's businesses over with the furthest head."""

import asyncio

import pytest
import redis.asyncio as redis

from application.partitions import log_partition_of
from infrastructure.redis.append_signal import RedisAppendAnnouncer, RedisAppendSignal
from infrastructure.redis.availability import RedisAvailability
from tests.conftest import REDIS_URL

pytestmark = pytest.mark.integration
PARTITIONS = 4


async def test_announced_heads_reach_the_relay_of_their_partition(settings):
    channel = f"{settings.redis_key_prefix}appends"
    signal = RedisAppendSignal(redis.from_url(REDIS_URL), channel, PARTITIONS)
    announcer_client = redis.from_url(REDIS_URL)
    announcer = RedisAppendAnnouncer(announcer_client, channel, RedisAvailability(5.0))
    try:
        assert await signal.wait({0, 1, 2, 3}, timeout=1.0) == {}  # subscribes; nothing yet
        businesses = [f"biz_wake_{index}" for index in range(12)]
        mine = {b for b in businesses if log_partition_of(b, PARTITIONS) in (0, 1)}
        for business_id in businesses:
            await announcer.appended(business_id, 3)
            await announcer.appended(business_id, 7)
        await announcer_client.publish(channel, "not an announcement")
        woken: dict[str, int] = {}
        for _ in range(20):
            woken |= await signal.wait({0, 1}, timeout=0.2)
            if set(woken) == mine:
                break
            await asyncio.sleep(0.05)
        assert woken == {business_id: 7 for business_id in mine}
    finally:
        await signal.close()
        await announcer_client.aclose()
