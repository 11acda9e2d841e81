"""Replays dead letters from the command line, through the same services as the API and pages."""
from __future__ import annotations

import getpass
import signal
import threading
from contextlib import closing
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from ecom_project.api_errors import ApplicationError
from ecom_project.config import ConfigError
from ecom_project.messaging.deadletters import STATUSES
from ecom_project.messaging.producer import Publisher
from operations import redrive, replay, selectors


class Command(BaseCommand):
    help = (
        "Replay dead letters to the consumer that failed each one (its retry topic; no other consumer sees it). "
        "One letter: --id ID [--force] [--edit-file FILE]. A bulk redrive: --all or any of --topic, --consumer, "
        "--error, --order-id, --older-than (pending letters unless --status), at --rate events/s, with --dry-run "
        "first; it shows its progress and a summary, and Ctrl-C stops it resumably: --resume REDRIVE_ID goes on "
        "from its checkpoint. --redrives lists recent redrives. Poison letters (not a valid event) are refused "
        "unless replayed with --edit-file; letters parked after DEAD_LETTER_MAX_REPLAYS replays need --force."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)

        def one_line_error(message: str) -> None:  # argparse would print the whole usage first
            self.stderr.write(f"replay_dead_letters: {message} (see --help)")
            raise SystemExit(2)

        parser.error = one_line_error
        return parser

    def add_arguments(self, parser) -> None:
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--id", dest="letter_id", help="one dead letter id")
        which.add_argument("--all", action="store_true", help="every letter of --status (default pending), no other filter")
        which.add_argument("--resume", metavar="REDRIVE_ID", help="go on with an interrupted redrive from its checkpoint")
        which.add_argument("--redrives", action="store_true", help="list the recent redrives and their progress")
        parser.add_argument("--topic", help="letters of this original topic")
        parser.add_argument("--consumer", help="letters of this consumer")
        parser.add_argument("--error", help="letters whose last error contains this text (case-insensitive)")
        parser.add_argument("--order-id", help="letters of this order")
        parser.add_argument("--older-than", type=int, metavar="SECONDS", help="letters that first failed this long ago")
        parser.add_argument("--status", choices=STATUSES, default="pending", help="letters in this status (default pending)")
        parser.add_argument("--rate", type=float, default=None,
                            help=f"events per second (default DEAD_LETTER_REDRIVE_RATE, {settings.DEAD_LETTER_REDRIVE_RATE:g})")
        parser.add_argument("--dry-run", action="store_true", help="list what would be replayed or refused, publish nothing")
        parser.add_argument("--force", action="store_true", help="replay parked letters and letters replayed before too")
        parser.add_argument("--edit-file", type=Path, help="with --id: replay this corrected event (JSON) instead")

    def handle(self, *args, letter_id, all, topic, resume, redrives, consumer, error, order_id, older_than, status,
               rate, dry_run, force, edit_file, **options) -> None:
        filtered = any(value is not None for value in (topic, consumer, error, order_id, older_than))
        if not (letter_id or all or resume or redrives or filtered):
            raise CommandError("say which letters: --id, --all, a filter (--topic, --consumer, --error, --order-id, "
                               "--older-than), --resume or --redrives (see --help)", returncode=2)
        if filtered and (letter_id or all or resume or redrives):
            raise CommandError("the filters select letters for a redrive: not with --id, --all, --resume or --redrives",
                               returncode=2)
        if edit_file and not letter_id:
            raise CommandError("--edit-file goes with --id", returncode=2)
        if rate is not None and not 0.1 <= rate <= 1000:
            raise CommandError(f"--rate {rate:g} is out of range [0.1, 1000] events/s", returncode=2)
        if older_than is not None and older_than < 1:
            raise CommandError("--older-than takes a number of seconds, at least 1", returncode=2)
        try:
            if redrives:
                return self._list_redrives()
            if letter_id:
                return self._one(letter_id, force=force, dry_run=dry_run, edit_file=edit_file)
            if resume:
                return self._run(redrive.redrive_claim(resume, requested_by=self._operator()))
            where = redrive.LetterFilter(status=status, topic=topic, consumer=consumer, error=error, order_id=order_id,
                                         older_than_s=older_than)
            if dry_run:
                return self._preview(where, force=force)
            doc = redrive.redrive_create(where=where, rate=rate or settings.DEAD_LETTER_REDRIVE_RATE, force=force,
                                         requested_by=self._operator())
            return self._run(redrive.redrive_claim(doc["_id"], requested_by=self._operator()))
        except ApplicationError as exc:
            raise CommandError(exc.message) from None

    @staticmethod
    def _operator() -> str:
        return f"cli:{getpass.getuser()}"[:64]

    def _one(self, letter_id: str, *, force: bool, dry_run: bool, edit_file: Path | None) -> None:
        letter = selectors.dead_letter_get(dead_letter_id=letter_id)
        try:
            edited = edit_file.read_bytes() if edit_file else None
        except OSError as exc:
            raise CommandError(f"cannot read {edit_file}: {exc.strerror}") from None
        if dry_run:
            replay.replay_plan(letter, force=force, edited=edited)
            self.stdout.write(f"{letter_id} would be replayed\n1 dead letter(s) would be replayed")
            return
        with self._publisher() as publisher:
            try:
                replay.dead_letter_replay(dead_letter_id=letter_id, requested_by=self._operator(), force=force,
                                          edited=edited, publisher=publisher)
            except ApplicationError as exc:
                fields = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
                raise CommandError(exc.message + (f" ({fields})" if fields else "")) from None
        self.stdout.write("replayed 1, refused 0")

    def _preview(self, where: redrive.LetterFilter, *, force: bool) -> None:
        preview = redrive.redrive_preview(where=where, force=force, show=redrive.MAX_LETTERS)
        for letter in preview["letters"]:
            self.stdout.write(letter["id"] + ("" if letter["outcome"] == "replay" else f"  refused: {letter['reason']}"))
        self.stdout.write(f"{preview['wouldReplay']} dead letter(s) would be replayed, {preview['wouldRefuse']} refused")

    def _list_redrives(self) -> None:
        for doc in redrive.redrive_list():
            self.stdout.write(f"{doc['id']}  {doc['state']:<11} {doc['done']}/{doc['total']}  replayed {doc['replayed']}, "
                              f"refused {doc['refused']}  {doc['rate']:g}/s  by {doc['by']}  {doc['createdAt']:%Y-%m-%d %H:%M:%S}")

    def _run(self, doc: dict) -> None:
        stop = threading.Event()
        previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
        self.stdout.write(f"redrive {doc['_id']}: {doc['total']} letter(s) at {doc['rate']:g}/s", ending="\n")
        self.stdout.flush()
        bar = tqdm(total=doc["total"], initial=doc["replayed"] + doc["refused"], desc="replaying", unit="letter",
                   file=self.stderr._out)
        try:
            with self._publisher() as publisher:
                final = redrive.redrive_run(doc, publisher=publisher, stop=stop,
                                            on_progress=lambda view: bar.update(view["done"] - bar.n))
        finally:
            bar.close()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write(f"replayed {final['replayed']}, refused {final['refused']}")
        for refusal in final["refusals"]:
            self.stderr.write(f"{refusal['id']}: {refusal['reason']}")
        if final["state"] != redrive.DONE:
            raise CommandError(f"redrive {final['id']} {final['state']} ({final['stopReason']}) after {final['done']} of "
                               f"{final['total']}; go on with: manage.py replay_dead_letters --resume {final['id']}")
        if final["refused"]:
            raise CommandError(f"{final['refused']} dead letter(s) were not replayed")

    @staticmethod
    def _publisher() -> closing[Publisher]:
        try:
            return closing(Publisher())
        except ConfigError as exc:
            raise CommandError(str(exc)) from None
