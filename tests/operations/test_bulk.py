"""POST /api/admin/orders/bulk: by filter, dry run first, capped, one audit entry per order, only allowed actions."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from operations.repository import audit_log
from orders import repository
from orders.services import order_apply_event
from tests.operations.test_api import new_order
from tests.orders.test_services import payment_failed, reserved

pytestmark = pytest.mark.django_db
BULK = "/api/admin/orders/bulk"


def stale(order_id: str, *, seconds: int = 3600) -> str:
    repository.orders().update_one({"_id": order_id}, {"$set": {"updatedAt": datetime.now(timezone.utc) - timedelta(seconds=seconds)}})
    return order_id


def test_dry_run_lists_the_fitting_retry_per_stuck_order_and_changes_nothing(staff_api):
    pending = stale(new_order())
    at_payment = new_order()
    order_apply_event(event=reserved(at_payment))
    stale(at_payment)
    fresh = new_order()
    declined = new_order()
    for event in (reserved(declined), payment_failed(declined)):
        order_apply_event(event=event)
    stale(declined)
    response = staff_api.post(BULK, {"filter": {"stuck": True}, "action": "retry"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["dryRun"] is True and body["done"] == 0
    steps = {r["orderId"]: (r["step"], r["allowed"]) for r in body["results"]}
    assert steps == {pending: ("inventory", True), at_payment: ("payment", True), declined: ("compensation", False)}
    assert fresh not in steps
    assert audit_log().count_documents({}) == 0
    assert not repository.order_find(pending)["operatorRequests"]


def test_the_real_run_acts_where_allowed_and_audits_every_order(staff_api):
    allowed = stale(new_order())
    cancelling = new_order()
    for event in (reserved(cancelling), payment_failed(cancelling)):
        order_apply_event(event=event)
    stale(cancelling)
    response = staff_api.post(BULK, {"filter": {"stuck": True}, "action": "retry", "dryRun": False}, format="json")
    assert response.status_code == 202, response.content
    results = {r["orderId"]: r for r in response.json()["results"]}
    assert results[allowed]["eventId"] and results[allowed]["step"] == "inventory"
    assert not results[cancelling]["allowed"] and "compensation" in results[cancelling]["reason"]
    outcomes = {e["target"]: e["outcome"] for e in audit_log().find()}
    assert outcomes == {f"order:{allowed}": "accepted", f"order:{cancelling}": "refused"}


def test_a_request_is_capped(staff_api, settings):
    settings.BULK_ACTION_MAX_ORDERS = 2
    for _ in range(3):
        stale(new_order())
    body = staff_api.post(BULK, {"filter": {"status": "PENDING"}, "action": "retry", "limit": 50}, format="json").json()
    assert len(body["results"]) == 2 and body["limit"] == 2 and body["more"] is True


def test_filter_by_error_text_and_age(staff_api):
    declined = new_order()
    for event in (reserved(declined), payment_failed(declined)):
        order_apply_event(event=event)
    new_order()
    body = staff_api.post(BULK, {"filter": {"errorContains": "OVER LIMIT"}, "action": "releaseInventory"},
                          format="json").json()
    assert [(r["orderId"], r["allowed"]) for r in body["results"]] == [(declined, True)]
    body = staff_api.post(BULK, {"filter": {"olderThanSeconds": 3600}, "action": "retry"}, format="json").json()
    assert body["results"] == []


@pytest.mark.parametrize("payload", [
    {"action": "teleport"},
    {"action": "refundPayment", "step": "payment"},
    {"action": "retry", "filter": {"status": "LOST"}},
])
def test_bad_requests_are_400(staff_api, payload):
    assert staff_api.post(BULK, payload, format="json").status_code == 400


def test_staff_only(client):
    assert client.post(BULK, {"action": "retry"}, content_type="application/json").status_code in (401, 403)
