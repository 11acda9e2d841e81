"""The all-in-one pipeline: the local engines (Kafka, FerretDB; unless KAFKA_BROKERS / MONGO_URL are set),
every consumer and relay, and the web server (HTTP, websockets, dashboard) in one process."""
from __future__ import annotations

import asyncio
import logging
import signal
import socket
import sys

from django.conf import settings
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError

from ecom_project import live
from ecom_project.management.broker_setup import engines_for_run
from ecom_project.messaging.consumers import all_consumer_specs
from ecom_project.messaging.worker import Worker

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Run the whole pipeline in one process on HOST:PORT (default 127.0.0.1:8000): starts the local engines "
        "(Apache Kafka and FerretDB on SQLite, data in DATA_DIR, default .data/) unless KAFKA_BROKERS / MONGO_URL "
        "point at running ones, creates the topics, seeds inventory when empty, runs every consumer and outbox "
        "relay, and serves the API, websockets and dashboard. Ctrl-C/SIGTERM stops all, engines included."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default=settings.HOST, help="interface to listen on (env HOST)")
        parser.add_argument("--port", type=int, default=settings.PORT, help="port to listen on (env PORT)")

    def handle(self, *args, host: str, port: int, **options) -> None:
        import daphne.server  # installs the asyncio Twisted reactor before anything else imports one

        # A shell starts background jobs with SIGINT ignored, and Twisted then leaves it ignored:
        # `kill -INT` must stop the pipeline however it was started.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        self._check_port(host, port)
        engines = None
        worker = None
        try:
            engines = engines_for_run(self.stdout)
            if "seed_inventory" in get_commands():
                call_command("seed_inventory", if_empty=True, stdout=self.stdout)
            worker = Worker(all_consumer_specs()).start()
            self.stdout.write("waiting for the consumers to join their groups")
            if not worker.wait_assigned(60):
                raise CommandError("consumers got no partitions within 60 s: is the broker healthy?")
            from channels.routing import get_default_application
            from daphne.endpoints import build_endpoint_description_strings

            def ready() -> None:
                live.serve_on(asyncio.get_event_loop())  # consumer threads push on the server's loop
                self.stdout.write(f"pipeline ready: dashboard http://{host}:{port}/dashboard/  API http://{host}:{port}/api/orders")
                call_command("login_link", base_url=f"http://{host}:{port}", stdout=self.stdout)  # one-time operator login
                sys.stdout.flush()

            daphne.server.Server(
                application=get_default_application(),
                endpoints=build_endpoint_description_strings(host=host, port=port),
                signal_handlers=True,
                ready_callable=ready,
                websocket_timeout=86400,
                application_close_timeout=5,
            ).run()
        finally:
            self.stdout.write("stopping pipeline")
            if worker:
                worker.stop()
            if engines:
                engines.stop()
            self.stdout.write("pipeline stopped")

    @staticmethod
    def _check_port(host: str, port: int) -> None:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError as exc:
                raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
