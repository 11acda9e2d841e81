"""An order whose first event the projector dead-lettered still appears in the read model."""
from __future__ import annotations

import pytest

from ecom_project.events import registry as r
from ecom_project.messaging import failpoints
from ecom_project.messaging.deadletters import dead_letters
from projections import domain, handlers, repository
from tests.projections.conftest import saga
from tests.projections.test_rebuild import publish
from tests.support import wait_until

pytestmark = pytest.mark.integration


def test_order_created_dead_lettered_by_the_projector_shows_as_pending_with_its_letter(start_worker, order_id, settings):
    settings.HANDLER_BACKOFF_MS = 0
    failpoints.enable("handler.raise", times=settings.HANDLER_MAX_ATTEMPTS)  # every attempt at OrderCreated fails
    try:
        start_worker([handlers.CONSUMER])
        publish(saga(order_id, r.ORDER_CREATED))
        projection = wait_until(lambda: repository.find(order_id), timeout=30, message="projection from the dead letter")
    finally:
        failpoints.disable("handler.raise")
    letter = dead_letters().find_one({"orderId": order_id})
    assert letter["consumer"] == "projections" and letter["originalType"] == r.ORDER_CREATED
    assert projection["status"] == domain.PENDING and projection["deadLetters"] == 1
    (entry,) = projection["timeline"]
    assert entry["kind"] == "deadLetter" and entry["deadLetterId"] == letter["_id"]


def test_a_dead_letter_without_a_decoded_event_creates_no_order(order_id):
    (created,) = saga(order_id, r.ORDER_CREATED)
    from ecom_project.messaging.deadletters import build_dead_letter

    _document, poison = build_dead_letter(consumer="inventory", topic=created.topic, partition=0, offset=1,
                                          key=order_id.encode(), raw=b"not json", event=None, error="undecodable",
                                          attempts=0)
    assert domain.apply_event(None, poison) is None
