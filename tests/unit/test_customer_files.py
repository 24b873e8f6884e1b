"""The customer file formats: an export row, and how an import reads CSV and NDJSON."""

import io
from datetime import UTC, datetime

import pytest

from application.bulk.customer_csv import CSV_MEDIA_TYPE, NDJSON_MEDIA_TYPE, export_header, export_row, read_rows
from application.bulk.import_jobs import InvalidImportFile
from application.bulk.import_rows import imported_customer_id
from domain.customer.profile import CustomerSegment, CustomerType
from domain.customer.state import CustomerState

pytestmark = pytest.mark.unit


def rows(content: bytes, media_type: str = CSV_MEDIA_TYPE) -> list:
    return list(read_rows(io.BytesIO(content), media_type))


def test_an_exported_row_reads_back_as_the_same_profile():
    customer = CustomerState(
        id="cus_1", business_id="biz_1", first_name="=cmd|' /C calc'!A0", last_name="Lima, Jr.",
        email="ana@example.com", phone="+351912345678", type=CustomerType.NEW, segment=CustomerSegment.VIP,
        tags=("vip", "lisbon"), version=1, created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        updated_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )  # fmt: skip
    line = export_row(customer)
    assert line.endswith("\r\n") and "2026-01-02T03:04:05Z" in line
    [row] = rows((export_header() + line).encode())
    assert row.fields == {
        # A cell a spreadsheet would run as a formula is exported as text.
        "first_name": "'=cmd|' /C calc'!A0", "last_name": "Lima, Jr.", "email": "ana@example.com",
        "phone": "+351912345678", "type": "new", "segment": "vip", "tags": ["vip", "lisbon"],
    }  # fmt: skip


def test_csv_rows_are_numbered_from_the_first_customer_and_bad_ones_carry_their_error():
    read = rows(b'\xef\xbb\xbfFirst_Name,Email\nAna,\n\n"Rui\nCosta",rui@example.com\nToo,many,cells\n')
    assert [(row.row, row.fields, row.error and row.error.field) for row in read] == [
        (1, {"first_name": "Ana"}, None),
        (2, {"first_name": "Rui\nCosta", "email": "rui@example.com"}, None),
        (3, None, "body"),
    ]


def test_ndjson_rows_are_objects_with_the_fields_of_a_registration():
    read = rows(
        b'{"first_name": "Ana", "attributes": {"card": "gold"}}\n\n[1]\n{"nickname": "x"}\nnot json\n',
        NDJSON_MEDIA_TYPE,
    )
    assert read[0].fields == {"first_name": "Ana", "attributes": {"card": "gold"}}
    assert [(row.row, row.error.field) for row in read[1:]] == [(2, "body"), (3, "nickname"), (4, "body")]


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\n",
        b"nickname\nA\n",
        b"first_name\n\xff\n",
        b"first_name\n" + b"A\n" * 100_001,
    ],
    ids=["empty", "blank", "unknown-column", "not-utf8", "too-many-rows"],
)
def test_a_file_that_cannot_be_imported_as_a_whole_is_refused(content):
    with pytest.raises(InvalidImportFile):
        rows(content)


def test_the_same_row_of_the_same_business_always_gets_the_same_customer_id():
    row = {"first_name": "Ana", "tags": ["a"]}
    assert imported_customer_id("biz_1", row) == imported_customer_id("biz_1", dict(reversed(row.items())))
    assert imported_customer_id("biz_1", row) != imported_customer_id("biz_2", row)
    assert imported_customer_id("biz_1", row) != imported_customer_id("biz_1", {"first_name": "Ana"})
    assert len(imported_customer_id("biz_1", row)) == len("cus_") + 26
