"""Whether an order exists, for code that may not read the orders store.

The read model's subscriptions (SSE, websockets) must wait for an order the orders app has
accepted but the projector has not seen yet, and answer 404 only for ids nobody knows. Only
the orders app can tell; it registers its lookup here when Django starts (orders/apps.py), so
projections asks the kernel, never the orders app (tests/test_architecture.py)."""
from __future__ import annotations

from collections.abc import Callable

_lookup: Callable[[str], bool] | None = None


def register(lookup: Callable[[str], bool]) -> None:
    global _lookup
    _lookup = lookup


def order_known(order_id: str) -> bool:
    """False when no app registered a lookup (e.g. a process without the orders app)."""
    return _lookup is not None and bool(_lookup(order_id))
