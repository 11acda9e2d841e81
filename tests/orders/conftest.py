from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from orders import repository


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def post_order(api):
    """POST /api/orders with a JSON body (a dict/list is dumped; str/bytes go as they are)."""

    def post(body, *, key: str | None = None, content_type: str = "application/json"):
        raw = body if isinstance(body, (str, bytes)) else json.dumps(body)
        headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
        return api.generic("POST", "/api/orders", raw, content_type=content_type, **headers)

    return post


def stored_orders() -> list[dict]:
    return list(repository.orders().find())


GOOD_BODY = {"items": [{"sku": "SKU-1", "qty": 2}], "total": 19.99}
