"""In real Chromium: an operator finds the stuck orders, previews a bulk retry, opens one stuck
order (overdue step, fitting retry, its dead letters) and replays its dead letter from there;
the dead-letter pages in the admin look. Each page is saved to tests/artifacts/."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from orders import repository
from orders.services import order_apply_event
from tests.operations.conftest import stored_dead_letter
from tests.operations.test_api import new_order
from tests.orders.test_services import reserved
from tests.support import ARTIFACTS, requires_chromium

pytestmark = [requires_chromium, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def placed_hours_ago(order_id: str, hours: float) -> str:
    moment = datetime.now(timezone.utc) - timedelta(hours=hours)
    repository.orders().update_one({"_id": order_id}, {"$set": {"createdAt": moment, "updatedAt": moment}})
    return order_id


def log_in(page, live_server, path: str) -> None:
    page.goto(f"{live_server.url}{path}")
    page.fill("#id_username", "ops-alice")
    page.fill("#id_password", "s3cret-pass")
    page.click("input[type=submit]")


def test_operator_finds_stuck_orders_previews_a_bulk_retry_and_replays_a_dead_letter(
        live_server, staff_user, fake_publisher, page):
    from playwright.sync_api import expect

    stuck_pending = placed_hours_ago(new_order(), 2)
    letter = stored_dead_letter(order_id=stuck_pending)
    at_payment = new_order()
    order_apply_event(event=reserved(at_payment))
    placed_hours_ago(at_payment, 0.5)
    fresh = new_order()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    log_in(page, live_server, "/ops/orders/")
    expect(page.locator("tr.order-row")).to_have_count(3)
    page.click("#filter-stuck")
    rows = page.locator("tr.order-row")
    expect(rows).to_have_count(2)
    expect(page.locator(f"tr.order-row[data-order-id='{fresh}']")).to_have_count(0)
    expect(page.locator(f"tr.order-row[data-order-id='{stuck_pending}'] td.age")).to_have_text("2h 00m")
    expect(page.locator(f"tr.order-row[data-order-id='{stuck_pending}'] .badge.stuck")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "ops_orders_stuck.png"), full_page=True)

    page.select_option("#bulk-action", "retry")
    page.click("button[name=preview]")
    expect(page.locator("#bulk-summary")).to_contain_text("Dry run: 2 of 2 orders would get retry")
    expect(page.locator(f"tr.bulk-row[data-order-id='{at_payment}']")).to_contain_text("retry payment")
    page.screenshot(path=str(ARTIFACTS / "ops_orders_bulk_preview.png"), full_page=True)

    page.goto(f"{live_server.url}/ops/orders/{stuck_pending}/")
    expect(page.locator("#overdue")).to_contain_text("the inventory step is past its deadline")
    expect(page.locator("#overdue")).to_contain_text("Retrying inventory re-runs it")
    expect(page.locator("select[name=step] option")).to_have_count(1)
    letter_row = page.locator(f"tr.order-dead-letter[data-letter-id='{letter['_id']}']")
    expect(letter_row.locator(".badge")).to_have_text("pending")
    page.screenshot(path=str(ARTIFACTS / "ops_order_stuck_with_dead_letters.png"), full_page=True)
    letter_row.locator("input[name=replay]").click()
    expect(page.locator(".messagelist")).to_contain_text("Replayed")
    expect(page.locator(f"tr.order-dead-letter[data-letter-id='{letter['_id']}'] .badge")).to_have_text("replayed")
    assert len(fake_publisher.sent) == 1

    page.goto(f"{live_server.url}/ops/dead-letters/")
    expect(page.locator("tr.dead-letter .badge.status-replayed")).to_be_visible()
    expect(page.locator("#result_list th.age")).to_have_text("Age")
    page.screenshot(path=str(ARTIFACTS / "ops_dead_letters_list.png"), full_page=True)
    page.locator("tr.dead-letter a").first.click()
    expect(page.locator("#letter-status")).to_have_text("replayed")
    label_box = page.locator(".form-row label").first.bounding_box()
    value_box = page.locator("#letter-status").bounding_box()
    assert value_box["x"] >= label_box["x"] + label_box["width"], "the value sits beside its label, not on it"
    page.screenshot(path=str(ARTIFACTS / "ops_dead_letter_detail.png"), full_page=True)
