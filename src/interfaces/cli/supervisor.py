"""`crm run`: starts the API and the workers as processes, restarts any that die, stops all on Ctrl-C."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from infrastructure.mongo.embedded import EmbeddedMongo, free_port, mongodb_answers, mongodb_url, port_is_open

PROCESSES = {
    "api": ["api"],
    "relay": ["worker", "relay"],
    "projector": ["worker", "projector"],
    "integration": ["worker", "integration"],
    "imports": ["worker", "imports"],
}
EMBEDDED_PORT = int(os.environ.get("CRM_EMBEDDED_MONGODB_PORT", "27017"))
DATA_DIR = Path(os.environ.get("CRM_DATA_DIR", ".data"))


def supervise() -> int:
    env = dict(os.environ)
    embedded: EmbeddedMongo | None = None
    if "CRM_MONGODB_URL" not in env:
        port = EMBEDDED_PORT
        if port_is_open(port) and mongodb_answers(mongodb_url(port)):
            print(f"crm: a MongoDB server already answers on {port}; using it", flush=True)
            env["CRM_MONGODB_URL"] = mongodb_url(port)
        else:
            if port_is_open(port):
                port = free_port()
                print(f"crm: port {EMBEDDED_PORT} is taken by something else; using {port}", flush=True)
            embedded = EmbeddedMongo(port, DATA_DIR / "mongo", DATA_DIR / "mongo.log")
            print(f"crm: starting embedded SecantusDB on {port} (data in {embedded.storage_path})", flush=True)
            embedded.start()
            env["CRM_MONGODB_URL"] = embedded.url

    stopping = False

    def request_stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    children = {name: _spawn(name, env) for name in PROCESSES}
    try:
        while not stopping:
            for name, child in list(children.items()):
                if child.poll() is not None and not stopping:
                    print(f"crm: {name} exited with {child.returncode}; restarting", flush=True)
                    time.sleep(1)
                    children[name] = _spawn(name, env)
            time.sleep(0.2)
    finally:
        print("crm: stopping", flush=True)
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children.values():
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
        if embedded is not None:
            embedded.stop()
    return 0


# Each worker serves its Prometheus metrics on a port of its own (the API on /metrics).
WORKER_METRICS_PORTS = {"relay": 9101, "projector": 9102, "integration": 9103, "imports": 9104}


def _spawn(name: str, env: dict[str, str]) -> subprocess.Popen:
    if name in WORKER_METRICS_PORTS:
        env = {**env, "CRM_METRICS_PORT": str(WORKER_METRICS_PORTS[name])}
    return subprocess.Popen([sys.executable, "-m", "interfaces.cli.main", *PROCESSES[name]], env=env)
