"""Orders per status kept as counters: moved by every status change, merged per batch, recounted when quiet."""
from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

from ecom_project.events import registry as ev
from ecom_project.events.envelope import new_event
from ecom_project.events.schemas import InventoryFailedV1, Line, PaymentAuthorizedV1
from orders import repository, services
from orders.handlers import CONSUMER
from ecom_project.status_counts import FLUSH_S, PENDING, Recount
from orders.status_counts import ORDER_COUNTS
from tests.orders.conftest import GOOD_BODY
from tests.orders.test_handlers import publish, reserved
from tests.support import settled, wait_until

LINES = [Line(sku="SKU-1", qty=2)]


def stored_counts() -> dict[str, int]:
    counted = Counter(order["status"] for order in repository.orders().find({}, {"status": 1}))
    return {status: counted[status] for status in ORDER_COUNTS.current()}


def create_order() -> str:
    return services.order_create(items=[{"sku": "SKU-1", "qty": 1}], total=Decimal("5"), currency="USD",
                                 shipping_address=None).order_id


@pytest.mark.integration
def test_the_counts_follow_every_status_change_once_however_often_an_event_is_delivered(post_order, start_worker):
    worker = start_worker([CONSUMER])
    order_ids = [post_order(GOOD_BODY).json()["orderId"] for _ in range(4)]
    authorized = [new_event(ev.PAYMENT_AUTHORIZED, PaymentAuthorizedV1(
        order_id=o, payment_id=f"pay-{o}", amount=Decimal("19.99"), currency="USD"), order_id=o) for o in order_ids[:2]]
    failed = new_event(ev.INVENTORY_FAILED, InventoryFailedV1(
        order_id=order_ids[2], reason="out of stock"), order_id=order_ids[2])
    events = [reserved(order_ids[0]), reserved(order_ids[1]), *authorized, failed]
    publish(*events, *events)  # every event delivered twice
    wait_until(lambda: settled(worker) and stored_counts()["PAYMENT_AUTHORIZED"] == 2, message="events applied")
    PENDING.flush()
    assert ORDER_COUNTS.current() == stored_counts()
    assert ORDER_COUNTS.current() == {
        "PENDING": 1, "INVENTORY_RESERVED": 0, "PAYMENT_AUTHORIZED": 2, "SHIPPED": 0, "REJECTED": 1, "CANCELLED": 0}


def test_changes_are_gathered_and_written_as_one_increment(clean_store):
    create_order()
    PENDING.flush()
    version = ORDER_COUNTS.find()["version"]
    for _ in range(3):
        ORDER_COUNTS.moved(old="PENDING", new="INVENTORY_RESERVED")
    assert ORDER_COUNTS.current()["INVENTORY_RESERVED"] == 0, "gathered for FLUSH_S first"
    PENDING.flush()
    document = ORDER_COUNTS.find()
    assert document["counts"] == {"PENDING": -2, "INVENTORY_RESERVED": 3} and document["version"] == version + 3


def test_changes_are_written_by_themselves_within_the_flush_interval(clean_store):
    create_order()
    wait_until(lambda: ORDER_COUNTS.current()["PENDING"] == 1, timeout=FLUSH_S + 5, message="the change written")


def test_the_recount_corrects_counts_a_crash_left_behind_and_then_reads_no_more(clean_store):
    for _ in range(3):
        create_order()
    PENDING.flush()
    # A crash between an order's write and its increment: the change is missing from the counts.
    repository.status_counts().update_one({"_id": ORDER_COUNTS.doc_id}, {"$inc": {"counts.PENDING": -2, "version": 1}})
    assert ORDER_COUNTS.current()["PENDING"] == 1
    recount = Recount(ORDER_COUNTS, quiet_s=0)
    assert recount() == "corrected"
    assert ORDER_COUNTS.current() == stored_counts() and stored_counts()["PENDING"] == 3
    assert recount() == "unchanged"  # nothing moved since: no read of the orders


def test_the_recount_builds_the_counts_of_a_store_that_had_none(clean_store):
    for _ in range(2):
        create_order()
    PENDING.flush()
    repository.status_counts().drop()  # orders taken before the counters existed
    assert Recount(ORDER_COUNTS, quiet_s=0)() == "corrected"
    assert ORDER_COUNTS.current()["PENDING"] == 2


def test_the_recount_waits_until_the_counts_stood_still_for_the_quiet_time(clean_store):
    create_order()
    PENDING.flush()
    repository.status_counts().update_one({"_id": ORDER_COUNTS.doc_id}, {"$set": {"counts.PENDING": 7}})
    now = [1000.0]
    recount = Recount(ORDER_COUNTS, quiet_s=60, clock=lambda: now[0])
    assert recount() == "moving"
    now[0] += 30
    create_order()  # a change: the quiet time starts again
    PENDING.flush()
    assert recount() == "moving"
    now[0] += 59
    assert recount() == "moving"
    now[0] += 2
    # Quiet long enough by the counts, but an order was written less than 60 s ago: its increment
    # might still be on its way, so the recount leaves the counts alone.
    assert recount() == "raced"
    assert ORDER_COUNTS.current()["PENDING"] == 8


def test_a_recount_loses_to_an_increment_that_came_after_its_read(clean_store):
    create_order()
    PENDING.flush()
    version = ORDER_COUNTS.find()["version"]
    create_order()  # after the recount read version `version`
    PENDING.flush()
    assert not ORDER_COUNTS.replace({"PENDING": 1}, version=version)
    assert ORDER_COUNTS.current()["PENDING"] == 2
