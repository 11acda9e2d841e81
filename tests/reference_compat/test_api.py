"""The reference spec's routes answer with the spec's shapes and behave exactly as the /api/
routes they alias: same validation, errors, permissions."""
from __future__ import annotations

import json
import uuid

import pytest
from asgiref.sync import async_to_sync
from rest_framework.permissions import BasePermission
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from projections import handlers
from projections.api import OrderProjectionListApi
from tests.projections.conftest import HAPPY, SHIPPING_FAILED, saga
from tests.projections.test_views import SseClient

BODY = {"items": [{"sku": "SKU-1", "qty": 2}], "total": 20}


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def staff_api(django_user_model) -> APIClient:
    user = django_user_model.objects.create_user(username="ops-ref", password="s3cret-pass", is_staff=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


def post(api, path: str, body) -> object:
    return api.generic("POST", path, json.dumps(body), content_type="application/json")


def place(api, *, order_id: str | None = None) -> str:
    response = post(api, "/orders", {**BODY, **({"orderId": order_id} if order_id else {})})
    assert response.status_code == 201, response.content
    return response.json()["orderId"]


def project(order_id: str, types) -> None:
    for event in saga(order_id, *types):
        handlers.project_event(event)


@pytest.mark.parametrize("body", [
    {"items": [], "total": 20}, {"items": [{"sku": "SKU-1", "qty": "2"}], "total": 20}, {**BODY, "coupon": "x"},
    {**BODY, "orderId": "order-1"}, {**BODY, "total": -1},
])
def test_post_orders_validates_exactly_as_post_api_orders(api, body):
    ours, theirs = post(api, "/api/orders", body), post(api, "/orders", body)
    assert theirs.status_code == ours.status_code == 400
    assert theirs.json() == ours.json()


def test_post_orders_is_201_with_the_order_id_and_repeats_by_client_id(api):
    order_id = str(uuid.uuid4())
    first = post(api, "/orders", {"orderId": order_id, **BODY})
    assert (first.status_code, first.json()) == (201, {"orderId": order_id})
    assert post(api, "/api/orders", {"orderId": order_id, **BODY}).status_code == 200  # one key, both routes
    conflict = post(api, "/orders", {"orderId": order_id, **BODY, "total": 21})
    assert conflict.status_code == 409 and conflict.json()["error"]["fields"] == {"orderId": "already used with a different body"}


def test_get_orders_is_a_plain_array_of_the_newest_100_projections(staff_api):
    ids = [f"{i:032x}" for i in range(105)]
    for index, order_id in enumerate(ids):
        project(order_id, HAPPY[:1] if index % 2 else HAPPY)
    answer = staff_api.get("/orders").json()
    assert isinstance(answer, list) and len(answer) == 100
    page = staff_api.get("/api/read/orders", {"limit": 100}).json()["results"]
    assert answer == page  # the same projections, newest first, in the same shape
    shipped = staff_api.get("/orders", {"status": "SHIPPED"}).json()
    assert shipped and {p["status"] for p in shipped} == {"SHIPPED"}


def test_get_orders_is_for_staff_as_get_api_read_orders(api):
    theirs, ours = api.get("/orders"), api.get("/api/read/orders")
    assert theirs.status_code == ours.status_code == 401 and theirs.json() == ours.json()


def test_get_orders_with_an_unknown_status_is_the_same_400(staff_api):
    theirs, ours = staff_api.get("/orders", {"status": "LOST"}), staff_api.get("/api/read/orders", {"status": "LOST"})
    assert theirs.status_code == ours.status_code == 400 and theirs.json() == ours.json()


def test_get_order_merges_the_order_with_its_projection(api):
    order_id = place(api)
    before = api.get(f"/orders/{order_id}").json()
    assert before["status"] == "PENDING" and before["timeline"] == []  # not projected yet
    assert {k: v for k, v in before.items() if k != "timeline"} == api.get(f"/api/orders/{order_id}").json()
    project(order_id, SHIPPING_FAILED)
    after = api.get(f"/orders/{order_id}").json()
    projection = api.get(f"/api/read/orders/{order_id}").json()
    assert after["status"] == projection["status"] == "CANCELLED"
    assert after["timeline"] == projection["timeline"] and len(after["timeline"]) == len(SHIPPING_FAILED)
    assert after["items"] == BODY["items"] and after["total"] == "20.00" and after["statusHistory"]


@pytest.mark.parametrize("order_id", ["0" * 32, str(uuid.uuid4()), "nope"])
def test_get_unknown_order_is_the_same_404(api, order_id):
    theirs, ours = api.get(f"/orders/{order_id}"), api.get(f"/api/orders/{order_id}")
    assert theirs.status_code == ours.status_code == 404 and theirs.json() == ours.json()


def test_stream_is_the_read_model_stream(api):
    order_id = place(api, order_id=str(uuid.uuid4()))
    project(order_id, HAPPY)

    async def first_frame():
        client = SseClient(f"/orders/{order_id}/stream")
        start = await client.open()
        assert start["status"] == 200
        return await client.next_projection()

    assert async_to_sync(first_frame)()["status"] == "SHIPPED"


@pytest.mark.parametrize("path, body", [
    ("/admin/retry/{id}", {"step": "payment"}), ("/admin/compensate/{id}", {"action": "refundPayment"}),
])
def test_admin_routes_take_the_staff_jwt_only(api, staff_api, django_user_model, path, body):
    order_id = place(api)
    url = path.format(id=order_id)
    assert post(api, url, body).status_code == 401
    bob = django_user_model.objects.create_user(username="bob-ref", password="s3cret-pass")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(bob)}")
    assert post(api, url, body).status_code == 403
    api.credentials(HTTP_AUTHORIZATION="Bearer spec-optional-token")  # the spec's dev token is no key here
    assert post(api, url, body).status_code == 401
    answer = post(staff_api, url, body)
    twin = post(staff_api, f"/api/admin/orders/{order_id}/{url.split('/')[2]}", body)
    assert answer.status_code == twin.status_code  # 409: a PENDING order allows neither; same reason
    assert answer.json()["error"]["fields"] == twin.json()["error"]["fields"]


class NobodyMayRead(BasePermission):
    def has_permission(self, request, view) -> bool:
        return False


def test_a_rule_added_to_the_list_view_applies_to_get_orders_and_not_to_post(api, staff_api, monkeypatch):
    """The aliases inherit their views' policy: what is put on the list view reaches /orders (its
    own rule, staff only, lets this staff JWT read; the added one refuses even staff)."""
    assert staff_api.get("/orders").status_code == 200
    monkeypatch.setattr(OrderProjectionListApi, "permission_classes", [NobodyMayRead])
    assert staff_api.get("/api/read/orders").status_code == 403
    assert staff_api.get("/orders").status_code == 403
    assert staff_api.head("/orders").status_code == 403
    assert post(api, "/orders", BODY).status_code == 201


def test_health_carries_ok(api):
    body = api.get("/health").json()
    assert body["ok"] is True and body["status"] == "ok"
