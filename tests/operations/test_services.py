"""Dead-letter replay against the real broker: a handler fails until it is fixed, the event
dead-letters, an operator replays it and the consumer applies it once."""
from __future__ import annotations

import pytest
from django.core.management import call_command

from ecom_project.messaging.deadletters import dead_letters
from ecom_project.messaging.producer import Publisher
from tests.kernel.conftest import effects, order_created
from tests.support import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def publish(event) -> None:
    publisher = Publisher()
    publisher.publish([(event.topic, event.key, event.to_json())])
    publisher.close()


def count_of(order_id: str) -> int | None:
    doc = effects().find_one({"_id": order_id})
    return doc and doc["count"]


def dead_letter_of(order_id: str) -> dict | None:
    return dead_letters().find_one({"orderId": order_id, "consumer": "probe"})


def test_dead_letter_is_replayed_after_the_handler_is_fixed(probe, start_worker, staff_api):
    handler, spec = probe
    start_worker([spec])
    event = order_created()
    handler.always_fail.add(event.key)
    publish(event)
    letter = wait_until(lambda: dead_letter_of(event.key), message="dead letter stored")
    assert letter["status"] == "pending" and letter["originalEventId"] == str(event.event_id)
    assert count_of(event.key) is None

    handler.always_fail.discard(event.key)  # the fix is deployed
    response = staff_api.post(f"/api/admin/dead-letters/{letter['_id']}/replay", format="json")
    assert response.status_code == 202, response.content
    wait_until(lambda: count_of(event.key) == 1, message="replayed event applied")

    forced = staff_api.post(f"/api/admin/dead-letters/{letter['_id']}/replay", {"force": True}, format="json")
    assert forced.status_code == 202
    later = order_created(event.key)  # same key, same partition: applied after the forced replay was seen
    publish(later)
    wait_until(lambda: count_of(event.key) == 2, message="later event applied")
    assert effects().find_one({"_id": event.key})["appliedEvents"] == [str(event.event_id), str(later.event_id)]

def test_replay_command_replays_a_topics_pending_letters(probe, start_worker, capsys):
    handler, spec = probe
    start_worker([spec])
    events = [order_created() for _ in range(3)]
    handler.always_fail.update(e.key for e in events)
    for event in events:
        publish(event)
    wait_until(lambda: all(dead_letter_of(e.key) for e in events), message="three dead letters")

    call_command("replay_dead_letters", "--topic", "order.OrderCreated.v1", "--dry-run")
    assert "3 dead letter(s) would be replayed" in capsys.readouterr().out
    assert all(dead_letter_of(e.key)["status"] == "pending" for e in events)

    handler.always_fail.clear()
    call_command("replay_dead_letters", "--topic", "order.OrderCreated.v1")
    assert "replayed 3, refused 0" in capsys.readouterr().out
    wait_until(lambda: all(count_of(e.key) == 1 for e in events), message="all replayed events applied")
    assert all(dead_letter_of(e.key)["status"] == "replayed" for e in events)


def test_events_name_the_operator_by_id_not_by_username(db):
    from decimal import Decimal

    from django.contrib.auth import get_user_model

    from ecom_project.mongo import get_db
    from operations import services as ops_services
    from orders import services as order_services

    user = get_user_model().objects.create_user(username="jane.doe@example.com", password="x", is_staff=True)
    order_id = order_services.order_create(
        items=[{"sku": "SKU-1", "qty": 1}], total=Decimal("5"), currency="USD", shipping_address=None,
    ).order_id
    ops_services.admin_order_retry(order_id=order_id, step="inventory", requested_by=user.username)
    outbox = get_db()["orders"].find_one({"_id": order_id})["outbox"]
    retry = [entry for entry in outbox if entry["topic"] == "ops.RetryRequested.v1"]
    assert retry and f'"requestedBy":"user:{user.pk}"' in retry[0]["value"]
    assert "jane.doe" not in retry[0]["value"]
