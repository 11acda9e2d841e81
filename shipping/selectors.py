"""Shipment reads for operator pages."""
from __future__ import annotations

from shipping import repository


def shipment_get(*, order_id: str) -> dict | None:
    return repository.shipment_find(order_id=order_id)
