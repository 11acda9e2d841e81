"""The saga by properties: a Hypothesis state machine plays the pipeline's consumers by hand.

Each service's handlers are called directly with the envelopes the others queued in their
outboxes (real FerretDB, no Kafka): every consumer gets every event it subscribes to, but
in any order (reordering), possibly more than once (redelivery), interleaved with new orders
and operator requests (retry a step; compensate: releaseInventory / refundPayment).

Rules: place an order · deliver any pending (consumer, event) · redeliver one already
delivered · an operator retries a step · an operator requests a compensation · drain
everything in arrival order.
Invariants, after every rule: stock is conserved · at most one PaymentAuthorized and one
PaymentRefunded per order · a terminal status never changes (write and read model) · no
order is SHIPPED with its payment refunded · when nothing is in flight, the write model
(orders) and the read model (projections) show the same status and every finished order
holds no stock.

Bounded for CI (10 examples of up to 30 steps, about 30 s); `SAGA_PROPERTY_EXAMPLES=500 pytest tests/saga/test_saga_properties.py`
is the longer run (docs/testing.md).
"""
from __future__ import annotations

import json
import os
import uuid
from collections import Counter
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings as hsettings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from ecom_project.api_errors import ApplicationError
from ecom_project.events import registry as r
from ecom_project.events import saga
from ecom_project.events.envelope import decode
from ecom_project.mongo import find_by_ids
from inventory import handlers as inventory_handlers
from inventory import repository as inventory_repository
from orders import handlers as orders_handlers
from orders import repository as orders_repository
from orders import services as orders_services
from payments import handlers as payments_handlers
from payments import repository as payments_repository
from projections import handlers as projections_handlers
from projections import repository as projections_repository
from shipping import handlers as shipping_handlers
from shipping import repository as shipping_repository

CONSUMERS = [orders_handlers.CONSUMER, inventory_handlers.CONSUMER, payments_handlers.CONSUMER,
             shipping_handlers.CONSUMER, projections_handlers.CONSUMER]
STOCK = 6  # per SKU: small, so that orders compete for it and some are short
EXAMPLES = int(os.environ.get("SAGA_PROPERTY_EXAMPLES", "10"))
STEPS = int(os.environ.get("SAGA_PROPERTY_STEPS", "30"))


def _outbox_collections():
    return [orders_repository.orders(), *inventory_repository.outbox_collections(), payments_repository.payments(),
            shipping_repository.shipments()]


class SagaMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        tag = uuid.uuid4().hex[:8]
        self.skus = [f"P{tag}-{n}" for n in (1, 2)]
        for sku in self.skus:
            inventory_repository.stock_seed(sku=sku, qty=STOCK)
        self.orders: list[str] = []
        self.pending: list[tuple[str, object]] = []  # (consumer name, envelope) not delivered yet
        self.delivered: list[tuple[str, object]] = []
        self.emitted: Counter = Counter()  # (orderId, event type) -> times queued
        self.terminal: dict[tuple[str, str], str] = {}  # (model, orderId) -> the terminal status first seen

    # --- the bus -----------------------------------------------------------------------------
    def _collect(self, order_id: str) -> None:
        """Take what the services queued for the order (as a relay would) and address it to each subscriber
        (every write about an order is on documents whose _id is the orderId)."""
        for collection in _outbox_collections():
            document = collection.find_one({"_id": order_id}, {"outbox": 1})
            if document and document.get("outbox"):
                for entry in document["outbox"]:
                    event = decode(entry["value"])
                    self.emitted[(event.key, event.type)] += 1
                    self.pending.extend((spec.name, event) for spec in CONSUMERS if event.type in spec.handlers)
                collection.update_one({"_id": document["_id"]}, {"$pullAll": {"outbox": document["outbox"]}})

    def _deliver(self, consumer: str, event) -> None:
        handlers = {spec.name: spec.handlers for spec in CONSUMERS}[consumer]
        handlers[event.type](event)
        self._collect(event.key)

    # --- rules -------------------------------------------------------------------------------
    @precondition(lambda self: len(self.orders) < 3)  # few orders, many interleavings of their events
    @rule(lines=st.lists(st.tuples(st.sampled_from([0, 1, 2]), st.integers(1, 4)), min_size=1, max_size=2),
          total=st.sampled_from(["19.99", "250.00", "9000.00"]), country=st.sampled_from(["US", "GB", "BR"]))
    def place_order(self, lines, total, country):
        items = {}
        for index, qty in lines:  # index 2: a SKU nobody stocks (REJECTED)
            sku = self.skus[index] if index < 2 else f"NOPE-{self.skus[0]}"
            items[sku] = items.get(sku, 0) + qty
        created = orders_services.order_create(
            items=[{"sku": s, "qty": q} for s, q in items.items()], total=Decimal(total), currency="EUR",
            shipping_address={"country": country},
        )
        self.orders.append(created.order_id)
        self._collect(created.order_id)

    @precondition(lambda self: self.pending)
    @rule(consumer=st.sampled_from([spec.name for spec in CONSUMERS]), pick=st.integers(min_value=0, max_value=7))
    def deliver(self, consumer, pick):
        """The consumer handles one of its pending events, not necessarily the oldest (events of one order
        come on several topics); a consumer picked less often lags behind the others."""
        mine = [index for index, (name, _) in enumerate(self.pending) if name == consumer] or range(len(self.pending))
        delivery = self.pending.pop(mine[pick % len(mine)])
        self._deliver(*delivery)
        self.delivered.append(delivery)

    @precondition(lambda self: self.delivered)
    @rule(pick=st.integers(min_value=0))
    def redeliver(self, pick):
        self._deliver(*self.delivered[pick % len(self.delivered)])

    @precondition(lambda self: self.orders)
    @rule(pick=st.integers(min_value=0), step=st.sampled_from(["inventory", "payment", "shipping"]))
    def operator_retry(self, pick, step):
        self._operator(orders_services.order_retry_request, order_id=self.orders[pick % len(self.orders)], step=step)

    @precondition(lambda self: self.orders)
    @rule(pick=st.integers(min_value=0), action=st.sampled_from(["releaseInventory", "refundPayment"]))
    def operator_compensate(self, pick, action):
        self._operator(orders_services.order_compensation_request, order_id=self.orders[pick % len(self.orders)],
                       action=action)

    @rule()
    def drain(self):
        self._drain()

    def _operator(self, request, **kwargs) -> None:
        try:
            request(requested_by="prop", **kwargs)
        except ApplicationError as refused:
            assert refused.status_code == 409, refused.message
        self._collect(kwargs["order_id"])

    def _drain(self) -> None:
        while self.pending:
            delivery = self.pending.pop(0)
            self._deliver(*delivery)
            self.delivered.append(delivery)

    # --- invariants --------------------------------------------------------------------------
    @invariant()
    def stock_is_conserved(self):
        for sku in self.skus:
            stock = inventory_repository.stock_find(sku)
            assert stock["available"] + stock["reserved"] + stock["shipped"] == STOCK, stock
            assert min(stock["available"], stock["reserved"], stock["shipped"]) >= 0, stock
            assert stock["reserved"] == sum(stock["holds"].values()), stock

    @invariant()
    def one_authorisation_and_one_refund_at_most(self):
        for (order_id, event_type), times in self.emitted.items():
            if event_type in (r.PAYMENT_AUTHORIZED, r.PAYMENT_REFUNDED):
                assert times == 1, f"{order_id}: {event_type} queued {times} times"

    @invariant()
    def statuses_hold(self):
        """Terminal statuses stick in both models; nothing SHIPPED is refunded; at rest (nothing in
        flight) both models agree and no finished order holds stock."""
        orders, projections = self._orders(), self._projections()
        for model, documents in (("orders", orders), ("projections", projections)):
            for order_id, document in documents.items():
                status = document["status"]
                first = self.terminal.setdefault((model, order_id), status) if status in saga.TERMINAL else None
                assert first is None or first == status, f"{model} {order_id}: {first} became {status}"
        for order_id, order in orders.items():
            if order["status"] == saga.SHIPPED:
                payment = payments_repository.payment_find(order_id=order_id)
                assert payment["status"] == "AUTHORIZED", (order_id, order["facts"], payment)
        if self.pending:
            return
        assert {i: o["status"] for i, o in orders.items()} == {i: projections[i]["status"] for i in orders}, (
            self._story(projections))
        holds = {order for sku in self.skus for order in inventory_repository.stock_find(sku)["holds"]}
        finished = {i for i, o in orders.items() if o["status"] in saga.TERMINAL}
        assert not holds & finished, {i: orders[i]["facts"] for i in holds & finished}

    def teardown(self):
        self._drain()
        self.statuses_hold()

    # --- reading -----------------------------------------------------------------------------
    def _orders(self) -> dict[str, dict]:
        return {d["_id"]: d for d in find_by_ids(orders_repository.orders(), self.orders)}

    def _projections(self) -> dict[str, dict]:
        return {d["_id"]: d for d in find_by_ids(projections_repository.projections(), self.orders)}

    @staticmethod
    def _story(projections: dict[str, dict]) -> str:
        return json.dumps({i: [e["type"] for e in p["timeline"]] for i, p in projections.items()}, indent=1)


@pytest.mark.timeout(0 if "SAGA_PROPERTY_EXAMPLES" in os.environ else 300)
def test_saga_properties():
    run_state_machine_as_test(SagaMachine, settings=hsettings(
        max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    ))


def _deliver_first(machine: SagaMachine, consumer: str, event_type: str) -> None:
    """Deliver the first pending `event_type` to `consumer`, if there is one (a scripted interleaving)."""
    for index, (name, event) in enumerate(machine.pending):
        if name == consumer and event.type == event_type:
            machine._deliver(*machine.pending.pop(index))
            return


def test_the_invariants_hold_when_a_refund_is_requested_while_the_shipment_is_booked():
    """The interleaving the machine must be able to reach: shipping lags while the orders app shows
    PAYMENT_AUTHORIZED and an operator asks for refundPayment. Were the request accepted, the refund and
    then the shipment would land, and `statuses_hold` would find the order SHIPPED and refunded."""
    machine = SagaMachine()
    machine.place_order(lines=[(0, 1)], total="19.99", country="US")
    _deliver_first(machine, "inventory", r.ORDER_CREATED)
    _deliver_first(machine, "payments", r.INVENTORY_RESERVED)
    _deliver_first(machine, "orders", r.INVENTORY_RESERVED)
    _deliver_first(machine, "orders", r.PAYMENT_AUTHORIZED)
    machine.operator_compensate(pick=0, action="refundPayment")
    _deliver_first(machine, "payments", r.COMPENSATION_REQUESTED)
    _deliver_first(machine, "orders", r.PAYMENT_REFUNDED)
    _deliver_first(machine, "shipping", r.PAYMENT_AUTHORIZED)
    _deliver_first(machine, "orders", r.ORDER_SHIPPED)
    machine.statuses_hold()
    machine.teardown()
    assert machine._orders()[machine.orders[0]]["status"] == saga.SHIPPED
