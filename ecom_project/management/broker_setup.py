"""The engines a run command uses: KAFKA_BROKERS / MONGO_URL when set, else the local ones (started here)."""
from __future__ import annotations

from typing import TextIO

from django.conf import settings
from django.core.management.base import CommandError

from ecom_project.config import ConfigError
from ecom_project.engines.build import EngineError
from ecom_project.engines.local import LocalEngines, start_for_run
from ecom_project.messaging.broker import create_topics


def engines_for_run(stdout: TextIO) -> LocalEngines | None:
    """The local engines started for this run (the caller's to stop), or None; settings point at the engines
    in use and the topics exist. One-line CommandError when something is unusable."""
    engines = None
    try:
        engines = start_for_run(
            data_dir=settings.DATA_DIR, partitions=settings.KAFKA_PARTITIONS, heap=settings.KAFKA_HEAP,
            say=lambda line: (stdout.write(line), stdout.flush()),
        )
        if engines and engines.kafka:
            settings.KAFKA_BROKERS = engines.kafka.bootstrap
        if engines and engines.ferretdb:
            settings.MONGO_URL = engines.ferretdb.url
        create_topics(settings.KAFKA_BROKERS, partitions=settings.KAFKA_PARTITIONS)
    except (ConfigError, EngineError) as exc:
        if engines:
            engines.stop()
        raise CommandError(str(exc)) from None
    except Exception as exc:
        if engines:
            engines.stop()
        raise CommandError(f"broker at {settings.KAFKA_BROKERS} is not usable: {exc}") from None
    return engines
