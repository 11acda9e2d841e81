"""The write model (orders) and the read model (projections) agree on every sequence of facts.

Each sequence is folded the way each app folds it: the orders app records facts from the
events it tracks and an operator compensation when it accepts the request (a refused request
emits no event, so neither model sees it); the projector folds envelopes. After every event,
both must show the same status, never a lower one, and a terminal status must stick.
"""
from __future__ import annotations

import functools
import itertools

import pytest

from ecom_project.events import registry as r
from ecom_project.events import saga
from orders import domain as orders_domain
from projections import domain as projection_domain
from tests.projections.conftest import saga as envelopes

@pytest.fixture
def order_id() -> str:
    return "a" * 32  # the events are built once, for this order


RANK = {saga.PENDING: 0, saga.INVENTORY_RESERVED: 1, saga.PAYMENT_AUTHORIZED: 2}
FACT_EVENTS = [
    r.INVENTORY_RESERVED, r.INVENTORY_FAILED, r.INVENTORY_RELEASED, r.PAYMENT_AUTHORIZED, r.PAYMENT_FAILED,
    r.PAYMENT_REFUNDED, r.ORDER_SHIPPED, r.SHIPPING_FAILED, r.COMPENSATION_REQUESTED, r.RETRY_REQUESTED,
]
OPERATOR_RELEASE = "operatorRelease"  # CompensationRequested(releaseInventory), decided by the orders app
# Paths the pipeline really takes, incl. operator actions and a payment still in flight after a release.
SCENARIOS = {
    "happy": [r.INVENTORY_RESERVED, r.PAYMENT_AUTHORIZED, r.ORDER_SHIPPED],
    "rejected": [r.INVENTORY_FAILED],
    "payment declined": [r.INVENTORY_RESERVED, r.PAYMENT_FAILED, r.INVENTORY_RELEASED],
    "shipping failed": [r.INVENTORY_RESERVED, r.PAYMENT_AUTHORIZED, r.SHIPPING_FAILED, r.PAYMENT_REFUNDED,
                        r.INVENTORY_RELEASED],
    "operator release at reserved": [r.INVENTORY_RESERVED, OPERATOR_RELEASE, r.INVENTORY_RELEASED],
    "operator release, payment in flight": [r.INVENTORY_RESERVED, OPERATOR_RELEASE, r.INVENTORY_RELEASED,
                                            r.PAYMENT_AUTHORIZED],
    "retry after a stuck payment": [r.INVENTORY_RESERVED, r.RETRY_REQUESTED, r.PAYMENT_AUTHORIZED, r.ORDER_SHIPPED],
}


@functools.cache
def _envelope(event_type: str):
    """One event per type: a type repeated in a sequence is a redelivery (same eventId)."""
    return envelopes("a" * 32, r.ORDER_CREATED, *FACT_EVENTS)[[r.ORDER_CREATED, *FACT_EVENTS].index(event_type)]


def _fold_both(order_id: str, sequence: list[str]) -> list[tuple[str, str]]:
    """(write status, read status) after each event of the sequence that exists."""
    status, facts, statuses = saga.PENDING, {}, []
    projection = projection_domain.apply_event(None, _envelope(r.ORDER_CREATED))
    for step in sequence:
        event_type = r.COMPENSATION_REQUESTED if step == OPERATOR_RELEASE else step
        if event_type == r.COMPENSATION_REQUESTED:
            if orders_domain.compensation_refusal(status=status, facts=facts, action="releaseInventory"):
                continue  # refused: no event, no fact
            facts = {**facts, saga.CANCEL_REQUESTED: True}
        elif event_type in orders_domain.TRACKED_EVENTS:
            facts = saga.with_event_fact(facts, event_type)
        status = saga.next_status(status, facts)
        projection = projection_domain.apply_event(projection, _envelope(event_type)) or projection
        statuses.append((status, projection["status"]))
    return statuses


def _assert_agree_and_monotone(statuses: list[tuple[str, str]], sequence: list[str]) -> None:
    previous = saga.PENDING
    for write, read in statuses:
        assert write == read, f"{sequence}: write {write} != read {read} ({statuses})"
        if previous in saga.TERMINAL:
            assert write == previous, f"{sequence}: terminal {previous} left for {write}"
        elif write not in saga.TERMINAL:
            assert RANK[write] >= RANK[previous], f"{sequence}: {previous} -> {write} moved backwards"
        previous = write


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_arrival_order_of_every_scenario_agrees(order_id, name):
    for permutation in itertools.permutations(SCENARIOS[name]):
        _assert_agree_and_monotone(_fold_both(order_id, list(permutation)), list(permutation))


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_duplicate_agrees(order_id, name):
    path = SCENARIOS[name]
    for position, repeated in itertools.product(range(len(path) + 1), path):
        sequence = [*path[:position], repeated, *path[position:]]
        _assert_agree_and_monotone(_fold_both(order_id, sequence), sequence)


def test_every_sequence_of_up_to_four_facts_agrees(order_id):
    """Exhaustive over short sequences, including ones no healthy pipeline produces (late, odd, doubled)."""
    for length in range(1, 5):
        for sequence in itertools.product([*FACT_EVENTS, OPERATOR_RELEASE], repeat=length):
            _assert_agree_and_monotone(_fold_both(order_id, list(sequence)), list(sequence))


@pytest.mark.parametrize(("sequence", "final"), [
    ([r.INVENTORY_RESERVED, OPERATOR_RELEASE], saga.INVENTORY_RESERVED),
    ([r.INVENTORY_RESERVED, OPERATOR_RELEASE, r.INVENTORY_RELEASED], saga.CANCELLED),
    ([r.INVENTORY_RESERVED, OPERATOR_RELEASE, r.INVENTORY_RELEASED, r.PAYMENT_AUTHORIZED], saga.CANCELLED),
])
def test_operator_release_at_inventory_reserved_cancels_once_released(order_id, sequence, final):
    """The documented decision (ecom_project/events/saga.py): CANCELLED on the release; a late
    authorisation does not reopen it, and refundPayment stays offered for it."""
    assert _fold_both(order_id, sequence)[-1] == (final, final)
    facts = saga.facts_of([*sequence, r.COMPENSATION_REQUESTED])
    if final == saga.CANCELLED and r.PAYMENT_AUTHORIZED in sequence:
        assert orders_domain.compensation_refusal(status=final, facts=facts, action="refundPayment") is None
