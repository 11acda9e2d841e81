"""Django's ASGI handler, without a new thread per request.

Django runs each request's sync code (sync middleware, sync views) in a thread-sensitive
context of its own, and asgiref gives every such context a fresh one-thread executor, started
and shut down per request. Here requests take turns on a fixed pool of long-lived contexts, so
the threads are reused; a request that blocks (a readiness probe waiting on a dead broker)
still holds up only its own context's share of the traffic.
"""
from __future__ import annotations

import itertools

from asgiref.sync import SyncToAsync, ThreadSensitiveContext
from django.core.handlers.asgi import ASGIHandler

POOL_SIZE = 8


class PooledThreadASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        super().__init__()
        self._pool = [ThreadSensitiveContext() for _ in range(POOL_SIZE)]
        self._contexts = itertools.cycle(self._pool)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        token = SyncToAsync.thread_sensitive_context.set(next(self._contexts))
        try:
            await self.handle(scope, receive, send)
        finally:
            SyncToAsync.thread_sensitive_context.reset(token)
