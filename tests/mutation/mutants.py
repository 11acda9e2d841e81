"""The mutation smoke's fixed list: each mutant removes one guarantee, and the named tests must fail.

A mutant is a textual edit of one file: `original` must occur in it exactly once (so that the list
cannot silently rot when the code changes: the smoke fails instead), and is replaced by `mutated`.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str
    original: str
    mutated: str
    tests: tuple[str, ...]  # node ids: at least one must fail on the mutant


MUTANTS = (
    Mutant(
        "payments: authorisation guard off",
        "payments/repository.py",
        'filter={"_id": order_id, "status": {"$exists": False}, "refundRequested": {"$exists": refund_requested}},',
        'filter={"_id": order_id, "refundRequested": {"$exists": refund_requested}},',
        ("tests/payments/test_services.py::test_an_authorisation_between_the_read_and_the_write_of_another_is_not_repeated",),
    ),
    Mutant(
        "payments: refund guard off",
        "payments/repository.py",
        'filter={"_id": order_id, "status": "AUTHORIZED"},',
        'filter={"_id": order_id},',
        ("tests/payments/test_services.py::test_a_refund_between_the_read_and_the_write_of_another_is_not_repeated",),
    ),
    Mutant(
        "outbox: applied-event guard off",
        "ecom_project/messaging/outbox.py",
        'query["appliedEvents"] = {"$ne": applied_event_id}',
        "pass",
        ("tests/kernel/test_outbox.py::test_update_with_events_applies_an_event_once",),
    ),
    Mutant(
        "outbox relay: lease not given back on a publish failure",
        "ecom_project/messaging/outbox.py",
        'collection.update_one({"_id": doc["_id"], "outboxLease.owner": self.owner}, {"$unset": {"outboxLease": ""}})',
        "pass",
        ("tests/kernel/test_outbox.py::test_a_failed_publish_gives_the_lease_back_at_once[scan]",),
    ),
    Mutant(
        "outbox relay: a leased document is claimed again",
        "ecom_project/messaging/outbox.py",
        'free = {**PENDING, "$or": [{"outboxLease": None}, {"outboxLease.until": {"$lt": now}}]}',
        "free = dict(PENDING)",
        ("tests/kernel/test_outbox.py::test_a_relay_running_while_another_publishes_the_same_documents_publishes_nothing[scan]",),
    ),
    Mutant(
        "orders: version guard off",
        "orders/repository.py",
        'filter={"_id": order_id, "version": version}, update=change,',
        'filter={"_id": order_id}, update=change,',
        ("tests/orders/test_services.py::test_operator_refund_racing_an_order_shipped_is_refused_on_the_reread",
         "tests/orders/test_services.py::test_operator_request_losing_every_race_is_a_409_and_writes_nothing"),
    ),
    Mutant(
        "projections: revision guard off (lost write)",
        "projections/repository.py",
        'collection.replace_one({"_id": projection["orderId"], "revision": previous_revision}, document)',
        'collection.replace_one({"_id": projection["orderId"]}, document)',
        ("tests/projections/test_services.py::test_a_write_between_the_read_and_the_write_of_another_is_not_lost",),
    ),
    Mutant(
        "orders: compensation accepted while the shipment is in flight",
        "orders/domain.py",
        'if status == PAYMENT_AUTHORIZED and not facts.get("shippingFailed"):',
        "if False:",
        ("tests/orders/test_services.py::test_a_compensation_is_refused_while_the_shipment_is_in_flight",
         "tests/saga/test_saga_properties.py::test_the_invariants_hold_when_a_refund_is_requested_while_the_shipment_is_booked"),
    ),
    Mutant(
        "runner: dedupe window off",
        "ecom_project/messaging/runner.py",
        "if event_id in self.recent:",
        "if False:",
        ("tests/kernel/test_runner.py::test_duplicate_delivery_gives_one_effect",),
    ),
    Mutant(
        "runner: offsets committed before the batch's effects",
        "ecom_project/messaging/runner.py",
        "        with unit_of_work.batch(self.spec.name) as uow:",
        "        self._commit(consumer, [TopicPartition(t, p, o) for (t, p), o in offsets.items()])\n"
        "        with unit_of_work.batch(self.spec.name) as uow:",
        ("tests/reliability/test_supervisor.py::test_crashed_runner_is_restarted_and_the_redelivery_applies_nothing_twice",),
    ),
    Mutant(
        "outbox relay: a scan claims what may be in a batch still publishing it",
        "ecom_project/messaging/outbox.py",
        "pending = [doc_id for doc_id in pending if doc_id in previous]",
        "pass",
        ("tests/kernel/test_outbox.py::test_after_start_up_a_relay_scan_claims_only_what_the_previous_scan_saw_pending_too",),
    ),
    Mutant(
        "projections: a stale kept projection is not dropped",
        "projections/services.py",
        "        _written.pop(event.key)\n    raise ProjectionConflict",
        "        pass\n    raise ProjectionConflict",
        ("tests/projections/test_services.py::test_a_write_by_someone_else_since_ours_is_not_lost",),
    ),
    Mutant(
        "outbox relay: a scan claims what a relay of this process is publishing from its hint",
        "ecom_project/messaging/outbox.py",
        "ours = _hinted_or_in_flight(collection)",
        "ours = set()",
        ("tests/kernel/test_outbox.py::test_a_relay_running_while_another_publishes_the_same_documents_publishes_nothing[hint]",),
    ),
    Mutant(
        "outbox relay: a failed publish of hinted entries forgets them",
        "ecom_project/messaging/outbox.py",
        "                    _hint(collection, doc_id, doc_entries)",
        "                    pass",
        ("tests/kernel/test_outbox.py::test_a_failed_publish_gives_the_lease_back_at_once[hint]",),
    ),
)
