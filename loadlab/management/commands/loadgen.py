"""Synthetic orders over HTTP at a steady rate, followed to their end through the websocket feed."""
from __future__ import annotations

import os
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from ecom_project.access import service_token
from loadlab.perf.load_report import report_lines
from loadlab.perf.command_flags import one_line_errors
from loadlab.perf.load_run import LoadError, LoadPlan
from loadlab.perf.load_session import run_with_progress, write_result
from loadlab.perf.order_mix import DEFAULT_MIX, MixError, parse_mix


def _env_number(name: str, default: str) -> str:
    return os.environ.get(name) or default


def _own_token() -> str:
    """A token of staff user 'loadgen' in this machine's database (the pipeline `make run` started
    uses it too); empty when there is none, and the feed then works only with PUBLIC_ORDER_FEED."""
    try:
        return service_token(username="loadgen")
    except (DatabaseError, PermissionError):
        return ""


def _number(flag: str, text: str, kind: type = float) -> float:
    try:
        return kind(text)
    except ValueError:
        raise CommandError(f"{flag} must be a number, got {text!r}") from None


class Command(BaseCommand):
    help = (
        "Offer orders to POST /api/orders at a steady rate for a bounded time, follow each to SHIPPED/REJECTED/"
        "CANCELLED through the websocket feed /ws/orders/, and report offered vs achieved rate, outcomes and "
        "POST->terminal latency (p50/p95/p99/max); orders the feed never showed finishing are looked up once "
        "in the read model after the drain. Writes a JSON result and an HTML plot to --out."
    )

    def create_parser(self, *args, **kwargs):
        return one_line_errors(super().create_parser(*args, **kwargs))

    def add_arguments(self, parser) -> None:
        parser.add_argument("--rate", help="orders per second offered (env RATE, default 50)")
        parser.add_argument("--duration", help="seconds of sending (env DURATION, default 10)")
        parser.add_argument("--base-url", help="order service (env ORDER_SERVICE, default http://127.0.0.1:8000)")
        parser.add_argument("--concurrency", default="64", help="most requests in flight at once (default 64)")
        parser.add_argument("--mix", default=DEFAULT_MIX, help=f"kinds of orders and their weights (default {DEFAULT_MIX})")
        parser.add_argument("--drain-timeout", default="30", help="seconds to wait for the last orders to finish")
        parser.add_argument("--out", help="directory of the JSON result and the plot (default var/loadgen)")
        parser.add_argument("--no-follow", action="store_true", help="intake only: no websocket, no terminal tracking")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")
        parser.add_argument("--honour-retry-after", action="store_true",
                            help="after a 503 + Retry-After, send nothing until that many seconds have passed (the "
                                 "orders due meanwhile are not sent); default: shed orders are counted and the rate kept")
        parser.add_argument("--token", help="staff JWT for the all-orders feed (env LOADGEN_TOKEN; default: one of "
                                            "staff user 'loadgen', made here, when the target shares this database)")

    def handle(self, *args, **options) -> None:
        plan = self._plan(options)
        try:
            result = run_with_progress(plan, progress=not options["no_progress"])
        except LoadError as exc:
            raise CommandError(str(exc)) from None
        for line in report_lines(result):
            self.stdout.write(line)
        out = Path(options["out"]) if options["out"] else Path(settings.BASE_DIR) / "var" / "loadgen"
        try:
            json_path, html_path = write_result(result, out, stem=f"loadgen-{time.strftime('%Y%m%d-%H%M%S')}")
        except OSError as exc:
            raise CommandError(f"cannot write the result to {out}: {exc.strerror or exc}") from None
        self.stdout.write(f"result {json_path}\nplot   {html_path}")

    @staticmethod
    def _plan(options: dict) -> LoadPlan:
        try:
            mix = parse_mix(options["mix"])
        except MixError as exc:
            raise CommandError(str(exc)) from None
        plan = LoadPlan(
            rate=_number("--rate", options["rate"] or _env_number("RATE", "50")),
            duration=_number("--duration", options["duration"] or _env_number("DURATION", "10")),
            base_url=options["base_url"] or os.environ.get("ORDER_SERVICE") or "http://127.0.0.1:8000",
            concurrency=int(_number("--concurrency", options["concurrency"], int)),
            mix=mix,
            drain_timeout=_number("--drain-timeout", options["drain_timeout"]),
            follow=not options["no_follow"],
            auth_limit=settings.PAYMENT_AUTH_LIMIT,
            token=(options["token"] or os.environ.get("LOADGEN_TOKEN") or _own_token()) if not options["no_follow"] else "",
            honour_retry_after=options["honour_retry_after"],
        )
        try:
            plan.validate()
        except LoadError as exc:
            raise CommandError(str(exc)) from None
        return plan
