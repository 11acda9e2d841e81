"""In real Chromium: an operator previews a redrive of a consumer's dead letters, starts it, watches
it finish, and opens the poison letter it refused (exact bytes, the edit form)."""
from __future__ import annotations

import pytest

from tests.operations.test_redrive_pages import POISON, poison_letter
from tests.operations.conftest import stored_dead_letter
from tests.support import ARTIFACTS, requires_chromium

pytestmark = [requires_chromium, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_operator_redrives_a_consumers_letters_and_opens_the_refused_poison(live_server, staff_user, page,
                                                                          fake_publisher):
    import base64

    from playwright.sync_api import expect

    for n in range(3):
        stored_dead_letter(offset=n)
    poison = poison_letter()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    page.goto(f"{live_server.url}/ops/dead-letters/?consumer=probe&status=pending")
    page.fill("#id_username", "ops-alice")
    page.fill("#id_password", "s3cret-pass")
    page.click("input[type=submit]")
    expect(page.locator("tr.dead-letter")).to_have_count(4)
    page.fill("#rate", "50")
    page.click("#redrive-form input[name=preview]")
    expect(page.locator("#redrive-summary")).to_contain_text("4 letters match: 3 would be replayed")
    page.screenshot(path=str(ARTIFACTS / "ops_dead_letter_redrive_preview.png"), full_page=True)

    page.click("input[name=start]")
    expect(page.locator("#redrive-summary")).to_contain_text("Done: 3 replayed, 1 refused.", timeout=20_000)
    page.screenshot(path=str(ARTIFACTS / "ops_dead_letter_redrive_done.png"), full_page=True)
    assert len(fake_publisher.sent) == 3

    page.click(f"#redrive-refusals a:has-text('{poison['_id']}')")
    expect(page.locator("#letter-poison")).to_be_visible()
    expect(page.locator("#letter-raw-base64")).to_have_text(base64.b64encode(POISON).decode())
    expect(page.locator("#edit-replay-form")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "ops_dead_letter_poison.png"), full_page=True)
