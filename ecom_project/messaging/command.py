"""Base of every `consume_<app>` command: the app's consumer runner and its outbox relay."""
from __future__ import annotations

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ecom_project.config import ConfigError
from ecom_project.messaging.consumers import consumer_spec
from ecom_project.messaging.producer import bootstrap_servers
from ecom_project.messaging.worker import Worker
from ecom_project.observability.http import serve_health


class ConsumerCommand(BaseCommand):
    consumer_name = ""

    @property
    def help(self) -> str:  # type: ignore[override]
        return (
            f"Run the {self.consumer_name} consumer and its outbox relay against KAFKA_BROKERS. "
            "Serves /metrics and /health on METRICS_PORT when set. SIGTERM finishes the batch, commits and exits."
        )

    def handle(self, *args: object, **options: object) -> None:
        try:
            spec = consumer_spec(self.consumer_name)
            bootstrap_servers()
            worker = Worker([spec])
        except (ConfigError, KeyError) as exc:
            raise CommandError(str(exc)) from None
        done = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: done.set())
        if settings.METRICS_PORT:
            try:
                serve_health(settings.METRICS_PORT, healthy=worker.alive, host=settings.HOST)
            except OSError as exc:
                raise CommandError(f"METRICS_PORT={settings.METRICS_PORT}: {exc.strerror}") from None
        worker.start()
        self.stdout.write(f"{spec.name} consumer running (group {spec.group_id}); Ctrl-C to stop")
        while not done.wait(0.5):
            if not worker.alive():
                worker.stop()
                raise CommandError(f"{spec.name} worker died: {worker.errors[0] if worker.errors else 'unknown'}")
        worker.stop()
