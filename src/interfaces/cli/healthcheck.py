"""The containers' health checks, one per kind of process:

    python -m interfaces.cli.healthcheck api       GET /health on CRM_API_PORT (8000)
    python -m interfaces.cli.healthcheck worker    the worker's heartbeat on CRM_METRICS_PORT,
                                                   younger than --max-age seconds (30)

Exit 0 when healthy, 1 with one line on stderr when not. Standard library only: Docker
runs it every few seconds, and importing the service would cost more than the check.
"""

import argparse
import os
import sys
import time
import urllib.error
import urllib.request

HEARTBEAT_METRIC = "crm_worker_heartbeat_timestamp_seconds"
TIMEOUT_SECONDS = 3.0


class Unhealthy(Exception):
    pass


def _get(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            return response.read().decode()
    except (urllib.error.URLError, OSError) as error:
        raise Unhealthy(f"{url}: {getattr(error, 'reason', error)}") from None


def check_api(port: int) -> str:
    _get(f"http://127.0.0.1:{port}/health")
    return f"api on {port}: ok"


def check_worker(port: int, max_age: float, now: float | None = None) -> str:
    beats = [
        float(line.rsplit(" ", 1)[1])
        for line in _get(f"http://127.0.0.1:{port}/metrics").splitlines()
        if line.startswith(HEARTBEAT_METRIC + "{")
    ]
    if not beats:
        raise Unhealthy(f"no {HEARTBEAT_METRIC} on port {port}: not a worker, or not started yet")
    age = (now if now is not None else time.time()) - max(beats)
    if age > max_age:
        raise Unhealthy(
            f"the worker's last heartbeat is {age:.0f} s old (more than {max_age:.0f} s): its loop is stuck"
        )
    return f"worker on {port}: heartbeat {age:.1f} s ago"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m interfaces.cli.healthcheck", description=__doc__.split("\n")[0])
    parser.add_argument("process", choices=["api", "worker"])
    parser.add_argument("--port", type=int, help="default: CRM_API_PORT (api) or CRM_METRICS_PORT (worker)")
    parser.add_argument("--max-age", type=float, default=30.0, help="seconds a worker's heartbeat may be old")
    args = parser.parse_args(argv)
    try:
        if args.process == "api":
            print(check_api(args.port or int(os.environ.get("CRM_API_PORT", "8000"))))
        else:
            port = args.port or int(os.environ.get("CRM_METRICS_PORT", "0"))
            if not port:
                raise Unhealthy("a worker serves its heartbeat on CRM_METRICS_PORT, which is not set")
            print(check_worker(port, args.max_age))
    except Unhealthy as error:
        print(f"unhealthy: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
