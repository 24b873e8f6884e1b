"""JWT bearer authentication, tenancy and role guards (contract: Auth and tenancy)."""

import re
import time
from dataclasses import dataclass

import jwt
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.authentication import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import ASGIApp

# Each role includes the ones before it.
ROLES = ("viewer", "staff", "manager", "admin")
BUSINESS_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class Principal:
    user_id: str
    business_ids: frozenset[str]
    roles: frozenset[str]

    def rank(self) -> int:
        return max((ROLES.index(role) for role in self.roles if role in ROLES), default=-1)

    def has_role(self, role: str) -> bool:
        return self.rank() >= ROLES.index(role)


class JWTAuthenticationMiddleware(AbstractAuthenticationMiddleware):
    def __init__(
        self,
        app: ASGIApp,
        secret: str,
        algorithm: str,
        exclude: list[str],
        issuer: str = "",
        audience: str = "",
        max_lifetime_seconds: int = 24 * 3600,
    ):
        # OPTIONS too: Litestar's automatic OPTIONS handlers carry the controllers' guards.
        super().__init__(app, exclude=exclude, exclude_http_methods=[])
        self._secret = secret
        # Only the configured algorithm: this is what refuses `alg=none` and algorithm swaps.
        self._algorithms = [algorithm]
        self._issuer = issuer or None
        self._audience = audience or None
        self._max_lifetime = max_lifetime_seconds
        self._required = ["exp", "sub", *(["iss"] if issuer else []), *(["aud"] if audience else [])]

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthorizedException("a bearer token is required")
        try:
            claims = jwt.decode(
                token.strip(),
                self._secret,
                algorithms=self._algorithms,
                issuer=self._issuer,
                audience=self._audience,
                options={"require": self._required},
            )
        except jwt.InvalidTokenError as error:
            raise NotAuthorizedException(f"invalid token: {error}") from None
        self._refuse_long_lived(claims)
        return AuthenticationResult(user=_principal_from(claims), auth=claims)

    def _refuse_long_lived(self, claims: dict) -> None:
        """A token valid for longer than the maximum (from its `iat`, or from now) is refused:
        a leaked token must not work for months."""
        issued_at = claims.get("iat", time.time())
        if not isinstance(issued_at, int | float) or isinstance(issued_at, bool):
            raise NotAuthorizedException("invalid token: iat must be a number")
        if claims["exp"] - min(issued_at, time.time()) > self._max_lifetime:
            raise NotAuthorizedException(f"invalid token: it may live {self._max_lifetime} s at most")


def _principal_from(claims: dict) -> Principal:
    subject, business_ids, roles = claims.get("sub"), claims.get("business_ids", []), claims.get("roles", [])
    if not isinstance(subject, str) or not subject:
        raise NotAuthorizedException("invalid token: sub must be a non-empty string")
    if not _is_list_of_strings(business_ids) or not _is_list_of_strings(roles):
        raise NotAuthorizedException("invalid token: business_ids and roles must be lists of strings")
    return Principal(user_id=subject, business_ids=frozenset(business_ids), roles=frozenset(roles))


def _is_list_of_strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


# The guards are coroutines though they never wait: Litestar runs a plain function guard in
# its thread pool, a thread hop on every request.
async def tenant_guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """A business outside the token, or an id of another shape than the contract's, is
    answered as if it did not exist, before any handler reads anything."""
    business_id = connection.path_params.get("business_id")
    principal: Principal = connection.user
    if not isinstance(business_id, str) or not BUSINESS_ID_PATTERN.match(business_id):
        raise NotFoundException("customer not found")
    if business_id not in principal.business_ids:
        raise NotFoundException("customer not found")


def requires_role(role: str):
    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        principal: Principal = connection.user
        if not principal.has_role(role):
            raise PermissionDeniedException(f"this action needs the {role} role")

    guard.__name__ = f"requires_{role}"
    return guard
