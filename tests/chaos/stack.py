"""A whole stack of its own for fault injection: SecantusDB, Redis and a RabbitMQ node on
ports of their own (so restarting them disturbs nothing else on the machine), and the
service's processes: api, relay, projector, integration, each as one or more replicas
(named `api`, or `api-0`, `api-1`... when there are several)."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from infrastructure.mongo.embedded import EmbeddedMongo, free_port, port_is_open

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = {
    "api": ["api"],
    "relay": ["worker", "relay"],
    "projector": ["worker", "projector"],
    "integration": ["worker", "integration"],
}
SECRET = "chaos-secret-that-is-long-enough-for-hs256"


def _wait_for_port(port: int, up: bool, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while port_is_open(port) != up:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not {'start' if up else 'stop'} on {port} within {seconds}s")
        time.sleep(0.1)


class RabbitNode:
    """A RabbitMQ node of its own, run as the rabbitmq user like the system one."""

    def __init__(self, directory: Path):
        self.port, self.dist_port = free_port(), free_port()
        self.name = f"chaos{uuid.uuid4().hex[:6]}@localhost"
        self.directory = directory
        for sub in ("log", "mnesia"):
            (directory / sub).mkdir(parents=True, exist_ok=True)
        (directory / "plugins").write_text("[rabbitmq_consistent_hash_exchange].")
        (directory / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{self.port}\nloopback_users = none\n"
        )
        shutil.chown(directory, "rabbitmq", "rabbitmq")
        for path in directory.rglob("*"):
            shutil.chown(path, "rabbitmq", "rabbitmq")

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def start(self) -> None:
        env = {
            **os.environ,
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_CONFIG_FILE": str(self.directory / "rabbitmq"),
            "RABBITMQ_MNESIA_BASE": str(self.directory / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.directory / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.directory / "plugins"),
            "RABBITMQ_PID_FILE": str(self.directory / "pid"),
        }
        with open(self.directory / "out.log", "ab") as log:
            subprocess.Popen(["rabbitmq-server"], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        _wait_for_port(self.port, True, 90, "RabbitMQ")

    def stop(self) -> None:
        subprocess.run(["rabbitmqctl", "-n", self.name, "stop"], capture_output=True, timeout=60, check=False)
        _wait_for_port(self.port, False, 30, "RabbitMQ")


class RedisServer:
    def __init__(self) -> None:
        self.port = free_port()
        self._process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self._process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_port(self.port, True, 20, "Redis")

    def stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
        _wait_for_port(self.port, False, 10, "Redis")


class ChaosStack:
    def __init__(self, replicas: dict[str, int] | None = None) -> None:
        self._directory = Path(tempfile.mkdtemp(prefix="crm-chaos-"))
        self._directory.chmod(0o755)  # the RabbitMQ node runs as the rabbitmq user
        self.mongo = EmbeddedMongo(free_port(), self._directory / "mongo", self._directory / "mongo.log")
        self.redis = RedisServer()
        self.rabbit = RabbitNode(self._directory / "rabbitmq")
        counts = {name: 1 for name in PROCESSES} | (replicas or {})
        # Each replica: its name, and what it runs.
        self.replicas: dict[str, str] = {
            (kind if count == 1 else f"{kind}-{index}"): kind
            for kind, count in counts.items()
            for index in range(count)
        }
        self.api_ports = {name: free_port() for name, kind in self.replicas.items() if kind == "api"}
        self.api_port = next(iter(self.api_ports.values()))
        self.processes: dict[str, subprocess.Popen] = {}
        self.database = "crm_chaos"

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "CRM_MONGODB_URL": self.mongo.url,
            "CRM_MONGODB_DATABASE": self.database,
            "CRM_RABBITMQ_URL": self.rabbit.url,
            "CRM_REDIS_URL": self.redis.url,
            "CRM_ENV": "development",
            "CRM_JWT_SECRET": SECRET,
            "CRM_API_PORT": str(self.api_port),
            "CRM_RATE_LIMIT_PER_USER": "1000000/minute",
            "CRM_RATE_LIMIT_PER_BUSINESS": "1000000/minute",
        }

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def base_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.api_ports.values()]

    def of_kind(self, kind: str) -> list[str]:
        return [name for name, replica_kind in self.replicas.items() if replica_kind == kind]

    def start(self) -> None:
        self.mongo.start()
        self.redis.start()
        self.rabbit.start()
        for name in self.replicas:
            self.start_process(name)
        for port in self.api_ports.values():
            _wait_for_port(port, True, 60, "the API")

    def start_process(self, name: str) -> None:
        kind = self.replicas[name]
        environment = {**self.env, "CRM_API_PORT": str(self.api_ports[name])} if kind == "api" else self.env
        with open(self._directory / f"{name}.log", "ab") as log:
            self.processes[name] = subprocess.Popen(
                [sys.executable, "-m", "interfaces.cli.main", *PROCESSES[kind]],
                env=environment,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_until_listening(self, name: str) -> None:
        """An API replica answers on its port again (the other processes have no port)."""
        if name in self.api_ports:
            _wait_for_port(self.api_ports[name], True, 60, "the API")

    def kill(self, name: str) -> None:
        """kill -9: no shutdown hook runs."""
        process = self.processes[name]
        os.kill(process.pid, signal.SIGKILL)
        process.wait()

    def restart_mongo(self) -> None:
        self.mongo.stop()
        self.mongo.start()

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        for stop in (self.rabbit.stop, self.redis.stop, self.mongo.stop):
            try:
                stop()
            except Exception:  # best effort: the next run uses other ports anyway
                pass
        kept = os.environ.get("CRM_CHAOS_KEEP_LOGS")  # a folder to keep each stack's logs in
        if kept:
            shutil.copytree(
                self._directory, Path(kept) / self._directory.name, ignore=shutil.ignore_patterns("mongo", "rabbitmq")
            )
        shutil.rmtree(self._directory, ignore_errors=True)

    def log_of(self, name: str) -> str:
        path = self._directory / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""
