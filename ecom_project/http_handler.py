"""Django's ASGI handler, with a request's sync code run in one thread hop.

Under ASGI, Django adapts each sync-capable middleware to async mode, and `MiddlewareMixin`
then hops to a worker thread and back for every `process_request`/`process_response`: about
twenty hand-overs between the event loop and a thread per request with the stock middleware.
Here a request for a sync view (all of them but the SSE stream) runs the whole middleware
chain and the view synchronously, in one call on a fixed pool of long-lived threads. A
request for an async view takes Django's own async path, on a fixed pool of thread-sensitive
contexts (asgiref would otherwise start and stop a thread per request for its sync parts).
"""
from __future__ import annotations

import asyncio
import contextvars
import itertools
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import SyncToAsync, ThreadSensitiveContext, iscoroutinefunction
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.base import BaseHandler
from django.db import close_old_connections
from django.urls import Resolver404, get_resolver, get_urlconf

POOL_SIZE = 8
THREAD_PREFIX = "http-sync"


class PooledThreadASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        super().__init__()  # the async middleware chain, for async views
        self._pool = [ThreadSensitiveContext() for _ in range(POOL_SIZE)]
        self._contexts = itertools.cycle(self._pool)
        self._sync = BaseHandler()
        self._sync.load_middleware(is_async=False)
        self._threads = ThreadPoolExecutor(POOL_SIZE, thread_name_prefix=THREAD_PREFIX)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        token = SyncToAsync.thread_sensitive_context.set(next(self._contexts))
        try:
            await self.handle(scope, receive, send)
        finally:
            SyncToAsync.thread_sensitive_context.reset(token)

    async def get_response_async(self, request):
        if serves_async_view(request.path_info):
            return await super().get_response_async(request)
        context = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(self._threads, context.run, self._respond, request)

    def _respond(self, request):
        try:
            return self._sync.get_response(request)
        finally:
            close_old_connections()  # what request_finished does, in the thread that used the connection


def serves_async_view(path: str) -> bool:
    try:
        match = get_resolver(get_urlconf()).resolve(path)
    except Resolver404:
        return False
    return iscoroutinefunction(match.func)
