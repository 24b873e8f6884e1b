"""Keeps a Redis outage from slowing every request: after a failure, Redis is skipped for
a pause, and the callers take their fallback path at once instead of waiting on timeouts."""

import time

import structlog

log = structlog.get_logger(__name__)


class RedisAvailability:
    def __init__(self, pause_after_failure_seconds: float):
        self._pause = pause_after_failure_seconds
        self._skip_until = 0.0

    def usable(self) -> bool:
        return time.monotonic() >= self._skip_until

    def failed(self, action: str, error: Exception) -> None:
        if self.usable():
            log.warning("redis unavailable while trying to %s (%s); skipping it for %.0fs", action, error, self._pause)
        self._skip_until = time.monotonic() + self._pause
