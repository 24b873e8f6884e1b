"""The segment definitions a projector evaluates customers against: past half their cache
age they are used as they are and read again in the background; past the age, never."""

import asyncio
import types
from datetime import UTC, datetime

import pytest

import infrastructure.mongo.segments as segments_module
from application.segments.ports import SegmentView
from infrastructure.mongo.segments import DEFINITIONS_CACHE_SECONDS, MongoSegments

pytestmark = pytest.mark.integration


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


def segment(number: int) -> SegmentView:
    return SegmentView(
        id=f"seg_{number}", business_id="biz_1", name=f"s{number}", filter={"tag": "vip"}, created_at=datetime.now(UTC)
    )


async def live_ids(segments: MongoSegments) -> list[str]:
    return sorted(live.id for live in (await segments.live(["biz_1"]))["biz_1"])


async def test_definitions_are_read_ahead_and_never_used_past_their_age(container, monkeypatch):
    clock = Clock()
    monkeypatch.setattr(segments_module, "time", types.SimpleNamespace(monotonic=clock.monotonic))
    segments = MongoSegments(container.database())
    await segments.define(segment(1), 1)
    assert await live_ids(segments) == ["seg_1"]

    await segments.define(segment(2), 1)
    clock.now += DEFINITIONS_CACHE_SECONDS * 0.4
    assert await live_ids(segments) == ["seg_1"]  # young: trusted as it is
    clock.now += DEFINITIONS_CACHE_SECONDS * 0.2
    assert await live_ids(segments) == ["seg_1"]  # past half its age: used, and read again meanwhile
    for _ in range(100):  # the read ahead lands, without any caller waiting for it
        if await live_ids(segments) == ["seg_1", "seg_2"]:
            break
        await asyncio.sleep(0.1)
    assert await live_ids(segments) == ["seg_1", "seg_2"]

    await segments.define(segment(3), 1)
    clock.now += DEFINITIONS_CACHE_SECONDS  # idle past the age: read before use
    assert await live_ids(segments) == ["seg_1", "seg_2", "seg_3"]
