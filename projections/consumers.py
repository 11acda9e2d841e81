"""Websocket consumers: they join a group and forward what the projector pushes.

One order's socket starts with the projection (the same rule as its SSE stream): the stored
one now, or, for an order accepted but not projected yet, the first push; an id nobody knows
is closed with 4404."""
from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from ecom_project.api_errors import ApplicationError
from projections import selectors
from projections.services import ALL_ORDERS_GROUP, order_group

UNKNOWN_ORDER = 4404


class ProjectionForwardConsumer(AsyncJsonWebsocketConsumer):
    def group_name(self) -> str:
        order_id = self.order_id()
        return order_group(order_id) if order_id else ALL_ORDERS_GROUP

    def order_id(self) -> str | None:
        return self.scope["url_route"]["kwargs"].get("order_id")

    async def connect(self) -> None:
        self.group = self.group_name()
        self.revision = 0
        await self.channel_layer.group_add(self.group, self.channel_name)  # before the read: no change slips by
        await self.accept()
        if self.order_id():
            try:
                projection = await database_sync_to_async(selectors.order_projection_follow)(order_id=self.order_id())
            except ApplicationError:
                await self.close(code=UNKNOWN_ORDER)
                return
            if projection is not None:
                await self.projection_update({"projection": projection})

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def projection_update(self, message: dict[str, Any]) -> None:
        projection = message["projection"]
        if self.order_id():  # one order: never a stale or repeated revision after the snapshot
            if projection.get("revision", 0) <= self.revision:
                return
            self.revision = projection["revision"]
        await self.send_json(projection)
