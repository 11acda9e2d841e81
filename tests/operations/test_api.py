"""Admin API: order retry/compensate through the orders services, dead letters; all audited."""
from __future__ import annotations

from decimal import Decimal

import pytest

from operations.repository import audit_log
from orders.services import order_create
from tests.operations.conftest import stored_dead_letter

pytestmark = pytest.mark.django_db


def new_order() -> str:
    return order_create(items=[{"sku": "SKU-1", "qty": 1}], total=Decimal("10.00"), currency="USD",
                        shipping_address=None).order_id


def test_retry_inventory_of_pending_order_is_accepted_and_audited(staff_api):
    order_id = new_order()
    response = staff_api.post(f"/api/admin/orders/{order_id}/retry", {"step": "inventory"}, format="json")
    assert response.status_code == 202, response.content
    event_id = response.json()["eventId"]
    entry = audit_log().find_one({"target": f"order:{order_id}"})
    assert entry["who"] == "ops-alice" and entry["action"] == "order.retry" and entry["outcome"] == "accepted"
    assert entry["detail"] == {"step": "inventory", "result": event_id}


def test_retry_shipping_before_payment_is_409_with_reason_and_audited(staff_api):
    order_id = new_order()
    response = staff_api.post(f"/api/admin/orders/{order_id}/retry", {"step": "shipping"}, format="json")
    assert response.status_code == 409
    assert "PAYMENT_AUTHORIZED" in response.json()["error"]["message"]
    entry = audit_log().find_one({"target": f"order:{order_id}"})
    assert entry["outcome"] == "refused" and "PAYMENT_AUTHORIZED" in entry["detail"]["reason"]


def test_unknown_step_is_400(staff_api):
    response = staff_api.post(f"/api/admin/orders/{new_order()}/retry", {"step": "teleport"}, format="json")
    assert response.status_code == 400
    assert "step" in response.json()["error"]["fields"]


def test_missing_step_is_400(staff_api):
    response = staff_api.post(f"/api/admin/orders/{new_order()}/retry", {}, format="json")
    assert response.status_code == 400 and "step" in response.json()["error"]["fields"]


def test_unknown_order_is_404(staff_api):
    response = staff_api.post(f"/api/admin/orders/{'0' * 32}/retry", {"step": "inventory"}, format="json")
    assert response.status_code == 404
    assert audit_log().find_one({"target": f"order:{'0' * 32}"})["outcome"] == "refused"


def test_compensate_unknown_action_is_400_and_nothing_reserved_is_409(staff_api):
    order_id = new_order()
    unknown = staff_api.post(f"/api/admin/orders/{order_id}/compensate", {"action": "undo"}, format="json")
    assert unknown.status_code == 400 and "action" in unknown.json()["error"]["fields"]
    refused = staff_api.post(f"/api/admin/orders/{order_id}/compensate", {"action": "releaseInventory"}, format="json")
    assert refused.status_code == 409
    assert "reserved" in refused.json()["error"]["message"]


def test_dead_letters_list_filters_and_pages(staff_api):
    letters = [stored_dead_letter(offset=n) for n in range(5)]
    other = stored_dead_letter(topic="payment.PaymentFailed.v1", offset=99)
    first = staff_api.get("/api/admin/dead-letters", {"topic": "order.OrderCreated.v1", "limit": 3}).json()
    second = staff_api.get("/api/admin/dead-letters", {"topic": "order.OrderCreated.v1", "limit": 3,
                                                        "cursor": first["nextCursor"]}).json()
    assert len(first["items"]) == 3 and len(second["items"]) == 2 and second["nextCursor"] is None
    seen = [item["id"] for item in first["items"] + second["items"]]
    assert sorted(seen) == sorted(letter["_id"] for letter in letters)
    by_order = staff_api.get("/api/admin/dead-letters", {"orderId": other["orderId"]}).json()["items"]
    assert [item["id"] for item in by_order] == [other["_id"]]
    assert staff_api.get("/api/admin/dead-letters", {"status": "replayed"}).json()["items"] == []


def test_dead_letters_bad_filters_are_400(staff_api):
    assert staff_api.get("/api/admin/dead-letters", {"status": "lost"}).status_code == 400
    assert staff_api.get("/api/admin/dead-letters", {"cursor": "%%%"}).status_code == 400
    assert staff_api.get("/api/admin/dead-letters", {"limit": 0}).status_code == 400


def test_dead_letter_detail_and_404(staff_api):
    letter = stored_dead_letter()
    body = staff_api.get(f"/api/admin/dead-letters/{letter['_id']}").json()
    assert body["payload"] == letter["wire"] and body["error"].startswith("RuntimeError")
    assert staff_api.get("/api/admin/dead-letters/nope").status_code == 404


def test_replay_sends_original_bytes_to_the_failed_consumers_retry_topic_then_refuses_twice_unless_forced(
        staff_api, fake_publisher):
    letter = stored_dead_letter()
    url = f"/api/admin/dead-letters/{letter['_id']}/replay"
    first = staff_api.post(url, format="json")
    assert first.status_code == 202 and first.json()["status"] == "replayed"
    assert first.json()["replays"][0]["by"] == "ops-alice" and first.json()["replayCount"] == 1
    # only the consumer that failed it reads ops.retry.probe: the original topic gets nothing
    assert fake_publisher.sent == [("ops.retry.probe", letter["event"].key, letter["rawBytes"])]
    again = staff_api.post(url, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_replayed"
    forced = staff_api.post(url, {"force": True}, format="json")
    assert forced.status_code == 202 and len(forced.json()["replays"]) == 2
    assert len(fake_publisher.sent) == 2
    outcomes = [e["outcome"] for e in audit_log().find({"target": f"deadletter:{letter['_id']}"}).sort("at", 1)]
    assert outcomes == ["accepted", "refused", "accepted"]


def test_replay_failure_gives_the_claim_back(staff_api, monkeypatch):
    from ecom_project.messaging.producer import PublishError
    from tests.operations.conftest import FakePublisher

    class DownPublisher(FakePublisher):
        def publish(self, messages):
            raise PublishError("broker down")

    monkeypatch.setattr("operations.services.default_publisher", DownPublisher)
    letter = stored_dead_letter()
    response = staff_api.post(f"/api/admin/dead-letters/{letter['_id']}/replay", format="json")
    assert response.status_code == 503
    body = staff_api.get(f"/api/admin/dead-letters/{letter['_id']}").json()
    assert body["status"] == "pending" and body["replays"] == []
