"""What the OpenAPI schema promises, the service holds to: JSON types as they are, and
times in RFC 3339 with their offset (schemathesis found each of these accepted)."""

from datetime import UTC, datetime

import pytest
from litestar.exceptions import ValidationException
from pydantic import ValidationError

from application.segments.segment_filter import filter_from_json
from interfaces.http.query_moments import moment
from interfaces.http.schemas import ConsentBody, PreferencesPatchBody


@pytest.mark.parametrize("text", ["0.5", "1700000000", "2026-11-23T10:00:00", "2026-11-23", "2026-13-01T00:00:00Z"])
def test_a_time_is_rfc_3339_with_its_offset(text):
    with pytest.raises(ValidationException):
        moment("before", text)


def test_an_rfc_3339_time_reads_in_either_case():
    assert moment("before", "2026-11-23t10:00:00z") == datetime(2026, 11, 23, 10, tzinfo=UTC)
    assert moment("before", None) is None


@pytest.mark.parametrize("value", [0, 1, "false"])
def test_booleans_are_json_booleans_even_when_litestar_validates_leniently(value):
    with pytest.raises(ValidationError):
        ConsentBody.model_validate({"granted": value}, strict=False)
    with pytest.raises(ValidationError):
        PreferencesPatchBody.model_validate({"contact_channels": {"sms": value}}, strict=False)


def test_a_new_segment_filter_takes_json_types_as_they_are():
    with pytest.raises(ValidationError):
        filter_from_json({"contactable": 0}, strict=True)
    with pytest.raises(ValidationError):
        filter_from_json({"min_purchases": "2"}, strict=True)
    # JSON has one number type: 2.0 is the integer 2, as JSON Schema says.
    assert filter_from_json({"min_purchases": 2.0}, strict=True).min_purchases == 2
    # A stored filter is read as it was written.
    assert filter_from_json({"contactable": "false"}).contactable is False
