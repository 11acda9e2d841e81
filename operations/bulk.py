"""Retry or compensate many orders at once, chosen by a filter (status, step, stuck, age, error text).

A dry run lists what would be done; a request acts on at most BULK_ACTION_MAX_ORDERS orders; every
order acted on (or skipped because its state does not allow the action) gets its own audit entry;
an action is sent only where the order's state allows it (the orders app's rules decide)."""
from __future__ import annotations

from django.conf import settings

from ecom_project.api_errors import ApplicationError
from operations import services
from operations.repository import REFUSED, audit_record
from orders.domain import compensation_refusal, retry_refusal
from orders.selectors import OrderFilter, order_search

RETRY = "retry"
BULK_ACTIONS = (RETRY, *services.ACTIONS)


def allowed_actions(order: dict) -> dict[str, list[str]]:
    """What an operator may ask for this order now: the steps to retry, the compensations to request."""
    facts = order.get("facts", {})
    return {
        "retry": [s for s in services.STEPS if not retry_refusal(status=order["status"], facts=facts, step=s)],
        "compensate": [a for a in services.ACTIONS
                       if not compensation_refusal(status=order["status"], facts=facts, action=a)],
    }


def refusal(order: dict, *, action: str, step: str | None) -> str | None:
    facts = order.get("facts", {})
    if action != RETRY:
        return compensation_refusal(status=order["status"], facts=facts, action=action)
    if step not in services.STEPS:
        return f"the order waits for {order.get('waitingStep') or 'nothing'}, which no retry re-runs"
    return retry_refusal(status=order["status"], facts=facts, step=step)


def orders_bulk_action(*, where: OrderFilter, action: str, step: str | None = None, dry_run: bool = True,
                       limit: int | None = None, requested_by: str) -> dict:
    """Per matching order (newest first, at most the cap): what would be / was done and why not."""
    if action not in BULK_ACTIONS:
        raise ApplicationError(f"Unknown action {action!r}.", code="invalid", fields={"action": f"one of {', '.join(BULK_ACTIONS)}"})
    if step is not None and (action != RETRY or step not in services.STEPS):
        raise ApplicationError("step goes with the retry action only.", code="invalid",
                               fields={"step": f"one of {', '.join(services.STEPS)}, with action retry"})
    cap = settings.BULK_ACTION_MAX_ORDERS
    limit = min(limit or cap, cap)
    orders, more = order_search(where=where, limit=limit)
    results = [_one(order, action=action, step=step, dry_run=dry_run, requested_by=requested_by) for order in orders]
    return {"dryRun": dry_run, "action": action, "limit": limit, "more": more is not None, "results": results,
            "done": sum(1 for r in results if r.get("eventId")), "allowed": sum(1 for r in results if r["allowed"])}


def _one(order: dict, *, action: str, step: str | None, dry_run: bool, requested_by: str) -> dict:
    chosen_step = (step or order.get("waitingStep")) if action == RETRY else None
    reason = refusal(order, action=action, step=chosen_step)
    result = {"orderId": order["orderId"], "status": order["status"], "overdueStep": order.get("overdueStep"),
              "ageSeconds": order["ageSeconds"], "action": action, "step": chosen_step,
              "allowed": reason is None, "reason": reason}
    if dry_run:
        return result
    if reason is not None:  # skipped: audited too, so the log shows every order the bulk request touched
        audit_record(who=requested_by, action=f"order.bulk.{action}", target=f"order:{order['orderId']}",
                     outcome=REFUSED, detail={"step": chosen_step, "reason": reason})
        return result
    try:
        if action == RETRY:
            result["eventId"] = services.admin_order_retry(order_id=order["orderId"], step=chosen_step, requested_by=requested_by)
        else:
            result["eventId"] = services.admin_order_compensate(order_id=order["orderId"], action=action,
                                                                requested_by=requested_by)
    except ApplicationError as exc:  # the state changed since the read: audited by the service, reported here
        result.update(allowed=False, reason=exc.message)
    return result
