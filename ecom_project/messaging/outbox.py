"""Transactional outbox on single-document atomicity, and the relay that drains it.

A state change and the events it produces are one `update_one`: the events are pushed
onto the document's `outbox` array, and the id of the event that caused the change
onto `appliedEvents` (the idempotency guard), in the same write. The relay leases a
document, publishes its pending events in order, then pulls them from the array.
"""
from __future__ import annotations

import copy
import logging
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from pymongo.errors import DuplicateKeyError

from ecom_project.events.envelope import Envelope
from ecom_project.messaging import failpoints, unit_of_work
from ecom_project.messaging.periodic import MAX_DUTY, next_interval
from ecom_project.messaging.producer import PublishError, Publisher
from ecom_project.observability import metrics
from ecom_project.mongo import ensure_index

log = logging.getLogger(__name__)
# In-process relays publish at once instead of at their next poll: collection full name -> their wake-ups.
_relay_wakeups: dict[str, set[threading.Event]] = defaultdict(set)
# Documents this process just gave events outside a consumer batch (new orders, operator requests), per
# collection: id -> the entries it wrote (None: unknown, claim the document). The relay publishes known
# entries straight from here, with no lease round trip; it leases the unknown ones. A scan finds the rest
# (other processes' writes, a crash's leftovers) every OUTBOX_SCAN_MS: on FerretDB a query on anything
# but _id reads the whole collection (docs/store.md).
_pending_hints: dict[str, dict[Any, list[dict] | None]] = defaultdict(dict)
_in_flight: dict[str, set[Any]] = defaultdict(set)  # hinted documents a relay of this process is publishing
_hints_lock = threading.Lock()
PENDING = {"outbox.eventId": {"$exists": True}}
PUBLISH_RETRY_MAX_S = 5.0  # a broker outage costs a relay a warning every 5 s, not ten a second
# Hints a collection keeps at most (a process that writes but runs no relay for it, a long broker outage):
# past it a write leaves none, and the scan finds its entries. Memory stays bounded.
MAX_HINTS = 10_000
SCAN_LIMIT = 100  # pending documents one scan reads (one reply)


def _hint(collection: Any, doc_id: Any, entries: list[dict] | None = None) -> None:
    if doc_id is not None and not isinstance(doc_id, dict):
        with _hints_lock:
            hints = _pending_hints[collection.full_name]
            if doc_id not in hints and len(hints) >= MAX_HINTS:
                return
            known = hints.get(doc_id, []) if doc_id in hints else []
            hints[doc_id] = None if entries is None or known is None else [*known, *entries]


def relay_hint(collection: Any, doc_ids: Any, entries: list[dict] | None = None) -> None:
    """Tell the in-process relays of `collection` that these documents have events to publish (`entries`:
    exactly which, when one document is given and its writer knows)."""
    for doc_id in doc_ids:
        _hint(collection, doc_id, entries)
    for wakeup in list(_relay_wakeups.get(collection.full_name, ())):
        wakeup.set()


def _queued(collection: Any, doc_id: Any, entries: list[dict]) -> None:
    """A write stored `entries` in `doc_id`'s outbox: the current batch publishes them when there is one
    (a consumer's batch, `unit_of_work`), else the relays do."""
    uow = unit_of_work.current()
    if uow is not None and doc_id is not None and not isinstance(doc_id, dict):
        uow.queued(collection, doc_id, entries)
    else:
        relay_hint(collection, [doc_id], entries)


def _take_hints(collection: Any, limit: int) -> list[tuple[Any, list[dict] | None]]:
    with _hints_lock:
        hints = _pending_hints.get(collection.full_name)
        return [hints.popitem() for _ in range(min(limit, len(hints)))] if hints else []


def clear_published(collection: Any, published: dict[Any, list[dict]]) -> None:
    """Pull exactly the published entries out of each document's outbox (a concurrent write may have queued
    more). One single-document `{_id}` update each: a multi-statement update (bulk write) and a concurrent
    scan hung on each other on FerretDB 1.24 (docs/store.md)."""
    for doc_id, entries in published.items():
        collection.update_one({"_id": doc_id}, {"$pullAll": {"outbox": entries}})


def forget_hints() -> None:
    """Drop every hint of this process (the store they refer to was emptied, as between tests)."""
    with _hints_lock:
        _pending_hints.clear()


def _hinted_or_in_flight(collection: Any) -> set[Any]:
    with _hints_lock:
        return set(_pending_hints.get(collection.full_name, ())) | _in_flight[collection.full_name]


def ensure_outbox_index(collection: Any) -> None:
    ensure_index(collection, "outbox.eventId", sparse=True, name="outbox_pending")


