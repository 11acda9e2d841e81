"""A crashed runner or relay is restarted in the same group and nothing is lost or applied twice."""
from __future__ import annotations

from dataclasses import replace

import pytest

from ecom_project.chaos.supervisor import Supervisor
from ecom_project.events.registry import ORDER_CREATED
from ecom_project.messaging import failpoints
from ecom_project.messaging.consumers import ConsumerSpec
from ecom_project.messaging.producer import Publisher
from ecom_project.messaging.outbox import insert_with_events
from ecom_project.messaging.runner import processed_events
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
        # committed everything produced so far, and was handed the crashed batch again.
        runner = worker.runners[0]
        wait_until(lambda: committed_to_end(runner.group_id, spec.topics), timeout=40, message="group committed to the end")
        if point == "runner.after_effects":  # effects and processed records stored: the runner's dedupe skips them
            assert runner.stats["duplicates"] >= 1, runner.stats
        else:  # crashed before the records: the handler saw them again, its applied-event guard held
            assert handler.calls > len(events) + 1, handler.calls
        assert [count_of(e.key) for e in events] == [1, 1, 1, 1]
        ids = [f"probe:{e.event_id}" for e in [*events, later]]
        wait_until(lambda: processed_events("probe").count_documents({"_id": {"$in": ids}}) == 5,
                   message="every event recorded once")
        assert worker.alive()
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
