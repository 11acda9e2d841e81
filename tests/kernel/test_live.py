"""Live pushes on a loop of their own: coalesced per order and per tick, bounded, in order."""
from __future__ import annotations

import asyncio
import threading

import pytest

from ecom_project import live
from ecom_project.observability import metrics
from tests.support import wait_until


class RecordingLayer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict]] = []

    async def group_send(self, group: str, message: dict) -> None:
        self.sent.append((group, message))


@pytest.fixture
def pusher(settings):
    settings.LIVE_PUSH_TICK_MS = 200
    settings.LIVE_PUSH_MAX_PENDING = 3
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield live._Pusher(loop)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)


def push(pusher, layer, order: str, revision: int) -> None:
    pusher.push(layer, order, revision, {"orderId": order, "revision": revision}, f"order-{order}", "orders")


def test_one_tick_sends_the_newest_revision_of_each_order_once(pusher):
    layer = RecordingLayer()
    for order, revision in [("a", 1), ("b", 1), ("a", 2), ("a", 3), ("b", 2), ("a", 2)]:  # a late 2 after 3
        push(pusher, layer, order, revision)
    wait_until(lambda: len(layer.sent) == 3, timeout=5)
    feed, *each = layer.sent
    assert feed == ("orders", {"type": "projection.batch", "projections": [{"orderId": "a", "revision": 3},
                                                                           {"orderId": "b", "revision": 2}]})
    assert each == [("order-a", {"type": "projection.update", "projection": {"orderId": "a", "revision": 3}}),
                    ("order-b", {"type": "projection.update", "projection": {"orderId": "b", "revision": 2}})]


def test_waiting_orders_are_bounded(pusher):
    layer = RecordingLayer()
    dropped = metrics.LIVE_PUSHES_DROPPED._value.get()
    for order in "abcde":
        push(pusher, layer, order, 1)
    wait_until(lambda: layer.sent, timeout=5)
    assert [p["orderId"] for p in layer.sent[0][1]["projections"]] == ["a", "b", "c"]
    assert metrics.LIVE_PUSHES_DROPPED._value.get() == dropped + 2
