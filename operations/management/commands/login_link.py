"""Prints a one-time operator login link (what `runpipeline` prints when it is ready)."""
from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from operations.login_links import operator_login_line


class Command(BaseCommand):
    help = ("Print a one-time login link (valid 15 minutes) of staff user 'operator', made without a usable "
            "password when missing. Opening it logs in and shows the dashboard.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--base-url", default=None, help="where the pipeline answers (default http://HOST:PORT)")

    def handle(self, *args, base_url: str | None, **options) -> None:
        self.stdout.write(operator_login_line(base_url=base_url or f"http://{settings.HOST}:{settings.PORT}"))
