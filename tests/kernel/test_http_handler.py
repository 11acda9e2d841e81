"""The ASGI handler reuses a fixed pool of threads for requests' sync code."""
from __future__ import annotations

import asyncio

from asgiref.sync import SyncToAsync, async_to_sync
from asgiref.testing import ApplicationCommunicator

from ecom_project.asgi import django_asgi_app
from ecom_project.http_handler import POOL_SIZE


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
    pool_executors = [ctx for ctx in list(SyncToAsync.context_to_thread_executor) if ctx in django_asgi_app._pool]
    assert 0 < len(pool_executors) <= POOL_SIZE
