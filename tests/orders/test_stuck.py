"""Stuck orders: the store query agrees with the saga rule, the detector flags and counts, a
request or an event clears the flag, and the detector runs beside the orders consumer."""
from __future__ import annotations

import io
import itertools
from datetime import datetime, timedelta, timezone

from django.core.management import call_command
from prometheus_client import REGISTRY

from ecom_project.events import saga
from ecom_project.messaging.periodic import PeriodicTask
from ecom_project.status_counts import Recount
from orders import handlers, repository, selectors, services, stuck
from orders.status_counts import ORDER_COUNTS
from tests.orders.test_services import create_order, reserved
from tests.support import wait_until

NOW = datetime.now(timezone.utc)
FACT_SETS = [{}, {"reserved": True}, {"reserved": True, "paymentFailed": True}, {"cancelRequested": True, "reserved": True}]


def _age(order_id: str, *, status: str, facts: dict, idle_s: int) -> None:
    repository.orders().update_one({"_id": order_id}, {"$set": {
        "status": status, "facts": facts, "updatedAt": NOW - timedelta(seconds=idle_s)}})


def test_the_stuck_query_selects_exactly_the_orders_the_saga_rule_calls_overdue(settings):
    settings.SAGA_STEP_TIMEOUT_S = {"inventory": 10, "payment": 20, "shipping": 30, "compensation": 40}
    expected = {}
    for status, facts, idle in itertools.product(saga.STATUSES, FACT_SETS, (5, 15, 25, 35, 45)):
        order_id = create_order()
        _age(order_id, status=status, facts=facts, idle_s=idle)
        expected[order_id] = saga.overdue_step(status=status, facts=facts, since=NOW - timedelta(seconds=idle),
                                               now=NOW, timeouts=settings.SAGA_STEP_TIMEOUT_S)
    counts = stuck.stuck_orders_detect(now=NOW)
    for step in saga.STEPS:
        assert counts[step] == sum(1 for s in expected.values() if s == step), step
    flagged = {o["_id"]: o.get("stuckStep") for o in repository.orders().find()}
    assert flagged == expected
    rows, _ = selectors.order_search(where=selectors.OrderFilter(stuck=True), limit=200, now=NOW)
    assert {o["_id"]: o["overdueStep"] for o in rows} == {k: v for k, v in expected.items() if v}
    gauge = REGISTRY.get_sample_value("pipeline_orders_stuck", {"step": "compensation"})
    assert gauge == counts["compensation"] > 0


def test_an_event_or_an_operator_request_clears_the_flag(settings):
    first, second = create_order(), create_order()
    for order_id in (first, second):
        _age(order_id, status=saga.PENDING, facts={}, idle_s=3600)
    assert stuck.stuck_orders_detect()["inventory"] == 2
    services.order_apply_event(event=reserved(first))
    services.order_retry_request(order_id=second, step="inventory", requested_by="user:1")
    assert [o.get("stuckStep") for o in repository.orders().find()] == [None, None]
    assert stuck.stuck_orders_detect()["inventory"] == 0


def test_the_command_prints_counts_and_the_stuck_orders():
    order_id = create_order()
    _age(order_id, status=saga.PENDING, facts={}, idle_s=3600)
    out = io.StringIO()
    call_command("detect_stuck_orders", stdout=out)
    assert "inventory: 1 stuck" in out.getvalue() and f"{order_id} PENDING overdue inventory" in out.getvalue()


def test_the_orders_consumer_runs_the_detector_and_the_status_recount_beside_it():
    tasks = {task.name: task for task in handlers.CONSUMER.periodic_tasks()}
    assert tasks["stuck-orders"].run is stuck.stuck_orders_detect
    assert isinstance(tasks["orders-status-recount"].run, Recount)
    assert tasks["orders-status-recount"].run.counts is ORDER_COUNTS


def test_a_periodic_task_runs_until_stopped():
    runs = []
    task = PeriodicTask("t", interval_s=0.01, run=lambda: runs.append(1)).start()
    wait_until(lambda: len(runs) >= 3, timeout=5)
    task.stop()
    assert not task.thread.is_alive()


def test_an_order_that_moves_on_between_the_read_and_the_flag_is_not_flagged():
    order_id = create_order()
    _age(order_id, status=saga.PENDING, facts={}, idle_s=3600)
    ((order, step),) = [(o, s) for o, s in selectors.overdue_orders(now=NOW) if o["_id"] == order_id]
    assert step == "inventory"
    services.order_apply_event(event=reserved(order_id))  # the reservation lands after the detector's read
    assert repository.order_flag_stuck(order, step=step, at=NOW) is False
    assert repository.orders().find_one({"_id": order_id}).get("stuckStep") is None
    assert stuck.stuck_orders_detect()["inventory"] == 0
