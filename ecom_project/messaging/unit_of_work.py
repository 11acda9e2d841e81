"""The unit of work of one consumer batch: what its writes queued, published once, cleared once.

While a runner processes a batch, every write made through the outbox helpers
(`outbox.insert_with_events` / `update_with_events`) still stores its events in its
document's `outbox`, in the same atomic write as the state change and the applied-event
guard. Instead of waking the relays, it hands the entries to the batch's unit of work. After
the batch the runner calls `flush()`:

1. one `publish` of every entry of the batch (one produce call per batch, awaited once);
2. one `$pullAll` per document of exactly the published entries (`outbox.clear_published`);
3. then the runner commits the batch's offsets.

A crash anywhere before 2 leaves the entries in their documents: the outbox relay's scan
publishes them (the safety net, `OUTBOX_SCAN_MS`). A crash before 3 redelivers the batch;
the applied-event guards make the redelivered events no-ops.
"""
from __future__ import annotations

import contextvars
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ecom_project.messaging import failpoints
from ecom_project.messaging.producer import PublishError, Publisher
from ecom_project.observability import metrics

log = logging.getLogger(__name__)
_current: contextvars.ContextVar["UnitOfWork | None"] = contextvars.ContextVar("unit_of_work", default=None)


def current() -> "UnitOfWork | None":
    return _current.get()


class UnitOfWork:
    def __init__(self, name: str) -> None:
        self.name = name
        # collection full name -> (collection, {doc _id: [outbox entries, in write order]})
        self._queued: dict[str, tuple[Any, dict[Any, list[dict]]]] = {}

    def queued(self, collection: Any, doc_id: Any, entries: list[dict]) -> None:
        """Entries a write of this batch stored in document `doc_id`'s outbox."""
        _, docs = self._queued.setdefault(collection.full_name, (collection, {}))
        docs.setdefault(doc_id, []).extend(entries)

    def __len__(self) -> int:
        return sum(len(entries) for _, docs in self._queued.values() for entries in docs.values())

    def flush(self, publisher: Publisher) -> int:
        """Publish the batch's events, then clear them from their outboxes; returns how many were published.

        A publish failure is not the batch's failure: the events are stored, the relays are told
        of the documents, and the offsets may be committed."""
        from ecom_project.messaging import outbox  # outbox imports this module

        queued, self._queued = self._queued, {}
        entries = [e for _, docs in queued.values() for doc_entries in docs.values() for e in doc_entries]
        if not entries:
            return 0
        failpoints.hit("uow.before_publish")
        try:
            publisher.publish((e["topic"], e["key"], e["value"].encode()) for e in entries)
        except PublishError as exc:
            log.warning("batch publish failed; the outbox relay publishes its events",
                        extra={"consumer": self.name, "events": len(entries), "error": str(exc)})
            for collection, docs in queued.values():
                for doc_id, doc_entries in docs.items():
                    outbox.relay_hint(collection, [doc_id], doc_entries)
            return 0
        failpoints.hit("uow.after_publish")
        for collection, docs in queued.values():
            outbox.clear_published(collection, docs)
        for entry in entries:
            metrics.EVENTS_PRODUCED.labels(self.name, entry["topic"]).inc()
        return len(entries)


@contextmanager
def batch(name: str) -> Iterator[UnitOfWork]:
    """Make a unit of work current for the writes made inside the block (this thread / task only)."""
    uow = UnitOfWork(name)
    token = _current.set(uow)
    try:
        yield uow
    finally:
        _current.reset(token)
