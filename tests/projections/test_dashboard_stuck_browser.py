"""The dashboard in real Chromium: an order whose OrderCreated was dead-lettered is listed (PENDING,
stuck, with its age), the STUCK filter keeps it, and its timeline marks the dead letter."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest

from ecom_project.events import registry as r
from ecom_project.messaging.deadletters import build_dead_letter
from projections import services
from tests.projections.conftest import saga
from tests.support import ARTIFACTS, chromium_page, requires_chromium

pytestmark = [requires_chromium, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def staff_login(django_user_model) -> tuple[str, str]:
    """A staff user, made before the browser starts (Playwright runs an event loop in this thread)."""
    django_user_model.objects.create_user(username="ops-dash", password="s3cret-pass", is_staff=True)
    return "ops-dash", "s3cret-pass"


@pytest.fixture
def page(staff_login):
    with chromium_page() as page:
        yield page


def log_in_to_the_dashboard(page, live_server, staff_login) -> None:
    """The dashboard is for staff (ecom_project/access.py): /dashboard/ sends to the login page and back."""
    page.goto(f"{live_server.url}/dashboard/")
    page.fill("#id_username", staff_login[0])
    page.fill("#id_password", staff_login[1])
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/dashboard/")


def test_a_dead_lettered_order_is_listed_stuck_and_its_timeline_marks_the_letter(live_server, page, order_id,
                                                                                   staff_login):
    from playwright.sync_api import expect

    two_hours_ago = datetime.now(timezone.utc) - timedelta(hours=2)
    (created,) = saga(order_id, r.ORDER_CREATED, start=two_hours_ago)
    _document, letter = build_dead_letter(consumer="projections", topic=created.topic, partition=0, offset=7,
                                          key=created.key.encode(), raw=created.to_json(), event=created,
                                          error="RuntimeError: projector down", attempts=3)
    services.projection_apply(event=letter.model_copy(update={"timestamp": two_hours_ago}), notify=False)
    (fresh,) = saga(order_id + "-fresh", r.ORDER_CREATED, start=datetime.now(timezone.utc))
    services.projection_apply(event=fresh, notify=False)

    log_in_to_the_dashboard(page, live_server, staff_login)
    row = page.locator(f'tr[data-order-id="{order_id}"]')
    expect(row.locator(".badge")).to_have_text("PENDING")
    expect(row.locator(".stuck-mark")).to_have_text("stuck: inventory")
    expect(row.locator("td.age")).to_have_text("2h 00m")
    expect(page.locator(f'tr[data-order-id="{order_id}-fresh"] .stuck-mark')).to_be_hidden()
    expect(page.locator("#count-STUCK")).to_have_text("1")

    page.locator('button[data-status="STUCK"]').click()
    expect(page.locator("#order-rows tr")).to_have_count(1)
    row.click()
    entry = page.locator("#timeline li.kind-deadLetter")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("projections failed order.OrderCreated")
    expect(entry.locator("a.dead-letter-link")).to_have_attribute(
        "href", f"/ops/dead-letters/{quote(f'projections:{created.topic}:0:7', safe='')}/")
    expect(page.locator("#detail .overdue")).to_contain_text("the inventory step is past its deadline")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard_stuck_dead_letter.png"))
