"""What every benchmark here needs: a SecantusDB of its own, the real service processes
started as `crm run` starts them, the bare baseline process, clients that drive them
concurrently, and the peak memory of each process.

Each run gets its own database, AMQP namespace and Redis key prefix, and removes them
when it stops, so runs never see each other (nor the tests running on the same servers).
"""

import asyncio
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import jwt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from infrastructure.mongo.embedded import DEFAULT_CACHE_SIZE, EmbeddedMongo, free_port  # noqa: E402

SECRET = "bench-secret-that-is-long-enough-for-hs256"
METRICS_TOKEN = "bench-metrics-token"
BUSINESS = "biz_bench"
RABBITMQ_URL = os.environ.get("CRM_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
REDIS_URL = os.environ.get("CRM_REDIS_URL", "redis://127.0.0.1:6379/15")

# The service processes, as `crm run` starts them (src/interfaces/cli/supervisor.py).
SERVICE_PROCESSES = {
    "api": ["api"],
    "relay": ["worker", "relay"],
    "projector": ["worker", "projector"],
    "integration": ["worker", "integration"],
}


def percentile(samples: Sequence[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def median(samples: Sequence[float]) -> float:
    return statistics.median(samples)


def bearer_token(role: str = "staff", business: str = BUSINESS) -> dict[str, str]:
    token = jwt.encode({"sub": "bench", "business_ids": [business], "roles": [role],
                        "exp": int(time.time()) + 6 * 3600}, SECRET)  # fmt: skip
    return {"Authorization": f"Bearer {token}"}


async def wait_until_up(url: str, timeout: float = 60, ready: bool = False) -> None:
    """Until `url` answers (with a 200 when `ready`)."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                response = await client.get(url)
                if not ready or response.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise TimeoutError(f"{url} did not answer")


@dataclass
class Driven:
    """What a concurrent drive measured: its wall time and each operation's latency."""

    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    @property
    def p50_ms(self) -> float:
        return median(self.latencies) * 1000

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies, 0.99) * 1000


async def drive(
    label: str,
    items: Sequence,
    operation: Callable[[object], Awaitable[None]],
    clients: int,
    before: Callable[[object], Awaitable[None]] | None = None,
    report_every: int = 0,
) -> Driven:
    """Runs `operation(item)` for every item from `clients` concurrent workers; `before`
    runs untimed ahead of each operation (to evict a cache entry, say)."""
    pending = iter(items)
    latencies: list[float] = []
    report_every = report_every or max(1, len(items) // 5)
    started = time.perf_counter()

    async def worker() -> None:
        for item in pending:
            if before is not None:
                await before(item)
            began = time.perf_counter()
            await operation(item)
            latencies.append(time.perf_counter() - began)
            if len(latencies) % report_every == 0:
                elapsed = time.perf_counter() - started
                print(f"  {label}: {len(latencies)}/{len(items)} ({len(latencies) / elapsed:,.0f}/s)", flush=True)

    await asyncio.gather(*(worker() for _ in range(clients)))
    return Driven(time.perf_counter() - started, latencies)


class PeakMemory:
    """Samples the resident memory of named processes (and their children) in a thread,
    and keeps the CPU time each has used (which process is the bottleneck)."""

    def __init__(self, interval_seconds: float = 0.25):
        import psutil

        self._psutil = psutil
        self._interval = interval_seconds
        self._processes: dict[str, psutil.Process] = {}
        self.peak_bytes: dict[str, int] = {}
        self.cpu_seconds: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def watch(self, name: str, pid: int) -> None:
        self._processes[name] = self._psutil.Process(pid)
        self.peak_bytes.setdefault(name, 0)

    def __enter__(self) -> "PeakMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            for name, process in list(self._processes.items()):
                try:
                    family = [process, *process.children(recursive=True)]
                    rss = sum(member.memory_info().rss for member in family)
                    cpu = sum(sum(member.cpu_times()[:2]) for member in family)
                except self._psutil.Error:
                    continue
                self.peak_bytes[name] = max(self.peak_bytes[name], rss)
                self.cpu_seconds[name] = max(self.cpu_seconds.get(name, 0.0), cpu)


@dataclass
class RunningService:
    """SecantusDB on a free port, and the service's processes on it, under unique names."""

    processes: Sequence[str] = tuple(SERVICE_PROCESSES)
    extra_environment: dict[str, str] = field(default_factory=dict)
    mongo_cache_size: str = DEFAULT_CACHE_SIZE
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    children: dict[str, subprocess.Popen] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._directory = tempfile.TemporaryDirectory(prefix="crm-bench-")
        directory = Path(self._directory.name)
        self.mongo = EmbeddedMongo(free_port(), directory / "data", directory / "mongo.log", self.mongo_cache_size)
        self.log_directory = directory
        self.database = f"bench_{self.run_id}"
        self.namespace = f"bench_{self.run_id}."
        self.key_prefix = f"bench_{self.run_id}:"
        self.api_port = free_port()
        self.bare_port = free_port()
        # Each worker serves its metrics (and its MongoDB round trips) on a port of its own.
        self.metrics_ports = {name: free_port() for name in self.processes if name != "api"}

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def bare_url(self) -> str:
        return f"http://127.0.0.1:{self.bare_port}"

    @property
    def mongo_pid(self) -> int:
        return self.mongo._process.pid  # noqa: SLF001 - the server this run started

    @property
    def environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "CRM_MONGODB_URL": self.mongo.url, "CRM_MONGODB_DATABASE": self.database,
            "CRM_AMQP_NAMESPACE": self.namespace, "CRM_REDIS_URL": REDIS_URL,
            "CRM_REDIS_KEY_PREFIX": self.key_prefix, "CRM_RABBITMQ_URL": RABBITMQ_URL,
            "CRM_ENV": "development", "CRM_JWT_SECRET": SECRET, "CRM_METRICS_TOKEN": METRICS_TOKEN, "CRM_API_PORT": str(self.api_port),
            # The drive is the load; the service's own limits would only measure themselves.
            "CRM_RATE_LIMIT_PER_USER": "10000000/minute", "CRM_RATE_LIMIT_PER_BUSINESS": "10000000/minute",
            "CRM_ACCESS_LOG_SPOOL_DIR": str(self.log_directory / "access-log-spool"),
            **self.extra_environment,
        }  # fmt: skip

    def start_database(self) -> None:
        self.mongo.start()

    def start_processes(self, memory: PeakMemory | None = None) -> None:
        for name in self.processes:
            port = {"CRM_METRICS_PORT": str(self.metrics_ports[name])} if name in self.metrics_ports else {}
            command = [sys.executable, "-m", "interfaces.cli.main", *SERVICE_PROCESSES[name]]
            self.spawn(name, command, memory, port)

    @property
    def metrics_urls(self) -> list[str]:
        return [
            f"{self.api_url}/metrics",
            *(f"http://127.0.0.1:{port}/metrics" for port in self.metrics_ports.values()),
        ]

    def start_bare_routes(self, memory: PeakMemory | None = None) -> None:
        script = Path(__file__).with_name("bare_routes.py")
        self.spawn("bare routes", [sys.executable, str(script), str(self.bare_port), self.mongo.url, self.database,
                                   REDIS_URL], memory)  # fmt: skip

    def spawn(
        self, name: str, command: list[str], memory: PeakMemory | None = None, environment: dict | None = None
    ) -> subprocess.Popen:
        log = open(self.log_directory / f"{name}.log", "ab")  # noqa: SIM115 - owned by the child
        env = {**self.environment, **(environment or {})}
        child = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.children[name] = child
        if memory is not None:
            memory.watch(name, child.pid)
        return child

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.log_directory / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def stop(self) -> None:
        for child in self.children.values():
            if child.poll() is None:
                child.terminate()
        for child in self.children.values():
            try:
                child.wait(15)
            except subprocess.TimeoutExpired:
                child.kill()
        try:
            asyncio.run(self._clean_up())
        finally:
            self.mongo.stop()
            self._directory.cleanup()

    async def _clean_up(self) -> None:
        """Removes this run's queues, exchanges and Redis keys (the database goes with SecantusDB)."""
        import aio_pika
        import redis.asyncio as redis

        from application.integration.messages import ROUTING_KEYS_BY_EXCHANGE
        from infrastructure.messaging.topology import Names, delete_topology
        from infrastructure.projection_registry import PROJECTIONS
        from infrastructure.settings import Settings

        names = Names(self.namespace)
        connection = await aio_pika.connect(RABBITMQ_URL)
        async with connection:
            channel = await connection.channel()
            partitions = Settings().consumer_partitions
            await delete_topology(channel, names, list(PROJECTIONS), list(ROUTING_KEYS_BY_EXCHANGE), partitions)
            for queue in (f"{self.namespace}bare.inbound", f"{self.namespace}bare.lag"):
                await channel.queue_delete(queue)
        cache = redis.from_url(REDIS_URL)
        keys = [key async for key in cache.scan_iter(match=f"{self.key_prefix}*", count=1000)]
        if keys:
            await cache.delete(*keys)
        await cache.aclose()


def run_against_service(*phases: Callable[["RunningService"], Awaitable[object]]) -> None:
    """Starts SecantusDB and the service's processes as `crm run` does, runs each phase
    against them once the API is ready, and stops everything, whatever happens."""
    service = RunningService()
    service.start_database()
    try:
        service.start_processes()
        asyncio.run(wait_until_up(f"{service.api_url}/ready", ready=True))
        for phase in phases:
            asyncio.run(phase(service))
    finally:
        service.stop()


def code_commit() -> str:
    """The commit of the code measured, marked when `src` has changes not committed."""
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    dirty = bool(subprocess.run(["git", "status", "--porcelain", "--", "src"], cwd=ROOT, capture_output=True,
                                text=True).stdout.strip())  # fmt: skip
    return commit + ("+uncommitted src changes" if dirty else "")


def machine_description(mongodb_url: str) -> dict:
    import psutil
    from pymongo import MongoClient

    cpu_model = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    client = MongoClient(mongodb_url)
    try:
        server_version = client.server_info().get("version", "?")
    finally:
        client.close()
    try:
        from importlib.metadata import version

        secantus_version = version("secantusdb")
    except Exception:  # noqa: BLE001 - only a description
        secantus_version = "?"
    return {
        "cpu_model": cpu_model,
        "cpu_count": os.cpu_count(),
        "memory_bytes": psutil.virtual_memory().total,
        "load_average_at_start": os.getloadavg(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "secantusdb": secantus_version,
        "mongodb_wire_version": server_version,
        "git_commit": code_commit(),
    }


async def mongodb_round_trips(service: "RunningService") -> int:
    """Every command the service's processes have sent MongoDB so far (each counts its own:
    `crm_mongodb_commands_total` on its metrics), summed."""
    total = 0.0
    async with httpx.AsyncClient(timeout=10) as client:
        for url in service.metrics_urls:
            scraped = await client.get(url, headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
            for line in scraped.text.splitlines():
                if line.startswith("crm_mongodb_commands_total{"):
                    total += float(line.rsplit(" ", 1)[1])
    return int(total)
