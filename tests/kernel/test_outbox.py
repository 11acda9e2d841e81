"""Outbox writes and relays against the real embedded broker."""
from __future__ import annotations

import threading
import uuid
from collections import Counter

import pytest

from ecom_project.events.envelope import decode
from ecom_project.messaging import failpoints
from ecom_project.messaging.outbox import (
    OutboxRelay, _take_hints, backlog, insert_with_events, relay_hint, update_with_events,
)
from ecom_project.messaging.producer import PublishError
from ecom_project.mongo import get_db
from tests.kernel.conftest import effects, order_created
from tests.support import read_to_end, wait_until


def outbox_docs():
    return get_db()["relay_test"]


def test_update_with_events_applies_an_event_once(clean_store):
    col = outbox_docs()
    event = order_created()
    assert insert_with_events(col, {"_id": "a", "n": 0})
    assert not insert_with_events(col, {"_id": "a", "n": 0}), "same _id twice is refused"
    assert update_with_events(col, filter={"_id": "a"}, update={"$inc": {"n": 1}}, events=[event], applied_event_id="e1")
    assert not update_with_events(col, filter={"_id": "a"}, update={"$inc": {"n": 1}}, events=[event], applied_event_id="e1")
    doc = col.find_one({"_id": "a"})
    assert doc["n"] == 1 and doc["appliedEvents"] == ["e1"] and len(doc["outbox"]) == 1
    assert backlog([col]) == 1


def test_state_guard_refuses_a_stale_write(clean_store):
    col = outbox_docs()
    insert_with_events(col, {"_id": "a", "version": 1})
    assert update_with_events(col, filter={"_id": "a", "version": 1}, update={"$inc": {"version": 1}})
    assert not update_with_events(col, filter={"_id": "a", "version": 1}, update={"$inc": {"version": 1}})


@pytest.mark.integration
def test_two_relays_publish_every_entry_exactly_once(kafka_broker):
    col = outbox_docs()
    keys = [uuid.uuid4().hex for _ in range(60)]
    event_ids = set()
    for key in keys:
        events = [order_created(key) for _ in range(3)]
        event_ids |= {str(e.event_id) for e in events}
        insert_with_events(col, {"_id": key}, events)
    relays = [OutboxRelay(name="test", collections=lambda: [col], batch_size=7, poll_ms=10) for _ in range(2)]
    threads = [threading.Thread(target=r.run) for r in relays]
    for t in threads:
        t.start()
    try:
        wait_until(lambda: backlog([col]) == 0, message="outbox drained")
    finally:
        for r in relays:
            r.stop()
        for t in threads:
            t.join(10)
    assert all(r.published > 0 for r in relays), "both relays took part"
    assert sum(r.published for r in relays) == len(event_ids)
    seen = Counter()
    keyset = set(keys)
    for message in read_to_end("order.OrderCreated.v1", keys=keyset):
        seen[str(decode(message.value()).event_id)] += 1
    assert set(seen) == event_ids
    assert set(seen.values()) == {1}, "no entry published twice"


@pytest.mark.integration
def test_relay_crash_between_publish_and_mark_republishes_and_consumers_dedupe(probe, start_worker):
    handler, spec = probe
    start_worker([spec])
    col = outbox_docs()
    event = order_created()
    insert_with_events(col, {"_id": event.key}, [event])
    _take_hints(col, 10)  # found by a scan, so leased (a hinted entry is published without a lease: below)
    crashed = OutboxRelay(name="test", collections=lambda: [col], lease_ms=3000)
    failpoints.enable("relay.after_publish")
    try:
        with pytest.raises(failpoints.Crash):
            crashed.run_once()
    finally:
        failpoints.disable()
    assert backlog([col]) == 1, "entry still pending after the crash"
    successor = OutboxRelay(name="test", collections=lambda: [col], lease_ms=3000)
    assert successor.run_once() == 0, "the crashed relay's lease still holds"
    wait_until(lambda: successor.run_once() == 1, message="lease expired and entry republished")
    assert backlog([col]) == 0
    assert len(read_to_end("order.OrderCreated.v1", keys={event.key})) == 2
    wait_until(lambda: (effects().find_one({"_id": event.key}) or {}).get("count") == 1)
    wait_until(lambda: handler.calls >= 1)
    assert effects().find_one({"_id": event.key})["count"] == 1


