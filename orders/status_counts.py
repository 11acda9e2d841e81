"""Orders per status (pipeline_orders_by_status), kept as counters instead of counted at each scrape.

Counting the orders collection costs a read of every order on FerretDB (about 0.4 ms of store CPU per
order, and a `$group` holds them all in its memory; docs/store.md), so a scrape would cost more the more
orders were ever taken. Instead, every status change adds to one document, `order_status_counts`
`{_id: "orders", counts: {STATUS: n}, version}`: +1 PENDING when an order is created, -1 old +1 new when
the saga moves it. A consumer batch merges its changes into one `$inc` (unit_of_work.increment), and
every change bumps `version`.

The increment follows the order's own write, so a crash between the two loses a change (never counts
one twice: the redelivered event is a no-op). The recount corrects that: in the orders consumer's
process, every STATUS_RECOUNT_INTERVAL_S, once the counts have not moved for QUIET_S, it reads every
order's status and replaces the counts if they differ, guarded by the version it read, so an increment
that comes meanwhile wins and the recount waits for the next quiet spell. Under steady load it costs
one `_id` read per pass.
"""
from __future__ import annotations

import logging
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

from django.conf import settings

from ecom_project.messaging import unit_of_work
from ecom_project.messaging.periodic import PeriodicTask
from orders import domain, repository

log = logging.getLogger(__name__)
# No change for this long before a recount: longer than a batch can hold an order's write before its
# increment (handler retries with backoff), so the recount never sees a write whose increment is to come.
QUIET_S = 60.0


def status_moved(*, old: str | None, new: str) -> None:
    """An order entered `new` (from `old`, None for a new order)."""
    amounts = {"version": 1, f"counts.{new}": 1}
    if old is not None:
        amounts[f"counts.{old}"] = -1
    unit_of_work.increment(repository.status_counts(), repository.STATUS_COUNTS_ID, amounts)


def status_counts() -> dict[str, int]:
    """Orders in each status (every status present, 0 when none)."""
    document = repository.status_counts_find() or {}
    counts = document.get("counts", {})
    return {status: int(counts.get(status, 0)) for status in domain.STATUSES}


class Recount:
    """The periodic recount; remembers the version it last saw (and when it changed) and the version
    it last confirmed, so a quiet store is read once, not every pass."""

    def __init__(self, *, quiet_s: float = QUIET_S, clock=time.monotonic) -> None:
        self.quiet_s = quiet_s
        self.clock = clock
        self.seen: tuple[int | None, float] | None = None  # (version, when first seen at that version)
        self.confirmed: int | None = None

    def __call__(self) -> str:
        """One pass; returns what it did: 'moving', 'confirmed', 'unchanged', 'corrected' or 'raced'."""
        document = repository.status_counts_find()
        version = document.get("version") if document else None
        now = self.clock()
        if self.seen is None or self.seen[0] != version:
            self.seen = (version, now)
        if now - self.seen[1] < self.quiet_s:
            return "moving"
        if version is not None and version == self.confirmed:
            return "unchanged"
        counted = Counter()
        newest = None
        for order in repository.order_statuses():
            counted[order["status"]] += 1
            if newest is None or order["updatedAt"] > newest:
                newest = order["updatedAt"]
        counts = {status: counted[status] for status in sorted(counted)}
        kept = {status: n for status, n in ((document or {}).get("counts") or {}).items() if n}
        if document is not None and kept == counts:
            self.confirmed = version
            return "confirmed"
        if _recent(newest, self.quiet_s):  # an order changed meanwhile: its increment may be on its way
            return "raced"
        if not repository.status_counts_replace(counts=counts, version=version, at=datetime.now(timezone.utc)):
            return "raced"
        self.confirmed = (version or 0) + 1
        self.seen = (self.confirmed, now)
        log.warning("order status counts recounted", extra={"was": kept, "now": counts})
        return "corrected"


def _recent(updated_at: datetime | None, seconds: float) -> bool:
    if updated_at is None:
        return False
    if updated_at.tzinfo is None:  # a client without tz_aware hands back naive UTC datetimes
        updated_at = updated_at.replace(tzinfo=timezone.utc)
    return updated_at > datetime.now(timezone.utc) - timedelta(seconds=seconds)


def status_recount_tasks() -> list[PeriodicTask]:
    return [PeriodicTask("order-status-recount", interval_s=settings.STATUS_RECOUNT_INTERVAL_S, run=Recount())]
