"""Read API: list with filters and cursor pagination, one order, counts; errors in the one JSON shape."""
from __future__ import annotations

from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from ecom_project.events import registry as r
from ecom_project.status_counts import PENDING
from projections import domain, handlers
from tests.projections.conftest import HAPPY, REJECTED, T0, saga


@pytest.fixture
def anonymous():
    return APIClient()


@pytest.fixture
def client(django_user_model):
    """Lists and counts are for staff (ecom_project/access.py): a signed-in operator, as on the pages."""
    client = APIClient()
    client.force_login(django_user_model.objects.create_user(username="reader", is_staff=True))
    return client


@pytest.fixture
def five_orders():
    """Five orders created a minute apart: ord-0 oldest; ord-1 and ord-3 rejected, the others shipped."""
    ids = []
    for index in range(5):
        path = REJECTED if index % 2 else HAPPY
        for event in saga(f"ord-{index}", *path, start=T0 + timedelta(minutes=index)):
            handlers.project_event(event)
        ids.append(f"ord-{index}")
    PENDING.flush()  # the status count changes are gathered for FLUSH_S
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


# ---- who sees what (ecom_project/access.py) ----

PII_WORDS = ("pay-1", "TRK123", "SimPost", "detail")


@pytest.mark.parametrize("path", ["/api/read/orders?limit=1", "/api/read/status-counts"])
def test_lists_and_counts_are_for_staff(anonymous, django_user_model, five_orders, path):
    refused = anonymous.get(path)
    assert refused.status_code == 401 and refused["WWW-Authenticate"].startswith("Bearer")
    assert set(refused.json()["error"]) == {"code", "message", "fields"}
    customer = APIClient()
    customer.force_login(django_user_model.objects.create_user(username="customer"))
    assert customer.get(path).status_code == 403


def test_anyone_with_the_id_follows_the_order_without_payment_or_parcel_references(anonymous, order_id):
    for event in saga(order_id, *HAPPY):
        handlers.project_event(event)
    body = anonymous.get(f"/api/read/orders/{order_id}").json()
    assert body["status"] == domain.SHIPPED and body["total"] == "42.50" and body["shippingCountry"] == "US"
    assert [e["type"] for e in body["timeline"]] == list(HAPPY)
    assert set(body["timeline"][0]) == {"type", "eventId", "at", "kind"}
    assert not any(word in str(body) for word in PII_WORDS), body


def test_the_opt_in_public_feed_opens_lists_but_never_details(anonymous, settings, five_orders):
    settings.PUBLIC_ORDER_FEED = True
    page = anonymous.get("/api/read/orders?limit=5")
    assert page.status_code == 200 and len(page.json()["results"]) == 5
    assert not any(word in str(page.json()) for word in PII_WORDS)
    assert anonymous.get("/api/read/status-counts").status_code == 200
    assert anonymous.get("/dashboard/").status_code == 200


def test_the_dashboard_sends_anonymous_visitors_to_the_login(anonymous):
    page = anonymous.get("/dashboard/")
    assert page.status_code == 302 and page["Location"] == "/ops/login/?next=/dashboard/"


@pytest.mark.parametrize("order_id", ["%C3%A9", "a%20b", "%3Cscript%3E", "x" * 94, "a.b" * 40])
def test_odd_ids_on_the_stream_are_a_404_in_the_error_shape(anonymous, order_id):
    response = anonymous.get(f"/api/read/orders/{order_id}/stream")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_a_deeply_nested_cursor_is_a_400(client):
    import base64

    cursor = base64.urlsafe_b64encode(b"[" * 3000).decode()
    response = client.get(f"/api/read/orders?cursor={cursor}")
    assert response.status_code == 400 and response.json()["error"]["fields"] == {"cursor": "invalid"}
