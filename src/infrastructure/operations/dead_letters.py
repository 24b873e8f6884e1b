"""The dead-letter queues, as ops see them (`crm dlq list|show|redrive|purge`): one per
consumed stream (each projection, each inbound exchange), shared by its partitions.

Looking is non-destructive: messages are fetched unacknowledged on a channel of their own,
and closing that channel puts them back where they were. A redrive moves messages one at
a time, oldest first, from the dead-letter queue back into its stream's consistent-hash
exchange (not the `customers` exchange, so that no other service sees them again), which
routes each to the partition it came from; publisher-confirmed before the dead letter is
acknowledged: a crash in between duplicates a message, which the consumers drop, and
never loses one.
"""

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractRobustConnection

from application.integration.messages import ROUTING_KEYS_BY_EXCHANGE
from infrastructure.messaging.topology import Names, declare_inbound_stream, declare_projection_stream
from infrastructure.projection_routes import PROJECTION_ROUTING_KEYS

PEEK_LIMIT = 1000


@dataclass(frozen=True)
class DeadLetter:
    message_id: str | None
    event_type: str | None
    reason: str
    source_queue: str
    first_failure_at: str | None
    last_failure_at: str | None
    attempts: int | None
    correlation_id: str | None
    body: bytes

    @property
    def payload(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return self.body.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class DeadLetterQueue:
    name: str
    source_queue: str
    depth: int
    oldest_failure_at: str | None
    newest_failure_at: str | None


class UnknownDeadLetterQueue(ValueError):
    def __init__(self, name: str, known: list[str]):
        super().__init__(f"unknown dead-letter queue {name!r}; choose one of {', '.join(known)}")


def _dead_letter(message: AbstractIncomingMessage) -> DeadLetter:
    headers = message.headers or {}

    def text(key: str) -> str | None:
        value = headers.get(key)
        return value.decode() if isinstance(value, bytes) else (str(value) if value is not None else None)

    attempts = headers.get("x-crm-attempts")
    return DeadLetter(
        message_id=message.message_id,
        event_type=message.type,
        reason=text("x-crm-reason") or "(no reason recorded)",
        source_queue=text("x-crm-source-queue") or "",
        first_failure_at=text("x-crm-first-failure-at"),
        last_failure_at=text("x-crm-last-failure-at"),
        attempts=int(attempts) if isinstance(attempts, int) else None,
        correlation_id=message.correlation_id,
        body=message.body,
    )


class DeadLetterOperations:
    def __init__(self, rabbitmq_url: str, names: Names, quorum: bool, partitions: int):
        self._url = rabbitmq_url
        self._names = names
        self._quorum = quorum
        self._partitions = partitions

    def streams(self) -> dict[str, str]:
        """Each consumed stream by its short name (a projection, or `inbound.orders`) -> its full name."""
        return {
            **{projection: self._names.projection_stream(projection) for projection in PROJECTION_ROUTING_KEYS},
            **{f"inbound.{exchange}": self._names.inbound_stream(exchange) for exchange in ROUTING_KEYS_BY_EXCHANGE},
        }

    def queues(self) -> dict[str, str]:
        """Each dead-letter queue by its short name -> its full name."""
        return {short: self._names.dead_letter_queue(stream) for short, stream in self.streams().items()}

    def resolve(self, name: str) -> tuple[str, str]:
        """(dead-letter queue, stream exchange) for a short name or a full queue name."""
        for short, stream in self.streams().items():
            dead_letter_queue = self._names.dead_letter_queue(stream)
            if name in (short, dead_letter_queue):
                return dead_letter_queue, stream
        raise UnknownDeadLetterQueue(name, list(self.queues()))

    @asynccontextmanager
    async def _channel(self) -> AsyncIterator[AbstractChannel]:
        connection: AbstractRobustConnection = await aio_pika.connect_robust(self._url, timeout=5)
        try:
            channel = await connection.channel(publisher_confirms=True)
            # The queues exist even before any worker ran, so every command finds them.
            for projection, routing_keys in PROJECTION_ROUTING_KEYS.items():
                await declare_projection_stream(
                    channel,
                    self._names,
                    projection,
                    routing_keys,
                    self._partitions,
                    self._quorum,
                )
            for exchange, routing_keys in ROUTING_KEYS_BY_EXCHANGE.items():
                await declare_inbound_stream(
                    channel, self._names, exchange, routing_keys, self._partitions, self._quorum
                )
            yield channel
        finally:
            await connection.close()

    async def depths(self) -> dict[str, int]:
        async with self._channel() as channel:
            result = {}
            for dead_letter_queue in self.queues().values():
                queue = await channel.declare_queue(dead_letter_queue, passive=True)
                result[dead_letter_queue] = queue.declaration_result.message_count or 0
            return result

    async def overview(self) -> list[DeadLetterQueue]:
        overview = []
        depths = await self.depths()
        for short, dead_letter_queue in self.queues().items():
            letters = await self.peek(short, PEEK_LIMIT)
            firsts = [letter.first_failure_at for letter in letters if letter.first_failure_at]
            lasts = [letter.last_failure_at for letter in letters if letter.last_failure_at]
            overview.append(
                DeadLetterQueue(
                    dead_letter_queue,
                    self.streams()[short],
                    depths[dead_letter_queue],
                    min(firsts, default=None),
                    max(lasts, default=None),
                )
            )
        return overview

    async def peek(self, name: str, limit: int) -> list[DeadLetter]:
        dead_letter_queue, _ = self.resolve(name)
        async with self._channel() as channel:
            queue = await channel.declare_queue(dead_letter_queue, passive=True)
            letters = []
            while len(letters) < limit:
                message = await queue.get(no_ack=False, fail=False, timeout=5)
                if message is None:
                    break
                letters.append(_dead_letter(message))
            # Closing the channel hands every unacknowledged message back, in order.
            return letters

    async def redrive(self, name: str, limit: int | None, on_moved: Callable[[int, int], None]) -> int:
        dead_letter_queue, stream = self.resolve(name)
        async with self._channel() as channel:
            exchange = await channel.get_exchange(stream, ensure=False)
            queue = await channel.declare_queue(dead_letter_queue, passive=True)
            total = queue.declaration_result.message_count or 0
            if limit is not None:
                total = min(total, limit)
            moved = 0
            while moved < total:
                message = await queue.get(no_ack=False, fail=False, timeout=5)
                if message is None:
                    break
                await exchange.publish(_redriven(message), routing_key="")
                await message.ack()
                moved += 1
                on_moved(moved, total)
            return moved

    async def purge(self, name: str) -> int:
        dead_letter_queue, _ = self.resolve(name)
        async with self._channel() as channel:
            queue = await channel.declare_queue(dead_letter_queue, passive=True)
            result = await queue.purge()
            return result.message_count or 0


def _redriven(message: AbstractIncomingMessage) -> aio_pika.Message:
    # The failure headers stay: if it fails again, its first failure is still the first.
    return aio_pika.Message(
        body=message.body,
        headers={**(message.headers or {}), "x-crm-redriven": True},
        content_type=message.content_type,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=message.message_id,
        correlation_id=message.correlation_id,
        timestamp=message.timestamp,
        type=message.type,
    )
