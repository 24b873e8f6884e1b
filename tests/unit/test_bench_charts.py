"""`make bench` draws its figures as PNG charts beside its tables (bench/charts.py)."""

import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))

from charts import write_charts  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def figure(name: str, unit: str, service: float | None, baseline: float | None = None) -> dict:
    return {"name": name, "unit": unit, "service": service, "baseline_name": "bare", "baseline": baseline}


def test_one_chart_per_kind_of_figure_present(tmp_path):
    figures = [
        figure("commands/s", "/s", 76.2, 494.2),
        figure("GET /customers?limit=20", "/s", 9.8, 967.0),
        figure("peak memory: api", "MiB", 131.5, 74.3),
        figure("peak memory: relay", "MiB", 88.9),  # no baseline
        figure("lost figure", "ms", None),  # not measured: no latency chart at all
    ]
    written = write_charts(figures, tmp_path, prefix="run")
    assert [path.name for path in written] == ["run-rates.png", "run-memory.png"]
    for path in written:
        assert path.read_bytes().startswith(PNG_SIGNATURE) and path.stat().st_size > 5_000
    assert not (tmp_path / "run-latencies.png").exists()
