"""Django's ASGI handler, with a request's sync code run in one thread hop.

Under ASGI, Django adapts each sync-capable middleware to async mode, and `MiddlewareMixin`
then hops to a worker thread and back for every `process_request`/`process_response`: about
twenty hand-overs between the event loop and a thread per request with the stock middleware.
Here a request for a sync view (all of them but the SSE stream) runs the whole middleware
chain and the view synchronously, in one call on a fixed pool of long-lived threads. A
request for an async view takes Django's own async path, on a fixed pool of thread-sensitive
contexts (asgiref would otherwise start and stop a thread per request for its sync parts).

Order intake (settings.INTAKE_PATHS, POST) is leaner still: its own middleware chain without the
session, CSRF, auth and messages middleware (settings.INTAKE_MIDDLEWARE; the view authenticates
nobody and reads no cookie), and the request_started/request_finished signals run in the same
thread hop as the view, where Django would take one more hop for each.
"""
from __future__ import annotations

import asyncio
import contextvars
import itertools
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import SyncToAsync, ThreadSensitiveContext, iscoroutinefunction
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.base import BaseHandler
from django.db import close_old_connections
from django.test.utils import override_settings
from django.urls import Resolver404, get_resolver, get_urlconf, set_script_prefix

POOL_SIZE = 8
THREAD_PREFIX = "http-sync"


class PooledThreadASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        super().__init__()  # the async middleware chain, for async views
        self._pool = [ThreadSensitiveContext() for _ in range(POOL_SIZE)]
        self._contexts = itertools.cycle(self._pool)
        self._sync = sync_handler(settings.MIDDLEWARE)
        self._intake_paths = frozenset(settings.INTAKE_PATHS)
        self._intake = sync_handler(settings.INTAKE_MIDDLEWARE)
        self._threads = ThreadPoolExecutor(POOL_SIZE, thread_name_prefix=THREAD_PREFIX)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        token = SyncToAsync.thread_sensitive_context.set(next(self._contexts))
        try:
            if scope["method"] == "POST" and scope["path"] in self._intake_paths:
                await self.handle_intake(scope, receive, send)
            else:
                await self.handle(scope, receive, send)
        finally:
            SyncToAsync.thread_sensitive_context.reset(token)

    async def handle_intake(self, scope, receive, send) -> None:
        """Django's `handle` for a small synchronous answer: body read on the loop, everything else
        (signals, request, middleware, view, close) in one call on the pool, then the answer sent."""
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))
        context = contextvars.copy_context()
        response = await asyncio.get_running_loop().run_in_executor(
            self._threads, context.run, self._respond_intake, scope, body_file,
        )
        await self.send_response(response, send)

    def _respond_intake(self, scope, body_file):
        try:
            signals.request_started.send(sender=self.__class__, scope=scope)
            request, response = self.create_request(scope, body_file)
            if request is not None:
                response = self._intake.get_response(request)
                response._handler_class = self.__class__
            response.close()  # request_finished: closes old connections, in the thread that used them
            return response
        finally:
            body_file.close()

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


def sync_handler(middleware: list[str]) -> BaseHandler:
    """A handler whose synchronous chain is `middleware` (Django reads the list from settings)."""
    handler = BaseHandler()
    with override_settings(MIDDLEWARE=middleware):
        handler.load_middleware(is_async=False)
    return handler


def serves_async_view(path: str) -> bool:
    try:
        match = get_resolver(get_urlconf()).resolve(path)
    except Resolver404:
        return False
    return iscoroutinefunction(match.func)
