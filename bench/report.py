"""The table of a `make bench` run, and its records in `bench/results/` (JSON with the
machine's description, so that runs can be compared; `latest.md` for reading)."""

import json
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

from charts import write_charts
from figures import Figure
from growth import write_growth

RESULTS = Path(__file__).with_name("results")


def _value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "/s":
        return f"{value:,.0f}/s"
    return f"{value:,.1f} {unit}"


def _service_cell(figure: Figure) -> str:
    text = _value(figure.service, figure.unit)
    notes = []
    if "p50_ms" in figure.details:
        notes.append(f"p50 {figure.details['p50_ms']:.1f} ms")
    if "round_trips_each" in figure.details:
        notes.append(f"{figure.details['round_trips_each']:.1f} DB round trips each")
    if "server_operations_each" in figure.details:
        notes.append(f"{figure.details['server_operations_each']:.0f} DB ops each")
    if notes:
        text += f" ({', '.join(notes)})"
    elif "p99_ms" in figure.details:
        text += f" (p99 {figure.details['p99_ms']:.0f} ms)"
    elif "cpu_seconds" in figure.details:
        text += f" ({figure.details['cpu_seconds']:.0f} s CPU in the run)"
    return text


def _baseline_cell(figure: Figure) -> str:
    if not figure.baseline_name:
        return "-"
    text = _value(figure.baseline, figure.unit)
    if "baseline_p50_ms" in figure.details:
        text += f" (p50 {figure.details['baseline_p50_ms']:.1f} ms)"
    elif "baseline_p99_ms" in figure.details:
        text += f" (p99 {figure.details['baseline_p99_ms']:.0f} ms)"
    return f"{text}: {figure.baseline_name}" if figure.baseline is not None else figure.baseline_name


def rows(figures: list[Figure]) -> list[tuple[str, str, str, str]]:
    return [
        (figure.name, _service_cell(figure), _baseline_cell(figure),
         f"{figure.ratio:.1f}x" if figure.ratio is not None else "-")
        for figure in figures
    ]  # fmt: skip


def markdown_table(figures: list[Figure]) -> str:
    lines = ["| figure | service | baseline | ratio |", "|---|---|---|---|"]
    lines += [f"| {' | '.join(cell.replace('|', '/') for cell in row)} |" for row in rows(figures)]
    return "\n".join(lines)


def print_table(figures: list[Figure]) -> None:
    table = [("figure", "service", "baseline", "ratio"), *rows(figures)]
    widths = [max(len(row[column]) for row in table) for column in range(4)]
    for index, row in enumerate(table):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        if index == 0:
            print("  ".join("-" * width for width in widths))
    print("\nratio: how many times the baseline's cost (baseline rate / service rate, or service / baseline for "
          "ms and MiB); 1.0x is as fast as the bare work")  # fmt: skip


def write_records(figures: list[Figure], machine: dict, options: dict, command: str, started_at: datetime,
                  seconds: float) -> list[Path]:  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    record = {
        "started_at": started_at.isoformat(timespec="seconds"),
        "command": command,
        "options": options,
        "seconds": round(seconds, 1),
        "machine": machine,
        "figures": [{**asdict(figure), "ratio": figure.ratio} for figure in figures],
    }
    stamp = started_at.strftime("%Y%m%dT%H%M%SZ")
    json_path = RESULTS / f"{stamp}.json"
    json_path.write_text(json.dumps(record, indent=2, default=str) + "\n")
    charts = write_charts(record["figures"], RESULTS)
    cpu = f"{machine['cpu_count']} x {machine['cpu_model']}, {machine['memory_bytes'] / 2**30:.1f} GiB"
    markdown = (
        f"# Latest `make bench`\n\n`{command}` on {started_at:%Y-%m-%d %H:%M} UTC, {seconds:.0f} s; options "
        f"{json.dumps(options)}.\n\nMachine: {cpu}; Python {machine['python']}; SecantusDB {machine['secantusdb']}; "
        f"commit {machine['git_commit']}; load average at start {machine['load_average_at_start'][0]:.2f}. "
        f"Record: `{json_path.relative_to(RESULTS.parent.parent)}`.\n\n{markdown_table(figures)}\n\n"
        "Ratio: how many times the baseline's cost (baseline rate / service rate; service / baseline for ms "
        "and MiB).\n"
    )
    markdown += "".join(f"\n![{chart.stem}]({chart.name})\n" for chart in charts)
    markdown_path = RESULTS / "latest.md"
    markdown_path.write_text(markdown)
    return [json_path, markdown_path, *charts, *write_growth(RESULTS)]
