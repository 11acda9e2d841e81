"""The consumer runner against the real embedded broker."""
from __future__ import annotations

import json
import base64
import time
import uuid
from dataclasses import replace

import pytest

from ecom_project.events.envelope import decode
from ecom_project.messaging.deadletters import dead_letters
from ecom_project.messaging.producer import Publisher
from ecom_project.events.registry import ORDER_CREATED
from ecom_project.messaging.consumers import ConsumerSpec
from tests.kernel.conftest import ProbeHandler, effects, order_created
from tests.support import committed_to_end, read_topic, wait_until

pytestmark = pytest.mark.integration


def publish(*events, raw: list[tuple[str, str, bytes]] = ()) -> None:
    publisher = Publisher()
    publisher.publish([(e.topic, e.key, e.to_json()) for e in events] + list(raw))
    publisher.close()


def count_of(order_id: str) -> int | None:
    doc = effects().find_one({"_id": order_id})
    return doc and doc["count"]


@pytest.fixture(scope="module")
def shared_probe(start_module_worker):
    """One probe consumer for the module (each test uses order ids of its own): (handler, spec, worker)."""
    handler = ProbeHandler()
    spec = ConsumerSpec(name="probe", handlers={ORDER_CREATED: handler}, outbox_collections=lambda: [effects()])
    return handler, spec, start_module_worker([spec])


def test_event_is_applied_once_and_its_reply_published(shared_probe):
    handler, _spec, _worker = shared_probe
    event = order_created()
    publish(event)
    wait_until(lambda: count_of(event.key) == 1, message="effect stored")
    replies = read_topic("inventory.InventoryFailed.v1", key=event.key)
    reply = decode(replies[0].value())
    assert reply.causation_id == str(event.event_id)
    assert reply.correlation_id == event.correlation_id
    wait_until(lambda: effects().find_one({"_id": event.key})["outbox"] == [], message="outbox drained")


def test_duplicate_delivery_gives_one_effect(shared_probe):
    handler, _spec, worker = shared_probe
    runner = worker.runners[0]
    duplicates = runner.stats["duplicates"]
    event = order_created()
    later = order_created(event.key)  # same key: same partition, after the copies
    publish(event, event)
    publish(event, later)
    wait_until(lambda: count_of(event.key) == 2, message="the later event applied")
    wait_until(lambda: runner.stats["duplicates"] == duplicates + 2, message="both copies seen as duplicates")
    assert handler.calls_of[event.key] == 2, "the runner's dedupe kept the copies from the handler"


def test_a_duplicate_the_window_forgot_is_a_no_op_by_the_handlers_guard(probe, start_worker, settings):
    settings.CONSUMER_DEDUPE_WINDOW = 1
    handler, spec = probe
    worker = start_worker([spec])
    event = order_created()
    other = order_created(event.key)
    publish(event, other, event)  # the window holds only `other` when the copy of `event` comes
    last = order_created(event.key)
    publish(last)
    wait_until(lambda: count_of(event.key) == 3)
    assert handler.calls == 4 and worker.runners[0].stats["duplicates"] == 0
    assert effects().find_one({"_id": event.key})["appliedEvents"] == [str(e.event_id) for e in (event, other, last)]


def test_poison_message_goes_to_dlq_and_partition_keeps_flowing(shared_probe):
    handler, _spec, _worker = shared_probe
    key = uuid.uuid4().hex
    valid_after = order_created(key)  # same key -> same partition as the poison messages
    bad_schema = json.loads(order_created(key).to_json())
    bad_schema["payload"]["total"] = "lots"
    publish(raw=[("order.OrderCreated.v1", key, b"{not json"), ("order.OrderCreated.v1", key, json.dumps(bad_schema).encode())])
    publish(valid_after)
    wait_until(lambda: count_of(key) == 1, message="event after the poison applied")
    letters = wait_until(lambda: list(dead_letters().find({"orderId": key})) if dead_letters().count_documents({"orderId": key}) == 2 else None)
    errors = sorted(letter["error"] for letter in letters)
    assert errors[0].startswith("bad order.OrderCreated payload") and "total" in errors[0]
    assert errors[1].startswith("not JSON")
    assert all(letter["status"] == "pending" and letter["attempts"] == 0 for letter in letters)
    dlq = read_topic("order.OrderCreated.v1.dlq", key=key, expect=2)
    assert len(dlq) == 2
    assert json.loads(dlq[0].value())["type"] == "ops.DeadLetter"