@pytest.mark.integration
def test_a_hinted_entry_is_published_without_a_lease_and_after_a_crash_by_the_next_relay(kafka_broker, clean_store):
    col = outbox_docs()
    event = order_created()
    insert_with_events(col, {"_id": event.key}, [event])
    crashed = OutboxRelay(name="test", collections=lambda: [col], lease_ms=60_000)
    failpoints.enable("relay.after_publish")
    try:
        with pytest.raises(failpoints.Crash):
            crashed.run_once()
    finally:
        failpoints.disable()
    doc = col.find_one({"_id": event.key})
    assert len(doc["outbox"]) == 1 and "outboxLease" not in doc, "published from the hint, no lease taken"
    successor = OutboxRelay(name="test", collections=lambda: [col], lease_ms=60_000)
    assert successor.run_once() == 1, "no lease to wait for: the start-up scan republishes it"
    assert backlog([col]) == 0
    assert len(read_to_end("order.OrderCreated.v1", keys={event.key})) == 2


@pytest.mark.integration
def test_a_relay_finds_entries_no_write_of_its_process_told_it_of(kafka_broker):
    """Another process's writes (or a crash's leftovers) leave no hint here: the relay's scan finds them."""
    col = outbox_docs()
    event = order_created()
    insert_with_events(col, {"_id": event.key}, [event])
    _take_hints(col, 10)  # as if another process had written it
    relay = OutboxRelay(name="test", collections=lambda: [col], scan_ms=60_000)
    assert relay.run_once() == 1, "the first pass scans"
    assert backlog([col]) == 0
    insert_with_events(col, {"_id": "later"}, [order_created("later")])
    _take_hints(col, 10)
    assert relay.run_once() == 0, "no scan again before scan_ms"
    assert backlog([col]) == 1


@pytest.mark.integration
def test_after_start_up_a_relay_scan_claims_only_what_the_previous_scan_saw_pending_too(kafka_broker, clean_store):
    """A consumer batch publishes its writes' events right after the batch: a scan that lands in between must
    not publish them a second time. What is still pending one scan later is a leftover, and is published."""
    col = outbox_docs()
    relay = OutboxRelay(name="test", collections=lambda: [col], scan_ms=60_000)
    assert relay.run_once() == 0, "start-up scan: nothing pending"
    event = order_created()
    insert_with_events(col, {"_id": event.key}, [event])
    _take_hints(col, 10)  # no hint: as if a batch of another thread had written it
    relay.scan_interval, relay.scan_duty = 0, 1.0  # every pass scans
    assert relay.run_once() == 0, "first seen pending: maybe in a batch that publishes it"
    assert relay.run_once() == 1, "still pending a scan later: left over, published"
    assert backlog([col]) == 0


@pytest.mark.integration
def test_a_relay_whose_scan_reads_long_scans_less_often(kafka_broker, clean_store):
    col = outbox_docs()
    relay = OutboxRelay(name="test", collections=lambda: [col], scan_ms=0)
    relay.scan_duty = 1e-6  # any scan "reads long": the next one waits a million times its length
    assert relay.run_once() == 0, "start-up scan"
    insert_with_events(col, {"_id": "left-over"}, [order_created("left-over")])
    _take_hints(col, 10)  # no hint: only a scan finds it
    assert relay.run_once() == 0 and relay.run_once() == 0, "no scan yet"
    assert backlog([col]) == 1
    relay.scan_duty = 1.0  # the next pass is due again
    assert relay.run_once() == 0, "seen pending once"
    assert relay.run_once() == 1, "still pending a scan later: published"


