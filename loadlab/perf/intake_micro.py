"""A micro benchmark of order intake: POST /api/orders through the ASGI app in this process, one
request after another, with the store write (the configured store; `store=False` replaces it by an
answer, leaving the web layer alone) and without the broker.

`full` is the pooled handler taking the general path (Django's `handle`, the whole middleware chain);
`lean` is the intake path (settings.INTAKE_MIDDLEWARE, signals and view in one thread hop); `stock`
is Django's own ASGIHandler. CPU is the process's (every thread), divided by the requests."""
from __future__ import annotations

import json
import time
import uuid
from contextlib import nullcontext
from unittest import mock

from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.core.handlers.asgi import ASGIHandler
from django.test.utils import override_settings

from ecom_project.http_handler import PooledThreadASGIHandler
from orders import services

BODY = json.dumps({"items": [{"sku": "SKU-1", "qty": 1}], "total": 10, "shippingAddress": {"country": "US"}}).encode()
HEADERS = [(b"content-type", b"application/json"), (b"host", b"127.0.0.1")]


def handlers() -> dict[str, object]:
    with override_settings(INTAKE_PATHS=(), BACKPRESSURE_ENABLED=False):
        full = PooledThreadASGIHandler()
    return {"stock": ASGIHandler(), "full": full, "lean": PooledThreadASGIHandler()}


async def post(app) -> int:
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/api/orders", "raw_path": b"/api/orders", "query_string": b"", "root_path": "",
             "headers": HEADERS, "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8000)}
    communicator = ApplicationCommunicator(app, scope)
    await communicator.send_input({"type": "http.request", "body": BODY, "more_body": False})
    start = await communicator.receive_output(10)
    while (await communicator.receive_output(10)).get("more_body"):
        pass
    await communicator.wait(10)
    return start["status"]


def no_store():
    """The view's write replaced by an answer: the figures are the web layer's alone."""
    def create(**_: object) -> services.OrderCreation:
        return services.OrderCreation(order_id=uuid.uuid4().hex, created=True)

    return mock.patch.object(services, "order_create", create)


def measure(app, *, requests: int, store: bool = True) -> dict[str, float]:
    async def run() -> list[int]:
        return [await post(app) for _ in range(requests)]

    with nullcontext() if store else no_store():
        async_to_sync(run)()  # warm-up: imports, connections, thread pools
        wall, cpu = time.perf_counter(), time.process_time()
        statuses = async_to_sync(run)()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if set(statuses) != {201}:
        raise RuntimeError(f"unexpected answers: {sorted(set(statuses))}")
    return {"requestsPerSecond": round(requests / wall, 1), "cpuUsPerRequest": round(cpu / requests * 1e6)}