def test_handler_failing_twice_then_succeeding_gives_one_effect(shared_probe):
    handler, _spec, _worker = shared_probe
    event = order_created()
    handler.fail_times[event.key] = 2
    publish(event)
    wait_until(lambda: count_of(event.key) == 1)
    assert dead_letters().count_documents({"orderId": event.key}) == 0


def test_handler_failing_always_is_dead_lettered_after_max_attempts(shared_probe, settings):
    handler, _spec, _worker = shared_probe
    event = order_created()
    next_event = order_created(event.key)
    handler.always_fail.add(event.key)
    publish(event)
    letter = wait_until(lambda: dead_letters().find_one({"orderId": event.key}))
    assert letter["attempts"] == settings.HANDLER_MAX_ATTEMPTS
    assert letter["originalEventId"] == str(event.event_id)
    assert "probe told to fail" in letter["error"]
    handler.always_fail.clear()
    publish(next_event)
    wait_until(lambda: count_of(event.key) == 1, message="partition keeps flowing after a dead letter")


def test_restarted_consumer_resumes_from_committed_offsets(probe, kafka_broker):
    from ecom_project.messaging.worker import Worker

    handler, spec = probe
    # A name of its own: the module's shared probe reads the topic too, and processed-event records are per name.
    spec = replace(spec, name="probe-restart")
    suffix = f".restart{uuid.uuid4().hex[:6]}"
    first, second = order_created(), order_created()
    worker = Worker([spec], group_suffix=suffix, start_at_end=True).start()
    try:
        assert worker.wait_assigned(30)
        publish(first)
        wait_until(lambda: handler.calls_of[first.key] == 1)
    finally:
        worker.stop()
    publish(second)  # produced while no consumer of the group runs
    worker = Worker([spec], group_suffix=suffix).start()
    try:
        wait_until(lambda: handler.calls_of[second.key] == 1, message="event produced during the downtime applied")
        wait_until(lambda: committed_to_end(worker.runners[0].group_id, spec.topics), message="caught up")
    finally:
        worker.stop()
    assert count_of(first.key) == 1 and count_of(second.key) == 1
    assert handler.calls_of[first.key] == 1, "only the new event was delivered again"


def test_a_dead_letter_keeps_the_exact_original_bytes(shared_probe):
    from ecom_project.messaging.deadletters import original_bytes

    handler, _spec, _worker = shared_probe
    key = uuid.uuid4().hex
    poison = b"\xff\xfe not utf-8 \x00\x81"
    publish(raw=[("order.OrderCreated.v1", key, poison)])
    letter = wait_until(lambda: dead_letters().find_one({"orderId": key}))
    assert original_bytes(letter) == poison
    assert letter.get("raw") is None and letter["rawEncoding"] == "base64"  # no lossy text: only the exact base64
    assert base64.b64decode(letter["rawBase64"]) == poison and letter["poison"]


def test_a_poison_payload_with_operator_keys_is_stored_as_a_dead_letter(shared_probe):
    """Keys such as `$gt` or `a.b` cannot be field names in a stored document: the letter keeps the
    payload as JSON text (found by the chaos drill: the runner died on every redelivery instead)."""
    handler, _spec, worker = shared_probe
    key = uuid.uuid4().hex
    poison = json.loads(order_created(key).to_json())
    poison["payload"] = {"orderId": {"$gt": ""}, "a.b": 1}
    publish(raw=[("order.OrderCreated.v1", key, json.dumps(poison).encode())])
    letter = wait_until(lambda: dead_letters().find_one({"orderId": key}))
    assert json.loads(letter["payload"])["payload"] == {"orderId": {"$gt": ""}, "a.b": 1}
    assert worker.alive(), worker.errors


