"""Profiles the service's processes with py-spy while one phase of `make bench` drives them.

    .venv/bin/python bench/profiles.py commands|reads|list|lag|inbound [--count N] [--processes api,secantusdb]

Starts everything as the suite does, seeds (unprofiled), then records each chosen process
with `py-spy record` during the phase, writes flame graphs (SVG) to `bench/results/profiles/`,
and prints, per process, the functions where most samples were (self and total time).
"""

import argparse
import asyncio
import collections
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import (  # noqa: E402
    CUSTOMERS,
    api_client,
    check_status,
    commands_per_second,
    inbound_events_per_second,
    projection_lag,
    reads,
    wait_for_read_model,
)
from harness import RunningService, drive, wait_until_up  # noqa: E402

OUTPUT = Path(__file__).with_name("results") / "profiles"
OUR_CODE = ("domain/", "application/", "infrastructure/", "interfaces/")


def top_functions(collapsed: Path, limit: int = 15) -> str:
    """Self and inclusive sample counts per function from py-spy's raw (collapsed) output."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        samples = int(count)
        frames = stack.split(";")
        total += samples
        own[frames[-1]] += samples
        for frame in set(frames):
            inclusive[frame] += samples
    lines = [f"{total} samples; self:"]
    lines += [f"  {100 * count / total:5.1f}%  {frame}" for frame, count in own.most_common(limit)]
    lines.append("inclusive (our code):")
    ours = [(frame, count) for frame, count in inclusive.most_common() if frame.split("(", 1)[-1].startswith(OUR_CODE)]
    lines += [f"  {100 * count / total:5.1f}%  {frame}" for frame, count in ours[:limit]]
    return "\n".join(lines)


async def run_phase(service: RunningService, phase: str, count: int, seeded, start_profiles) -> None:
    if phase == "commands":
        start_profiles()
        await commands_per_second(service, count, 8)
    elif phase == "reads":
        start_profiles()
        await reads(service, seeded, count, 8)
    elif phase == "list":
        start_profiles()
        async with api_client(service, "viewer") as api:

            async def list_page(_: object) -> None:
                check_status(await api.get(f"{CUSTOMERS}?limit=20"), 200)

            await drive("list", range(count), list_page, 8)
    elif phase == "lag":
        start_profiles()
        await projection_lag(service, seeded, count, rate=40.0)
    elif phase == "inbound":
        start_profiles()
        await inbound_events_per_second(service, count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("phase", choices=["commands", "reads", "list", "lag", "inbound"])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--seed", type=int, default=300)
    parser.add_argument("--processes", default="api,projector,relay,integration,secantusdb")
    arguments = parser.parse_args()
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    OUTPUT.mkdir(parents=True, exist_ok=True)
    service = RunningService()
    service.start_database()
    recorders: dict[str, tuple[subprocess.Popen, Path]] = {}
    try:
        service.start_processes()
        service.start_bare_routes()
        asyncio.run(wait_until_up(f"{service.api_url}/ready", ready=True))
        asyncio.run(wait_until_up(f"{service.bare_url}/mongo/x"))
        pids = {name: child.pid for name, child in service.children.items()} | {"secantusdb": service.mongo_pid}

        def start_profiles() -> None:
            stamp = time.strftime("%Y%m%dT%H%M%S")
            for name in arguments.processes.split(","):
                collapsed = OUTPUT / f"{stamp}-{arguments.phase}-{name}.txt"
                recorder = subprocess.Popen([py_spy, "record", "--pid", str(pids[name]), "--format", "raw",
                                             "--rate", "100", "--output", str(collapsed)],
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
                recorders[name] = (recorder, collapsed)

        async def phases() -> None:
            seeded = []
            if arguments.phase != "commands":
                print(f"seeding {arguments.seed} customers (not profiled)", flush=True)
                _, seeded = await commands_per_second(service, arguments.seed, 8)
                await wait_for_read_model(service.mongo.url, service.database, len(seeded))
            await run_phase(service, arguments.phase, arguments.count, seeded, start_profiles)

        asyncio.run(phases())
    finally:
        for recorder, _ in recorders.values():
            recorder.send_signal(signal.SIGINT)
        for recorder, _ in recorders.values():
            recorder.wait(30)
        service.stop()
    for name, (_, collapsed) in recorders.items():
        if collapsed.exists():
            print(f"\n=== {name} ({collapsed}) ===\n{top_functions(collapsed)}")


if __name__ == "__main__":
    main()
