"""Normalizes a whole profile and enforces its invariants, for registration and every change.

Type rules (documented in docs/customer-lifecycle.md):
- a customer with neither email nor phone is `anonymous`, and only such a customer is;
- asking for another type without an email or phone is refused, as is `anonymous` with one;
- when a change gives no type: an anonymous customer who gains an email or phone becomes
  `new`; any other customer keeps its type.
"""

import re
from collections.abc import Iterable, Mapping
from typing import Any

from domain.customer.contact import clean_email, clean_name, clean_phone
from domain.customer.profile import (
    ATTRIBUTE_KEY_PATTERN,
    ATTRIBUTE_VALUE_MAX_LENGTH,
    ATTRIBUTES_MAX_COUNT,
    TAG_MAX_LENGTH,
    TAGS_MAX_COUNT,
    Address,
    CustomerSegment,
    CustomerType,
)
from domain.errors import FieldError, InvalidCustomerData

_ATTRIBUTE_KEY = re.compile(ATTRIBUTE_KEY_PATTERN)


def normalized_profile(
    values: Mapping[str, Any], current_type: CustomerType | None, default_region: str
) -> dict[str, Any]:
    """Returns the cleaned profile (every profile field), or raises InvalidCustomerData."""
    errors: list[FieldError] = []
    profile: dict[str, Any] = {
        "first_name": clean_name("first_name", values.get("first_name"), errors),
        "last_name": clean_name("last_name", values.get("last_name"), errors),
        "email": clean_email(values.get("email"), errors),
        "phone": clean_phone(values.get("phone"), default_region, errors),
        "address": _address(values.get("address")),
        "segment": CustomerSegment(values.get("segment") or CustomerSegment.WALK_IN),
        "tags": _clean_tags(values.get("tags") or (), errors),
        "attributes": _clean_attributes(values.get("attributes") or {}, errors),
    }
    if not errors and not any(profile[field] for field in ("first_name", "last_name", "email", "phone")):
        errors.append(FieldError("first_name", "at least one of first_name, last_name, email or phone is required"))
    requested = values.get("type")
    profile["type"] = _resolve_type(
        CustomerType(requested) if requested else None, current_type, bool(profile["email"] or profile["phone"]), errors
    )
    if errors:
        raise InvalidCustomerData(errors)
    return profile


def _resolve_type(
    requested: CustomerType | None, current: CustomerType | None, has_contact: bool, errors: list[FieldError]
) -> CustomerType:
    if not has_contact:
        if requested not in (None, CustomerType.ANONYMOUS):
            errors.append(FieldError("type", f"a {requested} customer needs an email or a phone"))
        return CustomerType.ANONYMOUS
    if requested == CustomerType.ANONYMOUS:
        errors.append(FieldError("type", "an anonymous customer has neither email nor phone"))
    if requested is not None:
        return requested
    if current is None or current == CustomerType.ANONYMOUS:
        return CustomerType.NEW
    return current


def _address(value: Any) -> Address | None:
    if value is None:
        return None
    address = value if isinstance(value, Address) else Address.model_validate(value)
    return address if any(address.model_dump().values()) else None


def _clean_tags(tags: Iterable[str], errors: list[FieldError]) -> tuple[str, ...]:
    cleaned: list[str] = []
    for tag in tags:
        trimmed = tag.strip()
        if not trimmed:
            continue
        if len(trimmed) > TAG_MAX_LENGTH:
            errors.append(FieldError("tags", f"each tag must be at most {TAG_MAX_LENGTH} characters"))
            continue
        if trimmed not in cleaned:
            cleaned.append(trimmed)
    if len(cleaned) > TAGS_MAX_COUNT:
        errors.append(FieldError("tags", f"at most {TAGS_MAX_COUNT} tags"))
    return tuple(cleaned)


def _clean_attributes(attributes: Mapping[str, Any], errors: list[FieldError]) -> dict[str, Any]:
    if len(attributes) > ATTRIBUTES_MAX_COUNT:
        errors.append(FieldError("attributes", f"at most {ATTRIBUTES_MAX_COUNT} attributes"))
    cleaned: dict[str, Any] = {}
    for key, value in attributes.items():
        if not _ATTRIBUTE_KEY.match(key):
            errors.append(FieldError(f"attributes.{key}", f"keys must match {ATTRIBUTE_KEY_PATTERN}"))
        elif not isinstance(value, str | int | float | bool):
            errors.append(FieldError(f"attributes.{key}", "values are strings, numbers or booleans"))
        elif isinstance(value, str) and len(value) > ATTRIBUTE_VALUE_MAX_LENGTH:
            errors.append(FieldError(f"attributes.{key}", f"at most {ATTRIBUTE_VALUE_MAX_LENGTH} characters"))
        else:
            cleaned[key] = value
    return dict(sorted(cleaned.items()))
