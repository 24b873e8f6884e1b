"""Fences: where the pages of one index range of a business may cut.

A list page reads one index range: equalities (business, status, maybe one facet or
search term) and a range of sort keys. SecantusDB reads a whole range before it limits, so
a page is cheap only when its range holds about a page of entries; MongoDB stops at the
page either way. Fences are sort keys that split the range into buckets of about `BUCKET`
entries, with the count each held when last seen, so a page picks a range of a bucket or
two ending at a fence.

Fences are only an optimization: any set of them gives the same pages, exactly. Readers
keep them: a read that went through a bucket has seen all of its keys, and splits it when
it has grown past `SPLIT`, or joins it with its neighbours when they have shrunk. The first
read of a list range that has no fences yet reads the whole range once (keys only); a
filter's range (a facet, a search term) with none starts from a copy of its list's, and
lays its own as its pages read it.
"""

import bisect
import re
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from pymongo.asynchronous.database import AsyncDatabase

from application.ports import Clock
from application.projections.customer_query_fields import SORT_KEY_SEPARATOR
from infrastructure.mongo.documents import ListFences as ListFencesDocument

BUCKET = 32
SPLIT = 2 * BUCKET
# A process trusts fences it read this recently (they only ever cost time when stale).
CACHE_SECONDS = 5.0


@dataclass
class Fences:
    """Buckets: (-inf, f0), [f0, f1), ..., [f(n-1), +inf); `counts` has n+1 entries."""

    keys: list[str] = field(default_factory=list)
    counts: list[int] = field(default_factory=lambda: [0])
    known: bool = False

    def copy(self) -> "Fences":
        return Fences(list(self.keys), list(self.counts), self.known)

    def bucket_of(self, key: str) -> int:
        """The bucket holding `key`."""
        return bisect.bisect_right(self.keys, key)

    def bucket_before(self, key: str) -> int:
        """The bucket holding the keys just below `key`."""
        return bisect.bisect_left(self.keys, key)

    def lower(self, bucket: int) -> str | None:
        return self.keys[bucket - 1] if bucket > 0 else None

    def upper(self, bucket: int) -> str | None:
        return self.keys[bucket] if bucket < len(self.keys) else None

    @property
    def buckets(self) -> int:
        return len(self.keys) + 1

    def learn(self, first: int, last: int, keys: list[str]) -> bool:
        """Buckets `first..last` held exactly `keys` (sorted): re-cut them. True if changed."""
        inner = _cut(keys)
        counts = _counts(keys, inner)
        old_keys, old_counts = self.keys[first:last], self.counts[first : last + 1]
        if old_keys == inner and old_counts == counts:
            return False
        self.keys[first:last] = inner
        self.counts[first : last + 1] = counts
        self.known = True
        return True

    def forget(self, doomed: Callable[[str], bool]) -> bool:
        """Removes the fences `doomed` picks, each joining the two buckets it parted. True if any."""
        changed, index = False, 0
        while index < len(self.keys):
            if doomed(self.keys[index]):
                self.counts[index : index + 2] = [self.counts[index] + self.counts[index + 1]]
                del self.keys[index]
                changed = True
            else:
                index += 1
        return changed


async def forget_customers_in_name_fences(collection, business_id: str, customer_ids: Collection[str]) -> None:
    """Fences of the name order are names: an erasure removes its customers' (any name they
    ever had: a key ends with its customer's id) from every range of their business sorted
    by name. The rest of those fences stay, so no list by name has to read its whole range
    again. A range re-cut meanwhile by a reader is dropped instead (read again at its next list)."""
    suffixes = tuple(f"{SORT_KEY_SEPARATOR}{customer_id}" for customer_id in customer_ids)
    async for document in collection.find({"_id": {"$regex": f"^{re.escape(business_id)}\\|.*\\|last_name$"}}):
        fences = Fences(list(document["fences"]), list(document["counts"]), known=True)
        if not fences.forget(lambda key: key.endswith(suffixes)):
            continue
        kept = await collection.update_one(
            {"_id": document["_id"], "fences": document["fences"]},
            {"$set": {"fences": fences.keys, "counts": fences.counts}},
        )
        if kept.matched_count == 0:
            await collection.delete_one({"_id": document["_id"]})


def _cut(keys: list[str]) -> list[str]:
    """Fences inside a run of keys: every BUCKET-th key, none when the run is small."""
    if len(keys) <= SPLIT:
        return []
    return keys[BUCKET::BUCKET]


def _counts(keys: list[str], fences: list[str]) -> list[int]:
    edges = [0, *(bisect.bisect_left(keys, fence) for fence in fences), len(keys)]
    return [edges[index + 1] - edges[index] for index in range(len(edges) - 1)]


# Per database, shared by the stores of a process (the API's, a rebuild's).
_CACHES: dict[str, dict[str, tuple[float, "Fences"]]] = {}


class ListFenceStore:
    def __init__(self, database: AsyncDatabase, clock: Clock):
        self._documents = database[ListFencesDocument.Settings.name]
        self._clock = clock
        self._cache: dict[str, tuple[float, Fences]] = _CACHES.setdefault(database.name, {})

    async def load(self, fence_id: str) -> Fences:
        cached = self._cache.get(fence_id)
        if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        document = await self._documents.find_one({"_id": fence_id})
        # Fences this process saved while the read was on its way are newer than it: a page
        # that laid them must not be undone by a read that began before.
        meanwhile = self._cache.get(fence_id)
        if meanwhile is not cached and meanwhile is not None and meanwhile[1].known:
            return meanwhile[1]
        fences = Fences(list(document["fences"]), list(document["counts"]), known=True) if document else Fences()
        if len(fences.counts) != len(fences.keys) + 1:  # written by other code: start over
            fences = Fences()
        self._cache[fence_id] = (time.monotonic(), fences)
        return fences

    async def save(self, fence_id: str, fences: Fences) -> None:
        self._cache[fence_id] = (time.monotonic(), fences)
        await self._documents.replace_one(
            {"_id": fence_id},
            {"fences": fences.keys, "counts": fences.counts, "updated_at": self._clock.now()},
            upsert=True,
        )
