"""The ASGI handler runs a request's sync code in one hop, on a fixed pool of threads."""
from __future__ import annotations

import asyncio

from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator

import threading

import types

from django.http import HttpResponse
from django.urls import path

from ecom_project.asgi import django_asgi_app
from ecom_project.http_handler import POOL_SIZE, THREAD_PREFIX, serves_async_view


async def get(path: str) -> int:
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": [],
        "client": ("127.0.0.1", 40000), "server": ("testserver", 80),
    }
    communicator = ApplicationCommunicator(django_asgi_app, scope)
    await communicator.send_input({"type": "http.request", "body": b"", "more_body": False})
    start = await communicator.receive_output(10)
    await communicator.receive_output(10)
    await communicator.wait(10)
    return start["status"]


def test_concurrent_requests_share_a_fixed_pool_of_threads():
    async def burst() -> list[int]:
        return await asyncio.gather(*(get("/health") for _ in range(5 * POOL_SIZE)))

    statuses = async_to_sync(burst)()
    assert statuses == [200] * (5 * POOL_SIZE)
    request_threads = [t for t in threading.enumerate() if t.name.startswith(THREAD_PREFIX)]
    assert 0 < len(request_threads) <= POOL_SIZE


def test_sync_views_run_on_the_pool_threads(settings):
    """Not on asgiref's per-context executors: the sync path took the request."""
    seen: list[str] = []

    def view(request):
        seen.append(threading.current_thread().name)
        return HttpResponse("ok")

    urlconf = types.ModuleType("one_view_urls")
    urlconf.urlpatterns = [path("probe", view)]
    settings.ROOT_URLCONF = urlconf
    assert async_to_sync(get)("/probe") == 200
    assert seen and seen[0].startswith(THREAD_PREFIX)


def test_async_views_keep_the_async_path():
    assert serves_async_view("/api/read/orders/ord-1/stream") is True
    assert serves_async_view("/api/orders") is False
    assert serves_async_view("/no/such/page") is False
