"""The local broker: Apache Kafka in KRaft mode, one combined broker+controller node, as a child process.

Its storage is formatted on first use and kept under the data directory, so topics, messages and
committed offsets survive a restart. The heap is bounded (`KAFKA_HEAP`, default 512m).
"""
from __future__ import annotations

import base64
import logging
import signal
import subprocess
import uuid
from pathlib import Path

from ecom_project.engines import build
from ecom_project.supervision import die_with_parent, free_port, stop_child, wait_listening

log = logging.getLogger(__name__)

SERVER_PROPERTIES = """\
# Written by the pipeline at every start (ports may change); edit ecom_project/engines/kafka.py instead.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{controller_port}
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}
advertised.listeners=PLAINTEXT://127.0.0.1:{port}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs={log_dir}
num.partitions={partitions}
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
"""


def new_cluster_id() -> str:
    """A random cluster id as Kafka writes them (URL-safe base64 of 16 bytes), never starting with "-":
    the storage tool would read such an id as an option (Kafka's own Uuid avoids it the same way)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


class LocalKafka:
    def __init__(self, *, data_dir: Path, log_path: Path, partitions: int, heap: str = "512m",
                 port: int | None = None, controller_port: int | None = None) -> None:
        self.data_dir = data_dir
        self.log_path = log_path
        self.partitions = partitions
        self.heap = heap
        self.port = port or free_port()
        self.controller_port = controller_port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, *, timeout: float = 90.0, say: build.Say = print) -> "LocalKafka":
        """Start (formatting the storage on first use) and wait until clients can connect."""
        java = build.java_binary()
        libs = build.ensure_kafka(say)
        config = self._write_config()
        if not (self.data_dir / "log" / "meta.properties").exists():
            self._format(java, libs, config)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as out:
            self.process = subprocess.Popen(
                [*self._java(java, libs, self.heap), "kafka.Kafka", str(config)],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                preexec_fn=die_with_parent(signal.SIGTERM),  # no orphan broker, ever
            )
        try:
            wait_listening(self.process, self.port, timeout=timeout, name=f"Kafka (log: {self.log_path})")
        except RuntimeError as exc:
            raise build.EngineError(str(exc)) from None
        log.info("local Kafka started", extra={"bootstrap": self.bootstrap, "pid": self.process.pid})
        return self

    def _write_config(self) -> Path:
        (self.data_dir / "log").mkdir(parents=True, exist_ok=True)
        config = self.data_dir / "server.properties"
        config.write_text(SERVER_PROPERTIES.format(
            port=self.port, controller_port=self.controller_port, log_dir=self.data_dir / "log", partitions=self.partitions,
        ))
        return config

    def _format(self, java: str, libs: Path, config: Path) -> None:
        cluster_id = new_cluster_id()
        result = subprocess.run(
            [*self._java(java, libs, "256m"), "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(config)],
            capture_output=True, text=True, stdin=subprocess.DEVNULL,
        )
        if result.returncode != 0:
            lines = (result.stderr or result.stdout).strip().splitlines()
            raise build.EngineError(f"formatting Kafka's storage in {self.data_dir} failed: {lines[-1] if lines else result.returncode}")

    @staticmethod
    def _java(java: str, libs: Path, heap: str) -> list[str]:
        return [java, f"-Xmx{heap}", f"-Xms{heap}", "-XX:+ExitOnOutOfMemoryError", "-Djava.awt.headless=true",
                f"-Dlog4j2.configurationFile={build.LOG4J_CONFIG}", "-cp", f"{libs}/*"]

    def stop(self, *, timeout: float = 30.0) -> None:
        """SIGTERM: Kafka closes its logs cleanly (a SIGKILL would cost a log recovery at the next start)."""
        if self.process is None or self.process.poll() is not None:
            return
        stop_child(self.process, signal.SIGTERM, timeout=timeout)
        log.info("local Kafka stopped", extra={"bootstrap": self.bootstrap})

    def pause(self) -> None:
        """SIGSTOP: the broker stops answering but keeps its data (broker-outage drills)."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)
