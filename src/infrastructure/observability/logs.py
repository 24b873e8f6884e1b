"""Structured JSON logs (structlog), for structlog loggers and the standard library alike.

The service logs through `structlog.get_logger(__name__)`; the libraries it uses (uvicorn,
aio-pika, pymongo...) log through the standard library. Both end in the root handler
below, as one JSON object a line with `event`, `level`, `timestamp` and `logger`. A
message with `%s` arguments is rendered as the standard library would.

The correlation id is bound in `structlog.contextvars` at each step (HTTP request, event
store append, relay publish, projection apply), so every line a step writes carries it.
"""

import logging

import structlog

_SHARED = [
    structlog.contextvars.merge_contextvars,
    structlog.processors.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def configure_logging(level: str = "INFO") -> None:
    structlog.configure(
        processors=[
            *_SHARED,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_SHARED, structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
    )
    handler = logging.StreamHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    # uvicorn's access log repeats what the request log already says.
    logging.getLogger("uvicorn.access").disabled = True