def test_consumer_lag_is_reported_per_owned_partition(shared_probe):
    from prometheus_client import REGISTRY

    handler, _spec, _worker = shared_probe
    event = order_created()
    publish(event)
    wait_until(lambda: count_of(event.key) == 1)

    def lag_samples():
        return [
            s for family in REGISTRY.collect() if family.name == "pipeline_consumer_lag"
            for s in family.samples if s.labels["consumer"] == "probe"
        ]

    samples = wait_until(lambda: [s for s in lag_samples() if s.labels["topic"] == "order.OrderCreated.v1"] and lag_samples(),
                         timeout=10, message="lag gauge set")
    assert all(s.value >= 0 for s in samples)
    # its topic, and the retry topic where replays of its dead letters arrive: no other consumer's
    assert {s.labels["topic"] for s in samples} <= {"order.OrderCreated.v1", "ops.retry.probe"}


def test_a_consumer_that_left_its_group_by_a_slow_batch_rejoins_and_loses_nothing(probe, start_worker, settings):
    """A batch slower than max.poll.interval.ms makes the client leave its group (as a frozen broker does).
    The runner rejoins with a new client: the slow event, whose commit was refused, comes again and is a
    duplicate; the events after it are applied once."""
    settings.KAFKA_CONSUMER = {**settings.KAFKA_CONSUMER, "max.poll.interval.ms": 6000, "session.timeout.ms": 6000}
    handler, spec = probe
    slow = order_created()
    calls = []

    def slow_once(event):
        calls.append(event.key)
        if event.key == slow.key and calls.count(slow.key) == 1:
            time.sleep(8)  # past max.poll.interval.ms: the deliberate fault of this test
        handler(event)

    worker = start_worker([replace(spec, handlers={ORDER_CREATED: slow_once})])
    runner = worker.runners[0]
    after = order_created(slow.key)
    publish(slow)
    wait_until(lambda: calls.count(slow.key) == 1, timeout=30, message="the slow event reached the handler")
    publish(after)
    wait_until(lambda: runner.stats.get("rejoins", 0) == 1, timeout=60, message="the runner rejoined its group")
    wait_until(lambda: count_of(slow.key) == 2, timeout=60, message="both events applied after the rejoin")
    wait_until(lambda: committed_to_end(runner.group_id, spec.topics), timeout=60, message="everything committed")
    assert effects().find_one({"_id": slow.key})["appliedEvents"] == [str(slow.event_id), str(after.event_id)]


def test_a_consumer_whose_group_join_never_completes_rejoins_with_a_new_client(probe, start_worker, settings, monkeypatch):
    """After a broker freeze, a client created as the broker came back was seen never completing its join.
    Here librdkafka's end-of-join callback of the first client is lost on purpose (the fault of this test):
    once the join is overdue (max.poll.interval.ms + session.timeout.ms + 10 s), a new client joins."""
    from ecom_project.messaging.runner import ConsumerRunner

    settings.KAFKA_CONSUMER = {**settings.KAFKA_CONSUMER, "max.poll.interval.ms": 6000, "session.timeout.ms": 6000}
    real_on_assign, lost = ConsumerRunner._on_assign, []

    def first_join_lost(self, consumer, partitions):
        if not lost:
            lost.append(consumer)
            return
        real_on_assign(self, consumer, partitions)

    monkeypatch.setattr(ConsumerRunner, "_on_assign", first_join_lost)
    handler, spec = probe
    worker = start_worker([spec], wait=False)
    runner = worker.runners[0]
    wait_until(lambda: runner.stats.get("rejoins", 0) == 1, timeout=60, message="the overdue join was given up")
    assert worker.wait_assigned(60), "the new client joined"
    event = order_created()
    publish(event)
    wait_until(lambda: count_of(event.key) == 1, timeout=30, message="the event applied by the new client")
