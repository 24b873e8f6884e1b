"""Checks that MongoDB, RabbitMQ and Redis answer, each within a bound."""

import asyncio
from collections.abc import Awaitable, Callable

import aio_pika
from aio_pika.abc import AbstractRobustConnection

from infrastructure.container import Container

# The checks run together: /ready answers within this bound (plus a little), even with
# MongoDB down. The clients reconnect by themselves when their server comes back.
CHECK_TIMEOUT_SECONDS = 0.8


class ReadinessProbe:
    def __init__(self, container: Container):
        self._container = container
        self._amqp: AbstractRobustConnection | None = None

    async def check(self) -> dict[str, str]:
        checks: dict[str, Callable[[], Awaitable[object]]] = {
            "mongodb": self._mongodb,
            "rabbitmq": self._rabbitmq,
            "redis": self._redis,
        }
        results = await asyncio.gather(*(self._bounded(check) for check in checks.values()))
        return dict(zip(checks, results, strict=True))

    async def close(self) -> None:
        if self._amqp is not None:
            await self._amqp.close()

    async def _bounded(self, check: Callable[[], Awaitable[object]]) -> str:
        try:
            await asyncio.wait_for(check(), timeout=CHECK_TIMEOUT_SECONDS)
            return "ok"
        except TimeoutError:
            return "timeout"
        except Exception as error:
            return f"error: {type(error).__name__}"

    async def _mongodb(self) -> None:
        await self._container.mongo_client().admin.command("ping")

    async def _redis(self) -> None:
        await self._container.redis_client().ping()

    async def _rabbitmq(self) -> None:
        # One robust connection, kept open: it reconnects by itself after a broker restart.
        if self._amqp is None:
            self._amqp = await aio_pika.connect_robust(self._container.settings().rabbitmq_url)
        if self._amqp.is_closed:
            raise ConnectionError("rabbitmq connection is closed")
