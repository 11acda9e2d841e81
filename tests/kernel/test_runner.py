"""The consumer runner against the real embedded broker."""
from __future__ import annotations

import json
import base64
import uuid

import pytest

from ecom_project.events.envelope import decode
from ecom_project.messaging.deadletters import dead_letters
from ecom_project.messaging.producer import Publisher
from tests.kernel.conftest import effects, order_created
from tests.support import read_topic, wait_until

pytestmark = pytest.mark.integration


def publish(*events, raw: list[tuple[str, str, bytes]] = ()) -> None:
    publisher = Publisher()
    publisher.publish([(e.topic, e.key, e.to_json()) for e in events] + list(raw))
    publisher.close()


def count_of(order_id: str) -> int | None:
    doc = effects().find_one({"_id": order_id})
    return doc and doc["count"]


def test_event_is_applied_once_and_its_reply_published(probe, start_worker):
    handler, spec = probe
    start_worker([spec])
    event = order_created()
    publish(event)
    wait_until(lambda: count_of(event.key) == 1, message="effect stored")
    replies = read_topic("inventory.InventoryFailed.v1", key=event.key)
    reply = decode(replies[0].value())
    assert reply.causation_id == str(event.event_id)
    assert reply.correlation_id == event.correlation_id
    wait_until(lambda: effects().find_one({"_id": event.key})["outbox"] == [], message="outbox drained")


def test_duplicate_delivery_gives_one_effect(probe, start_worker):
    handler, spec = probe
    start_worker([spec])
    event = order_created()
    later = order_created()
    publish(event, event)
    publish(event, later)
    wait_until(lambda: count_of(later.key) == 1)
    wait_until(lambda: handler.calls >= 2)
    assert count_of(event.key) == 1


def test_poison_message_goes_to_dlq_and_partition_keeps_flowing(probe, start_worker):
    handler, spec = probe
    start_worker([spec])
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


def test_handler_failing_twice_then_succeeding_gives_one_effect(probe, start_worker):
    handler, spec = probe
    start_worker([spec])
    event = order_created()
    handler.fail_times[event.key] = 2
    publish(event)
    wait_until(lambda: count_of(event.key) == 1)
    assert dead_letters().count_documents({"orderId": event.key}) == 0


def test_handler_failing_always_is_dead_lettered_after_max_attempts(probe, start_worker, settings):
    handler, spec = probe
    start_worker([spec])
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
    suffix = f".restart{uuid.uuid4().hex[:6]}"
    first, second = order_created(), order_created()
    worker = Worker([spec], group_suffix=suffix, start_at_end=True).start()
    try:
        assert worker.wait_assigned(30)
        publish(first)
        wait_until(lambda: count_of(first.key) == 1)
    finally:
        worker.stop()
    calls_before = handler.calls
    publish(second)  # produced while no consumer of the group runs
    worker = Worker([spec], group_suffix=suffix).start()
    try:
        wait_until(lambda: count_of(second.key) == 1, message="event produced during the downtime applied")
    finally:
        worker.stop()
    assert count_of(first.key) == 1
    assert handler.calls == calls_before + 1, "only the new event was delivered again"


def test_a_dead_letter_keeps_the_exact_original_bytes(probe, start_worker):
    from ecom_project.messaging.deadletters import original_bytes

    handler, spec = probe
    start_worker([spec])
    key = uuid.uuid4().hex
    poison = b"\xff\xfe not utf-8 \x00\x81"
    publish(raw=[("order.OrderCreated.v1", key, poison)])
    letter = wait_until(lambda: dead_letters().find_one({"orderId": key}))
    assert original_bytes(letter) == poison
    assert letter.get("raw") is None and letter["rawEncoding"] == "base64"  # no lossy text: only the exact base64
    assert base64.b64decode(letter["rawBase64"]) == poison and letter["poison"]


def test_a_poison_payload_with_operator_keys_is_stored_as_a_dead_letter(probe, start_worker):
    """Keys such as `$gt` or `a.b` cannot be field names in a stored document: the letter keeps the
    payload as JSON text (found by the chaos drill: the runner died on every redelivery instead)."""
    handler, spec = probe
    worker = start_worker([spec])
    key = uuid.uuid4().hex
    poison = json.loads(order_created(key).to_json())
    poison["payload"] = {"orderId": {"$gt": ""}, "a.b": 1}
    publish(raw=[("order.OrderCreated.v1", key, json.dumps(poison).encode())])
    letter = wait_until(lambda: dead_letters().find_one({"orderId": key}))
    assert json.loads(letter["payload"])["payload"] == {"orderId": {"$gt": ""}, "a.b": 1}
    assert worker.alive(), worker.errors


def test_consumer_lag_is_reported_per_owned_partition(probe, start_worker):
    from prometheus_client import REGISTRY

    handler, spec = probe
    start_worker([spec])
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
