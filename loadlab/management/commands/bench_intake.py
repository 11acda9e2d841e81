"""Micro benchmark of POST /api/orders through the ASGI app: Django's handler, the full chain, the lean intake."""
from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from loadlab.perf.command_flags import one_line_errors
from loadlab.perf.intake_micro import handlers, measure


class Command(BaseCommand):
    help = ("Time N sequential POST /api/orders through the ASGI app in this process (the configured store, no "
            "broker; back-pressure off) with Django's own ASGI handler (stock), the pooled handler's general path "
            "(full) and its intake path (lean); prints requests/s and process CPU µs per request for each.")

    def create_parser(self, *args, **kwargs):
        return one_line_errors(super().create_parser(*args, **kwargs))

    def add_arguments(self, parser) -> None:
        parser.add_argument("--requests", type=int, default=2000, help="POSTs per handler (default 2000)")
        parser.add_argument("--rounds", type=int, default=3, help="rounds, handlers interleaved; the best is shown")
        parser.add_argument("--no-store", action="store_true", help="replace the store write by an answer: the web layer alone")

    def handle(self, *args, requests: int, rounds: int, no_store: bool, **options) -> None:
        if not 1 <= requests <= 100_000 or not 1 <= rounds <= 20:
            raise CommandError("--requests must be in [1, 100000] and --rounds in [1, 20]")
        if not settings.MONGO_URL and not no_store:
            raise CommandError("no store: start `make run` or set MONGO_URL")
        settings.BACKPRESSURE_ENABLED = False
        apps = handlers()
        best: dict[str, dict[str, float]] = {}
        for _ in range(rounds):
            for name, app in apps.items():
                figures = measure(app, requests=requests, store=not no_store)
                if name not in best or figures["cpuUsPerRequest"] < best[name]["cpuUsPerRequest"]:
                    best[name] = figures
        for name, figures in best.items():
            self.stdout.write(f"{name:5}  {figures['requestsPerSecond']:8.1f} requests/s  "
                              f"{figures['cpuUsPerRequest']:6.0f} µs CPU per POST")
