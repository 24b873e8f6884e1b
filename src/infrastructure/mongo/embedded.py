"""An embedded SecantusDB server for development and tests, run as its own process."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


def mongodb_url(port: int) -> str:
    return f"mongodb://127.0.0.1:{port}/?directConnection=true&retryWrites=false"


def port_is_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex((host, port)) == 0


def mongodb_answers(url: str) -> bool:
    """True if a MongoDB-protocol server answers a ping at `url` within a second."""
    from pymongo import MongoClient
    from pymongo.errors import PyMongoError

    client = MongoClient(url, serverSelectionTimeoutMS=1000, connectTimeoutMS=1000)
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# SecantusDB's own default (1G) is too small past 10,000 to 20,000 customers of one business:
# once the working set (documents, indexes and the oplog's copies) passes it, every write
# waits on eviction and bulk loads stall. WiredTiger takes the memory only as it is used.
DEFAULT_CACHE_SIZE = os.environ.get("CRM_EMBEDDED_CACHE_SIZE", "8G")


class EmbeddedMongo:
    def __init__(
        self, port: int, storage_path: Path, log_path: Path | None = None, cache_size: str = DEFAULT_CACHE_SIZE
    ):
        self.port = port
        self.storage_path = storage_path
        self.log_path = log_path or storage_path.with_suffix(".log")
        self.cache_size = cache_size
        self._process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return mongodb_url(self.port)

    def start(self, timeout_seconds: float = 30.0) -> None:
        self.storage_path.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child process
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "infrastructure.mongo.embedded_server",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--storage-path",
                str(self.storage_path),
                "--log-level",
                "WARNING",
                "--cache-size",
                self.cache_size,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout_seconds
        while not port_is_open(self.port):
            if self._process.poll() is not None:
                raise RuntimeError(f"SecantusDB exited with {self._process.returncode}; see {self.log_path}")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"SecantusDB did not listen on {self.port} within {timeout_seconds}s")
            time.sleep(0.1)

    def stop(self, timeout_seconds: float = 10.0) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        os.killpg(self._process.pid, signal.SIGTERM)
        try:
            self._process.wait(timeout_seconds)
        except subprocess.TimeoutExpired:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()
