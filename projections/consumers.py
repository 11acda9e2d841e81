"""Websocket consumers: they join groups and forward what the projector pushes, as the reader may
see it (ecom_project/access.py).

`/ws/orders/` (every order) is for staff, or anyone with PUBLIC_ORDER_FEED; `/ws/orders/<id>/` is
for anyone holding the id. One order's socket starts with the projection (the same rule as its SSE
stream): the stored one now, or, for an order accepted but not projected yet, the first push; an id
nobody knows is closed with 4404. A client may follow more orders on its socket by sending
`{"subscribe": "<orderId>"}`; anything else it sends closes the socket with a code saying why,
and a push to a socket that closed meanwhile is dropped without a word.

Pushes come coalesced (ecom_project/live.py): an order's socket gets one frame per order and tick,
the projection with its timeline; the all-orders feed one frame per tick, a JSON array of the orders
that changed, each without its timeline (a list row needs none; `/api/read/orders/<id>` has it).
Forwarding a push touches no database, so it skips channels' per-message `close_old_connections`
(a thread hop each)."""
from __future__ import annotations

import json
import logging
import time
from typing import Any

from asgiref.sync import sync_to_async
from autobahn.exception import Disconnected
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from ecom_project.access import feed_is_public, scope_is_staff
from ecom_project.api_errors import ApplicationError
from projections import selectors
from projections.selectors import reader_view
from projections.services import ALL_ORDERS_GROUP, is_followable, order_group

log = logging.getLogger(__name__)
MAX_CLIENT_FRAME_CHARS = 1024  # a subscribe message is ~60; nothing a client sends needs more
MAX_SUBSCRIPTIONS = 50  # orders one socket may follow
SUBSCRIBE_BURST, SUBSCRIBE_PER_SECOND = 10, 2.0  # token bucket of subscriptions per socket
# RFC 6455 close codes
UNSUPPORTED_DATA, INVALID_PAYLOAD, POLICY_VIOLATION, TOO_BIG = 1003, 1007, 1008, 1009
FORBIDDEN = 4403  # before the handshake is accepted: the client gets HTTP 403
UNKNOWN_ORDER = 4404


PUSHES = frozenset({"projection.update", "projection.batch"})
FEED_LEAVES_OUT = frozenset({"timeline"})


class ProjectionForwardConsumer(AsyncWebsocketConsumer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.closed, self.staff = False, False
        self.groups_joined: list[str] = []
        # One order's socket forwards no stale or repeated revision after its snapshot: the last one
        # sent per followed order (at most MAX_SUBSCRIPTIONS + 1; the all-orders feed keeps none).
        self.follows_orders = False
        self.revisions: dict[str, int] = {}

    def order_id(self) -> str | None:
        return self.scope["url_route"]["kwargs"].get("order_id")

    async def connect(self) -> None:
        self.staff = await sync_to_async(scope_is_staff)(self.scope)
        order_id = self.order_id()
        if order_id is None and not (self.staff or feed_is_public()):
            await self.close(code=FORBIDDEN)
            return
        self.follows_orders = order_id is not None
        self.subscribe_tokens, self.subscribe_at = float(SUBSCRIBE_BURST), time.monotonic()
        await self._join(order_group(order_id) if order_id else ALL_ORDERS_GROUP)  # before the read: no change slips by
        await self.accept()
        if order_id:
            try:
                projection = await database_sync_to_async(selectors.order_projection_follow)(
                    order_id=order_id, staff=self.staff,
                )
            except ApplicationError:
                await self.close(code=UNKNOWN_ORDER)
                self.closed = True
                return
            if projection is not None:
                await self.projection_update({"projection": projection})

    async def _join(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined.append(group)

    async def disconnect(self, code: int) -> None:
        self.closed = True
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is None:
            return await self._refuse(UNSUPPORTED_DATA, "binary frame")
        if len(text_data) > MAX_CLIENT_FRAME_CHARS:
            return await self._refuse(TOO_BIG, f"frame of {len(text_data)} characters")
        try:
            message = json.loads(text_data)
        except (ValueError, RecursionError):
            return await self._refuse(INVALID_PAYLOAD, "frame is not JSON")
        order_id = message.get("subscribe") if isinstance(message, dict) and len(message) == 1 else None
        if not isinstance(order_id, str) or not is_followable(order_id):
            return await self._refuse(UNSUPPORTED_DATA, "not a {\"subscribe\": orderId} message")
        if not self._may_subscribe():
            return await self._refuse(POLICY_VIOLATION, "subscribing too fast or to too many orders")
        if ALL_ORDERS_GROUP in self.groups_joined:  # the feed brings every order already: no second copy
            return
        if order_group(order_id) not in self.groups_joined:
            await self._join(order_group(order_id))

    def _may_subscribe(self) -> bool:
        now = time.monotonic()
        self.subscribe_tokens = min(SUBSCRIBE_BURST, self.subscribe_tokens + (now - self.subscribe_at) * SUBSCRIBE_PER_SECOND)
        self.subscribe_at = now
        if self.subscribe_tokens < 1 or len(self.groups_joined) > MAX_SUBSCRIPTIONS:
            return False
        self.subscribe_tokens -= 1
        return True

    async def _refuse(self, code: int, why: str) -> None:
        log.info("websocket closed: bad client frame", extra={"code": code, "reason": why, "path": self.scope.get("path")})
        await self.close(code=code)
        self.closed = True

    async def send(self, text_data: str | None = None, bytes_data: bytes | None = None, close: bool = False) -> None:
        """A push can race the client's goodbye; the socket is gone and nothing is lost (the client
        re-reads the read model when it reconnects), so it is dropped quietly."""
        if self.closed:
            return
        try:
            await super().send(text_data=text_data, bytes_data=bytes_data, close=close)
        except (Disconnected, ConnectionError):
            self.closed = True

    async def dispatch(self, message: dict[str, Any]) -> None:
        if message["type"] in PUSHES:  # no database here: no close_old_connections hop to a thread
            handler = self.projection_update if message["type"] == "projection.update" else self.projection_batch
            await handler(message)
        else:
            await super().dispatch(message)

    async def projection_batch(self, message: dict[str, Any]) -> None:
        rows = [{k: v for k, v in reader_view(p, staff=self.staff).items() if k not in FEED_LEAVES_OUT}
                for p in message["projections"]]
        await self.send(text_data=json.dumps(rows, separators=(",", ":"), default=str))

    async def projection_update(self, message: dict[str, Any]) -> None:
        projection = reader_view(message["projection"], staff=self.staff)
        if self.follows_orders:
            order_id, revision = projection.get("orderId"), projection.get("revision", 0)
            if revision <= self.revisions.get(order_id, 0):
                return
            self.revisions[order_id] = revision
        await self.send(text_data=json.dumps(projection, separators=(",", ":"), default=str))
