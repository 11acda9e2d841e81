"""Store commands and CPU per finished order (loadlab/perf/store_profile.py)."""
from __future__ import annotations

import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from loadlab.perf.command_flags import one_line_errors


class Command(BaseCommand):
    help = ("Place N happy-path orders at R/s with every consumer and relay in this process and print the store "
            "commands per finished order (by command, collection and component) and the CPU per order of this "
            "process, the store and Kafka. On fresh local engines of its own unless KAFKA_BROKERS and MONGO_URL "
            "are set (then the store's and Kafka's CPU are n/a).")

    def create_parser(self, prog_name, subcommand, **kwargs):
        return one_line_errors(super().create_parser(prog_name, subcommand, **kwargs))

    def add_arguments(self, parser) -> None:
        parser.add_argument("--orders", type=int, default=200, help="orders to count (default 200)")
        parser.add_argument("--rate", type=float, default=20.0, help="orders placed per second (default 20)")
        parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for them to finish (default 600)")

    def handle(self, *args, orders: int, rate: float, timeout: float, **options) -> None:
        if orders < 1 or rate <= 0 or timeout <= 0:
            raise CommandError("--orders, --rate and --timeout must be positive")
        from ecom_project.engines.local import LocalEngines
        from ecom_project.messaging.broker import create_topics
        from loadlab.perf import store_profile

        local = None
        if not (settings.KAFKA_BROKERS and settings.MONGO_URL):
            self.stdout.write("starting local Kafka and FerretDB on scratch data...")
            local = LocalEngines(Path(tempfile.mkdtemp(prefix="store-profile-")), partitions=settings.KAFKA_PARTITIONS,
                                 say=lambda _: None).start()
            settings.KAFKA_BROKERS, settings.MONGO_URL = local.kafka.bootstrap, local.ferretdb.url
        try:
            create_topics(settings.KAFKA_BROKERS, partitions=settings.KAFKA_PARTITIONS)
            profile = store_profile.run(
                orders=orders, rate=rate, timeout=timeout, progress=lambda line: self.stdout.write(line),
                store_pid=local.ferretdb.process.pid if local else None,
                kafka_pid=local.kafka.process.pid if local else None,
            )
        except TimeoutError as exc:
            raise CommandError(str(exc)) from None
        finally:
            if local:
                local.stop()
        for line in profile.lines():
            self.stdout.write(line)
