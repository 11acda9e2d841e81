"""Operator actions. Each one is audited (who, what, target, outcome, incl. refusals) and
delegates the effect to the owning app's public service or to the kernel."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from functools import lru_cache
from typing import TypeVar, get_args

from django.conf import settings
from pymongo import ReturnDocument

from ecom_project.api_errors import ApplicationError
from ecom_project.config import ConfigError
from ecom_project.events.schemas import Action, Step
from ecom_project.messaging.deadletters import REPLAYED, dead_letters, original_bytes
from ecom_project.messaging.producer import PublishError, Publisher
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


def dead_letter_replay(*, dead_letter_id: str, requested_by: str, force: bool = False,
                       publisher: Publisher | None = None) -> dict:
    """Republishes the original bytes to the original topic with the original key and marks
    the entry replayed. The mark is claimed first (atomically), so two operators replaying
    at once publish once; a publish failure gives the claim back."""
    return _audited(
        who=requested_by, action="deadletter.replay", target=f"deadletter:{dead_letter_id}", detail={"force": force},
        run=lambda: _replay(dead_letter_id=dead_letter_id, requested_by=requested_by, force=force, publisher=publisher),
    )


def _replay(*, dead_letter_id: str, requested_by: str, force: bool, publisher: Publisher | None) -> dict:
    letter = dead_letters().find_one({"_id": dead_letter_id})
    if letter is None:
        raise ApplicationError(f"No dead letter {dead_letter_id!r}.", code="not_found", status_code=404)
    key = letter.get("key") or letter.get("orderId")
    original = original_bytes(letter)
    if original is None or not key:
        raise ApplicationError("This dead letter has no original message or key to replay.",
                               code="not_replayable", status_code=409)
    publisher = publisher or default_publisher()
    replay = {"id": uuid.uuid4().hex, "at": datetime.now(timezone.utc), "by": requested_by, "forced": force}
    guard = {"_id": dead_letter_id} if force else {"_id": dead_letter_id, "status": {"$ne": REPLAYED}}
    claimed = dead_letters().find_one_and_update(
        guard, {"$set": {"status": REPLAYED}, "$push": {"replays": replay}}, return_document=ReturnDocument.AFTER,
    )
    if claimed is None:
        raise ApplicationError("This dead letter was already replayed; send force to replay it again.",
                               code="already_replayed", status_code=409)
    try:
        publisher.publish([(letter["originalTopic"], key, original)])
    except (PublishError, ConfigError) as exc:
        stored = [r for r in claimed["replays"] if r["id"] == replay["id"]]  # as stored: $pullAll matches exactly
        dead_letters().update_one({"_id": dead_letter_id},
                                  {"$set": {"status": letter["status"]}, "$pullAll": {"replays": stored}})
        raise ApplicationError(f"The broker did not accept the replay: {exc}", code="broker_unavailable",
                               status_code=503) from None
    return claimed
