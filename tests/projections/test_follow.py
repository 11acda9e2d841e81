"""Following an order right after its 201: SSE and websocket subscriptions to an order the orders
app accepted but the read model has not seen yet wait for it; only unknown ids are 404/4404."""
from __future__ import annotations

from decimal import Decimal

from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator

from ecom_project.asgi import application
from ecom_project.events import registry as r
from orders.services import order_create
from projections import domain, handlers
from projections.consumers import UNKNOWN_ORDER
from tests.projections.conftest import ORIGIN, saga
from tests.projections.test_views import SseClient


def accepted_order() -> str:
    """An order the real orders app stored (its OrderCreated not projected)."""
    return order_create(items=[{"sku": "SKU-1", "qty": 1}], total=Decimal("5"), currency="USD",
                        shipping_address=None).order_id


def test_sse_waits_for_an_accepted_order_then_streams_its_projection():
    order_id = accepted_order()
    (created, reserved) = saga(order_id, r.ORDER_CREATED, r.INVENTORY_RESERVED)

    async def scenario():
        client = SseClient(f"/api/read/orders/{order_id}/stream")
        start = await client.open()
        assert start["status"] == 200
        waiting = await client.next_body()
        assert waiting["body"].startswith(b": waiting")
        await sync_to_async(handlers.project_event)(created)
        first = await client.next_projection()
        await sync_to_async(handlers.project_event)(reserved)
        second = await client.next_projection()
        await client.disconnect()
        return first, second

    first, second = async_to_sync(scenario)()
    assert (first["status"], second["status"]) == (domain.PENDING, domain.INVENTORY_RESERVED)


def test_sse_finds_a_projection_whose_push_was_lost():
    order_id = accepted_order()
    (created,) = saga(order_id, r.ORDER_CREATED)

    async def scenario():
        client = SseClient(f"/api/read/orders/{order_id}/stream")
        assert (await client.open())["status"] == 200
        await client.next_body()
        from projections import services

        await sync_to_async(services.projection_apply)(event=created, notify=False)  # stored, never pushed
        first = await client.next_projection()
        await client.disconnect()
        return first

    assert async_to_sync(scenario)()["orderId"] == order_id


def test_websocket_waits_for_an_accepted_order_and_closes_4404_for_an_unknown_one():
    order_id = accepted_order()
    (created,) = saga(order_id, r.ORDER_CREATED)

    async def scenario():
        socket = WebsocketCommunicator(application, f"/ws/orders/{order_id}/", headers=[ORIGIN])
        assert (await socket.connect())[0]
        assert await socket.receive_nothing(timeout=0.2)
        await sync_to_async(handlers.project_event)(created)
        first = await socket.receive_json_from(timeout=3)
        await socket.disconnect()
        stranger = WebsocketCommunicator(application, f"/ws/orders/{'e' * 32}/", headers=[ORIGIN])
        await stranger.connect()
        closed = await stranger.receive_output(timeout=3)
        return first, closed

    first, closed = async_to_sync(scenario)()
    assert first["status"] == domain.PENDING
    assert closed == {"type": "websocket.close", "code": UNKNOWN_ORDER}


def test_websocket_starts_with_the_stored_projection():
    order_id = accepted_order()
    (created,) = saga(order_id, r.ORDER_CREATED)
    handlers.project_event(created)

    async def scenario():
        socket = WebsocketCommunicator(application, f"/ws/orders/{order_id}/", headers=[ORIGIN])
        assert (await socket.connect())[0]
        first = await socket.receive_json_from(timeout=3)
        await socket.disconnect()
        return first

    assert async_to_sync(scenario)()["revision"] == 1
