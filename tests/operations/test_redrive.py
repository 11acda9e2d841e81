"""Dead-letter replay and redrive against the real broker and store: a replay reaches only the consumer
that failed the letter, fails again into the same letter, is parked after DEAD_LETTER_MAX_REPLAYS, poison
is refused unless edited, an interrupted redrive resumes, and two operators at once replay once."""
from __future__ import annotations

import base64
import collections
import signal
import subprocess
import sys
import threading
import uuid

import pytest
from django.conf import settings

from ecom_project.events.registry import ORDER_CREATED, retry_topic
from ecom_project.messaging.consumers import ConsumerSpec
from ecom_project.messaging.deadletters import dead_letters
from ecom_project.messaging.outbox import update_with_events
from ecom_project.messaging.producer import Publisher
from ecom_project.mongo import get_db
from operations import replay
from operations.repository import audit_log, redrives
from tests.kernel.conftest import order_created
from tests.operations.conftest import FakePublisher, stored_dead_letter
from tests.support import manage, read_to_end, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db]
ORDER_TOPIC = "order.OrderCreated.v1"


class CountingHandler:
    """Counts OrderCreated per order in a collection of its consumer's own (guarded by eventId); fails on demand."""

    def __init__(self, consumer: str) -> None:
        self.consumer = consumer
        self.fail: set[str] = set()
        self.calls: collections.Counter = collections.Counter()

    def effects(self):
        return get_db()[f"{self.consumer.replace('-', '_')}_effects"]

    def count(self, order_id: str) -> int:
        doc = self.effects().find_one({"_id": order_id})
        return doc["count"] if doc else 0

    def __call__(self, event) -> None:
        self.calls[event.key] += 1
        if event.key in self.fail:
            raise RuntimeError(f"{self.consumer} told to fail")
        update_with_events(self.effects(), filter={"_id": event.key}, update={"$inc": {"count": 1}},
                           applied_event_id=str(event.event_id), upsert=True)


def consumer(name: str) -> tuple[CountingHandler, ConsumerSpec]:
    handler = CountingHandler(name)
    return handler, ConsumerSpec(name=name, handlers={ORDER_CREATED: handler})


def publish(messages: list[tuple[str, str, bytes]]) -> None:
    publisher = Publisher()
    publisher.publish(messages)
    publisher.close()


def letter_of(consumer_name: str, order_id: str) -> dict | None:
    return dead_letters().find_one({"consumer": consumer_name, "orderId": order_id})


def test_a_redrive_across_consumers_reaches_only_the_consumer_that_failed_each_letter(start_worker, staff_api):
    (a, spec_a), (b, spec_b) = consumer("probe"), consumer("probe-b")
    worker = start_worker([spec_a, spec_b])
    events = [order_created() for _ in range(4)]
    keys = [e.key for e in events]
    a.fail.update(keys[0:2])
    b.fail.update(keys[1:3])
    publish([(e.topic, e.key, e.to_json()) for e in events])
    failed = {("probe", keys[0]), ("probe", keys[1]), ("probe-b", keys[1]), ("probe-b", keys[2])}
    wait_until(lambda: all(letter_of(c, k) for c, k in failed), timeout=30, message="four dead letters")
    wait_until(lambda: a.count(keys[3]) == b.count(keys[3]) == 1, message="the healthy event applied by both")
    a.fail.clear()
    b.fail.clear()

    preview = staff_api.post("/api/admin/dead-letters/redrive", {"filter": {}}, format="json")
    assert preview.status_code == 200, preview.content
    assert (preview.json()["matched"], preview.json()["wouldReplay"]) == (4, 4)
    assert all(d["status"] == "pending" for d in dead_letters().find())  # a dry run sends nothing

    started = staff_api.post("/api/admin/dead-letters/redrive", {"filter": {}, "dryRun": False, "rate": 50}, format="json")
    assert started.status_code == 202, started.content
    url = f"/api/admin/dead-letters/redrives/{started.json()['id']}"
    done = wait_until(lambda: (body := staff_api.get(url).json())["state"] == "done" and body, timeout=30,
                      message="redrive done")
    assert (done["replayed"], done["refused"], done["total"]) == (4, 0, 4)
    wait_until(lambda: all(h.count(k) == 1 for h in (a, b) for k in keys), timeout=30, message="every event applied once")

    # Each consumer saw the replays of its own letters only, and the original topic got nothing new.
    tries = settings.HANDLER_MAX_ATTEMPTS
    assert [a.calls[k] for k in keys] == [tries + 1, tries + 1, 1, 1]  # its tries, then its replay; no other
    assert [b.calls[k] for k in keys] == [1, tries + 1, tries + 1, 1]
    assert all(runner.stats["duplicates"] == 0 for runner in worker.runners)
    assert len(read_to_end(ORDER_TOPIC, keys=set(keys))) == 4
    assert sorted(m.key().decode() for m in read_to_end(retry_topic("probe"), keys=set(keys))) == sorted(keys[0:2])
    assert sorted(m.key().decode() for m in read_to_end(retry_topic("probe-b"), keys=set(keys))) == sorted(keys[1:3])
    assert dead_letters().count_documents({}) == 4
    assert {d["status"] for d in dead_letters().find()} == {"replayed"}
    assert all(d["replayCount"] == 1 for d in dead_letters().find())


