"""Which failures a consumer or a rebuild waits out, and which it gives up on."""

import pytest
from pymongo.errors import ConnectionFailure, DuplicateKeyError, ExecutionTimeout, OperationFailure

from application.errors import VersionConflict
from infrastructure.messaging.failures import is_transient, retrying_transient


@pytest.mark.parametrize(
    "error",
    [
        ConnectionFailure("away"),
        VersionConflict("customer_details", 3),
        # What PyMongo raises when a transaction outlives its `pymongo.timeout` on a busy server.
        ExecutionTimeout("operation would exceed time limit", 50),
        OperationFailure("write conflict", 112, {"errorLabels": ["TransientTransactionError"]}),
    ],
)
def test_failures_that_go_away_by_themselves_are_transient(error):
    assert is_transient(error)


@pytest.mark.parametrize("error", [DuplicateKeyError("E11000", 11000), ValueError("bad"), OperationFailure("bad", 2)])
def test_failures_that_stay_are_not(error):
    assert not is_transient(error)


async def test_a_transient_failure_is_tried_again_and_a_lasting_one_raised():
    calls = []

    async def slow_then_fine() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ExecutionTimeout("operation would exceed time limit", 50)
        return "done"

    assert await retrying_transient(slow_then_fine) == "done"
    assert len(calls) == 3

    async def broken() -> None:
        calls.append(1)
        raise ValueError("bad")

    calls.clear()
    with pytest.raises(ValueError):
        await retrying_transient(broken)
    assert len(calls) == 1
