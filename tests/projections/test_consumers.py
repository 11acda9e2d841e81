"""Websocket consumers on the project's ASGI application: join a group, forward projector pushes."""
from __future__ import annotations

from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator

from ecom_project.asgi import application
from ecom_project.events import registry as r
from projections import domain, handlers
from tests.projections.conftest import HAPPY, saga


def test_all_orders_socket_gets_every_change(order_id):
    created, reserved = saga(order_id, r.ORDER_CREATED, r.INVENTORY_RESERVED)
    (other,) = saga(order_id + "-b", r.ORDER_CREATED)

    async def scenario():
        socket = WebsocketCommunicator(application, "/ws/orders/")
        connected, _ = await socket.connect()
        assert connected
        for event in (created, other, reserved):
            await sync_to_async(handlers.project_event)(event)
        received = [await socket.receive_json_from(timeout=3) for _ in range(3)]
        await socket.disconnect()
        return received

    received = async_to_sync(scenario)()
    assert [(p["orderId"], p["status"]) for p in received] == [
        (order_id, domain.PENDING), (order_id + "-b", domain.PENDING), (order_id, domain.INVENTORY_RESERVED),
    ]
    assert received[2]["timeline"][1]["type"] == r.INVENTORY_RESERVED


def test_one_order_socket_gets_only_that_order(order_id):
    mine = saga(order_id, *HAPPY)
    (other,) = saga(order_id + "-x", r.ORDER_CREATED)

    async def scenario():
        socket = WebsocketCommunicator(application, f"/ws/orders/{order_id}/")
        assert (await socket.connect())[0]
        await sync_to_async(handlers.project_event)(other)
        for event in mine:
            await sync_to_async(handlers.project_event)(event)
        statuses = [(await socket.receive_json_from(timeout=3))["status"] for _ in mine]
        assert await socket.receive_nothing(timeout=0.2)
        await socket.disconnect()
        return statuses

    assert async_to_sync(scenario)() == [domain.PENDING, domain.INVENTORY_RESERVED, domain.PAYMENT_AUTHORIZED, domain.SHIPPED]


def test_a_duplicate_event_is_not_pushed_again(order_id):
    (created,) = saga(order_id, r.ORDER_CREATED)

    async def scenario():
        socket = WebsocketCommunicator(application, f"/ws/orders/{order_id}/")
        assert (await socket.connect())[0]
        await sync_to_async(handlers.project_event)(created)
        await sync_to_async(handlers.project_event)(created)
        await socket.receive_json_from(timeout=3)
        assert await socket.receive_nothing(timeout=0.2)
        await socket.disconnect()

    async_to_sync(scenario)()


def test_unknown_websocket_path_is_refused():
    async def scenario():
        socket = WebsocketCommunicator(application, "/ws/orders/bad id!/")
        try:
            connected, _ = await socket.connect()
        except ValueError:  # no route: the URLRouter raises
            return False
        return connected

    assert async_to_sync(scenario)() is False
