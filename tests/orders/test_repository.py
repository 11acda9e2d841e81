"""The orders repository on the configured store (the local FerretDB, or a MongoDB with TEST_MONGO_URL)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from orders import repository, selectors


def doc(order_id: str, *, status: str = "PENDING", minutes: int = 0) -> dict:
    at = datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(minutes=minutes)
    return {"_id": order_id, "orderId": order_id, "status": status, "createdAt": at, "version": 1, "appliedEvents": []}


def test_insert_is_refused_for_an_existing_id():
    repository.ensure_indexes()
    assert repository.order_insert(doc("a" * 32), [])
    assert not repository.order_insert(doc("a" * 32), [])


def test_update_needs_the_version_read_and_an_unapplied_event():
    repository.order_insert(doc("b" * 32), [])
    assert repository.order_update(order_id="b" * 32, version=1, update={"$set": {"status": "X"}}, applied_event_id="e1")
    assert not repository.order_update(order_id="b" * 32, version=1, update={"$set": {"status": "Y"}}, applied_event_id="e2")
    assert not repository.order_update(order_id="b" * 32, version=2, update={"$set": {"status": "Y"}}, applied_event_id="e1")
    stored = repository.order_find("b" * 32)
    assert stored["status"] == "X" and stored["version"] == 2 and stored["appliedEvents"] == ["e1"]


def test_idempotency_key_claim_returns_the_first_record():
    at = datetime.now(timezone.utc)
    first = repository.idempotency_key_claim(key="k", body_hash="h1", order_id="o1", at=at)
    second = repository.idempotency_key_claim(key="k", body_hash="h2", order_id="o2", at=at)
    assert (first["orderId"], second["orderId"], second["bodyHash"]) == ("o1", "o1", "h1")


def test_list_is_newest_first_filtered_and_paged():
    repository.ensure_indexes()
    for i, status in enumerate(["PENDING", "SHIPPED", "PENDING", "SHIPPED"]):
        repository.order_insert(doc(f"{i:032x}", status=status, minutes=i), [])
    assert [o["_id"][-1] for o in selectors.order_list(limit=10)] == ["3", "2", "1", "0"]
    assert [o["_id"][-1] for o in selectors.order_list(status="SHIPPED", limit=10)] == ["3", "1"]
    page = selectors.order_list(limit=2)
    older = selectors.order_list(limit=2, created_before=page[-1]["createdAt"])
    assert [o["_id"][-1] for o in older] == ["1", "0"]
    assert "outbox" not in page[0]
