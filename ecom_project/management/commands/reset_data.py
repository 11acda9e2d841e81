"""Start over: delete the local engines' data in DATA_DIR (refused while a pipeline runs on it)."""
from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ecom_project.engines.build import EngineError
from ecom_project.engines.local import reset


class Command(BaseCommand):
    help = ("Delete the local engines' data (DATA_DIR, default .data/: orders, stock, topics, offsets, dead letters). "
            "Refused while `make run` / `make run-multi` runs on it. Users and sessions (SQLite) are kept.")

    def handle(self, *args, **options) -> None:
        try:
            reset(settings.DATA_DIR, say=self.stdout.write)
        except EngineError as exc:
            raise CommandError(str(exc)) from None
