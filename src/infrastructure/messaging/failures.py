import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from pymongo.errors import ConnectionFailure, OperationFailure, PyMongoError, ServerSelectionTimeoutError

from application.errors import VersionConflict

T = TypeVar("T")

# An AMQP call that starts a consumer (a channel, its QoS, the consume) and has not
# answered within this failed: after RabbitMQ closed a connection with 541, one
# partition's start once waited for good, without an error (four tests of a CI run).
AMQP_SETUP_SECONDS = 15.0


def is_transient(error: BaseException) -> bool:
    """A failure that goes away by itself: a server away or too busy to answer in time
    (a transaction past its `pymongo.timeout`, say behind a collection rename), or a
    concurrent writer."""
    if isinstance(error, (ConnectionFailure, ServerSelectionTimeoutError, VersionConflict, ConnectionError)):
        return True
    if isinstance(error, PyMongoError) and error.timeout:
        return True
    if isinstance(error, OperationFailure):
        return error.has_error_label("TransientTransactionError") or error.has_error_label("RetryableWriteError")
    return False


async def retrying_transient(operation: Callable[[], Awaitable[T]], attempts: int = 8) -> T:
    """`operation()`, again after a growing pause while it fails transiently."""
    for attempt in range(1, attempts + 1):
        try:
            return await operation()
        except Exception as error:
            if attempt == attempts or not is_transient(error):
                raise
            await asyncio.sleep(min(0.05 * 2**attempt, 5.0))
    raise AssertionError("unreachable")
