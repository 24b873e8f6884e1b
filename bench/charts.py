"""PNG charts of a `make bench` run, beside its tables: per kind of figure (rates,
latencies, memory), the service's bar next to its bare baseline's.

    python bench/charts.py bench/results/<stamp>.json     redraws the charts of a record
"""

import json
import sys
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

# unit: (name, axis label, logarithmic axis: the rates span three orders of magnitude)
KINDS = {
    "/s": ("rates", "per second, log scale (higher is better)", True),
    "ms": ("latencies", "milliseconds, log scale (lower is better)", True),
    "MiB": ("memory", "MiB, peak (lower is better)", False),
}


def write_charts(figures: list[dict], directory: Path, prefix: str = "latest") -> list[Path]:
    """One PNG per kind of figure present; each figure is a record's dict (name, unit,
    service, baseline_name, baseline). Returns the files written."""
    written = []
    for unit, (kind, axis, logarithmic) in KINDS.items():
        chosen = [figure for figure in figures if figure["unit"] == unit and figure["service"] is not None]
        if not chosen:
            continue
        height = 0.6 * len(chosen) + 1.5
        fig, ax = plt.subplots(figsize=(10, height))
        rows = range(len(chosen))
        service = [figure["service"] for figure in chosen]
        baseline = [figure["baseline"] or 0 for figure in chosen]
        bars = ax.barh([row + 0.2 for row in rows], service, height=0.4, label="crm", color="#3b6fb6")
        ax.bar_label(bars, fmt="%.4g", fontsize=7, padding=2)
        bars = ax.barh([row - 0.2 for row in rows], baseline, height=0.4, label="bare baseline", color="#b0b0b0")
        ax.bar_label(bars, labels=[f"{value:.4g}" if value else "" for value in baseline], fontsize=7, padding=2)
        if logarithmic:
            ax.set_xscale("log")
        ax.margins(x=0.15)
        ax.set_yticks(list(rows), ["\n".join(textwrap.wrap(figure["name"], 40)) for figure in chosen], fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel(axis)
        ax.set_title(f"make bench: {kind}")
        ax.legend(loc="lower right", fontsize=8)
        fig.tight_layout()
        path = directory / f"{prefix}-{kind}.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        written.append(path)
    return written


if __name__ == "__main__":
    record = Path(sys.argv[1])
    for path in write_charts(json.loads(record.read_text())["figures"], record.parent):
        print(path)
