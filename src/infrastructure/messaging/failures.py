from pymongo.errors import ConnectionFailure, OperationFailure, ServerSelectionTimeoutError

from application.errors import VersionConflict


def is_transient(error: BaseException) -> bool:
    """A failure that goes away by itself: a server away, or a concurrent writer."""
    if isinstance(error, (ConnectionFailure, ServerSelectionTimeoutError, VersionConflict, ConnectionError)):
        return True
    if isinstance(error, OperationFailure):
        return error.has_error_label("TransientTransactionError") or error.has_error_label("RetryableWriteError")
    return False
