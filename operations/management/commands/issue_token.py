"""Prints an access token of a staff user for scripts (the token is the last line of stdout)."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from ecom_project.access import service_token


class Command(BaseCommand):
    help = "Create staff user U if missing (without a usable password) and print an admin API access token."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", required=True)

    def handle(self, *args, username: str, **options) -> None:
        username = username.strip()
        if not username or len(username) > 150:
            raise CommandError("--username must be 1-150 characters")
        try:
            self.stdout.write(service_token(username=username))
        except PermissionError as exc:
            raise CommandError(str(exc)) from None
