"""Websocket consumers: they only join a group and forward what the projector pushes."""
from __future__ import annotations

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from projections.services import ALL_ORDERS_GROUP, order_group


class ProjectionForwardConsumer(AsyncJsonWebsocketConsumer):
    def group_name(self) -> str:
        order_id = self.scope["url_route"]["kwargs"].get("order_id")
        return order_group(order_id) if order_id else ALL_ORDERS_GROUP

    async def connect(self) -> None:
        self.group = self.group_name()
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def projection_update(self, message: dict[str, Any]) -> None:
        await self.send_json(message["projection"])
