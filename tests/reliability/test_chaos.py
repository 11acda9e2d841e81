"""The chaos drill: a small run in CI (every fault kind, all invariants), and the pieces it is made of."""
from __future__ import annotations

import random
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from loadlab.chaos import invariants as inv
from loadlab.chaos.ledger import Ledger, SeenEvent
from loadlab.chaos.plan import FAULT_KINDS, fault_schedule, planned_orders
from ecom_project.events import registry as ev


@pytest.fixture
def drill_owns_its_broker(settings, monkeypatch):
    """The command starts a scratch Kafka of its own (so it can freeze it: the broker.pause fault; the
    session's FerretDB stays in MONGO_URL), and the settings and environment it changes are restored
    afterwards."""
    for name in ("KAFKA_BROKERS", "KAFKA_CONSUMER", "OUTBOX_LEASE_MS", "ALLOWED_HOSTS", "DATA_DIR"):
        setattr(settings, name, getattr(settings, name))
    settings.KAFKA_BROKERS = ""
    monkeypatch.setenv("KAFKA_BROKERS", "")


@pytest.mark.integration
@pytest.mark.timeout(400)
def test_chaos_run_of_100_orders_keeps_every_invariant(drill_owns_its_broker):
    out = StringIO()
    try:
        call_command("chaos", orders=100, seed=7, faults=12, timeout=240, stdout=out, stderr=StringIO())
    except CommandError:  # the report says which invariant failed: show it, not just the exit line
        pytest.fail(out.getvalue())
    report = out.getvalue()
    assert "RESULT: no violations" in report, report
    assert "FAIL" not in report
    injected = int(report.split("faults injected: ")[1].split()[0])
    assert injected >= 11, report
    assert re.search(r"broker\.pause\s+1 injected", report), report


def test_the_plan_is_a_function_of_the_seed():
    def plan(seed):
        rng = random.Random(seed)
        return planned_orders(rng, 50), fault_schedule(rng, orders=50, faults=20)

    assert plan(3) == plan(3)
    assert plan(3) != plan(4)
    assert {f.kind for f in plan(3)[1]} == set(FAULT_KINDS)


@pytest.mark.parametrize("args, message", [
    (["--orders", "0", "--seed", "1"], "--orders must be between"),
    (["--orders", "10", "--seed", "1", "--faults", "2"], f"--faults must be at least {len(FAULT_KINDS)}"),
])
def test_bad_arguments_are_one_line_errors(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("chaos", *args)


def ledger_of(*events: tuple[str, str, str, str]) -> Ledger:
    ledger = Ledger()
    for order_id, event_id, event_type, at in events:
        ledger.by_order[order_id][event_id] = SeenEvent(event_id, event_type, None, at, ev.topic_of(event_type))
    return ledger


def test_invariants_catch_a_double_authorisation_and_a_refund_without_one():
    ledger = ledger_of(("o1", "a", ev.PAYMENT_AUTHORIZED, "1"), ("o1", "b", ev.PAYMENT_AUTHORIZED, "2"),
                       ("o2", "c", ev.PAYMENT_REFUNDED, "1"))
    assert inv.one_effect_per_order(ledger, ["o1", "o2"]).violations == ["o1: 2 x payment.PaymentAuthorized"]
    assert not inv.refund_after_authorisation(ledger, ["o1", "o2"]).ok


def test_invariants_catch_a_missing_compensation_and_lost_stock():
    ledger = ledger_of(("o1", "a", ev.INVENTORY_RESERVED, "1"), ("o1", "b", ev.PAYMENT_AUTHORIZED, "2"),
                       ("o1", "c", ev.PAYMENT_REFUNDED, "3"))
    assert inv.compensations_complete(ledger, {"o1": "CANCELLED"}).violations == ["o1: reserved, never released"]
    stock = [{"sku": "S", "available": 5, "reserved": 1, "shipped": 3, "holds": {"o1": 1}}]
    assert len(inv.stock_conserved(stock, {"S": 10}).violations) == 2


def test_invariants_catch_an_unexpected_dead_letter_and_a_missed_poison():
    letters = [{"key": "o1", "originalTopic": "t", "consumer": "c"}]
    check = inv.dead_letters_are_the_poison(letters, [("p1", "t")], {"t": {"c"}})
    assert sorted(check.violations) == ["poison p1 on t not dead-lettered by c", "unexpected dead letter o1 on t by c"]


def test_invariants_catch_a_consumer_that_did_not_commit_everything():
    check = inv.every_group_consumed_its_topics({"orders": 0, "payments": 3, "shipping": None})
    assert check.violations == ["payments: 3 events not committed", "shipping: lag unknown"]
    assert inv.every_group_consumed_its_topics({"orders": 0}).ok
