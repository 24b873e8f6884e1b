"""Rate limits per user and per business, counted in Redis so that every API process
shares them. Answers `429` with `Retry-After`; every limited response carries the
`RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` headers (IETF draft) of
the tighter limit. If Redis is away, requests pass: a limiter must not take the API down."""

import logging
import math
import time

from limits import RateLimitItem, parse
from limits.aio.storage import RedisStorage
from limits.aio.strategies import FixedWindowRateLimiter
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from interfaces.http.auth import Principal
from interfaces.http.problems import PROBLEM_MEDIA_TYPE

log = logging.getLogger(__name__)


class RateLimits(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    def __init__(self, redis_url: str, key_prefix: str, per_user: str, per_business: str):
        self._limiter = FixedWindowRateLimiter(
            RedisStorage(redis_url, implementation="redispy", key_prefix=f"{key_prefix}ratelimit", socket_timeout=0.5)
        )
        self._per_user: RateLimitItem = parse(per_user)
        self._per_business: RateLimitItem = parse(per_business)
        self._last_warning = 0.0

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        principal = scope.get("user")
        if not isinstance(principal, Principal):
            await next_app(scope, receive, send)  # public routes: health, docs
            return
        business_id = str(scope.get("path_params", {}).get("business_id", "-"))
        try:
            verdict = await self._check([
                (self._per_user, ("user", principal.user_id)),
                (self._per_business, ("business", business_id)),
            ])
        except Exception as error:  # Redis away: let the request through
            self._warn(error)
            await next_app(scope, receive, send)
            return
        allowed, limit, remaining, reset_in = verdict
        headers = {
            "RateLimit-Limit": str(limit),
            "RateLimit-Remaining": str(remaining),
            "RateLimit-Reset": str(reset_in),
        }
        if not allowed:
            await _too_many_requests(send, headers, reset_in)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableScopeHeaders.from_message(message)
                for name, value in headers.items():
                    response_headers[name] = value
            await send(message)

        await next_app(scope, receive, send_with_headers)

    async def _check(self, limits: list[tuple[RateLimitItem, tuple[str, str]]]) -> tuple[bool, int, int, int]:
        allowed = True
        tightest: tuple[int, int, int] | None = None
        for item, identifiers in limits:
            allowed = await self._limiter.hit(item, *identifiers) and allowed
            stats = await self._limiter.get_window_stats(item, *identifiers)
            reset_in = max(1, math.ceil(stats.reset_time - time.time()))
            if tightest is None or stats.remaining < tightest[1]:
                tightest = (item.amount, stats.remaining, reset_in)
        assert tightest is not None
        return allowed, *tightest

    def _warn(self, error: Exception) -> None:
        if time.monotonic() - self._last_warning > 30:
            self._last_warning = time.monotonic()
            log.warning("rate limits not enforced, Redis is unavailable: %s", error)


async def _too_many_requests(send: Send, headers: dict[str, str], retry_after: int) -> None:
    body = (
        '{"type":"https://crm.example/problems/rate-limited","title":"Too Many Requests","status":429,'
        f'"detail":"rate limit reached; retry in {retry_after} s"}}'
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(retry_after).encode()),
                *((name.lower().encode(), value.encode()) for name, value in headers.items()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
