"""The access log, written off the request path and never lost.

A read appends its record to this process's spool file (one `write` to a local file, no
network) and goes on; a background task ships the spool to MongoDB in batches, a few
times a second, and only then moves past what it shipped. A process killed at any moment
leaves its spool file behind, locked by nobody: the next process to look (at start, then
every `ADOPT_EVERY_SECONDS`) ships it and deletes it. Every record has an id, so one
shipped twice (a crash between the insert and moving on) is stored once.

What the spool does not protect against is the loss of the machine's disk itself; the
spool directory belongs on the same durable volume as the service's other state.
"""

import asyncio
import fcntl
import json
import os
import uuid
from datetime import datetime
from pathlib import Path

import structlog

from application.ports import AccessLog, AccessLogQuery, AccessLogSlice, AccessRecord
from infrastructure.mongo.access_log import MongoAccessLog

log = structlog.get_logger(__name__)

SHIP_EVERY_SECONDS = 0.2
ADOPT_EVERY_SECONDS = 10.0
BATCH = 500
# A spool file fully shipped and bigger than this starts again from empty.
ROTATE_BYTES = 1_000_000


class SpooledAccessLog(AccessLog):
    def __init__(self, store: MongoAccessLog, directory: str):
        self._store = store
        self._directory = Path(directory)
        self._path: Path | None = None
        self._fd: int | None = None
        self._shipped = 0
        self._written = 0
        self._shipper: asyncio.Task | None = None
        self._lock = asyncio.Lock()

    async def record(self, record: AccessRecord) -> None:
        line = json.dumps({"_id": str(uuid.uuid4()), **record.model_dump(mode="json")}, separators=(",", ":")) + "\n"
        fd = self._open()
        self._written += os.write(fd, line.encode())
        # No wake-up: the shipper's next round takes it, with whatever else came meanwhile.
        if self._shipper is None or self._shipper.done():
            self._shipper = asyncio.create_task(self._ship_forever())

    async def record_into(self, entry_id: str, record: AccessRecord) -> None:
        # An entry that grows is written in place, not spooled: the export it logs reads the
        # database page by page anyway, and stops if the database is away.
        await self._store.record_into(entry_id, record)

    async def about(self, business_id: str, customer_id: str | None, limit: int) -> list[AccessRecord]:
        # What this process has logged is readable at once; other processes', a moment later.
        await self.flush()
        return await self._store.about(business_id, customer_id, limit)

    async def page(self, query: AccessLogQuery) -> AccessLogSlice:
        await self.flush()
        return await self._store.page(query)

    async def flush(self) -> None:
        async with self._lock:
            if self._fd is not None and self._path is not None:
                self._shipped = await self._ship(self._fd, self._shipped)

    async def close(self) -> None:
        if self._shipper is not None:
            self._shipper.cancel()
            await asyncio.gather(self._shipper, return_exceptions=True)
        await self.flush()
        if self._fd is not None and self._path is not None and self._shipped == self._written:
            self._path.unlink(missing_ok=True)
            os.close(self._fd)
            self._fd = None

    def _open(self) -> int:
        if self._fd is None:
            self._directory.mkdir(parents=True, exist_ok=True)
            self._path = self._directory / f"{os.getpid()}-{uuid.uuid4().hex[:8]}.jsonl"
            self._fd = os.open(self._path, os.O_CREAT | os.O_RDWR | os.O_APPEND, 0o600)
            # Held while this process lives: a file nobody holds belongs to a dead process.
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return self._fd

    async def _ship_forever(self) -> None:
        next_adoption = 0.0
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(SHIP_EVERY_SECONDS)
            try:
                await self.flush()
                self._rotate_if_shipped()
                if loop.time() >= next_adoption:
                    await self._adopt_orphans()
                    next_adoption = loop.time() + ADOPT_EVERY_SECONDS
            except Exception:  # the database away: the spool keeps everything until it is back
                log.warning("access log shipping failed; it stays in the spool", exc_info=True)
                await asyncio.sleep(1.0)

    async def _ship(self, fd: int, offset: int) -> int:
        """Ships the complete lines after `offset`; returns the offset after them."""
        while True:
            data = os.pread(fd, 1_000_000, offset)
            end = data.rfind(b"\n")
            if end < 0:
                return offset
            lines = data[: end + 1].splitlines()
            for start in range(0, len(lines), BATCH):
                await self._store.record_many([_parsed(line) for line in lines[start : start + BATCH]])
            offset += end + 1

    def _rotate_if_shipped(self) -> None:
        if self._fd is not None and self._shipped == self._written and self._written > ROTATE_BYTES:
            os.ftruncate(self._fd, 0)
            self._shipped = self._written = 0

    async def _adopt_orphans(self) -> None:
        if not self._directory.exists():
            return
        for path in sorted(self._directory.glob("*.jsonl")):
            if path == self._path:
                continue
            try:
                fd = os.open(path, os.O_RDWR)
            except FileNotFoundError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)  # a live process's
                continue
            try:
                await self._ship(fd, 0)
                path.unlink(missing_ok=True)
                log.info("shipped the access log a stopped process left", spool=path.name)
            finally:
                os.close(fd)


def _parsed(line: bytes) -> dict:
    document = json.loads(line)
    document["at"] = datetime.fromisoformat(document["at"])
    document["customer_ids"] = list(document["customer_ids"])
    return document
