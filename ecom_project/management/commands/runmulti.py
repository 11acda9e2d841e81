"""Multi-process mode on one machine: the local engines (Kafka, FerretDB), a Redis channel layer, daphne and
one process per consume_<app>, as in production (docker-compose.yml) but without containers."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

from django.conf import settings
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError

from ecom_project.management.broker_setup import engines_for_run
from ecom_project.messaging.consumers import consumer_names
from ecom_project.supervision import ProcessGroup, answers, free_port, stop_child, wait_listening

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


class Command(BaseCommand):
    help = (
        "Run web (daphne) and every consume_<app> as separate processes on the same engines: the local Kafka and "
        "FerretDB (data in DATA_DIR, default .data/) unless KAFKA_BROKERS / MONGO_URL point at running ones, and "
        "Redis at REDIS_URL (default redis://127.0.0.1:6379/0; started when nothing answers and redis-server is "
        "installed). Ctrl-C/SIGTERM stops all."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default=settings.HOST, help="web interface (env HOST)")
        parser.add_argument("--port", type=int, default=settings.PORT, help="web port (env PORT)")
        parser.add_argument("--metrics-base-port", type=int, default=9101,
                            help="consumer N serves /metrics and /health on this port + N")

    def handle(self, *args, host: str, port: int, metrics_base_port: int, **options) -> None:
        stopping = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stopping.set())
        group = ProcessGroup(out=self.stdout, width=max(len(f"consume_{name}") for name in consumer_names()))
        engines = redis = None
        try:
            engines = engines_for_run(self.stdout)
            redis, redis_url = self._redis()
            if "seed_inventory" in get_commands():
                call_command("seed_inventory", if_empty=True, stdout=self.stdout)
            env = {**os.environ, "KAFKA_BROKERS": settings.KAFKA_BROKERS, "REDIS_URL": redis_url, "MONGO_URL": settings.MONGO_URL}
            self._start_children(group, env, host=host, port=port, metrics_base_port=metrics_base_port)
            self._supervise(group, stopping, health_url=f"http://{host}:{port}/health")
        finally:
            self.stdout.write("stopping every process")
            group.stop()
            if redis:
                stop_child(redis, signal.SIGTERM, timeout=10)
            if engines:
                engines.stop()
            self.stdout.write("all processes stopped")

    def _redis(self) -> tuple[subprocess.Popen | None, str]:
        url = settings.REDIS_URL or DEFAULT_REDIS_URL
        parsed = urlparse(url)
        if parsed.scheme == "unix" or answers(parsed.hostname or "127.0.0.1", parsed.port or 6379):
            return None, url
        binary = shutil.which("redis-server")
        if settings.REDIS_URL or not binary:
            raise CommandError(f"nothing answers at {url}: start Redis there or set REDIS_URL")
        redis_port = free_port()
        process = subprocess.Popen([binary, "--bind", "127.0.0.1", "--port", str(redis_port), "--save", "", "--appendonly", "no"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_listening(process, redis_port, timeout=5, name="redis-server")
        except RuntimeError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"redis-server on 127.0.0.1:{redis_port}")
        return process, f"redis://127.0.0.1:{redis_port}/0"

    @staticmethod
    def _start_children(group: ProcessGroup, env: dict[str, str], *, host: str, port: int, metrics_base_port: int) -> None:
        group.start("web", [sys.executable, "-m", "daphne", "-b", host, "-p", str(port), "ecom_project.asgi:application"],
                    env={**env, "WEB_OUTBOX_RELAY": "orders"})
        manage = str(Path(settings.BASE_DIR) / "manage.py")
        for offset, name in enumerate(consumer_names()):
            consumer_env = {**env, "METRICS_PORT": str(metrics_base_port + offset)}
            group.start(f"consume_{name}", [sys.executable, manage, f"consume_{name}"], env=consumer_env)

    def _supervise(self, group: ProcessGroup, stopping: threading.Event, *, health_url: str) -> None:
        ready = False
        while not stopping.wait(0.5):
            exited = group.first_exit()
            if exited:
                raise CommandError(f"{exited[0]} exited with code {exited[1]}; stopping the others")
            if not ready and _healthy(health_url):
                ready = True
                self.stdout.write(f"multi-process pipeline ready: dashboard {health_url.removesuffix('health')}dashboard/")


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False
