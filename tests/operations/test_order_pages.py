"""/ops/ orders: stuck filter, age, cursor paging, bulk preview then run; the order page names the
overdue step, offers only the actions its state allows, and lists its dead letters with replay."""
from __future__ import annotations

import re

import pytest

from operations.repository import audit_log
from orders import repository
from orders.services import order_apply_event
from tests.operations.conftest import stored_dead_letter
from tests.operations.test_api import new_order
from tests.operations.test_bulk import stale
from tests.orders.test_services import authorized, reserved

pytestmark = pytest.mark.django_db


def order_ids(response) -> list[str]:
    return re.findall(r'data-order-id="([0-9a-f]{32})"', response.content.decode())


def test_stuck_filter_and_age_column(staff_client):
    stuck, fresh = stale(new_order(), seconds=7200), new_order()
    repository.orders().update_one({"_id": stuck}, {"$set": {"createdAt": repository.order_find(stuck)["updatedAt"]}})
    page = staff_client.get("/ops/orders/?stuck=on")
    assert order_ids(page) == [stuck]
    assert b"2h 00m" in page.content and b'class="badge stuck"' in page.content
    assert set(order_ids(staff_client.get("/ops/orders/"))) == {stuck, fresh}
    assert b'<td id="stuck-orders">1 past' in staff_client.get("/ops/").content


def test_the_list_pages_by_cursor(staff_client):
    created = [new_order() for _ in range(55)]
    first = staff_client.get("/ops/orders/?status=PENDING")
    link = re.search(r'id="next-page" href="\?([^"]+)"', first.content.decode()).group(1).replace("&amp;", "&")
    assert "status=PENDING" in link
    second = staff_client.get(f"/ops/orders/?{link}")
    assert len(order_ids(first)) == 50 and len(order_ids(second)) == 5
    assert sorted(order_ids(first) + order_ids(second)) == sorted(created)


def test_bulk_preview_then_run(staff_client):
    stuck = stale(new_order())
    preview = staff_client.post("/ops/orders/bulk", {"stuck": "on", "action": "retry"})
    assert b"Dry run: 1 of 1 orders would get" in preview.content and not audit_log().count_documents({})
    done = staff_client.post("/ops/orders/bulk", {"stuck": "on", "action": "retry", "confirm": "1"})
    assert b"Sent <strong>retry</strong> to 1 of 1" in done.content
    assert audit_log().find_one({"target": f"order:{stuck}"})["outcome"] == "accepted"


def test_order_page_names_the_overdue_step_and_offers_the_fitting_retry_only(staff_client):
    order_id = new_order()
    order_apply_event(event=reserved(order_id))
    stale(order_id)
    page = staff_client.get(f"/ops/orders/{order_id}/").content.decode()
    assert "Stuck: the <strong>payment</strong> step is past its deadline" in page
    retry_select = re.search(r'<select name="step"[^>]*>(.*?)</select>', page, re.S).group(1)
    assert re.findall(r'value="(\w+)"', retry_select) == ["payment"]
    assert "refundPayment" not in page and "releaseInventory" in page


def test_a_shipped_order_offers_no_action(staff_client):
    order_id = new_order()
    for event in (reserved(order_id), authorized(order_id)):
        order_apply_event(event=event)
    repository.orders().update_one({"_id": order_id}, {"$set": {"status": "SHIPPED"}})
    page = staff_client.get(f"/ops/orders/{order_id}/").content.decode()
    assert 'id="no-actions"' in page and "Retry step" not in page


def test_order_page_lists_its_dead_letters_with_replay(staff_client, fake_publisher):
    order_id = new_order()
    letter = stored_dead_letter(order_id=order_id)
    page = staff_client.get(f"/ops/orders/{order_id}/").content.decode()
    assert f'data-letter-id="{letter["_id"]}"' in page and "Dead letters (1)" in page
    replayed = staff_client.post("/ops/dead-letters/replay", {"ids": letter["_id"], "back": f"/ops/orders/{order_id}/"},
                                 follow=True)
    assert replayed.redirect_chain[-1][0] == f"/ops/orders/{order_id}/"
    assert len(fake_publisher.sent) == 1 and b'badge status-replayed' in replayed.content
