import io
import json
import logging

import pytest
import structlog

from infrastructure.observability.logs import configure_logging

pytestmark = pytest.mark.unit


@pytest.fixture
def json_log_lines():
    """What the configured root handler writes, as parsed lines."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("INFO")
    written = io.StringIO()
    root.handlers[0].setStream(written)
    yield lambda: [json.loads(line) for line in written.getvalue().splitlines()]
    root.handlers, root.level = handlers, level
    structlog.reset_defaults()


def test_the_service_and_the_libraries_it_uses_log_one_json_object_a_line(json_log_lines):
    with structlog.contextvars.bound_contextvars(correlation_id="corr-1"):
        structlog.get_logger("application.outbox_relay").warning("batch %s failed", 7, attempt=2)
        logging.getLogger("aio_pika.robust_connection").warning("connection lost %s, reconnecting", "amqp://x")
    logging.getLogger("pymongo").debug("below the level")

    service, library = json_log_lines()
    assert service | {"timestamp": None} == {
        "event": "batch 7 failed",
        "attempt": 2,
        "level": "warning",
        "logger": "application.outbox_relay",
        "correlation_id": "corr-1",
        "timestamp": None,
    }
    assert library | {"timestamp": None} == {
        "event": "connection lost amqp://x, reconnecting",
        "level": "warning",
        "logger": "aio_pika.robust_connection",
        "correlation_id": "corr-1",
        "timestamp": None,
    }
