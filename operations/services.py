"""Operator actions. Each one is audited (who, what, target, outcome, incl. refusals) and
delegates the effect to the owning app's public service or to the kernel."""
from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import TypeVar, get_args

from django.conf import settings

from ecom_project.api_errors import ApplicationError
from ecom_project.events.schemas import Action, Step
from ecom_project.messaging.producer import Publisher
from inventory.services import stock_adjust
from operations.repository import ACCEPTED, FAILED, REFUSED, audit_record
from orders.services import order_compensation_request, order_retry_request

T = TypeVar("T")
STEPS: tuple[str, ...] = get_args(Step)
ACTIONS: tuple[str, ...] = get_args(Action)


def _audited(*, who: str, action: str, target: str, detail: dict, run: Callable[[], T]) -> T:
    try:
        result = run()
    except ApplicationError as exc:
        audit_record(who=who, action=action, target=target, outcome=REFUSED,
                     detail={**detail, "code": exc.code, "reason": exc.message})
        raise
    except Exception as exc:
        audit_record(who=who, action=action, target=target, outcome=FAILED, detail={**detail, "reason": str(exc)[:500]})
        raise
    audit_record(who=who, action=action, target=target, outcome=ACCEPTED, detail={**detail, "result": _summary(result)})
    return result


def _summary(result: object) -> object:
    if isinstance(result, dict):
        return {k: result[k] for k in ("status", "available") if k in result}
    return result if isinstance(result, (str, int, float, type(None))) else type(result).__name__


def _operator_ref(username: str) -> str:
    """Events name the operator by an opaque id, never by username (which may be an email): no PII
    in events. The audit log, which stays inside operations, keeps the username."""
    from django.contrib.auth import get_user_model

    pk = get_user_model().objects.filter(username=username).values_list("pk", flat=True).first()
    return f"user:{pk}" if pk is not None else "user:unknown"


def admin_order_retry(*, order_id: str, step: str, requested_by: str) -> str:
    """Asks the step's owner to re-run it; returns the RetryRequested eventId."""
    def run() -> str:
        return str(order_retry_request(order_id=order_id, step=step, requested_by=_operator_ref(requested_by)))

    return _audited(who=requested_by, action="order.retry", target=f"order:{order_id}", detail={"step": step}, run=run)


def admin_order_compensate(*, order_id: str, action: str, requested_by: str) -> str:
    """Asks for a compensation (release inventory / refund payment); returns its eventId."""
    def run() -> str:
        return str(order_compensation_request(order_id=order_id, action=action, requested_by=_operator_ref(requested_by)))

    return _audited(who=requested_by, action="order.compensate", target=f"order:{order_id}",
                    detail={"action": action}, run=run)


def admin_stock_adjust(*, sku: str, delta: int, reason: str, requested_by: str) -> object:
    def run() -> object:
        return stock_adjust(sku=sku, delta=delta, reason=reason)

    return _audited(who=requested_by, action="stock.adjust", target=f"sku:{sku}",
                    detail={"delta": delta, "reason": reason}, run=run)


@lru_cache(maxsize=4)
def _shared_publisher(brokers: str) -> Publisher:
    return Publisher()


def default_publisher() -> Publisher:
    if not settings.KAFKA_BROKERS:
        raise ApplicationError("No broker is configured (KAFKA_BROKERS).", code="broker_unavailable", status_code=503)
    return _shared_publisher(settings.KAFKA_BROKERS)
