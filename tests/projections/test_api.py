"""Read API: list with filters and cursor pagination, one order, counts; errors in the one JSON shape."""
from __future__ import annotations

from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from ecom_project.events import registry as r
from projections import domain, handlers
from tests.projections.conftest import HAPPY, REJECTED, T0, saga


@pytest.fixture
def client():
    return APIClient()


@pytest.fixture
def five_orders():
    """Five orders created a minute apart: ord-0 oldest; ord-1 and ord-3 rejected, the others shipped."""
    ids = []
    for index in range(5):
        path = REJECTED if index % 2 else HAPPY
        for event in saga(f"ord-{index}", *path, start=T0 + timedelta(minutes=index)):
            handlers.project_event(event)
        ids.append(f"ord-{index}")
    return ids


def test_list_is_newest_first_and_pages_with_a_cursor(client, five_orders):
    first = client.get("/api/read/orders?limit=2").json()
    assert [p["orderId"] for p in first["results"]] == ["ord-4", "ord-3"]
    second = client.get(f"/api/read/orders?limit=2&cursor={first['nextCursor']}").json()
    assert [p["orderId"] for p in second["results"]] == ["ord-2", "ord-1"]
    last = client.get(f"/api/read/orders?limit=2&cursor={second['nextCursor']}").json()
    assert [p["orderId"] for p in last["results"]] == ["ord-0"]
    assert last["nextCursor"] is None


def test_list_filters_by_status(client, five_orders):
    body = client.get("/api/read/orders?status=REJECTED").json()
    assert [p["orderId"] for p in body["results"]] == ["ord-3", "ord-1"]
    assert all(p["status"] == domain.REJECTED for p in body["results"])


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "limit=ten", "limit=-5"])
def test_bad_limit_is_a_400_with_the_field(client, query):
    response = client.get(f"/api/read/orders?{query}")
    assert response.status_code == 400
    assert "limit" in response.json()["error"]["fields"]


def test_limit_bounds_are_accepted(client, five_orders):
    assert client.get("/api/read/orders?limit=1").status_code == 200
    assert len(client.get("/api/read/orders?limit=200").json()["results"]) == 5


def test_unknown_status_is_a_400(client):
    body = client.get("/api/read/orders?status=LOST").json()
    assert body["error"]["code"] == "invalid" and "status" in body["error"]["fields"]


def test_a_forged_cursor_is_a_400(client):
    response = client.get("/api/read/orders?cursor=not-a-cursor")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"cursor": "invalid"}


def test_one_order_with_its_timeline(client, order_id):
    events = saga(order_id, *HAPPY)
    for event in events:
        handlers.project_event(event)
    body = client.get(f"/api/read/orders/{order_id}").json()
    assert body["status"] == domain.SHIPPED and body["total"] == "42.50" and body["currency"] == "USD"
    assert [e["type"] for e in body["timeline"]] == list(HAPPY)
    assert set(body["timeline"][0]) == {"type", "eventId", "at", "detail", "kind"}
    assert body["timeline"][-1]["detail"] == "SimPost tracking TRK123"
    assert "_id" not in body


def test_unknown_order_is_a_404_in_the_error_shape(client):
    response = client.get("/api/read/orders/nope")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_counts_per_status(client, five_orders):
    counts = client.get("/api/read/status-counts").json()
    assert counts == {**{s: 0 for s in domain.STATUSES}, "SHIPPED": 3, "REJECTED": 2}


def test_dashboard_page_renders_with_its_own_assets(client, five_orders):
    page = client.get("/dashboard/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/dashboard/dashboard.js" in html and 'id="initial-data"' in html and "ord-4" in html
    script = client.get("/static/dashboard/dashboard.js")
    assert script.status_code == 200
    assert b"WebSocket" in b"".join(script.streaming_content)


def test_retry_event_details_fill_an_order_created_never_seen(client, order_id):
    (retry,) = saga(order_id, r.RETRY_REQUESTED)
    handlers.project_event(retry)
    assert client.get(f"/api/read/orders/{order_id}").json()["total"] == "42.50"