def test_a_replay_that_fails_again_updates_its_letter_until_it_is_parked(start_worker, staff_api, settings):
    settings.DEAD_LETTER_MAX_REPLAYS = 2
    handler, spec = consumer("probe")
    start_worker([spec])
    event = order_created()
    handler.fail.add(event.key)
    publish([(event.topic, event.key, event.to_json())])
    letter = wait_until(lambda: letter_of("probe", event.key), message="dead letter")
    url = f"/api/admin/dead-letters/{letter['_id']}/replay"

    def failures(n: int, status: str):
        return wait_until(lambda: (d := dead_letters().find_one({"_id": letter["_id"]}))["failures"] == n
                          and d["status"] == status and d, timeout=30, message=f"{n} failures, {status}")

    assert staff_api.post(url, format="json").status_code == 202
    failures(2, "pending")
    assert staff_api.post(url, format="json").status_code == 202
    parked = failures(3, "parked")
    refused = staff_api.post(url, format="json")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "parked"
    assert "force" in refused.json()["error"]["message"]

    assert staff_api.post(url, {"force": True}, format="json").status_code == 202
    again = failures(4, "parked")
    assert dead_letters().count_documents({"consumer": "probe"}) == 1, "one letter, however often it failed"
    assert [h.get("afterReplay") for h in again["history"]] == [None, 1, 2, 3]
    assert again["replayCount"] == 3 and parked["error"].startswith("RuntimeError: probe told to fail")

    handler.fail.clear()
    assert staff_api.post(url, {"force": True}, format="json").status_code == 202
    wait_until(lambda: handler.count(event.key) == 1, timeout=30, message="applied after the fix")
    assert dead_letters().find_one({"_id": letter["_id"]})["status"] == "replayed"


def test_poison_is_refused_unchanged_and_an_edited_event_is_replayed_audited(start_worker, staff_api):
    handler, spec = consumer("probe")
    start_worker([spec])
    key = uuid.uuid4().hex
    poison = b'\xff{"eventId": "not json \x81\x00'
    publish([(ORDER_TOPIC, key, poison)])
    letter = wait_until(lambda: dead_letters().find_one({"orderId": key}), message="poison dead letter")

    detail = staff_api.get(f"/api/admin/dead-letters/{letter['_id']}").json()
    assert detail["poison"] and detail["raw"] is None and detail["rawEncoding"] == "base64"
    assert base64.b64decode(detail["rawBase64"]) == poison, "the exact bytes, no U+FFFD"
    assert "\ufffd" not in str(detail)

    url = f"/api/admin/dead-letters/{letter['_id']}/replay"
    refused = staff_api.post(url, {"force": True}, format="json")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "poison"
    assert "cannot be replayed unchanged" in refused.json()["error"]["message"]
    bad = staff_api.post(url, {"payload": '{"eventId": "x"}'}, format="json")
    assert bad.status_code == 400 and "payload" in bad.json()["error"]["fields"]
    other_topic = order_created(key).to_wire() | {"type": "inventory.InventoryFailed"}
    assert staff_api.post(url, {"payload": other_topic}, format="json").status_code == 400

    fixed = order_created(key)
    accepted = staff_api.post(url, {"payload": fixed.to_wire()}, format="json")
    assert accepted.status_code == 202, accepted.content
    wait_until(lambda: handler.count(key) == 1, timeout=30, message="the edited event applied")
    stored = dead_letters().find_one({"_id": letter["_id"]})
    assert base64.b64decode(stored["rawBase64"]) == poison, "the original is kept"
    assert stored["edits"][0]["by"] == "ops-alice" and stored["replays"][0]["edited"]
    entries = list(audit_log().find({"target": f"deadletter:{letter['_id']}"}).sort("at", 1))
    assert [(e["outcome"], e["detail"]["edited"]) for e in entries] == [
        ("refused", False), ("refused", True), ("refused", True), ("accepted", True)]
    assert entries[-1]["who"] == "ops-alice" and entries[-1]["detail"]["editSha256"]


