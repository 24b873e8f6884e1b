import pytest

from application.ports import ReadModelUpdates
from application.queries.read_your_writes import ReadModelWait

pytestmark = pytest.mark.unit


class AnnouncingWithoutPause(ReadModelUpdates):
    """A projector announcing a batch at every moment: the worst a waiting reader can see."""

    def __init__(self) -> None:
        self._seen = 0

    def changes_seen(self) -> int:
        self._seen += 1
        return self._seen

    async def wait_for_change(self, seen: int, timeout: float) -> None:
        return None


async def test_a_wait_reads_a_bounded_number_of_times_however_often_the_projector_announces():
    wait = ReadModelWait(AnnouncingWithoutPause(), max_wait_seconds=0.3)
    reads = 0

    async def never_there() -> None:
        nonlocal reads
        reads += 1
        return None

    assert await wait.until(never_there) is None
    assert 1 < reads <= wait.max_reads() == 7
