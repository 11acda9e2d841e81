"""Pushes to the Channels layer from consumer threads, in order, without an event loop per push.

`async_to_sync` from a plain thread builds and tears down an event loop (and a thread pool)
for every call, and with the in-memory layer it touches queues owned by another loop from the
wrong thread. Here every push goes through one queue drained by one task on one loop:
daphne's own loop in the all-in-one process (registered by `runpipeline`), or a private loop
thread in a consumer process (the Redis layer is safe from any single loop).
"""
from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

log = logging.getLogger(__name__)


class _Pusher:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: asyncio.Queue | None = None
        loop.call_soon_threadsafe(self._start)  # runs first once the loop runs: pushes come after it

    def _start(self) -> None:
        self.queue = asyncio.Queue()
        self.loop.create_task(self._drain())

    def push(self, layer: Any, groups: list[str], message: dict) -> None:
        item = (layer, groups, message)
        self.loop.call_soon_threadsafe(lambda: self.queue.put_nowait(item))

    async def _drain(self) -> None:
        while True:
            layer, groups, message = await self.queue.get()
            try:
                await _send_all(layer, groups, message)
            except Exception as exc:  # best effort: listeners re-read the store when they reconnect
                log.warning("live push failed", extra={"groups": groups, "error": str(exc)})


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


def group_send(groups: list[str], message: dict) -> None:
    """Send `message` to each group, after every earlier push of this process."""
    layer = get_channel_layer()
    if layer is None:
        return
    if _server is not None and _server.loop.is_running():
        _server.push(layer, groups, message)
    elif isinstance(layer, InMemoryChannelLayer):
        # No web server loop here (tests, shells): its queues belong to the caller's outer loop,
        # which asgiref uses when called from inside sync_to_async.
        async_to_sync(_send_all)(layer, groups, message)
    else:
        _private_pusher().push(layer, groups, message)


async def _send_all(layer: Any, groups: list[str], message: dict) -> None:
    for group in groups:
        await layer.group_send(group, message)
