"""Times in query parameters: RFC 3339 with its offset (OpenAPI's `date-time`), and nothing else.

Litestar alone would also read a bare number (`?before=0.5`) as a Unix time, and a time
without an offset as local; neither is what a client meant, so both are a `422`.
"""

import re
from datetime import datetime
from typing import Annotated, overload

from litestar.exceptions import ValidationException
from litestar.params import QueryParameter

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
EXAMPLE = "2026-11-23T10:00:00Z"


def moment_parameter(description: str) -> QueryParameter:
    return QueryParameter(
        description=f"{description} (RFC 3339, with its offset)", schema_extra={"format": "date-time"}
    )


# A query parameter holding a time; `moment(name, value)` reads it.
Moment = Annotated[str | None, moment_parameter("a time")]


@overload
def moment(name: str, text: str) -> datetime: ...
@overload
def moment(name: str, text: str | None) -> datetime | None: ...
def moment(name: str, text: str | None) -> datetime | None:
    if text is None:
        return None
    upper = text.upper()
    if _RFC3339.match(upper):
        try:
            return datetime.fromisoformat(upper)
        except ValueError:
            pass
    raise ValidationException(
        name, extra=[{"key": name, "message": f"an RFC 3339 time with its offset, e.g. {EXAMPLE}"}]
    )
