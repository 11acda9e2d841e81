"""Operator pages: staff session login, CSRF-protected forms, the pages render their data."""
from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from ecom_project.messaging.deadletters import dead_letters
from ecom_project.messaging.runner import consumer_status
from inventory.services import stock_seed
from operations.repository import audit_log
from orders.services import order_create
from tests.operations.conftest import stored_dead_letter

pytestmark = pytest.mark.django_db


def test_pages_redirect_anonymous_users_to_login(client):
    response = client.get("/ops/dead-letters/")
    assert response.status_code == 302 and response["Location"].startswith("/ops/login/?next=")


def test_non_staff_user_is_sent_to_login(client, plain_user):
    client.force_login(plain_user)
    assert client.get("/ops/").status_code == 302


def test_login_page_logs_a_staff_user_in(staff_user):
    client = Client(enforce_csrf_checks=True)
    page = client.get("/ops/login/")
    assert page.status_code == 200 and b"csrfmiddlewaretoken" in page.content
    token = page.context["csrf_token"]
    response = client.post("/ops/login/?next=/ops/", {"username": "ops-alice", "password": "s3cret-pass",
                                                      "csrfmiddlewaretoken": str(token)})
    assert response.status_code == 302 and response["Location"] == "/ops/"
    assert client.get("/ops/").status_code == 200


def test_form_post_without_csrf_token_is_refused(staff_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    letter = stored_dead_letter()
    response = client.post("/ops/dead-letters/replay", {"ids": [letter["_id"]]})
    assert response.status_code == 403
    assert dead_letters().find_one({"_id": letter["_id"]})["status"] == "pending"
    assert client.post("/ops/stock/adjust", {"sku": "SKU-1", "delta": 5, "reason": "x"}).status_code == 403


def test_dead_letter_pages_show_and_replay_a_selection(staff_client, fake_publisher):
    letters = [stored_dead_letter(offset=n) for n in range(2)]
    listing = staff_client.get("/ops/dead-letters/?status=pending")
    assert listing.status_code == 200 and all(letter["orderId"].encode() in listing.content for letter in letters)
    detail = staff_client.get(f"/ops/dead-letters/{letters[0]['_id']}/")
    assert b"probe told to fail" in detail.content and letters[0]["event"].key.encode() in detail.content
    response = staff_client.post("/ops/dead-letters/replay", {"ids": [lt["_id"] for lt in letters]}, follow=True)
    assert response.status_code == 200 and b"Replayed" in response.content
    assert {d["status"] for d in dead_letters().find()} == {"replayed"} and len(fake_publisher.sent) == 2
    again = staff_client.post("/ops/dead-letters/replay", {"ids": [letters[0]["_id"]]}, follow=True)
    assert b"already replayed" in again.content


def test_replay_redirect_stays_on_our_pages(staff_client, fake_publisher):
    letter = stored_dead_letter()
    response = staff_client.post("/ops/dead-letters/replay", {"ids": [letter["_id"]], "back": "https://evil.example/"})
    assert response["Location"] == "/ops/dead-letters/"


def test_consumers_page_shows_counters_and_backlog(staff_client):
    consumer_status().insert_one({"_id": "probe:h1", "consumer": "probe", "group": "ecom.probe", "state": "running",
                                  "processed": 7, "failures": 2, "duplicates": 1, "deadLetters": 1, "batches": 3})
    stored_dead_letter()
    response = staff_client.get("/ops/consumers/")
    assert response.status_code == 200
    row = next(c for c in response.context["consumers"] if c["name"] == "probe")
    assert (row["processed"], row["failures"], row["deadLetters"], row["pendingDeadLetters"]) == (7, 2, 1, 1)


def test_order_pages_show_the_order_and_refuse_a_retry_with_the_reason(staff_client):
    order_id = order_create(items=[{"sku": "SKU-1", "qty": 1}], total=Decimal("10.00"), currency="USD",
                            shipping_address=None).order_id
    assert order_id.encode() in staff_client.get("/ops/orders/?status=PENDING").content
    assert staff_client.get(f"/ops/orders/?q={order_id}")["Location"] == f"/ops/orders/{order_id}/"
    assert staff_client.get(f"/ops/orders/{order_id}/").status_code == 200
    refused = staff_client.post(f"/ops/orders/{order_id}/retry", {"step": "shipping"}, follow=True)
    assert b"needs status PAYMENT_AUTHORIZED" in refused.content
    accepted = staff_client.post(f"/ops/orders/{order_id}/retry", {"step": "inventory"}, follow=True)
    assert b"Requested; event" in accepted.content
    assert [e["outcome"] for e in audit_log().find().sort("at", 1)] == ["refused", "accepted"]
    assert staff_client.get(f"/ops/orders/{'f' * 32}/").status_code == 404


def test_stock_page_adjusts_and_rejects_bad_input(staff_client):
    stock_seed(skus=2, qty=10)
    assert b"SKU-2" in staff_client.get("/ops/stock/").content
    staff_client.post("/ops/stock/adjust", {"sku": "SKU-2", "delta": 5, "reason": "recount"})
    assert next(r for r in staff_client.get("/ops/stock/").context["stock"] if r["sku"] == "SKU-2")["available"] == 15
    bad = staff_client.post("/ops/stock/adjust", {"sku": "SKU-2", "delta": 0, "reason": "x"})
    assert bad.status_code == 400 and b"changes nothing" in bad.content
    too_many = staff_client.post("/ops/stock/adjust", {"sku": "SKU-2", "delta": -100, "reason": "loss"}, follow=True)
    assert b"only 15 available" in too_many.content
