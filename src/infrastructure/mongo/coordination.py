"""Leases, membership and the relay's progress, in MongoDB.

Times are the processes' clocks: members and leases last `ttl` seconds and are renewed
every fraction of it, so clocks must agree to well within a second (NTP), which the
margins below assume.
"""

from collections.abc import Collection, Mapping
from datetime import timedelta

from pymongo import ReturnDocument, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from application.partitions import log_partition_of
from application.ports import Clock, Lease, LeaseLost, Membership, PartitionLeases, RelayProgress
from infrastructure.mongo.documents import BusinessLog, Member
from infrastructure.mongo.documents import Lease as LeaseDocument
from infrastructure.mongo.documents import RelayProgress as RelayProgressDocument


class MongoPartitionLeases(PartitionLeases):
    def __init__(self, database: AsyncDatabase, clock: Clock, ttl_seconds: float):
        self._leases = database[LeaseDocument.Settings.name]
        self._clock = clock
        self._ttl = timedelta(seconds=ttl_seconds)

    async def acquire(self, group: str, partition: int, owner: str) -> Lease | None:
        lease_id = f"{group}|{partition}"
        now = self._clock.now()
        expires_at = now + self._ttl
        renewed = await self._leases.find_one_and_update(
            {"_id": lease_id, "owner": owner},
            {"$set": {"expires_at": expires_at}},
            return_document=ReturnDocument.AFTER,
        )
        if renewed is None:
            # Free (expired): taken, and the epoch moves on, which fences off the last holder.
            renewed = await self._leases.find_one_and_update(
                {"_id": lease_id, "expires_at": {"$lt": now}},
                {"$set": {"owner": owner, "expires_at": expires_at}, "$inc": {"epoch": 1}},
                return_document=ReturnDocument.AFTER,
            )
        if renewed is None:
            try:
                await self._leases.insert_one({"_id": lease_id, "owner": owner, "epoch": 1, "expires_at": expires_at})
            except DuplicateKeyError:
                return None  # held by another live member
            return Lease(group, partition, owner, 1)
        return Lease(group, partition, owner, renewed["epoch"])

    async def release(self, lease: Lease) -> None:
        # Expired at once, same epoch: the next holder's acquisition moves it on.
        await self._leases.update_one(
            {"_id": f"{lease.group}|{lease.partition}", "owner": lease.owner, "epoch": lease.epoch},
            {"$set": {"expires_at": self._clock.now() - self._ttl}},
        )


class MongoMembership(Membership):
    def __init__(self, database: AsyncDatabase, clock: Clock, ttl_seconds: float):
        self._members = database[Member.Settings.name]
        self._clock = clock
        self._ttl = timedelta(seconds=ttl_seconds)

    async def heartbeat(self, group: str, member: str) -> list[str]:
        now = self._clock.now()
        await self._members.update_one(
            {"_id": f"{group}|{member}"},
            {"$set": {"group": group, "member": member, "expires_at": now + self._ttl}},
            upsert=True,
        )
        cursor = self._members.find({"group": group, "expires_at": {"$gt": now}}, {"member": 1})
        return sorted([document["member"] async for document in cursor])

    async def leave(self, group: str, member: str) -> None:
        await self._members.delete_one({"_id": f"{group}|{member}"})


class MongoRelayProgress(RelayProgress):
    def __init__(self, database: AsyncDatabase, clock: Clock, log_partitions: int):
        self._progress = database[RelayProgressDocument.Settings.name]
        self._logs = database[BusinessLog.Settings.name]
        self._clock = clock
        self._log_partitions = log_partitions

    async def published(self, business_ids: Collection[str]) -> dict[str, int]:
        cursor = self._progress.find({"_id": {"$in": list(business_ids)}}, {"published": 1})
        return {document["_id"]: document["published"] async for document in cursor}

    async def record(self, lease: Lease, published: Mapping[str, int]) -> None:
        if not published:
            return
        now = self._clock.now()
        operations = [
            # Matches unless a newer epoch wrote; then the upsert collides on `_id`.
            UpdateOne(
                {"_id": business_id, "epoch": {"$lte": lease.epoch}},
                {
                    "$max": {"published": position},
                    "$set": {
                        "epoch": lease.epoch,
                        "log_partition": log_partition_of(business_id, self._log_partitions),
                        "updated_at": now,
                    },
                },
                upsert=True,
            )
            for business_id, position in published.items()
        ]
        try:
            await self._progress.bulk_write(operations, ordered=False)
        except BulkWriteError as error:
            if any(write_error.get("code") == 11000 for write_error in error.details.get("writeErrors", [])):
                raise LeaseLost(f"relay partition {lease.partition}: a newer lease holder wrote first") from None
            raise

    async def behind(self, partition: int) -> set[str]:
        heads = {
            document["_id"]: document["head"]
            async for document in self._logs.find({"log_partition": partition}, {"head": 1})
        }
        published = await self.published(list(heads)) if heads else {}
        return {business_id for business_id, head in heads.items() if head > published.get(business_id, 0)}