@pytest.mark.integration
def test_a_relay_drains_many_documents_from_hints(kafka_broker, clean_store):
    col = outbox_docs()
    keys = [uuid.uuid4().hex for _ in range(300)]
    for key in keys:
        insert_with_events(col, {"_id": key}, [order_created(key)])
    relay = OutboxRelay(name="test", collections=lambda: [col], batch_size=50, poll_ms=10)
    thread = threading.Thread(target=relay.run)
    thread.start()
    try:
        wait_until(lambda: backlog([col]) == 0, message="outbox drained")
    finally:
        relay.stop()
        thread.join(10)
    assert relay.published == 300


class RecordingPublisher:
    """Stands in for the Kafka producer: records what it is asked to publish; `during` runs inside the
    publish call (another relay at that very moment), `fail` makes it raise as a broker outage would."""

    def __init__(self, *, during=None, fail: bool = False) -> None:
        self.sent, self.during, self.fail = [], during, fail

    def publish(self, messages) -> None:
        messages = list(messages)
        if self.during:
            self.during()
        if self.fail:
            raise PublishError("broker unavailable (test)")
        self.sent.extend(messages)


def _relay(publisher, **kwargs) -> OutboxRelay:
    return OutboxRelay(name="test", collections=lambda: [outbox_docs()], publisher=publisher, **kwargs)


@pytest.mark.parametrize("found_by", ["hint", "scan"])
def test_a_relay_running_while_another_publishes_the_same_documents_publishes_nothing(found_by, clean_store):
    """Forced interleaving: the second relay's whole pass runs between the first's claim and its mark. A
    document found by a scan is held by the first relay's lease; one this process hinted is in flight."""
    insert_with_events(outbox_docs(), {"_id": "a"}, [order_created("a"), order_created("a")])
    if found_by == "scan":
        _take_hints(outbox_docs(), 10)
    second = _relay(RecordingPublisher())
    first = _relay(RecordingPublisher(during=second.run_once))
    assert first.run_once() == 2
    assert second.run_once() == 0 and second.publisher.sent == []
    assert len(first.publisher.sent) == 2 and backlog([outbox_docs()]) == 0


@pytest.mark.parametrize("found_by", ["hint", "scan"])
def test_a_failed_publish_gives_the_lease_back_at_once(found_by, clean_store):
    """Without it, the entries would wait for the lease to expire (a minute here) before any relay retried.
    (A hinted document is published without a lease: the failed relay hints it again.)"""
    insert_with_events(outbox_docs(), {"_id": "a"}, [order_created("a")])
    if found_by == "scan":
        _take_hints(outbox_docs(), 10)
    failing = _relay(RecordingPublisher(fail=True), lease_ms=60_000)
    with pytest.raises(PublishError):
        failing.run_once()
    if found_by == "hint":  # hinted again, entries and all: the next pass retries it, no scan needed
        hinted = dict(_take_hints(outbox_docs(), 10))
        assert list(hinted) == ["a"] and [e["key"] for e in hinted["a"]] == ["a"]
        relay_hint(outbox_docs(), ["a"], hinted["a"])
        failing.publisher.fail, failing.scan_interval = False, 3600
        assert failing.run_once() == 1 and backlog([outbox_docs()]) == 0
        return
    other = _relay(RecordingPublisher(), lease_ms=60_000)
    assert other.run_once() == 1 and backlog([outbox_docs()]) == 0


def test_hints_are_bounded_and_the_scan_finds_what_left_none(clean_store, monkeypatch):
    from ecom_project.messaging import outbox

    monkeypatch.setattr(outbox, "MAX_HINTS", 2)
    for key in "abc":
        insert_with_events(outbox_docs(), {"_id": key}, [order_created(key)])
    assert sorted(doc_id for doc_id, _ in _take_hints(outbox_docs(), 10)) == ["a", "b"]
    relay = _relay(RecordingPublisher())
    assert relay.run_once() == 3, "the start-up scan finds all three"
