"""Two processes of one consumer command share a group; SIGKILL one mid-stream, the other takes
over its partitions: every order gets exactly one outcome (nothing lost, nothing applied twice)."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import urllib.request
from collections import defaultdict

import pytest
from django.conf import settings
from django.core.management import call_command

from ecom_project.events.envelope import decode
from ecom_project.messaging.consumers import consumer_names, consumer_spec
from ecom_project.messaging.groups import start_groups_at_end
from ecom_project.messaging.producer import Publisher
from ecom_project.supervision import free_port
from tests.deploy.conftest import BASE_DIR
from tests.kernel.conftest import order_created
from tests.support import read_to_end, wait_until

pytestmark = pytest.mark.integration
OUTCOME_TOPICS = ["inventory.InventoryReserved.v1", "inventory.InventoryFailed.v1"]


def consumed(metrics_port: int) -> float:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=2) as response:
            text = response.read().decode()
    except OSError:
        return 0.0
    return sum(float(v) for v in re.findall(r'^pipeline_events_consumed_total\{consumer="inventory"[^}]*\} (\S+)', text, re.M))


def outcomes(order_ids: set[str]) -> dict[str, set[str]]:
    by_order: dict[str, set[str]] = defaultdict(set)
    for topic in OUTCOME_TOPICS:
        for message in read_to_end(topic, keys=order_ids):
            by_order[message.key().decode()].add(str(decode(message.value()).event_id))
    return by_order


def start_consumer(metrics_port: int) -> subprocess.Popen:
    env = {**os.environ, "KAFKA_BROKERS": settings.KAFKA_BROKERS, "MONGO_URL": settings.MONGO_URL,
           "MONGO_DB": settings.MONGO_DB, "METRICS_PORT": str(metrics_port), "LOG_LEVEL": "WARNING"}
    return subprocess.Popen([sys.executable, "manage.py", "consume_inventory"], cwd=BASE_DIR, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_sigkill_one_replica_mid_stream_loses_nothing_and_applies_nothing_twice(kafka_broker):
    if "inventory" not in consumer_names():
        pytest.skip("the inventory consumer is not registered yet")
    call_command("seed_inventory", if_empty=True)
    spec = consumer_spec("inventory")
    start_groups_at_end(settings.KAFKA_BROKERS, {spec.group_id: spec.topics})  # the command's own group: skip history
    ports = [free_port(), free_port()]
    victim, survivor = start_consumer(ports[0]), start_consumer(ports[1])
    orders = [order_created() for _ in range(300)]
    publisher = Publisher()
    stop_stream = threading.Event()

    def stream() -> None:  # a steady trickle so the kill lands mid-stream
        for start in range(0, len(orders), 10):
            publisher.publish([(e.topic, e.key, e.to_json()) for e in orders[start:start + 10]])
            if stop_stream.wait(0.1):
                return

    streamer = threading.Thread(target=stream)
    try:
        streamer.start()
        wait_until(lambda: consumed(ports[0]) > 0 and consumed(ports[1]) > 0, timeout=60,
                   message="both replicas own partitions and consume")
        victim.send_signal(signal.SIGKILL)
        streamer.join(120)
        ids = {e.key for e in orders}
        result = wait_until(lambda: o if len(o := outcomes(ids)) == len(ids) else None, timeout=120,
                            message="every order has an outcome after the rebalance")
        assert all(len(event_ids) == 1 for event_ids in result.values()), "an order was applied twice"
        assert survivor.poll() is None
    finally:
        stop_stream.set()
        publisher.close()
        for process in (victim, survivor):
            if process.poll() is None:
                process.terminate()
                process.wait(30)
