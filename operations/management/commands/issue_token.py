"""Prints an access token of a staff user for scripts (the token is the last line of stdout)."""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from rest_framework_simplejwt.tokens import RefreshToken


class Command(BaseCommand):
    help = "Create staff user U if missing (without a usable password) and print an admin API access token."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", required=True)

    def handle(self, *args, username: str, **options) -> None:
        username = username.strip()
        if not username or len(username) > 150:
            raise CommandError("--username must be 1-150 characters")
        user, created = get_user_model().objects.get_or_create(username=username, defaults={"is_staff": True})
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        if not user.is_active or not user.is_staff:
            raise CommandError(f"user {username!r} exists but is not an active staff user")
        self.stdout.write(str(RefreshToken.for_user(user).access_token))
