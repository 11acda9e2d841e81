"""The projector against the repository store: idempotent, order-independent, concurrent-safe, pushed live."""
from __future__ import annotations

import threading

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from ecom_project import live
from ecom_project.events import registry as r
from projections import domain, handlers, repository, services
from tests.projections.conftest import HAPPY, SHIPPING_FAILED, saga


def stored(order_id):
    return repository.find(order_id)


def test_redelivery_stores_each_event_once(order_id):
    events = saga(order_id, *HAPPY)
    for event in events + events:
        handlers.project_event(event)
    projection = stored(order_id)
    assert projection["status"] == domain.SHIPPED
    assert [e["eventId"] for e in projection["timeline"]] == [str(e.event_id) for e in events]
    assert projection["revision"] == 4


def test_out_of_order_delivery_ends_in_the_same_state(order_id):
    events = saga(order_id, *SHIPPING_FAILED)
    for event in reversed(events):
        services.projection_apply(event=event, notify=False)
    reversed_result = services.public_view(stored(order_id))
    repository.projections().delete_one({"_id": order_id})
    for event in events:
        services.projection_apply(event=event, notify=False)
    assert services.public_view(stored(order_id)) == reversed_result
    assert reversed_result["status"] == domain.CANCELLED


def test_concurrent_writers_on_one_order_lose_nothing(order_id):
    events = saga(order_id, *SHIPPING_FAILED, r.RETRY_REQUESTED, r.COMPENSATION_REQUESTED)
    barrier = threading.Barrier(len(events))

    def apply(event):
        barrier.wait(5)
        services.projection_apply(event=event, notify=False)

    threads = [threading.Thread(target=apply, args=(e,)) for e in events]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    projection = stored(order_id)
    assert len(projection["timeline"]) == len(events) == projection["revision"]
    assert projection["status"] == domain.CANCELLED


def test_the_projection_kept_after_a_write_is_the_stored_one(order_id):
    """The next event folds into the kept copy instead of a read: it must be what a read would give. Once the
    order has finished it is let go: the process keeps the orders in flight, not every order it saw."""
    for event in saga(order_id, *HAPPY):
        services.projection_apply(event=event, notify=False)
        if stored(order_id)["status"] in domain.TERMINAL_STATUSES:
            assert services._written.get(order_id) is None
        else:
            assert services._written.get(order_id) == stored(order_id)
    assert stored(order_id)["status"] == domain.SHIPPED and services._written.get(order_id) is None


def test_a_write_by_someone_else_since_ours_is_not_lost(order_id):
    """Another replica (or a rebuild) wrote the order after this process did: the kept copy is stale, its
    compare-and-swap fails, and the event is folded into the stored projection instead."""
    first, other, third = saga(order_id, *HAPPY)[:3]
    services.projection_apply(event=first, notify=False)
    current = stored(order_id)
    assert repository.save_if_unchanged(domain.apply_event(current, other), previous_revision=current["revision"])
    services.projection_apply(event=third, notify=False)
    assert [e["eventId"] for e in stored(order_id)["timeline"]] == [str(e.event_id) for e in (first, other, third)]


def test_a_stored_change_is_pushed_to_both_groups(order_id):
    layer = get_channel_layer()
    everything = async_to_sync(layer.new_channel)()
    one_order = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(services.ALL_ORDERS_GROUP, everything)
    async_to_sync(layer.group_add)(services.order_group(order_id), one_order)
    try:
        (created,) = saga(order_id, r.ORDER_CREATED)
        handlers.project_event(created)
        batch = async_to_sync(layer.receive)(everything)
        assert batch["type"] == "projection.batch" and len(batch["projections"]) == 1
        message = async_to_sync(layer.receive)(one_order)
        assert message["type"] == "projection.update"
        for projection in (batch["projections"][0], message["projection"]):
            assert projection["orderId"] == order_id
            assert projection["status"] == domain.PENDING
            assert "_id" not in projection
    finally:
        async_to_sync(layer.group_discard)(services.ALL_ORDERS_GROUP, everything)
        async_to_sync(layer.group_discard)(services.order_group(order_id), one_order)


def test_channel_layer_outage_does_not_fail_the_event(order_id, monkeypatch):
    class BrokenLayer:
        async def group_send(self, group, message):
            raise ConnectionError("redis down")

    monkeypatch.setattr(live, "get_channel_layer", lambda: BrokenLayer())
    (created,) = saga(order_id, r.ORDER_CREATED)
    handlers.project_event(created)
    assert stored(order_id)["status"] == domain.PENDING


def test_the_consumer_listens_to_every_event_type_and_every_dead_letter_topic():
    expected = set(r.ALL_TOPICS) | {r.retry_topic("projections")}  # and replays of its own dead letters
    assert set(handlers.CONSUMER.topics) == expected


@pytest.mark.parametrize("event_type", [t for (t, _v) in r.SCHEMAS if t != r.DEAD_LETTER])
def test_any_single_event_creates_a_projection(order_id, event_type):
    (event,) = saga(order_id, event_type)
    handlers.project_event(event)
    assert stored(order_id)["timeline"][0]["type"] == event_type


@pytest.mark.parametrize("first_seen", [False, True], ids=["insert", "replace"])
def test_a_write_between_the_read_and_the_write_of_another_is_not_lost(order_id, monkeypatch, first_seen):
    """Forced interleaving: after this fold has its copy of the projection (read, or kept from its last
    write) and before it writes, another consumer thread stores another event of the order. The revision
    guard makes this write miss and fold again, so neither is lost (for the order's first write too: two
    first events race on the insert)."""
    created, reserved, authorized = saga(order_id, r.ORDER_CREATED, r.INVENTORY_RESERVED, r.PAYMENT_AUTHORIZED)
    if first_seen:
        services.projection_apply(event=created, notify=False)
    real_save = repository.save_if_unchanged
    raced = []

    def another_writes_then_save(projection, **kwargs):
        monkeypatch.setattr(repository, "save_if_unchanged", real_save)
        raced.append(services.projection_apply(event=authorized, notify=False))
        return real_save(projection, **kwargs)

    monkeypatch.setattr(repository, "save_if_unchanged", another_writes_then_save)
    services.projection_apply(event=reserved, notify=False)
    assert raced and raced[0] is not None, "the other write ran inside the gap"
    types = [entry["type"] for entry in stored(order_id)["timeline"]]
    assert types == ([r.ORDER_CREATED] if first_seen else []) + [r.INVENTORY_RESERVED, r.PAYMENT_AUTHORIZED]
    assert stored(order_id)["status"] == domain.PAYMENT_AUTHORIZED
