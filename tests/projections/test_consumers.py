"""Websocket consumers on the project's ASGI application: join a group, forward projector pushes."""
from __future__ import annotations

import logging

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator

from ecom_project.asgi import application
from ecom_project.events import registry as r
from projections import domain, handlers
from tests.projections.conftest import HAPPY, ORIGIN, saga


def test_all_orders_socket_gets_every_change(order_id, staff_socket_headers):
    created, reserved = saga(order_id, r.ORDER_CREATED, r.INVENTORY_RESERVED)
    (other,) = saga(order_id + "-b", r.ORDER_CREATED)

    async def scenario():
        socket = WebsocketCommunicator(application, "/ws/orders/", headers=staff_socket_headers)
        connected, _ = await socket.connect()
        assert connected
        for event in (created, other, reserved):
            await sync_to_async(handlers.project_event)(event)
        frames = [await socket.receive_json_from(timeout=3) for _ in range(3)]
        await socket.disconnect()
        return frames

    frames = async_to_sync(scenario)()
    assert all(isinstance(frame, list) for frame in frames), "the feed sends a tick's changed orders as one array"
    received = [p for frame in frames for p in frame]
    assert [(p["orderId"], p["status"]) for p in received] == [
        (order_id, domain.PENDING), (order_id + "-b", domain.PENDING), (order_id, domain.INVENTORY_RESERVED),
    ]
    assert "timeline" not in received[2] and received[2]["revision"] == 2, "compact rows: the timeline stays in the read model"


def test_one_order_socket_gets_only_that_order(order_id):
    mine = saga(order_id, *HAPPY)
    (other,) = saga(order_id + "-x", r.ORDER_CREATED)

    async def scenario():
        socket = WebsocketCommunicator(application, f"/ws/orders/{order_id}/", headers=[ORIGIN])
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
        socket = WebsocketCommunicator(application, f"/ws/orders/{order_id}/", headers=[ORIGIN])
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


# ---- who may listen, and hygiene (issue 17) ----

def _connect(path: str, headers: list) -> tuple[bool, object]:
    async def scenario():
        socket = WebsocketCommunicator(application, path, headers=headers)
        connected, code = await socket.connect()
        if connected:
            await socket.disconnect()
        return connected, code

    return async_to_sync(scenario)()


@pytest.mark.parametrize("headers", [[(b"origin", b"http://evil.example")], []], ids=["foreign origin", "no origin"])
def test_a_foreign_or_missing_origin_is_refused(headers, staff_socket_headers):
    auth = [h for h in staff_socket_headers if h[0] == b"authorization"]
    assert _connect("/ws/orders/", headers + auth)[0] is False
    assert _connect("/ws/orders/abc/", headers)[0] is False


def test_the_all_orders_feed_is_for_staff_unless_opened(settings, staff_socket_headers):
    assert _connect("/ws/orders/", [ORIGIN]) == (False, 4403)  # daphne answers the handshake with HTTP 403
    assert _connect("/ws/orders/", staff_socket_headers)[0] is True
    settings.PUBLIC_ORDER_FEED = True
    assert _connect("/ws/orders/", [ORIGIN])[0] is True


def test_an_anonymous_order_socket_sees_no_payment_reference(order_id):
    events = saga(order_id, r.ORDER_CREATED, r.INVENTORY_RESERVED, r.PAYMENT_AUTHORIZED)

    async def scenario():
        socket = WebsocketCommunicator(application, f"/ws/orders/{order_id}/", headers=[ORIGIN])
        assert (await socket.connect())[0]
        for event in events:
            await sync_to_async(handlers.project_event)(event)
        pushed = [await socket.receive_from(timeout=3) for _ in events]
        await socket.disconnect()
        return pushed

    pushed = async_to_sync(scenario)()
    assert "PAYMENT_AUTHORIZED" in pushed[-1] and "pay-1" not in "".join(pushed) and "detail" not in pushed[-1]


def _close_code_after(frames: list[dict], order_id: str) -> int:
    async def scenario():
        socket = WebsocketCommunicator(application, f"/ws/orders/{order_id}/", headers=[ORIGIN])
        assert (await socket.connect())[0]
        for frame in frames:
            await socket.send_input({"type": "websocket.receive", **frame})
        output = await socket.receive_output(timeout=3)
        while output["type"] != "websocket.close":
            output = await socket.receive_output(timeout=3)
        await socket.wait(timeout=3)
        return output.get("code")

    return async_to_sync(scenario)()


@pytest.mark.parametrize("frames, code", [
    ([{"bytes": b"\x00\x01"}], 1003),
    ([{"text": "garbage{"}], 1007),
    ([{"text": "[" * 500}], 1007),
    ([{"text": '{"hello": 1}'}], 1003),
    ([{"text": '{"subscribe": "a b"}'}], 1003),
    ([{"text": "x" * 1_000_000}], 1009),
    ([{"text": f'{{"subscribe": "o{n}"}}'} for n in range(20)], 1008),
], ids=["binary", "not json", "nested json", "unknown message", "bad id", "1 MB frame", "subscription flood"])
def test_bad_client_frames_close_with_a_code_saying_why_and_no_error(frames, code, caplog, order_id):
    assert _close_code_after(frames, order_id) == code
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


def test_a_client_follows_more_orders_by_subscribing(order_id):
    (other,) = saga(order_id + "-s", r.ORDER_CREATED)

    async def scenario():
        socket = WebsocketCommunicator(application, f"/ws/orders/{order_id}/", headers=[ORIGIN])
        assert (await socket.connect())[0]
        await socket.send_json_to({"subscribe": order_id + "-s"})
        await socket.receive_nothing(timeout=0.2)  # the subscription is in before the push
        await sync_to_async(handlers.project_event)(other)
        pushed = await socket.receive_json_from(timeout=3)
        await socket.disconnect()
        return pushed

    assert async_to_sync(scenario)()["orderId"] == order_id + "-s"


def test_a_push_to_a_socket_that_just_closed_is_dropped_quietly(caplog):
    from autobahn.exception import Disconnected

    from projections.consumers import ProjectionForwardConsumer

    consumer = ProjectionForwardConsumer()
    consumer.closed, consumer.staff = False, False
    calls = []

    async def gone(message):  # what daphne raises for a send after the client's close
        calls.append(message)
        raise Disconnected("Attempt to send on a closed protocol")

    consumer.base_send = gone
    update = {"projection": {"orderId": "o1", "status": "PENDING", "timeline": []}}
    async_to_sync(consumer.projection_update)(update)
    async_to_sync(consumer.projection_update)(update)
    assert len(calls) == 1 and consumer.closed
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
