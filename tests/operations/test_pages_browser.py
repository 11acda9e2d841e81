"""In real Chromium: an operator logs in, finds the dead letter of a stuck order, replays it
once the consumer is fixed, and watches the order go on to SHIPPED."""
from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from django.core.management import call_command

from ecom_project.events.registry import ORDER_CREATED
from ecom_project.messaging.consumers import all_consumer_specs
from ecom_project.messaging.deadletters import dead_letters
from orders.services import order_create
from tests.support import ARTIFACTS, requires_chromium, wait_until

pytestmark = [requires_chromium, pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


class Outage:
    """Wraps a handler so it fails (as a broken deploy would) until `fixed` is set."""

    def __init__(self, handler) -> None:
        self.handler, self.fixed = handler, False

    def __call__(self, event) -> None:
        if not self.fixed:
            raise RuntimeError("inventory service is down (simulated outage)")
        self.handler(event)


@pytest.fixture
def pipeline_with_inventory_outage(start_worker):
    call_command("seed_inventory", if_empty=True, stdout=open("/dev/null", "w"))
    specs = {spec.name: spec for spec in all_consumer_specs()}
    outage = Outage(specs["inventory"].handlers[ORDER_CREATED])
    specs["inventory"] = dataclasses.replace(specs["inventory"], handlers={**specs["inventory"].handlers, ORDER_CREATED: outage})
    start_worker(list(specs.values()))
    return outage


def test_operator_replays_a_dead_letter_and_the_order_ships(pipeline_with_inventory_outage, live_server, staff_user, page):
    from playwright.sync_api import expect

    outage = pipeline_with_inventory_outage
    order_id = order_create(items=[{"sku": "SKU-4", "qty": 1}], total=Decimal("25.00"), currency="USD",
                            shipping_address={"country": "US"}).order_id
    wait_until(lambda: dead_letters().find_one({"orderId": order_id, "consumer": "inventory"}), timeout=30,
               message="the order's OrderCreated dead-lettered by inventory")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    page.goto(f"{live_server.url}/ops/dead-letters/")
    expect(page.locator("#login-form")).to_be_visible()
    page.fill("#id_username", "ops-alice")
    page.fill("#id_password", "s3cret-pass")
    page.click("input[type=submit]")
    page.fill("#orderId", order_id)
    page.click("#changelist-search input[type=submit]")
    row = page.locator(f"tr.dead-letter[data-order-id='{order_id}']")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("pending")
    page.screenshot(path=str(ARTIFACTS / "ops_dead_letters.png"), full_page=True)

    row.locator("a").first.click()
    expect(page.locator("#letter-error")).to_contain_text("simulated outage")
    outage.fixed = True  # the fix is deployed
    page.click("input[name=replay]")
    expect(page.locator(".messagelist")).to_contain_text("Replayed")
    expect(page.locator("#letter-status")).to_have_text("replayed")
    page.screenshot(path=str(ARTIFACTS / "ops_dead_letter_replayed.png"), full_page=True)

    def order_page_shows_shipped() -> bool:
        page.goto(f"{live_server.url}/ops/orders/{order_id}/")
        return page.locator("#order-status").inner_text() == "SHIPPED"

    wait_until(order_page_shows_shipped, timeout=30, interval=0.5, message="order shown as SHIPPED")
    wait_until(lambda: page.reload() and page.locator("tr.timeline-entry").count() >= 4, timeout=15, interval=0.5,
               message="timeline of the order")
    page.screenshot(path=str(ARTIFACTS / "ops_order_shipped.png"), full_page=True)
    page.goto(f"{live_server.url}/ops/consumers/")
    expect(page.locator("tr.consumer[data-consumer='inventory']")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "ops_consumers.png"), full_page=True)
