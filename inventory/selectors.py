"""Inventory reads for operator pages and APIs: plain dicts in camelCase, None when absent."""
from __future__ import annotations

import re

from inventory import repository


def _natural_key(sku: str) -> list:
    """SKU-2 before SKU-10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", sku)]


def _stock_view(document: dict) -> dict:
    return {
        "sku": document["_id"],
        "available": document.get("available", 0),
        "reserved": document.get("reserved", 0),
        "shipped": document.get("shipped", 0),
        "stocked": document.get("stocked", 0),
        "holds": dict(document.get("holds", {})),
        "lastAdjustments": list(document.get("lastAdjustments", [])),
        "updatedAt": document.get("updatedAt"),
    }


def stock_list() -> list[dict]:
    return sorted((_stock_view(d) for d in repository.stock_all()), key=lambda s: _natural_key(s["sku"]))


def stock_get(*, sku: str) -> dict | None:
    document = repository.stock_find(sku)
    return document and _stock_view(document)


def reservation_get(*, order_id: str) -> dict | None:
    document = repository.reservation_find(order_id)
    if document is None:
        return None
    return {
        "orderId": document["_id"],
        "status": document["status"],
        "lines": document.get("lines", []),
        "released": document.get("released", []),
        "total": document.get("total"),
        "currency": document.get("currency"),
        "shippingCountry": document.get("shippingCountry"),
        "reason": document.get("reason"),
        "shortages": document.get("shortages", []),
        "pendingEvents": len(document.get("outbox", [])),
        "createdAt": document.get("createdAt"),
        "updatedAt": document.get("updatedAt"),
    }