def test_an_interrupted_redrive_resumes_where_it_stopped(start_worker):
    handler, spec = consumer("probe")
    start_worker([spec])
    events = [order_created() for _ in range(6)]
    keys = {e.key for e in events}
    handler.fail.update(keys)
    publish([(e.topic, e.key, e.to_json()) for e in events])
    wait_until(lambda: dead_letters().count_documents({"consumer": "probe"}) == 6, timeout=30, message="six letters")
    first = dead_letters().find({"consumer": "probe"}).sort([("failedAt", 1), ("_id", 1)]).limit(1)[0]
    handler.fail = {first["orderId"]}  # the redrive's first letter fails again: pending, but behind the checkpoint

    command = subprocess.Popen([sys.executable, "manage.py", "replay_dead_letters", "--consumer", "probe", "--rate", "1"],
                               cwd=settings.BASE_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        running = wait_until(lambda: redrives().find_one({"replayed": {"$gte": 2}}), timeout=60, message="two replayed")
        wait_until(lambda: dead_letters().find_one({"_id": first["_id"], "failures": 2}), timeout=30,
                   message="the first letter failed again")
        command.send_signal(signal.SIGINT)  # Ctrl-C
        out, err = command.communicate(timeout=30)
    finally:
        if command.poll() is None:
            command.kill()
            command.wait()
    assert command.returncode == 1, err
    assert f"--resume {running['_id']}" in err and "Traceback" not in err
    stopped = redrives().find_one({"_id": running["_id"]})
    assert stopped["state"] == "interrupted" and 2 <= stopped["replayed"] < 6, stopped

    resumed = manage("replay_dead_letters", "--resume", running["_id"], "--rate", "50")
    assert resumed.returncode == 0, resumed.stderr
    assert "replayed 6, refused 0" in resumed.stdout
    others = keys - {first["orderId"]}
    wait_until(lambda: all(handler.count(k) == 1 for k in others), timeout=30, message="every other event applied once")
    assert [d["replayCount"] for d in dead_letters().find({"consumer": "probe"})] == [1] * 6, "none replayed twice"
    again = dead_letters().find_one({"_id": first["_id"]})
    assert (again["status"], again["failures"]) == ("pending", 2), "resumed after the checkpoint, not from the start"
    assert len(read_to_end(retry_topic("probe"), keys=keys)) == 6
    assert redrives().find_one({"_id": running["_id"]})["state"] == "done"


@pytest.mark.parametrize("force", [False, True])
def test_two_operators_replaying_one_letter_at_once_make_one_replay(monkeypatch, force):
    publisher = FakePublisher()
    both_read = threading.Barrier(2)
    plan = replay.replay_plan

    def plan_after_both_read(letter, **kwargs):  # both have read the same letter before either claims it
        both_read.wait(timeout=10)
        return plan(letter, **kwargs)

    monkeypatch.setattr(replay, "replay_plan", plan_after_both_read)
    letter = stored_dead_letter()
    outcomes: list[str] = []

    def operator(name: str) -> None:
        try:
            replay.dead_letter_replay(dead_letter_id=letter["_id"], requested_by=name, force=force, publisher=publisher)
            outcomes.append("replayed")
        except Exception as exc:  # noqa: BLE001  (the ApplicationError of the loser)
            outcomes.append(getattr(exc, "code", repr(exc)))

    threads = [threading.Thread(target=operator, args=(name,)) for name in ("ops-alice", "ops-bob")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["already_replayed", "replayed"]
    assert len(publisher.sent) == 1
    assert dead_letters().find_one({"_id": letter["_id"]})["replayCount"] == 1