def outbox_entry(event: Envelope) -> dict[str, str]:
    return {"eventId": str(event.event_id), "topic": event.topic, "key": event.key, "value": event.to_json().decode()}


def insert_with_events(collection: Any, document: dict, events: Sequence[Envelope] = ()) -> bool:
    """Insert a new document together with its events; False if its _id exists already."""
    entries = [outbox_entry(e) for e in events]
    try:
        collection.insert_one({**document, "outbox": entries})
    except DuplicateKeyError:
        return False
    if entries:
        _queued(collection, document.get("_id"), entries)
    return True


def update_with_events(
    collection: Any,
    *,
    filter: dict,
    update: dict,
    events: Sequence[Envelope] = (),
    applied_event_id: str | None = None,
    upsert: bool = False,
) -> bool:
    """Apply `update` and queue `events` in one atomic write.

    With `applied_event_id`, the write only happens if that event was not applied to the
    document before, and records it. Returns False when nothing matched (already applied,
    or the document's state no longer matches `filter`).
    """
    query = dict(filter)
    change = copy.deepcopy(update)
    push = change.setdefault("$push", {})
    entries = [outbox_entry(e) for e in events]
    if entries:
        push["outbox"] = {"$each": entries}
    if applied_event_id:
        query["appliedEvents"] = {"$ne": applied_event_id}
        push["appliedEvents"] = applied_event_id
    if not push:
        del change["$push"]
    try:
        result = collection.update_one(query, change, upsert=upsert)
    except DuplicateKeyError:  # upsert raced or the guard excluded an existing document
        return False
    changed = result.matched_count > 0 or result.upserted_id is not None
    if changed and entries:
        _queued(collection, filter.get("_id", result.upserted_id), entries)
    return changed


def backlog(collections: Sequence[Any]) -> int:
    """Documents holding unpublished events (a scan of each collection on FerretDB)."""
    return sum(c.count_documents(PENDING) for c in collections)


