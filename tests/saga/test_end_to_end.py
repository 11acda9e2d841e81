"""The whole saga through HTTP, with every consumer and relay on the real embedded broker."""
from __future__ import annotations

import random
import uuid

import pytest
from django.core.management import call_command
from prometheus_client import REGISTRY
from rest_framework.test import APIClient

from ecom_project.messaging.consumers import all_consumer_specs, consumer_spec
from ecom_project.messaging.worker import Worker
from inventory.selectors import stock_get, stock_list
from inventory.services import stock_adjust
from payments.selectors import payment_get
from tests.support import read_to_end, wait_until

pytestmark = pytest.mark.integration
TERMINAL = {"SHIPPED", "REJECTED", "CANCELLED"}


@pytest.fixture
def pipeline(start_worker):
    call_command("seed_inventory", if_empty=True, stdout=open("/dev/null", "w"))
    return start_worker(all_consumer_specs())


@pytest.fixture
def api():
    return APIClient()


def place(api, *, items, total, country=None) -> str:
    body = {"items": items, "total": total}
    if country:
        body["shippingAddress"] = {"country": country}
    response = api.post("/api/orders", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()["orderId"]


def final(api, order_id: str, *, timeout: float = 30) -> dict:
    def terminal():
        order = api.get(f"/api/orders/{order_id}").json()
        return order if order.get("status") in TERMINAL else None

    return wait_until(terminal, timeout=timeout, message=f"order {order_id} terminal")


def test_happy_order_is_shipped(pipeline, api):
    before = stock_get(sku="SKU-1")
    sagas_before = REGISTRY.get_sample_value("pipeline_saga_seconds_count", {"outcome": "SHIPPED"}) or 0
    order_id = place(api, items=[{"sku": "SKU-1", "qty": 2}], total=20, country="US")
    order = final(api, order_id)
    assert order["status"] == "SHIPPED"
    assert REGISTRY.get_sample_value("pipeline_saga_seconds_count", {"outcome": "SHIPPED"}) == sagas_before + 1
    history = [h["status"] for h in order["statusHistory"]]
    # Events of different topics may arrive in any order: a status can be skipped, never reversed.
    ranks = ["PENDING", "INVENTORY_RESERVED", "PAYMENT_AUTHORIZED", "SHIPPED"]
    assert history[0] == "PENDING" and history[-1] == "SHIPPED"
    assert [ranks.index(s) for s in history] == sorted({ranks.index(s) for s in history})
    after = wait_until(lambda: (s := stock_get(sku="SKU-1"))["shipped"] == before["shipped"] + 2 and s)
    assert after["available"] == before["available"] - 2 and after["reserved"] == before["reserved"]


@pytest.mark.parametrize("items", [[{"sku": "NO-SUCH-SKU", "qty": 1}], [{"sku": "SKU-20", "qty": 6}]])
def test_unknown_sku_or_short_stock_is_rejected_and_nothing_is_held(pipeline, api, items):
    stock_adjust(sku="SKU-20", delta=-(stock_get(sku="SKU-20")["available"] - 5), reason="test: short stock")
    order = final(api, place(api, items=items, total=10))
    assert order["status"] == "REJECTED"
    sku20 = stock_get(sku="SKU-20")
    assert sku20["available"] == 5 and sku20["reserved"] == 0


def test_payment_decline_cancels_and_restores_stock(pipeline, api):
    before = stock_get(sku="SKU-2")
    order_id = place(api, items=[{"sku": "SKU-2", "qty": 3}], total=6000)
    assert final(api, order_id)["status"] == "CANCELLED"
    assert stock_get(sku="SKU-2")["available"] == before["available"]
    assert stock_get(sku="SKU-2")["reserved"] == before["reserved"]
    assert payment_get(order_id=order_id)["status"] == "DECLINED"


def test_shipping_failure_cancels_with_refund_and_restores_stock(pipeline, api):
    before = stock_get(sku="SKU-3")
    order_id = place(api, items=[{"sku": "SKU-3", "qty": 1}], total=42.5, country="BR")
    assert final(api, order_id)["status"] == "CANCELLED"
    assert payment_get(order_id=order_id)["status"] == "REFUNDED"
    after = stock_get(sku="SKU-3")
    assert (after["available"], after["reserved"], after["shipped"]) == (before["available"], before["reserved"], before["shipped"])


def test_stock_is_conserved_after_a_mixed_batch_of_200_orders(pipeline, api):
    rng = random.Random(7)
    order_ids = []
    for _ in range(200):
        kind = rng.choice(["happy", "happy", "happy", "decline", "shipfail", "unknown"])
        items = [{"sku": f"SKU-{rng.randint(1, 20)}", "qty": rng.randint(1, 5)} for _ in range(rng.randint(1, 3))]
        if kind == "unknown":
            items.append({"sku": "SKU-404", "qty": 1})
        order_ids.append(place(
            api, items=items, total=6000 if kind == "decline" else 25, country="BR" if kind == "shipfail" else "US",
        ))
    statuses = [final(api, order_id, timeout=120)["status"] for order_id in order_ids]
    assert set(statuses) == TERMINAL
    for stock in stock_list():
        assert stock["stocked"] == stock["available"] + stock["reserved"] + stock["shipped"], stock
    # Inventory consumes OrderShipped on its own, after the orders app may already say SHIPPED: wait
    # for it rather than read the stock at that instant.
    wait_until(lambda: all(stock["reserved"] == 0 for stock in stock_list()), timeout=60,
               message="every order is terminal, so nothing stays held")


def test_two_instances_of_one_consumer_share_partitions_and_process_each_event_once(engines, api):
    call_command("seed_inventory", if_empty=True, stdout=open("/dev/null", "w"))
    suffix = f".pair{uuid.uuid4().hex[:6]}"
    others = Worker([s for s in all_consumer_specs() if s.name != "inventory"], group_suffix=suffix, start_at_end=True).start()
    first = Worker([consumer_spec("inventory")], group_suffix=suffix, start_at_end=True).start()
    second = Worker([consumer_spec("inventory")], group_suffix=suffix).start()
    try:
        assert others.wait_assigned(30) and first.wait_assigned(30) and second.wait_assigned(30)
        order_ids = [place(api, items=[{"sku": "SKU-5", "qty": 1}], total=5) for _ in range(40)]
        assert {final(api, o, timeout=60)["status"] for o in order_ids} == {"SHIPPED"}
        def handled():
            return [w.runners[0].stats["processed"] for w in (first, second)]

        # Inventory consumes OrderShipped on its own, after the orders app may already say SHIPPED:
        # wait until both events of every order have been applied before counting.
        wait_until(lambda: sum(handled()) >= 2 * len(order_ids), timeout=60,
                   message="inventory applied OrderCreated and OrderShipped of every order")
        assert all(n > 0 for n in handled()), f"both instances took partitions: {handled()}"
        # Redeliveries across the rebalance are allowed (at-least-once) and skipped as duplicates:
        # each OrderCreated and OrderShipped is applied by exactly one instance, once.
        assert sum(handled()) == 2 * len(order_ids)
        assert len(read_to_end("inventory.InventoryReserved.v1", keys=set(order_ids))) == len(order_ids)
    finally:
        for worker in (second, first, others):
            worker.stop()
