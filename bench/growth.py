"""How the figures grow with the business: the latest `make bench` record of each tenant
size side by side (`bench/results/growth.md`), and page latency against the business's
size (`bench/results/growth-latency.png`). Written after every suite run; a size is the
customers the business had when the reads began (`--tenant` plus the registrations).

    python bench/growth.py     rewrites both from the records in bench/results/
"""

import json
import re
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

RESULTS = Path(__file__).with_name("results")
# The reads whose p50 the chart draws against the size, beside the bare find_one route's.
CHARTED = ("GET /customers?limit=20", "GET /customers?q=", "GET /customers/{id}, cache miss")


def row_name(name: str) -> str:
    """A figure's name without what varies by run (the lag's rate is half the run's command rate)."""
    return re.sub(r"\(\d+ PATCHes/s\)", "(at half the command rate)", name)


def latest_by_size(directory: Path) -> dict[int, dict]:
    """The newest record of each business size, among the records that know their tenant."""
    chosen: dict[int, dict] = {}
    for path in sorted(directory.glob("*.json")):
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        options = record.get("options", {}) if isinstance(record, dict) else {}
        if "tenant" not in options or "figures" not in record:
            continue
        record["path"] = path.name
        chosen[options["tenant"] + options["customers"]] = record  # sorted by time: the newest wins
    return dict(sorted(chosen.items()))


def _cell(figure: dict | None) -> str:
    if figure is None or figure.get("service") is None:
        return "-"
    unit, service, baseline = figure["unit"], figure["service"], figure.get("baseline")
    shown = f"{service:,.0f}/s" if unit == "/s" else f"{service:,.1f} {unit}"
    p50 = figure.get("details", {}).get("p50_ms")
    if p50 is not None and unit == "/s":
        shown += f", p50 {p50:.1f} ms"
    if baseline:
        bare = f"{baseline:,.0f}/s" if unit == "/s" else f"{baseline:,.1f} {unit}"
        shown += f"; bare {bare}; **{figure['ratio']:.1f}x**"
    return shown


def growth_table(records: dict[int, dict]) -> str:
    sizes = list(records)
    names = list(dict.fromkeys(row_name(figure["name"]) for record in records.values() for figure in record["figures"]))
    lines = [
        "| figure | " + " | ".join(f"{size:,} customers" for size in sizes) + " |",
        "|---|" + "---|" * len(sizes),
    ]
    for name in names:
        cells = []
        for record in records.values():
            figure = next((figure for figure in record["figures"] if row_name(figure["name"]) == name), None)
            cells.append(_cell(figure))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    runs = [
        f"- {size:,}: `{record['command']}` on {record['started_at']} ({record['path']}, commit "
        f"{record['machine']['git_commit'][:7]})"
        for size, record in records.items()
    ]
    return "\n".join(lines) + "\n\nRuns:\n\n" + "\n".join(runs) + "\n"


def latency_chart(records: dict[int, dict], path: Path) -> Path | None:
    sizes = list(records)
    if not sizes:
        return None
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for prefix in CHARTED:
        points = [
            (size, figure["details"]["p50_ms"])
            for size, record in records.items()
            for figure in record["figures"]
            if figure["name"].startswith(prefix) and "p50_ms" in figure.get("details", {})
        ]
        if points:
            ax.plot(*zip(*points, strict=True), marker="o", label=prefix)
    bare = [
        (size, figure["details"]["baseline_p50_ms"])
        for size, record in records.items()
        for figure in record["figures"]
        if figure["name"].startswith(CHARTED[0]) and "baseline_p50_ms" in figure.get("details", {})
    ]
    if bare:
        ax.plot(*zip(*bare, strict=True), marker="o", linestyle="--", color="#808080", label="bare find_one route")
    ax.set_xscale("log")
    ax.set_xlabel("customers in the business")
    ax.set_ylabel("p50 ms, 8 clients (lower is better)")
    ax.set_title("make bench: read latency as the business grows")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def write_growth(directory: Path = RESULTS) -> list[Path]:
    records = latest_by_size(directory)
    if not records:
        return []
    table = directory / "growth.md"
    chart = latency_chart(records, directory / "growth-latency.png")
    table.write_text(
        "# The figures as the business grows\n\n"
        "The latest `make bench` of each business size (`--tenant N`, `--large`: see "
        "`bench/suite.py`); each figure next to its bare baseline from the same run.\n\n"
        + growth_table(records)
        + (f"\n![{chart.stem}]({chart.name})\n" if chart else "")
    )
    return [table, *([chart] if chart else [])]


if __name__ == "__main__":
    for written in write_growth(Path(sys.argv[1]) if len(sys.argv) > 1 else RESULTS):
        print(written)
