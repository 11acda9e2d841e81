"""Pushes to the Channels layer from consumer threads, in order, without an event loop per push.

`async_to_sync` from a plain thread builds and tears down an event loop (and a thread pool)
for every call, and with the in-memory layer it touches queues owned by another loop from the
wrong thread. Here every push goes through one queue drained by one task on one loop:
daphne's own loop in the all-in-one process (registered by `runpipeline`), or a private loop
thread in a consumer process (the Redis layer is safe from any single loop).

On those loops pushes are coalesced per key (an order) and per tick (LIVE_PUSH_TICK_MS): the feed
group gets one message per tick with the newest revision of every order that changed, each
order's group one message per tick with its newest revision.
"""
from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings

from ecom_project.observability import metrics

log = logging.getLogger(__name__)


class _Pusher:
    """Coalesces per key and per tick: within LIVE_PUSH_TICK_MS only the newest revision of each
    key is kept, then the tick's items go out in one batch. At most LIVE_PUSH_MAX_PENDING keys wait;
    beyond that a push is dropped (counted in pipeline_live_pushes_dropped_total): listeners re-read
    the store when they reconnect, and the store is the truth."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.pending: dict[str, tuple[int, dict, str]] = {}  # key -> (revision, item, group)
        self.layer: Any = None
        self.feed = ""
        self.wake: asyncio.Event | None = None
        loop.call_soon_threadsafe(self._start)  # runs first once the loop runs: pushes come after it

    def _start(self) -> None:
        self.wake = asyncio.Event()
        self.loop.create_task(self._drain())

    def push(self, layer: Any, key: str, revision: int, item: dict, group: str, feed: str) -> None:
        self.loop.call_soon_threadsafe(self._add, layer, key, revision, item, group, feed)

    def _add(self, layer: Any, key: str, revision: int, item: dict, group: str, feed: str) -> None:
        waiting = self.pending.get(key)
        if waiting is None and len(self.pending) >= settings.LIVE_PUSH_MAX_PENDING:
            metrics.LIVE_PUSHES_DROPPED.inc()
            return
        if waiting is None or waiting[0] <= revision:
            self.pending[key] = (revision, item, group)
        self.layer, self.feed = layer, feed
        self.wake.set()

    async def _drain(self) -> None:
        while True:
            await self.wake.wait()
            await asyncio.sleep(settings.LIVE_PUSH_TICK_MS / 1000)
            self.wake.clear()
            batch, self.pending = list(self.pending.values()), {}
            try:
                await _send_batch(self.layer, batch, self.feed)
            except Exception as exc:  # best effort: listeners re-read the store when they reconnect
                log.warning("live push failed", extra={"items": len(batch), "error": str(exc)})


_lock = threading.Lock()
_server: _Pusher | None = None  # the web server's loop (all-in-one): the in-memory layer lives there
_private: _Pusher | None = None  # a loop of our own, for a layer that any loop may use (Redis)


def serve_on(loop: asyncio.AbstractEventLoop) -> None:
    """Push on this loop from now on: the web server's loop in the all-in-one process."""
    global _server
    with _lock:
        _server = _Pusher(loop)


def _private_pusher() -> _Pusher:
    global _private
    with _lock:
        if _private is None:
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="live-push", daemon=True).start()
            _private = _Pusher(loop)
        return _private


def send_latest(*, key: str, revision: int, item: dict, group: str, feed: str) -> None:
    """Push `item` (revision `revision` of `key`): to `group` as {"type": "projection.update",
    "projection": item}, and with the other keys of its tick to `feed` as one {"type":
    "projection.batch", "projections": [...]}. Older revisions within a tick are skipped."""
    layer = get_channel_layer()
    if layer is None:
        return
    if _server is not None and _server.loop.is_running():
        _server.push(layer, key, revision, item, group, feed)
    elif isinstance(layer, InMemoryChannelLayer):
        # No web server loop here (tests, shells): its queues belong to the caller's outer loop,
        # which asgiref uses when called from inside sync_to_async. Sent at once, a batch of one.
        async_to_sync(_send_batch)(layer, [(revision, item, group)], feed)
    else:
        _private_pusher().push(layer, key, revision, item, group, feed)


async def _send_batch(layer: Any, batch: list[tuple[int, dict, str]], feed: str) -> None:
    if not batch:
        return
    await layer.group_send(feed, {"type": "projection.batch", "projections": [item for _, item, _ in batch]})
    for _, item, group in batch:
        await layer.group_send(group, {"type": "projection.update", "projection": item})
