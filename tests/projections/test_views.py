"""Server-Sent Events of one order, driven through the project's real ASGI application."""
from __future__ import annotations

import asyncio
import json

from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer

from ecom_project.asgi import application
from projections import domain, handlers, services
from tests.projections.conftest import HAPPY, saga


class SseClient:
    """A minimal ASGI HTTP client that reads a streaming response chunk by chunk."""

    def __init__(self, path: str) -> None:
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.outbox: asyncio.Queue = asyncio.Queue()
        self.scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
            "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
            "headers": [(b"host", b"testserver"), (b"accept", b"text/event-stream")],
            "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
        }

    async def open(self) -> dict:
        await self.inbox.put({"type": "http.request", "body": b"", "more_body": False})
        self.task = asyncio.create_task(application(self.scope, self.inbox.get, self.outbox.put))
        return await asyncio.wait_for(self.outbox.get(), 5)

    async def next_body(self) -> dict:
        return await asyncio.wait_for(self.outbox.get(), 5)

    async def next_projection(self) -> dict:
        while True:
            message = await self.next_body()
            text = message.get("body", b"").decode()
            if text.startswith("id:"):
                return json.loads(text.split("data: ", 1)[1])

    async def disconnect(self) -> None:
        await self.inbox.put({"type": "http.disconnect"})
        await asyncio.wait_for(self.task, 5)


def project(event) -> None:
    handlers.project_event(event)


def test_stream_sends_current_state_then_each_change_and_ends_at_terminal(order_id):
    created, reserved, authorized, shipped = saga(order_id, *HAPPY)
    project(created)

    async def scenario():
        client = SseClient(f"/api/read/orders/{order_id}/stream")
        start = await client.open()
        assert start["status"] == 200
        assert (b"content-type", b"text/event-stream") in [(k.lower(), v) for k, v in start["headers"]]
        assert (await client.next_projection())["status"] == domain.PENDING
        seen = []
        for event in (reserved, authorized, shipped):
            await sync_to_async(project)(event)
            seen.append((await client.next_projection())["status"])
        assert seen == [domain.INVENTORY_RESERVED, domain.PAYMENT_AUTHORIZED, domain.SHIPPED]
        while True:  # the response ends by itself after the terminal status
            message = await client.next_body()
            if not message.get("more_body", False):
                break
        await asyncio.wait_for(client.task, 5)

    async_to_sync(scenario)()


def test_stream_of_a_finished_order_is_one_frame(order_id):
    for event in saga(order_id, *HAPPY):
        project(event)

    async def scenario():
        client = SseClient(f"/api/read/orders/{order_id}/stream")
        await client.open()
        assert (await client.next_projection())["terminal"] is True
        await asyncio.wait_for(client.task, 5)

    async_to_sync(scenario)()


def test_client_disconnect_leaves_no_task_and_no_subscription(order_id):
    (created,) = saga(order_id, HAPPY[0])
    project(created)
    layer = get_channel_layer()
    group = services.order_group(order_id)

    async def scenario():
        before = len(asyncio.all_tasks())
        client = SseClient(f"/api/read/orders/{order_id}/stream")
        await client.open()
        await client.next_projection()
        assert layer.groups.get(group), "the stream subscribed to the order's group"
        await client.disconnect()
        await asyncio.sleep(0)  # let cancelled helpers finish
        assert not layer.groups.get(group), "the stream left the group on disconnect"
        assert len(asyncio.all_tasks()) == before
        assert client.task.done() and not client.task.cancelled()

    async_to_sync(scenario)()


def test_unknown_order_stream_is_a_404(order_id):
    order_id = "f" * 32  # nobody accepted it
    layer = get_channel_layer()

    async def scenario():
        client = SseClient(f"/api/read/orders/{order_id}/stream")
        start = await client.open()
        body = await client.next_body()
        await asyncio.wait_for(client.task, 5)
        return start, body

    start, body = async_to_sync(scenario)()
    assert start["status"] == 404
    assert json.loads(body["body"])["error"]["code"] == "not_found"
    assert not layer.groups.get(services.order_group(order_id))
