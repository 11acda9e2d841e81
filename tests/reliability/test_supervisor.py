"""A crashed runner or relay is restarted in the same group and nothing is lost or applied twice."""
from __future__ import annotations

from dataclasses import replace

import pytest

from loadlab.chaos.supervisor import Supervisor
from ecom_project.events.registry import ORDER_CREATED
from ecom_project.messaging import failpoints
from ecom_project.messaging.consumers import ConsumerSpec
from ecom_project.messaging.producer import Publisher
from ecom_project.messaging.outbox import insert_with_events
from ecom_project.mongo import get_db
from tests.kernel.conftest import ProbeHandler, effects, order_created
from tests.support import committed_to_end, read_to_end, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def probe_spec():
    handler = ProbeHandler()
    return handler, ConsumerSpec(name="probe", handlers={ORDER_CREATED: handler}, outbox_collections=lambda: [effects()])


@pytest.fixture(autouse=True)
def _disarm():
    yield
    failpoints.disable()


def publish(*events) -> None:
    publisher = Publisher()
    publisher.publish([(e.topic, e.key, e.to_json()) for e in events])
    publisher.close()


def count_of(order_id: str) -> int | None:
    doc = effects().find_one({"_id": order_id})
    return doc and doc["count"]


@pytest.mark.parametrize("point", ["runner.after_effects", "runner.mid_batch"])
def test_crashed_runner_is_restarted_and_the_redelivery_applies_nothing_twice(point, probe_spec, start_worker):
    handler, spec = probe_spec
    worker = start_worker([spec])
    supervisor = Supervisor(worker).start()
    try:
        failpoints.enable(point, times=1)
        events = [order_created() for _ in range(4)]
        publish(*events)  # one batch of several, so mid_batch has a middle to crash in
        wait_until(lambda: failpoints.fired(point) == 1, message=f"{point} fired")
        wait_until(lambda: supervisor.restarts["ConsumerRunner-probe"] == 1, message="runner restarted")
        later = order_created()
        publish(later)
        wait_until(lambda: count_of(later.key) == 1, timeout=40, message="restarted runner consumes")
        # The events sit on several partitions, and the restarted member may own only some of them
        # until the dead member's leave is through: `later` being in says nothing of the others yet.
        wait_until(lambda: all(count_of(e.key) for e in events), timeout=40, message="every event applied")
        # Observe the redelivery before asserting it changed nothing: the restarted member has handled and
        # committed everything produced so far, and was handed the crashed batch again. It is a new runner
        # (its window of recent event ids is empty): the handler saw them again, its applied-event guard held.
        runner = worker.runners[0]
        wait_until(lambda: committed_to_end(runner.group_id, spec.topics), timeout=40, message="group committed to the end")
        assert handler.calls > len(events) + 1, handler.calls
        assert [count_of(e.key) for e in [*events, later]] == [1, 1, 1, 1, 1]
        assert worker.alive()
    finally:
        supervisor.stop()


def test_a_batch_that_crashed_before_publishing_has_its_events_published_once_by_the_relay(probe_spec, start_worker,
                                                                                           settings):
    """The batch's writes (and their events, in the outboxes) are stored, nothing published, no offset
    committed. The redelivered events are no-ops by the handler's guard and produce nothing: the events
    come out of the outboxes through the relay's scan, once each."""
    settings.OUTBOX_SCAN_MS = 300
    handler, spec = probe_spec
    worker = start_worker([spec])
    supervisor = Supervisor(worker).start()
    try:
        failpoints.enable("uow.before_publish", times=1)
        events = [order_created() for _ in range(4)]
        publish(*events)
        wait_until(lambda: supervisor.restarts["ConsumerRunner-probe"] == 1, message="runner restarted")
        wait_until(lambda: all((effects().find_one({"_id": e.key}) or {}).get("outbox") == [] for e in events),
                   timeout=40, message="every event applied and its outbox drained")
        wait_until(lambda: committed_to_end(worker.runners[0].group_id, spec.topics), timeout=40,
                   message="group committed to the end")
        replies = read_to_end("inventory.InventoryFailed.v1", keys={e.key for e in events})
        assert sorted(r.key().decode() for r in replies) == sorted(e.key for e in events), "one reply per event"
        assert [count_of(e.key) for e in events] == [1, 1, 1, 1]
    finally:
        supervisor.stop()


def test_crashed_relay_is_restarted_and_republishes_the_unmarked_entry(probe_spec, start_worker, settings):
    settings.OUTBOX_LEASE_MS = 500  # the dead relay's lease must expire before its successor may publish
    handler, spec = probe_spec
    outbox = get_db()["relay_drill"]  # only this test's entry in the relayed collection
    worker = start_worker([replace(spec, outbox_collections=lambda: [outbox])])
    supervisor = Supervisor(worker).start()
    try:
        failpoints.enable("relay.after_publish", times=1)
        event = order_created()
        insert_with_events(outbox, {"_id": event.key}, [event])
        wait_until(lambda: supervisor.restarts["OutboxRelay-probe"] == 1, message="relay restarted")
        wait_until(lambda: outbox.find_one({"_id": event.key})["outbox"] == [], message="entry marked sent")
        copies = read_to_end(event.topic, keys={event.key})
        assert len(copies) == 2 and copies[0].value() == copies[1].value(), "published twice, same event id"
        runner = worker.runners[0]
        wait_until(lambda: runner.stats["duplicates"] == 1, message="the second copy seen as a duplicate")
        assert count_of(event.key) == 1, "the second copy applied nothing"
    finally:
        supervisor.stop()
