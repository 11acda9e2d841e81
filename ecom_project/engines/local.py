"""Starting and stopping the local engines of a run, and telling other commands where they are."""
from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from ecom_project.engines import build, state
from ecom_project.engines.build import EngineError
from ecom_project.engines.ferretdb import LocalFerretDB
from ecom_project.engines.kafka import LocalKafka
from ecom_project.supervision import answers

log = logging.getLogger(__name__)


class LocalEngines:
    """FerretDB and/or Kafka under `data_dir` (ferretdb/, kafka/, logs/), started together, stopped together."""

    def __init__(self, data_dir: Path, *, kafka: bool = True, store: bool = True, partitions: int = 4,
                 heap: str = "512m", say: build.Say = print) -> None:
        self.data_dir = data_dir
        self.say = say
        previous = state.last(data_dir)
        self.ferretdb = LocalFerretDB(
            data_dir=data_dir / "ferretdb", log_path=data_dir / "logs" / "ferretdb.log", port=_free(previous.get("ferretdbPort")),
        ) if store else None
        self.kafka = LocalKafka(
            data_dir=data_dir / "kafka", log_path=data_dir / "logs" / "kafka.log", partitions=partitions, heap=heap,
            port=_free(previous.get("kafkaPort")), controller_port=_free(previous.get("kafkaControllerPort")),
        ) if kafka else None

    def start(self) -> "LocalEngines":
        try:
            if self.ferretdb:
                self.ferretdb.start(say=self.say)
                self.say(f"local store (FerretDB on SQLite) on {self.ferretdb.url}, data in {self.ferretdb.data_dir}")
            if self.kafka:
                self.say("starting the local Kafka broker")
                self.kafka.start(say=self.say)
                self.say(f"local Kafka on {self.kafka.bootstrap}, data in {self.kafka.data_dir}")
        except BaseException:
            self.stop()
            raise
        state.write(self.data_dir, {
            "owner": os.getpid(),
            "kafka": self.kafka.bootstrap if self.kafka else None,
            "mongo": self.ferretdb.url if self.ferretdb else None,
            "kafkaPort": self.kafka.port if self.kafka else None,
            "kafkaControllerPort": self.kafka.controller_port if self.kafka else None,
            "ferretdbPort": self.ferretdb.port if self.ferretdb else None,
        })
        return self

    def stop(self) -> None:
        if self.kafka:
            self.kafka.stop()
        if self.ferretdb:
            self.ferretdb.stop()
        state.clear(self.data_dir, owner=os.getpid())


def start_for_run(*, data_dir: Path, partitions: int, heap: str, say: build.Say = print) -> LocalEngines | None:
    """The engines a run command needs: none when KAFKA_BROKERS and MONGO_URL both point elsewhere.

    The addresses of the engines started are put in the environment, for child processes."""
    need_kafka, need_store = not os.environ.get("KAFKA_BROKERS"), not os.environ.get("MONGO_URL")
    if not (need_kafka or need_store):
        return None
    live = state.running(data_dir)
    if live and live["owner"] != os.getpid():
        raise EngineError(
            f"the local engines of {data_dir} already run, for process {live['owner']} (another `make run`?): stop it first, "
            f"or use its engines with KAFKA_BROKERS={live.get('kafka')} MONGO_URL={live.get('mongo')}"
        )
    engines = LocalEngines(data_dir, kafka=need_kafka, store=need_store, partitions=partitions, heap=heap, say=say).start()
    if engines.kafka:
        os.environ["KAFKA_BROKERS"] = engines.kafka.bootstrap
    if engines.ferretdb:
        os.environ["MONGO_URL"] = engines.ferretdb.url
    return engines


def reset(data_dir: Path, *, say: build.Say = print) -> None:
    """Delete the engines' data (orders, stock, topics, offsets, dead letters); refused while they run."""
    live = state.running(data_dir)
    if live:
        raise EngineError(f"the local engines of {data_dir} run for process {live['owner']}: stop it before resetting")
    for part in ("kafka", "ferretdb"):
        shutil.rmtree(data_dir / part, ignore_errors=True)
    say(f"deleted the local engines' data in {data_dir}")


def _free(port: object) -> int | None:
    """The port of the previous run when nothing listens there now (stable addresses across restarts)."""
    return port if isinstance(port, int) and not answers("127.0.0.1", port, timeout=0.2) else None
