"""Normalizes a whole profile and enforces its invariants, for registration and every change.

Type rules (documented in docs/customer-lifecycle.md):
- registered without a type: `new` with an email or phone, else `anonymous`;
- asking for another type without an email or phone is refused, as is `anonymous` with one;
- when a change gives no type, the type stays here: how it then moves by itself (losing or
  gaining a contact, a first purchase) is `domain.customer.type_transitions`.
"""

import re
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from domain.customer.contact import clean_email, clean_name, clean_phone
from domain.customer.profile import (
    ATTRIBUTE_KEY_PATTERN,
    ATTRIBUTE_VALUE_MAX_LENGTH,
    ATTRIBUTES_MAX_COUNT,
    TAG_MAX_LENGTH,
    TAGS_MAX_COUNT,
    Address,
    Billing,
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
        "billing": _billing(values.get("billing"), errors),
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
    if requested is None:
        if current is not None:
            return current
        return CustomerType.NEW if has_contact else CustomerType.ANONYMOUS
    if not has_contact and requested != CustomerType.ANONYMOUS:
        errors.append(FieldError("type", f"a {requested} customer needs an email or a phone"))
    if has_contact and requested == CustomerType.ANONYMOUS:
        errors.append(FieldError("type", "an anonymous customer has neither email nor phone"))
    return requested


def _address(value: Any) -> Address | None:
    if value is None:
        return None
    address = value if isinstance(value, Address) else Address.model_validate(value)
    return address if any(address.model_dump().values()) else None


def _billing(value: Any, errors: list[FieldError]) -> Billing | None:
    """Names and the invoice email cleaned like the profile's; an empty profile is none."""
    if value is None:
        return None
    try:
        billing = value if isinstance(value, Billing) else Billing.model_validate(value)
    except ValidationError as invalid:
        errors.extend(
            FieldError(".".join(("billing", *(str(part) for part in error["loc"]))), error["msg"])
            for error in invalid.errors()
        )
        return None
    tax_id = " ".join((billing.tax_id or "").split()) or None
    cleaned = Billing(
        name=clean_name("billing.name", billing.name, errors),
        tax_id=tax_id,
        invoice_email=clean_email(billing.invoice_email, errors, field="billing.invoice_email"),
        address=_address(billing.address),
    )
    return cleaned if any(cleaned.model_dump().values()) else None


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
        elif not isinstance(value, str | bool) and not -(2**63) <= value < 2**63:
            # Stored as BSON, whose integers are 64-bit: a bigger one can't be written. Floats
            # keep the same range, so that one JSON Schema range states the rule for numbers.
            errors.append(FieldError(f"attributes.{key}", "numbers must lie within the 64-bit integer range"))
        else:
            cleaned[key] = value
    return dict(sorted(cleaned.items()))
