"""Rate limits per user and per business, counted in Redis so that every API process
shares them. Answers `429` with `Retry-After`; every limited response carries the
`RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` headers (IETF draft) of
the tighter limit.

- A business's quota is spent only by its own users: a request counts against the business
  in its path only if the token may act for it and the id has the contract's shape (another
  tenant's requests end in a 404 and cost that business nothing).
- A denied request consumes nothing: both counters are checked, then both are counted, in
  one Lua script (one round trip, atomic).
- When Redis is away the limits are enforced per process, in memory, with the same figures
  (so N API processes let through at most N times a limit), and Redis is skipped for
  `PAUSE_AFTER_FAILURE_SECONDS`: a limiter that fails open would be unlimited exactly when
  the system is weakest, and one that fails closed would take the API down with Redis.
"""

import hashlib
import math
import time
from dataclasses import dataclass

import redis.asyncio as redis
import structlog
from limits import RateLimitItem, parse
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from interfaces.http.auth import BUSINESS_ID_PATTERN, Principal
from interfaces.http.problems import PROBLEM_MEDIA_TYPE

log = structlog.get_logger(__name__)

PAUSE_AFTER_FAILURE_SECONDS = 5.0
# KEYS[i]: the counter of limit i in the current window; ARGV[2i-1]: its limit, ARGV[2i]:
# its window in seconds. Returns {allowed, count 1, count 2, ...}.
CHECK_THEN_COUNT = """
local counts = {}
local allowed = 1
for i, key in ipairs(KEYS) do
  counts[i] = tonumber(redis.call('GET', key) or '0')
  if counts[i] >= tonumber(ARGV[2 * i - 1]) then allowed = 0 end
end
if allowed == 1 then
  for i, key in ipairs(KEYS) do
    counts[i] = redis.call('INCR', key)
    if counts[i] == 1 then redis.call('EXPIRE', key, ARGV[2 * i]) end
  end
end
table.insert(counts, 1, allowed)
return counts
"""


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset_in: int


class LocalWindows:
    """The same fixed windows, in this process's memory: the limits while Redis is away."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}

    def check_then_count(self, keys: list[str], limits: list[int]) -> tuple[bool, list[int]]:
        counts = [self._counts.get(key, 0) for key in keys]
        allowed = all(count < limit for count, limit in zip(counts, limits, strict=True))
        if allowed:
            for key in keys:
                self._counts[key] = self._counts.get(key, 0) + 1
            counts = [count + 1 for count in counts]
        if len(self._counts) > 100_000:  # windows that are over: forget them
            current = set(keys)
            self._counts = {key: count for key, count in self._counts.items() if key in current}
        return allowed, counts


class RateLimits(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    def __init__(self, redis_url: str, key_prefix: str, per_user: str, per_business: str):
        self._redis = redis.from_url(redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._script = self._redis.register_script(CHECK_THEN_COUNT)
        self._prefix = f"{key_prefix}ratelimit"
        self._per_user: RateLimitItem = parse(per_user)
        self._per_business: RateLimitItem = parse(per_business)
        self._local = LocalWindows()
        self._redis_paused_until = 0.0
        self._last_warning = 0.0

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        principal = scope.get("user")
        if not isinstance(principal, Principal):
            await next_app(scope, receive, send)  # public routes: health, docs
            return
        verdict = await self._check(self._limits_of(principal, scope.get("path_params", {}).get("business_id")))
        headers = {
            "RateLimit-Limit": str(verdict.limit),
            "RateLimit-Remaining": str(verdict.remaining),
            "RateLimit-Reset": str(verdict.reset_in),
        }
        if not verdict.allowed:
            await _too_many_requests(send, headers, verdict.reset_in)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableScopeHeaders.from_message(message)
                for name, value in headers.items():
                    response_headers[name] = value
            await send(message)

        await next_app(scope, receive, send_with_headers)

    def _limits_of(self, principal: Principal, business_id: object) -> list[tuple[RateLimitItem, str]]:
        # The subject is the token's to choose: hashed, so a key's length is bounded.
        user = hashlib.sha256(principal.user_id.encode()).hexdigest()[:32]
        limits = [(self._per_user, f"user:{user}")]
        if (
            isinstance(business_id, str)
            and BUSINESS_ID_PATTERN.match(business_id)
            and business_id in principal.business_ids
        ):
            limits.append((self._per_business, f"business:{business_id}"))
        return limits

    async def _check(self, limits: list[tuple[RateLimitItem, str]]) -> Verdict:
        now = time.time()
        keys, amounts, arguments, resets = [], [], [], []
        for item, identity in limits:
            window = item.get_expiry()
            keys.append(f"{self._prefix}:{identity}:{window}:{int(now // window)}")
            amounts.append(item.amount)
            arguments += [item.amount, window]
            resets.append(max(1, math.ceil(window - now % window)))
        allowed, counts = await self._count(keys, amounts, arguments)
        remaining = [max(0, amount - count) for amount, count in zip(amounts, counts, strict=True)]
        tightest = min(range(len(keys)), key=lambda index: remaining[index])
        return Verdict(allowed, amounts[tightest], remaining[tightest], resets[tightest])

    async def _count(self, keys: list[str], amounts: list[int], arguments: list[int]) -> tuple[bool, list[int]]:
        if time.monotonic() >= self._redis_paused_until:
            try:
                allowed, *counts = await self._script(keys=keys, args=arguments)
                return bool(allowed), [int(count) for count in counts]
            except (redis.RedisError, OSError) as error:
                self._redis_paused_until = time.monotonic() + PAUSE_AFTER_FAILURE_SECONDS
                self._warn(error)
        return self._local.check_then_count(keys, amounts)

    def _warn(self, error: Exception) -> None:
        if time.monotonic() - self._last_warning > 30:
            self._last_warning = time.monotonic()
            log.warning("Redis is unavailable, rate limits are enforced per process: %s", error)


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
