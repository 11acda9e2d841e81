"""The /ops/ dead-letter pages without a browser: filters, a redrive (dry run, start, progress, summary,
resume), a poison letter's exact bytes and its edit-and-replay form."""
from __future__ import annotations

import base64
import json

import pytest

from ecom_project.messaging.deadletters import build_dead_letter, dead_letters, store
from operations import redrive
from operations.repository import redrives
from tests.kernel.conftest import order_created
from tests.operations.conftest import stored_dead_letter
from tests.support import wait_until

pytestmark = pytest.mark.django_db
POISON = b"\xff\xfe not an event \x81"


def poison_letter(order_key: str = "k-poison") -> dict:
    document, _ = build_dead_letter(consumer="probe", topic="order.OrderCreated.v1", partition=0, offset=7,
                                    key=order_key.encode(), raw=POISON, event=None, error="InvalidEvent: not JSON",
                                    attempts=0)
    store(document)
    return document


def test_the_list_filters_by_consumer_and_error_text(staff_client):
    mine = stored_dead_letter(offset=1)
    dead_letters().update_one({"_id": mine["_id"]}, {"$set": {"error": "KeyError: sku NOPE", "consumer": "inventory"}})
    stored_dead_letter(offset=2)
    listing = staff_client.get("/ops/dead-letters/", {"consumer": "inventory", "error": "nope"})
    assert listing.status_code == 200
    assert listing.content.count(b'class="dead-letter"') == 1 and mine["event"].key.encode() in listing.content
    assert b'id="redrive-form"' in listing.content
    assert staff_client.get("/ops/dead-letters/", {"older_than_min": "x"}).status_code == 200  # a message, no 500


def test_a_redrive_from_the_list_previews_then_runs_and_shows_its_summary(staff_client, fake_publisher):
    letters = [stored_dead_letter(offset=n) for n in range(3)]
    poison_letter()
    preview = staff_client.post("/ops/dead-letters/redrive", {"consumer": "probe", "status": "pending", "rate": "100"})
    assert preview.status_code == 200
    assert b"Dry run: 4 letters match: 3 would be replayed" in preview.content and not fake_publisher.sent
    assert b"refused: Poison" in preview.content

    started = staff_client.post("/ops/dead-letters/redrive",
                                {"consumer": "probe", "status": "pending", "rate": "100", "confirm": "on"})
    assert started.status_code == 302
    url = started["Location"]
    wait_until(lambda: b'id="redrive-summary"' in staff_client.get(url).content, message="redrive done")
    page = staff_client.get(url).content
    assert b"Done: 3 replayed, 1 refused." in page and b'<progress id="redrive-progress" max="4" value="4">' in page
    assert b"Poison" in page  # the refusal and its reason
    assert sorted(topic for topic, _, _ in fake_publisher.sent) == ["ops.retry.probe"] * 3
    assert {d["status"] for d in dead_letters().find({"_id": {"$in": [lt["_id"] for lt in letters]}})} == {"replayed"}
    assert url.encode() in staff_client.get("/ops/dead-letters/redrives/").content


def test_an_interrupted_redrive_shows_a_resume_button_that_finishes_it(staff_client, fake_publisher):
    stored_dead_letter(offset=1)
    doc = redrive.redrive_create(where=redrive.LetterFilter(consumer="probe"), rate=100, force=False, requested_by="x")
    redrives().update_one({"_id": doc["_id"]}, {"$set": {"state": "interrupted", "stopReason": "stopped"}})
    page = staff_client.get(f"/ops/dead-letters/redrives/{doc['_id']}/")
    assert b"Resume from the checkpoint (1 left)" in page.content
    resumed = staff_client.post(f"/ops/dead-letters/redrives/{doc['_id']}/resume", follow=True)
    assert resumed.status_code == 200
    wait_until(lambda: redrives().find_one({"_id": doc["_id"]})["state"] == "done", message="resumed redrive done")
    assert len(fake_publisher.sent) == 1
    again = staff_client.post(f"/ops/dead-letters/redrives/{doc['_id']}/resume", follow=True)
    assert b"This redrive has finished." in again.content


def test_a_poison_letter_shows_its_exact_bytes_and_replays_only_an_edited_event(staff_client, fake_publisher):
    letter = poison_letter()
    page = staff_client.get(f"/ops/dead-letters/{letter['_id']}/")
    assert page.status_code == 200
    assert base64.b64encode(POISON) in page.content and "\ufffd".encode() not in page.content
    assert b'id="letter-poison"' in page.content and b'name="replay"' not in page.content  # no plain Replay button

    url = f"/ops/dead-letters/{letter['_id']}/edit-replay"
    bad = staff_client.post(url, {"payload": "{not json"})
    assert bad.status_code == 400 and b"errorlist" in bad.content and not fake_publisher.sent
    fixed = order_created("k-poison")
    good = staff_client.post(url, {"payload": json.dumps(fixed.to_wire())})
    assert good.status_code == 302
    assert fake_publisher.sent == [("ops.retry.probe", "k-poison", json.dumps(fixed.to_wire()).encode())]
    stored = dead_letters().find_one({"_id": letter["_id"]})
    assert base64.b64decode(stored["rawBase64"]) == POISON and len(stored["edits"]) == 1
    assert b"Replay edited event" in staff_client.get(f"/ops/dead-letters/{letter['_id']}/").content


def test_redrive_api_validates_its_input(staff_api):
    assert staff_api.post("/api/admin/dead-letters/redrive", {"filter": {"status": "nope"}}, format="json").status_code == 400
    assert staff_api.post("/api/admin/dead-letters/redrive", {"rate": 0}, format="json").status_code == 400
    assert staff_api.get("/api/admin/dead-letters/redrives/nope").status_code == 404
    assert staff_api.post("/api/admin/dead-letters/redrives/nope/resume").status_code == 404


def test_redrive_pages_and_api_are_for_staff_only(client, plain_user):
    client.force_login(plain_user)
    assert client.get("/ops/dead-letters/redrives/").status_code == 302
    assert client.post("/ops/dead-letters/redrive", {}).status_code == 302
    assert client.get("/api/admin/dead-letters/redrives").status_code == 401
