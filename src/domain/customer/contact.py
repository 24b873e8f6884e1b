"""Normalization of the contact data a customer is matched and deduplicated on.

Pure functions over the standard email and phone libraries: the same input always gives
the same normal form, which is what uniqueness and matching compare.
"""

from collections.abc import Callable

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from domain.errors import FieldError

NAME_MAX_LENGTH = 100
EMAIL_MAX_LENGTH = 254


def clean_name(field: str, value: str | None, errors: list[FieldError]) -> str | None:
    """Trims a name; an empty one is no name at all."""
    if value is None:
        return None
    trimmed = " ".join(value.split())
    if not trimmed:
        return None
    if len(trimmed) > NAME_MAX_LENGTH:
        errors.append(FieldError(field, f"must be at most {NAME_MAX_LENGTH} characters"))
    return trimmed


def clean_email(value: str | None, errors: list[FieldError], field: str = "email") -> str | None:
    """Keeps the email as given (trimmed) once it is syntactically valid."""
    if value is None or not value.strip():
        return None
    trimmed = value.strip()
    if len(trimmed) > EMAIL_MAX_LENGTH:
        errors.append(FieldError(field, f"must be at most {EMAIL_MAX_LENGTH} characters"))
        return trimmed
    try:
        # Deliverability needs DNS, which a command must not wait on.
        validate_email(trimmed, check_deliverability=False)
    except EmailNotValidError as error:
        errors.append(FieldError(field, str(error)))
    return trimmed


def email_key(email: str) -> str:
    """The form emails are compared in: case-insensitive, as the contract says."""
    return email.strip().casefold()


def clean_phone(value: str | None, default_region: str, errors: list[FieldError]) -> str | None:
    """Parses a phone in any human format and returns it in E.164."""
    if value is None or not value.strip():
        return None
    try:
        parsed = phonenumbers.parse(value, default_region)
    except phonenumbers.NumberParseException as error:
        errors.append(FieldError("phone", f"is not a phone number: {error}"))
        return None
    if not phonenumbers.is_valid_number(parsed):
        errors.append(FieldError("phone", "is not a valid phone number"))
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone_digits(e164: str) -> tuple[str, ...]:
    """The digits a stored phone may be written with elsewhere: with its country code, and
    without it as dialled at home (`+351912345678`: `351912345678`, `912345678`)."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return (e164.lstrip("+"),)
    national = f"{'0' if parsed.italian_leading_zero else ''}{parsed.national_number}"
    return (e164.lstrip("+"), national)


def usable_contact(
    first_name: str | None, last_name: str | None, email: str | None, phone: str | None, default_region: str
) -> dict[str, str]:
    """The normalized contact data another service sent about a person, leaving out each
    value that isn't valid: one mistyped phone must not refuse a whole order."""
    cleaners: dict[str, Callable[[list[FieldError]], str | None]] = {
        "first_name": lambda errors: clean_name("first_name", first_name, errors),
        "last_name": lambda errors: clean_name("last_name", last_name, errors),
        "email": lambda errors: clean_email(email, errors),
        "phone": lambda errors: clean_phone(phone, default_region, errors),
    }
    usable: dict[str, str] = {}
    for field, clean in cleaners.items():
        errors: list[FieldError] = []
        value = clean(errors)
        if value is not None and not errors:
            usable[field] = value
    return usable
