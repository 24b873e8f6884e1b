"""`make bench` sets the latest run of each business size side by side (bench/growth.py)."""

import json
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))

from growth import write_growth  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def record(directory: Path, stamp: str, tenant: int | None, list_p50: float, commit: str = "abcdef0") -> None:
    options = {"customers": 600, **({"tenant": tenant} if tenant is not None else {})}
    figures = [
        {"name": "GET /customers?limit=20 (8 clients)", "unit": "/s", "service": 100.0, "baseline": 400.0,
         "ratio": 4.0, "details": {"p50_ms": list_p50, "baseline_p50_ms": 5.0}},
        {"name": "commands/s (POST /customers, 8 clients)", "unit": "/s", "service": 50.0, "baseline": 300.0,
         "ratio": 6.0, "details": {"p50_ms": 150.0}},
        {"name": f"projection lag p50 ({int(list_p50)} PATCHes/s)", "unit": "ms", "service": 90.0, "baseline": 3.0,
         "ratio": 30.0, "details": {}},
    ]  # fmt: skip
    body = {"started_at": stamp, "command": "make bench", "options": options, "figures": figures,
            "machine": {"git_commit": commit}}  # fmt: skip
    (directory / f"{stamp}.json").write_text(json.dumps(body))


def test_the_newest_run_of_each_size_side_by_side_with_a_latency_chart(tmp_path):
    record(tmp_path, "20261207T100000Z", 1000, 30.0)
    record(tmp_path, "20261207T110000Z", 1000, 20.0)  # newer, same size: this one
    record(tmp_path, "20261207T120000Z", 100_000, 25.0)
    record(tmp_path, "20261207T090000Z", None, 99.0)  # before records kept their tenant: left out

    table, chart = write_growth(tmp_path)

    text = table.read_text()
    assert "| figure | 1,600 customers | 100,600 customers |" in text
    assert "p50 20.0 ms" in text and "p50 30.0 ms" not in text and "p50 99.0 ms" not in text
    assert "**4.0x**" in text and "**6.0x**" in text
    # The lag's rate differs by run: still one row.
    assert text.count("projection lag p50") == 1
    assert chart.read_bytes().startswith(PNG_SIGNATURE)


def test_no_record_of_a_size_writes_nothing(tmp_path):
    record(tmp_path, "20261207T090000Z", None, 99.0)
    assert write_growth(tmp_path) == []
    assert not (tmp_path / "growth.md").exists()
