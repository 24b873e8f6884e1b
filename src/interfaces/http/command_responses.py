"""The headers of a command's response, for every command route: `ETag` (the customer's
new version), `X-Position` (the global position of its last event, for `min_position`
reads) and, for what it created, `Location`."""

from typing import TypeVar

from litestar import Response

from application.commands.context import CommandResult
from interfaces.http.schemas import CustomerResource

T = TypeVar("T")


def etag(version: int) -> str:
    return f'"{version}"'


def command_response(result: CommandResult, content: T, status_code: int, location: str | None = None) -> Response[T]:
    headers = {"ETag": etag(result.customer.version)}
    if result.position is not None:
        headers["X-Position"] = str(result.position)
    if location:
        headers["Location"] = location
    return Response(content=content, status_code=status_code, headers=headers)


def customer_response(
    result: CommandResult, status_code: int = 200, location: str | None = None
) -> Response[CustomerResource]:
    """The customer as of the command (not a possibly stale read model), as the contract wants."""
    return command_response(result, CustomerResource.from_state(result.customer), status_code, location)
