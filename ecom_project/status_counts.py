"""Documents per status of one collection, kept as counters instead of counted on each read.

Counting a collection by status reads every document on FerretDB (about 0.4 ms of store CPU each,
and a `$group` holds them all in the store's memory; docs/store.md), so a gauge scraped or a
dashboard refreshed every few seconds would cost more the more orders were ever taken. Instead one
counters document, `{_id, counts: {STATUS: n}, version}`, is moved by every status change: +1 for a
new document, -1 old +1 new for a change, and every change bumps `version`. A process gathers its
changes for FLUSH_S and writes them as one `$inc` per counters document (a change per event would be
a store write per event: measured +10 ms of pipeline CPU per order).

A change is written after the state write it counts, so a crash in between loses it (up to FLUSH_S
of changes; it never counts one twice: the redelivered event is a no-op). `Recount` corrects that:
once the counters have not moved for `quiet_s`, it reads every document's status (streamed) and
replaces the counts if they differ, guarded by the version it read, so a change that comes meanwhile
wins and the recount waits for the next quiet spell. Under steady load a pass costs one `_id` read.
"""
from __future__ import annotations

import atexit
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from django.conf import settings
from pymongo.errors import DuplicateKeyError, PyMongoError

from ecom_project.messaging.periodic import PeriodicTask

log = logging.getLogger(__name__)
# No change for this long before a recount: longer than a batch can hold a state write before its
# increment (handler retries with backoff), so the recount does not read a write whose increment is to come.
QUIET_S = 60.0
FLUSH_S = 1.0  # a process's changes are gathered this long, then written as one $inc per counters document


class PendingChanges:
    """This process's changes not yet written: merged per counters document, written FLUSH_S after the
    first one by a daemon thread (which sleeps while nothing changes), and at exit."""

    def __init__(self, *, flush_s: float = FLUSH_S) -> None:
        self.flush_s = flush_s
        self._lock = threading.Lock()  # guards _amounts
        self._writing = threading.Lock()  # one flush at a time: flush() returns once earlier changes are written
        self._amounts: dict[tuple[str, Any], tuple[Any, dict[str, int]]] = {}
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, collection: Any, doc_id: Any, amounts: dict[str, int]) -> None:
        with self._lock:
            _, fields = self._amounts.setdefault((collection.full_name, doc_id), (collection, {}))
            for field, amount in amounts.items():
                fields[field] = fields.get(field, 0) + amount
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="status-counts", daemon=True)
                self._thread.start()
        self._wake.set()

    def flush(self) -> None:
        """Write every change made so far (a store failure loses them: the recount corrects it)."""
        with self._writing:
            with self._lock:
                amounts, self._amounts = self._amounts, {}
            for (_, doc_id), (collection, fields) in amounts.items():
                changes = {field: amount for field, amount in fields.items() if amount}
                if not changes:
                    continue
                try:
                    collection.update_one({"_id": doc_id}, {"$inc": changes}, upsert=True)
                except PyMongoError as exc:
                    log.warning("status count changes lost", extra={"collection": collection.name, "error": str(exc)})

    def _run(self) -> None:
        while True:
            self._wake.wait()
            time.sleep(self.flush_s)  # gather what else changes meanwhile
            self._wake.clear()
            self.flush()


PENDING = PendingChanges()
atexit.register(PENDING.flush)