class OutboxRelay:
    """Drains the outbox of some collections. Several relays may run: a lease keeps each
    document with one relay at a time, so no entry is published by two relays at once."""

    def __init__(
        self,
        *,
        name: str,
        collections: Callable[[], Sequence[Any]],
        publisher: Publisher | None = None,
        batch_size: int = 200,
        lease_ms: int = 10_000,
        poll_ms: int = 100,
        scan_ms: int = 10_000,
    ) -> None:
        self.name = name
        self.owner = f"{name}:{uuid.uuid4().hex[:12]}"
        self._collections = collections
        self._publisher = publisher
        self.batch_size = batch_size
        self.lease_ms = lease_ms
        self.poll_ms = poll_ms
        self.stop_event = threading.Event()
        self.published = 0
        self._wakeup = threading.Event()
        self._scanned_at: dict[str, float] = {}
        self._scan_took: dict[str, float] = {}  # seconds the last scan of each collection took
        self.scan_duty = MAX_DUTY  # a scan that reads long makes the next one wait longer (periodic.next_interval)
        self._backlogs: dict[str, int] = {}
        self._pending_at_scan: dict[str, set[Any]] = {}
        self.scan_interval = scan_ms / 1000

    @property
    def publisher(self) -> Publisher:
        if self._publisher is None:
            self._publisher = Publisher()
        return self._publisher

    def run(self) -> None:
        log.info("outbox relay started", extra={"relay": self.owner})
        names = [collection.full_name for collection in self._collections()]
        for name in names:
            _relay_wakeups[name].add(self._wakeup)
        failures = 0
        try:
            while not self.stop_event.is_set():
                self._wakeup.clear()
                try:
                    sent = self.run_once()
                except PublishError as exc:  # the Publisher replaced a dead producer already, if that was it
                    failures += 1
                    log.warning("outbox publish failed; will retry", extra={"relay": self.owner, "error": str(exc),
                                                                            "failures": failures})
                    self.stop_event.wait(min(PUBLISH_RETRY_MAX_S, self.poll_ms / 1000 * 2 ** min(failures, 8)))
                    continue
                failures = 0
                if sent == 0:
                    self._wakeup.wait(self.poll_ms / 1000)
        finally:
            for name in names:
                _relay_wakeups[name].discard(self._wakeup)
        log.info("outbox relay stopped", extra={"relay": self.owner, "published": self.published})

    def stop(self) -> None:
        self.stop_event.set()
        self._wakeup.set()

    def run_once(self) -> int:
        """Publish what is pending now; returns how many events were published."""
        total = 0
        collections = self._collections()
        for collection in collections:
            hinted = _take_hints(collection, self.batch_size)
            known = {doc_id: entries for doc_id, entries in hinted if entries}
            if known:
                total += self._publish_known(collection, known)
            claimed = self._claim(collection, [doc_id for doc_id, entries in hinted if entries is None])
            if claimed:
                total += self._publish(collection, claimed)
        return total

    def _publish_known(self, collection: Any, known: dict[Any, list[dict]]) -> int:
        """Entries this process wrote and hinted with: published without a lease, then pulled (a scan of another
        relay may publish one of them too meanwhile: at least once, the consumers dedupe)."""
        name = collection.full_name
        with _hints_lock:
            _in_flight[name].update(known)
        try:
            entries = [entry for doc_entries in known.values() for entry in doc_entries]
            try:
                self.publisher.publish((e["topic"], e["key"], e["value"].encode()) for e in entries)
            except PublishError:
                for doc_id, doc_entries in known.items():  # this or another relay of the process retries soon
                    _hint(collection, doc_id, doc_entries)
                raise
            failpoints.hit("relay.after_publish")
            clear_published(collection, known)
        finally:
            with _hints_lock:
                _in_flight[name].difference_update(known)
        return self._published(entries)

    def _candidates(self, collection: Any, candidates: list[Any]) -> list[Any]:
        name = collection.full_name
        if name not in self._scanned_at:
            ensure_outbox_index(collection)
            self._scanned_at[name], self._scan_took[name] = 0.0, 0.0
        started = time.monotonic()
        # Every scan_interval, or less often when a scan reads long (a collection with much history on FerretDB).
        if started - self._scanned_at[name] >= next_interval(self.scan_interval, self._scan_took[name], duty=self.scan_duty):
            self._scanned_at[name] = started
            # At most one reply's worth, never a getMore: FerretDB hangs a getMore and a concurrent write on each
            # other (docs/store.md). The rest are found by the next scans, as these are published.
            pending = [d["_id"] for d in collection.find(PENDING, {"_id": 1}, limit=SCAN_LIMIT, batch_size=SCAN_LIMIT)]
            # A consumer's batch publishes its own writes' events right after the batch (unit_of_work): a
            # document pending at one scan may just be in such a batch. One still pending at the next
            # scan is left over (a crash, a failed publish) and is claimed; at start-up, all are.
            previous, self._pending_at_scan[name] = self._pending_at_scan.get(name), set(pending)
            if previous is not None:
                pending = [doc_id for doc_id in pending if doc_id in previous]
            seen = len(self._pending_at_scan[name])
            self._backlogs[name] = seen if seen < SCAN_LIMIT else collection.count_documents(PENDING)
            metrics.OUTBOX_BACKLOG.labels(self.name).set(sum(self._backlogs.values()))
            room = self.batch_size - len(candidates)
            ours = _hinted_or_in_flight(collection)  # this process's relays publish those already
            candidates.extend([doc_id for doc_id in pending if doc_id not in candidates and doc_id not in ours][:max(room, 0)])
            self._scan_took[name] = time.monotonic() - started
        return candidates

    def _claim(self, collection: Any, hinted: list[Any]) -> list[dict]:
        now = time.time()
        free = {**PENDING, "$or": [{"outboxLease": None}, {"outboxLease.until": {"$lt": now}}]}
        candidates = self._candidates(collection, hinted)
        lease = {"owner": self.owner, "until": now + self.lease_ms / 1000}
        claimed = []
        for doc_id in candidates:
            doc = collection.find_one_and_update(
                {"_id": doc_id, **free}, {"$set": {"outboxLease": lease}}, return_document=True,
            )
            if doc and doc.get("outbox"):
                claimed.append(doc)
        return claimed

    def _publish(self, collection: Any, docs: list[dict]) -> int:
        entries = [(doc["_id"], entry) for doc in docs for entry in doc["outbox"]]
        try:
            self.publisher.publish((e["topic"], e["key"], e["value"].encode()) for _, e in entries)
        except PublishError:
            for doc in docs:  # give the lease back so this or another relay retries soon
                collection.update_one({"_id": doc["_id"], "outboxLease.owner": self.owner}, {"$unset": {"outboxLease": ""}})
                _hint(collection, doc["_id"])
            raise
        failpoints.hit("relay.after_publish")
        for doc in docs:  # the exact entries published ($pull with a condition is a no-op on FerretDB)
            collection.update_one(
                {"_id": doc["_id"], "outboxLease.owner": self.owner},
                {"$pullAll": {"outbox": doc["outbox"]}, "$unset": {"outboxLease": ""}},
            )
        return self._published([entry for _, entry in entries])

    def _published(self, entries: list[dict]) -> int:
        for entry in entries:
            metrics.EVENTS_PRODUCED.labels(self.name, entry["topic"]).inc()
        self.published += len(entries)
        return len(entries)
