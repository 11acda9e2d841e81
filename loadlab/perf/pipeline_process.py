"""An all-in-one pipeline (`runpipeline`) or a bare web process (`daphne`) as a child process on a
free loopback port, for benchmarks and smoke tests; and its resident memory, read from /proc."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from django.conf import settings

from ecom_project.engines.local import LocalEngines
from ecom_project.status_counts import FLUSH_S
from ecom_project.supervision import die_with_parent, free_port, stop_child


class PipelineStartError(Exception):
    """The child process did not become ready; carries the tail of its output."""


class PipelineProcess:
    """`runpipeline` (web + consumers + its local engines) or, with `web_only`, daphne alone on a local store
    (intake). Each starts on empty data of its own."""

    def __init__(self, *, web_only: bool = False, env: dict[str, str] | None = None, log_level: str = "WARNING") -> None:
        self.port = free_port()
        self.web_only = web_only
        self._workdir = tempfile.TemporaryDirectory(prefix="ecom-perf-")
        self.log_path = Path(self._workdir.name) / "process.log"
        self.env = {
            **os.environ, "KAFKA_BROKERS": "", "MONGO_URL": "", "LOG_LEVEL": log_level, "PYTHONUNBUFFERED": "1",
            "DATA_DIR": str(Path(self._workdir.name) / "data"),
            "SQLITE_PATH": str(Path(self._workdir.name) / "db.sqlite3"),
            # The bench's own pipeline on loopback: its feed and counts are opened to the bench (no users there).
            "PUBLIC_ORDER_FEED": "true", **(env or {}),
        }
        self.process: subprocess.Popen | None = None
        self.engines: LocalEngines | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _command(self) -> list[str]:
        if self.web_only:
            return [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), "ecom_project.asgi:application"]
        return [sys.executable, "manage.py", "runpipeline", "--host", "127.0.0.1", "--port", str(self.port)]

    def start(self, *, timeout: float = 180.0) -> "PipelineProcess":
        if self.web_only:  # daphne starts no engines: give it a store of its own
            self.engines = LocalEngines(Path(self.env["DATA_DIR"]), kafka=False, say=lambda _: None).start()
            self.env["MONGO_URL"] = self.engines.ferretdb.url
        manage = [sys.executable, "manage.py", "migrate", "--noinput", "-v0"]
        subprocess.run(manage, cwd=settings.BASE_DIR, env=self.env, check=True, capture_output=True)
        log = open(self.log_path, "wb")
        self.process = subprocess.Popen(self._command(), cwd=settings.BASE_DIR, env=self.env, stdout=log,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        preexec_fn=die_with_parent(signal.SIGTERM))  # a killed bench leaves no pipeline
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise PipelineStartError(f"{self._command()[2]} exited with {self.process.returncode}: {self.output_tail()}")
            if self._answers("/health" if self.web_only else "/ready"):
                return self
            time.sleep(0.2)
        self.stop()
        raise PipelineStartError(f"not ready within {timeout:.0f}s: {self.output_tail()}")

    def _answers(self, path: str) -> bool:
        try:
            with urllib.request.urlopen(self.base_url + path, timeout=2) as answer:
                return answer.status == 200
        except OSError:
            return False

    def metrics_text(self) -> str:
        with urllib.request.urlopen(self.base_url + "/metrics", timeout=10) as answer:
            return answer.read().decode()

    def status_counts(self, *, timeout: float = 120.0) -> dict[str, int] | None:
        """Orders per status in the read model (what the store says, whatever the feed delivered), once the
        last changes are counted (a process writes its count changes FLUSH_S after them); None when an
        overloaded process does not answer in time."""
        time.sleep(FLUSH_S + 0.5)
        try:
            with urllib.request.urlopen(self.base_url + "/api/read/status-counts", timeout=timeout) as answer:
                return json.loads(answer.read())
        except (OSError, ValueError):
            return None

    def rss_bytes(self) -> int:
        """Resident memory of the pipeline process itself (its engines are counted by engine_rss)."""
        return resident_bytes(self.process.pid)

    def engine_rss(self) -> dict[str, int]:
        return {engine: resident_bytes(pid) for engine, pid in self.engine_pids().items()}

    def engine_pids(self) -> dict[str, int]:
        """The engines the pipeline runs as children: {"kafka": pid, "store": pid} (those running)."""
        pids = {}
        for child in child_pids(self.process.pid):
            try:
                command = Path(f"/proc/{child}/cmdline").read_bytes()
            except OSError:
                continue
            if b"kafka.Kafka" in command:
                pids["kafka"] = child
            elif b"ferretdb-local" in command:
                pids["store"] = child
        return pids

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time used so far by the pipeline process (all its threads) and by each engine, in seconds."""
        return {"pipeline": process_cpu_seconds(self.process.pid),
                **{engine: process_cpu_seconds(pid) for engine, pid in self.engine_pids().items()}}

    def output_tail(self, chars: int = 1500) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self, *, timeout: float = 30.0) -> None:
        if self.process:
            stop_child(self.process, signal.SIGTERM, timeout=timeout)
        if self.engines:
            self.engines.stop()
        self._workdir.cleanup()

    def __enter__(self) -> "PipelineProcess":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def resident_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise OSError(f"no VmRSS for pid {pid}")


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of one live process, from /proc (0.0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child_pids(pid: int) -> list[int]:
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return children


def produced_events(metrics_text: str) -> int:
    """Sum of `pipeline_events_produced_total` over relays and topics in a Prometheus text page."""
    total = 0.0
    for line in metrics_text.splitlines():
        if line.startswith("pipeline_events_produced_total{"):
            total += float(line.rsplit(" ", 1)[1])
    return int(total)


def shipped_orders(metrics_text: str) -> int:
    """OrderShipped events published so far: the orders that finished on the happy path."""
    total = 0.0
    for line in metrics_text.splitlines():
        if line.startswith("pipeline_events_produced_total{") and 'topic="shipping.OrderShipped.v1"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return int(total)
