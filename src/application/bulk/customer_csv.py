"""The customer file formats: the CSV of an export, and the CSV or NDJSON of an import.

One CSV shape serves both ways: an exported file can be imported again (its `id`,
`status`, `total_purchases` and `created_at` columns are ignored then). `tags` holds the
tags separated by `;`. Reading is one record at a time from a file, so that neither a
50 MB upload nor a 100,000-row file is ever held in memory whole.
"""

import csv
import io
import json
from collections.abc import Iterator
from typing import IO, Any

from application.bulk.import_jobs import MAX_ROWS, ImportRow, InvalidImportFile, RowError, TooManyRows
from domain.customer.state import CustomerState

EXPORT_COLUMNS = (
    "id", "first_name", "last_name", "email", "phone", "type", "segment", "status", "tags",
    "total_purchases", "created_at",
)  # fmt: skip
# Columns an import reads; the export's other columns are read-only facts, ignored.
IMPORT_COLUMNS = ("first_name", "last_name", "email", "phone", "type", "segment", "tags")
IGNORED_COLUMNS = ("id", "status", "total_purchases", "created_at")
# NDJSON rows are customer objects, as `POST /customers` takes them.
NDJSON_FIELDS = (*IMPORT_COLUMNS, "address", "attributes")
TAG_SEPARATOR = ";"
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection): such a
# cell is exported with a leading apostrophe, which spreadsheets show as text.
_FORMULA_STARTS = ("=", "@", "\t", "\r")

CSV_MEDIA_TYPE = "text/csv"
NDJSON_MEDIA_TYPE = "application/x-ndjson"


# What the OpenAPI schema says of a CSV upload: a header row of known columns, then rows.
CSV_HEADER_PATTERN = r"^({columns})(,({columns}))*\r?\n".format(columns="|".join(EXPORT_COLUMNS))


def csv_line(values: list[str] | tuple[str, ...]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(values)
    return buffer.getvalue()


def export_header() -> str:
    return csv_line(EXPORT_COLUMNS)


def export_row(customer: CustomerState) -> str:
    values = {
        "id": customer.id,
        "first_name": customer.first_name or "",
        "last_name": customer.last_name or "",
        "email": customer.email or "",
        "phone": customer.phone or "",
        "type": customer.type.value,
        "segment": customer.segment.value,
        "status": customer.status.value,
        "tags": TAG_SEPARATOR.join(customer.tags),
        "total_purchases": str(customer.metrics.total_purchases),
        "created_at": customer.created_at.isoformat().replace("+00:00", "Z"),
    }
    return csv_line([_safe_cell(values[column]) for column in EXPORT_COLUMNS])


def _safe_cell(value: str) -> str:
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value


def read_rows(file: IO[bytes], media_type: str) -> Iterator[ImportRow]:
    """The file's customer records, in order. Raises `InvalidImportFile` for a file that
    cannot be imported at all (not UTF-8, no header, unknown columns, too many rows); a bad
    record is an `ImportRow` with its error."""
    # newline="": CSV keeps the line ends inside quoted cells as they are.
    text = io.TextIOWrapper(file, encoding="utf-8-sig", errors="strict", newline="")
    rows = _csv_rows(text) if media_type == CSV_MEDIA_TYPE else _ndjson_rows(text)
    try:
        for count, row in enumerate(rows, start=1):
            if count > MAX_ROWS:
                raise TooManyRows()
            yield row
    except UnicodeDecodeError:
        raise InvalidImportFile("body", "the file is not UTF-8 text") from None


def _csv_rows(text: IO[str]) -> Iterator[ImportRow]:
    reader = csv.reader(_lines(text), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise InvalidImportFile("body", f"the CSV header cannot be read: {error}") from None
    if not header or not any(cell.strip() for cell in header):
        raise InvalidImportFile("body", "the CSV file has no header row")
    columns = [cell.strip().lower() for cell in header]
    unknown = [column for column in columns if column not in IMPORT_COLUMNS and column not in IGNORED_COLUMNS]
    if unknown:
        raise InvalidImportFile(
            "body", f"unknown CSV column(s) {', '.join(unknown)}; the columns are {', '.join(EXPORT_COLUMNS)}"
        )
    number = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            number += 1
            yield ImportRow(row=number, error=RowError(row=number, field="body", message=f"bad CSV: {error}"))
            continue
        if not any(cell.strip() for cell in cells):
            continue  # a blank line
        number += 1
        if len(cells) != len(columns):
            message = f"{len(cells)} cells where the header has {len(columns)}"
            yield ImportRow(row=number, error=RowError(row=number, field="body", message=message))
            continue
        # A column given twice: its last cell counts.
        yield ImportRow(row=number, fields=_csv_fields(dict(zip(columns, cells, strict=True))))


def _csv_fields(cells: dict[str, str]) -> dict[str, Any]:
    """The given values: an empty cell gives nothing (it never clears a field)."""
    fields: dict[str, Any] = {}
    for column in IMPORT_COLUMNS:
        value = cells.get(column, "").strip()
        if not value:
            continue
        if column == "tags":
            fields["tags"] = [tag.strip() for tag in value.split(TAG_SEPARATOR) if tag.strip()]
        else:
            fields[column] = value
    return fields


def _ndjson_rows(text: IO[str]) -> Iterator[ImportRow]:
    number = 0
    for line in _lines(text):
        if not line.strip():
            continue
        number += 1
        try:
            value = json.loads(line)
        except (ValueError, RecursionError):
            yield ImportRow(row=number, error=RowError(row=number, field="body", message="not a JSON object"))
            continue
        if not isinstance(value, dict):
            yield ImportRow(row=number, error=RowError(row=number, field="body", message="not a JSON object"))
            continue
        unknown = sorted(key for key in value if key not in NDJSON_FIELDS and key not in IGNORED_COLUMNS)
        if unknown:
            message = f"unknown field(s) {', '.join(unknown)}"
            yield ImportRow(row=number, error=RowError(row=number, field=unknown[0], message=message))
            continue
        yield ImportRow(row=number, fields={key: item for key, item in value.items() if key in NDJSON_FIELDS})


# A line longer than this is no customer record: it is cut, and the record then fails.
MAX_LINE_CHARACTERS = 64 * 1024


def _lines(text: IO[str]) -> Iterator[str]:
    while True:
        line = text.readline(MAX_LINE_CHARACTERS)
        if not line:
            return
        yield line
