"""A segment's filter as JSON: the list parameters of `GET /customers`, as an object.

`{"type": "regular", "min_purchases": 2, "consent": ["marketing_email"], "attr.card": "gold"}`
is the filter of `?type=regular&min_purchases=2&consent=marketing_email&attr.card=gold`.
Paging parameters (sort, limit, cursor) are not filters: an unknown key is refused.
"""

import json
from typing import Any

from application.customer_filters import CustomerFilter

ATTRIBUTE_PREFIX = "attr."


def filter_from_json(document: dict[str, Any], strict: bool = False) -> CustomerFilter:
    """Raises pydantic's ValidationError (a 422) for an unknown key or a bad value. `strict`
    (a client's new filter) takes JSON's types as they are: `"false"` or `0` is no boolean."""
    fields = {key: value for key, value in document.items() if not key.startswith(ATTRIBUTE_PREFIX)}
    attributes = {
        key.removeprefix(ATTRIBUTE_PREFIX): value for key, value in document.items() if key.startswith(ATTRIBUTE_PREFIX)
    }
    if isinstance(fields.get("consent"), str):
        fields["consent"] = [fields["consent"]]
    complete = {**fields, **({"attributes": attributes} if attributes else {})}
    if strict:
        # JSON has one number type: 5.0 is the integer 5 (as JSON Schema says), "5" is no number.
        integral = {
            key: int(value) if isinstance(value, float) and value.is_integer() else value
            for key, value in complete.items()
        }
        return CustomerFilter.model_validate_json(json.dumps(integral), strict=True)
    return CustomerFilter.model_validate(complete)


def filter_to_json(filter_: CustomerFilter) -> dict[str, Any]:
    """The filter as a segment keeps it: only what was asked, attributes as `attr.<key>`."""
    document = filter_.model_dump(mode="json", exclude_defaults=True)
    attributes = document.pop("attributes", {})
    return {**document, **{f"{ATTRIBUTE_PREFIX}{key}": value for key, value in attributes.items()}}
