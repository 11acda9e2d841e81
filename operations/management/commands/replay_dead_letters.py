"""Replays dead letters from the command line, through the same service as the API and pages."""
from __future__ import annotations

import getpass

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from ecom_project.api_errors import ApplicationError
from ecom_project.config import ConfigError
from ecom_project.messaging.deadletters import PENDING
from ecom_project.messaging.producer import Publisher
from operations import selectors, services

PAGE = 200


class Command(BaseCommand):
    help = "Republish dead letters to their original topics: one (--id), a topic's pending ones (--topic) or all pending (--all)."

    def create_parser(self, prog_name: str, subcommand: str, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)

        def one_line_error(message: str) -> None:  # argparse would print the whole usage first
            self.stderr.write(f"replay_dead_letters: {message} (see --help)")
            raise SystemExit(2)

        parser.error = one_line_error
        return parser

    def add_arguments(self, parser) -> None:
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--id", dest="letter_id", help="one dead letter id")
        which.add_argument("--topic", help="every pending dead letter of this original topic")
        which.add_argument("--all", action="store_true", help="every pending dead letter")
        parser.add_argument("--dry-run", action="store_true", help="list what would be replayed, publish nothing")
        parser.add_argument("--force", action="store_true", help="with --id: replay even if it was replayed before")

    def handle(self, *args, letter_id: str | None, topic: str | None, all: bool, dry_run: bool, force: bool,
               **options) -> None:
        try:
            ids = [selectors.dead_letter_get(dead_letter_id=letter_id)["_id"]] if letter_id else self._pending(topic)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        if dry_run:
            for each in ids:
                self.stdout.write(each)
            self.stdout.write(f"{len(ids)} dead letter(s) would be replayed")
            return
        replayed, refused = self._replay(ids, force=force) if ids else (0, [])
        self.stdout.write(f"replayed {replayed}, refused {len(refused)}")
        for line in refused:
            self.stderr.write(line)
        if refused:
            raise CommandError(f"{len(refused)} dead letter(s) were not replayed")

    def _pending(self, topic: str | None) -> list[str]:
        ids, cursor = [], None
        for _ in range(100_000 // PAGE):  # bounded: at most 100,000 per run
            page, cursor = selectors.dead_letter_list(status=PENDING, topic=topic, limit=PAGE, cursor=cursor)
            ids += [letter["_id"] for letter in page]
            if not cursor:
                break
        return ids

    def _replay(self, ids: list[str], *, force: bool) -> tuple[int, list[str]]:
        try:
            publisher = Publisher()
        except ConfigError as exc:
            raise CommandError(str(exc)) from None
        replayed, refused = 0, []
        operator = f"cli:{getpass.getuser()}"[:64]
        try:
            for each in tqdm(ids, desc="replaying", unit="letter", file=self.stderr._out):
                try:
                    services.dead_letter_replay(dead_letter_id=each, requested_by=operator, force=force, publisher=publisher)
                    replayed += 1
                except ApplicationError as exc:
                    refused.append(f"{each}: {exc.message}")
        finally:
            publisher.close()
        return replayed, refused
