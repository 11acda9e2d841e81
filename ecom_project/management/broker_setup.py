"""The broker a run command uses: KAFKA_BROKERS with the topics created, or an embedded one."""
from __future__ import annotations

from pathlib import Path
from typing import TextIO

from django.conf import settings
from django.core.management.base import CommandError

from ecom_project.config import ConfigError
from ecom_project.messaging.broker import EmbeddedBroker, create_topics


def broker_for_run(stdout: TextIO) -> tuple[EmbeddedBroker | None, str]:
    """(the embedded broker started, or None) and the bootstrap address; one-line CommandError if unusable.

    The embedded broker logs to var/broker.log and is the caller's to stop."""
    try:
        if settings.KAFKA_BROKERS:
            create_topics(settings.KAFKA_BROKERS, partitions=settings.KAFKA_PARTITIONS)
            return None, settings.KAFKA_BROKERS
        log_dir = Path(settings.BASE_DIR) / "var"
        log_dir.mkdir(exist_ok=True)
        broker = EmbeddedBroker(partitions=settings.KAFKA_PARTITIONS, log_path=log_dir / "broker.log").start()
    except ConfigError as exc:
        raise CommandError(str(exc)) from None
    except Exception as exc:
        raise CommandError(f"broker at {settings.KAFKA_BROKERS or 'embedded'} is not usable: {exc}") from None
    stdout.write(f"embedded broker on {broker.bootstrap}")
    return broker, broker.bootstrap
