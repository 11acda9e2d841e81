"""Cross-process live updates: the projector in this process, a websocket client on daphne in
another, joined by the Redis channel layer (as when web and consume_projections run apart)."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest
from django.conf import settings
from websockets.sync.client import connect

from ecom_project.events import registry as r
from ecom_project.supervision import free_port
from projections import domain, handlers
from tests.projections.conftest import HAPPY, saga
from tests.support import wait_until

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(not redis_answers(), reason="no Redis on 127.0.0.1:6379 (.ci/run starts one)")


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@pytest.fixture
def daphne_on_redis(tmp_path):
    port = free_port()
    # The feed is for staff; this drill is about the layer between processes, so it opens the feed.
    env = {**os.environ, "REDIS_URL": REDIS_URL, "DJANGO_SETTINGS_MODULE": "ecom_project.settings", "LOG_LEVEL": "WARNING",
           "PUBLIC_ORDER_FEED": "true"}
    log = open(tmp_path / "daphne.log", "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "ecom_project.asgi:application"],
        cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: listening(port) or process.poll() is not None, timeout=30, message="daphne listening")
        assert process.poll() is None, (tmp_path / "daphne.log").read_text()
        yield port
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture
def redis_layer(settings):
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}},
    }


def test_projector_here_reaches_a_websocket_on_daphne_there(daphne_on_redis, redis_layer, order_id):
    events = saga(order_id, *HAPPY)
    (other,) = saga(order_id + "-other", r.ORDER_CREATED)
    url = f"ws://127.0.0.1:{daphne_on_redis}"
    origin = "http://127.0.0.1"  # an allowed host, as a browser on the dashboard would send
    # The order socket opens on a known order (an unknown id is closed with 4404): its first event is
    # projected before, and the socket's first message is that snapshot.
    handlers.project_event(events[0])
    with connect(f"{url}/ws/orders/{order_id}/", open_timeout=10, origin=origin) as one, \
            connect(f"{url}/ws/orders/", open_timeout=10, origin=origin) as every:
        handlers.project_event(other)
        for event in events[1:]:
            handlers.project_event(event)
        # Pushes are coalesced per order and tick: the socket may skip a status, never go back, and ends SHIPPED.
        statuses = [json.loads(one.recv(timeout=10))["status"]]
        while statuses[-1] != domain.SHIPPED:
            statuses.append(json.loads(one.recv(timeout=10))["status"])
        ours = {order_id, order_id + "-other"}
        seen_all = []
        for _ in range(500):  # the all-orders group may carry other processes' orders too: keep ours only
            if any(p["orderId"] == order_id and p["status"] == domain.SHIPPED for p in seen_all) \
                    and any(p["orderId"] == order_id + "-other" for p in seen_all):
                break
            seen_all += [p for p in json.loads(every.recv(timeout=10)) if p["orderId"] in ours]  # a frame: one tick
    order = [domain.PENDING, domain.INVENTORY_RESERVED, domain.PAYMENT_AUTHORIZED, domain.SHIPPED]
    assert statuses[0] == domain.PENDING and statuses == sorted(statuses, key=order.index)
    mine = [p["status"] for p in seen_all if p["orderId"] == order_id]
    assert mine == sorted(mine, key=order.index) and mine[-1] == domain.SHIPPED
    assert all("timeline" not in p for p in seen_all)