class StatusCounts:
    """`counters()`: the collection of the counters document `doc_id`. `scan()`: every counted document
    as {"status", and `written_field` when given: when it was last written}, streamed."""

    def __init__(self, *, name: str, counters: Callable[[], Any], statuses: Sequence[str],
                 scan: Callable[[], Iterable[dict]], written_field: str | None = None, doc_id: str = "counts") -> None:
        self.name = name
        self.counters = counters
        self.statuses = tuple(statuses)
        self.scan = scan
        self.written_field = written_field
        self.doc_id = doc_id

    def moved(self, *, old: str | None, new: str) -> None:
        """A document entered status `new` (from `old`; None for a new document)."""
        amounts = {"version": 1, f"counts.{new}": 1}
        if old is not None:
            amounts[f"counts.{old}"] = -1
        PENDING.add(self.counters(), self.doc_id, amounts)

    def current(self) -> dict[str, int]:
        """Documents in each status (every status present, 0 when none)."""
        counts = (self.find() or {}).get("counts", {})
        return {status: max(0, int(counts.get(status, 0))) for status in self.statuses}

    def find(self) -> dict | None:
        return self.counters().find_one({"_id": self.doc_id})

    def count(self) -> tuple[dict[str, int], datetime | None]:
        """Read every document: the counts, and the newest write time seen (None without `written_field`)."""
        counted: Counter[str] = Counter()
        newest = None
        for document in self.scan():
            counted[document["status"]] += 1
            written = document.get(self.written_field) if self.written_field else None  # aware: tz_aware client
            if written is not None and (newest is None or written > newest):
                newest = written
        return {status: counted[status] for status in sorted(counted)}, newest

    def replace(self, counts: dict[str, int], *, version: int | None) -> bool:
        """Set the counts if the document is still at `version` (None: if there is none yet); False
        when an increment came first."""
        document = {"counts": counts, "version": (version or 0) + 1, "recountedAt": datetime.now(timezone.utc)}
        if version is None:
            try:
                self.counters().insert_one({"_id": self.doc_id, **document})
            except DuplicateKeyError:
                return False
            return True
        return self.counters().update_one({"_id": self.doc_id, "version": version}, {"$set": document}).modified_count == 1

    def recount_now(self, *, attempts: int = 3) -> dict[str, int] | None:
        """Replace the counts by a fresh count now (after the counted collection was replaced wholesale);
        None when increments kept coming first: the periodic recount corrects them once they stand still."""
        for _ in range(attempts):
            document = self.find()
            counted, _newest = self.count()
            if self.replace(counted, version=document.get("version") if document else None):
                return counted
        return None

    def recount_tasks(self) -> list[PeriodicTask]:
        """The periodic recount, for the ConsumerSpec of the consumer that moves these counts."""
        return [PeriodicTask(f"{self.name}-status-recount", interval_s=settings.STATUS_RECOUNT_INTERVAL_S,
                             run=Recount(self))]


class Recount:
    """The periodic recount of one `StatusCounts`; remembers the version it last saw (and since when)
    and the version it last confirmed, so counters that stand still are checked once, not every pass."""

    def __init__(self, counts: StatusCounts, *, quiet_s: float = QUIET_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.counts = counts
        self.quiet_s = quiet_s
        self.clock = clock
        self.seen: tuple[int | None, float] | None = None
        self.confirmed: int | None = None

    def __call__(self) -> str:
        """One pass; returns what it did: 'moving', 'unchanged', 'confirmed', 'raced' or 'corrected'."""
        document = self.counts.find()
        version = document.get("version") if document else None
        now = self.clock()
        if self.seen is None or self.seen[0] != version:
            self.seen = (version, now)
        if now - self.seen[1] < self.quiet_s:
            return "moving"
        if version is not None and version == self.confirmed:
            return "unchanged"
        counted, newest = self.counts.count()
        kept = {status: n for status, n in ((document or {}).get("counts") or {}).items() if n}
        if document is not None and kept == counted:
            self.confirmed = version
            return "confirmed"
        # A document written since the quiet time began may have its increment still on its way.
        if newest is not None and newest > datetime.now(timezone.utc) - timedelta(seconds=self.quiet_s):
            return "raced"
        if not self.counts.replace(counted, version=version):
            return "raced"
        self.confirmed = (version or 0) + 1
        self.seen = (self.confirmed, now)
        log.warning("status counts recounted", extra={"counts": self.counts.name, "was": kept, "now": counted})
        return "corrected"

