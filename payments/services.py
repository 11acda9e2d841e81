"""Payment writes: authorise an order's total once, refund an authorised payment once."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from django.conf import settings

from ecom_project.events.envelope import Envelope, new_event
from ecom_project.events.registry import PAYMENT_AUTHORIZED, PAYMENT_FAILED, PAYMENT_REFUNDED
from ecom_project.events.schemas import PaymentAuthorizedV1, PaymentFailedV1, PaymentRefundedV1
from payments import domain, repository
from payments.domain import PaymentStatus, RefundAction

# A conditional write loses only to a concurrent write of the same order; re-reading then sees
# the new state. More losses than this in a row means something is wrong: let the runner retry.
_MAX_WRITE_ATTEMPTS = 3


class PaymentWriteConflict(RuntimeError):
    """The payment document kept changing under this write; raised so the runner retries later."""


def payment_authorize(
    *, order_id: str, amount: Decimal, currency: str, shipping_country: str | None, cause: Envelope
) -> PaymentStatus | None:
    """Authorise `amount` unless the order has a payment outcome already; returns the new status or None."""
    for _ in range(_MAX_WRITE_ATTEMPTS):
        payment = repository.payment_find(order_id=order_id, internal=True) or {}
        if payment.get("status") or str(cause.event_id) in payment.get("appliedEvents", []):
            return None
        refund_request = payment.get("refundRequested")
        decision = domain.decide_authorization(
            order_id=order_id, amount=amount, limit=Decimal(str(settings.PAYMENT_AUTH_LIMIT)),
            failure_rate=settings.PAYMENT_FAILURE_RATE,
        )
        status = domain.authorization_outcome(decision=decision, refund_requested=bool(refund_request))
        reason = decision.reason or (refund_request or {}).get("reason", "")
        fields = _outcome_fields(status=status, order_id=order_id, amount=amount, currency=currency, reason=reason)
        events = _outcome_events(
            status=status, order_id=order_id, payment_id=fields.get("paymentId", ""), amount=amount, currency=currency,
            shipping_country=shipping_country, reason=reason, cause=cause,
        )
        if repository.payment_record_outcome(
            order_id=order_id, fields=fields, refund_requested=bool(refund_request), events=events,
            applied_event_id=str(cause.event_id),
        ):
            return status
    raise PaymentWriteConflict(f"payment of order {order_id} changed {_MAX_WRITE_ATTEMPTS} times during authorisation")


def payment_refund(*, order_id: str, reason: str, cause: Envelope, remember_if_unauthorized: bool) -> RefundAction:
    """Refund the order's authorised payment once. With `remember_if_unauthorized`, a request that comes
    before the authorisation is kept, so the authorisation is refunded as soon as it is made."""
    for _ in range(_MAX_WRITE_ATTEMPTS):
        payment = repository.payment_find(order_id=order_id, internal=True) or {}
        if str(cause.event_id) in payment.get("appliedEvents", []):
            return RefundAction.IGNORE
        status = PaymentStatus(payment["status"]) if payment.get("status") else None
        action = domain.refund_action(
            status=status, refund_requested="refundRequested" in payment, remember_if_unauthorized=remember_if_unauthorized,
        )
        if action is RefundAction.IGNORE:
            return action
        if action is RefundAction.REMEMBER:
            written = repository.payment_remember_refund_request(
                order_id=order_id, reason=reason, applied_event_id=str(cause.event_id),
            )
        else:
            refunded = _refunded_event(payment=payment, order_id=order_id, reason=reason, cause=cause)
            written = repository.payment_mark_refunded(
                order_id=order_id, reason=reason, events=[refunded], applied_event_id=str(cause.event_id),
            )
        if written:
            return action
    raise PaymentWriteConflict(f"payment of order {order_id} changed {_MAX_WRITE_ATTEMPTS} times during refund")


def _outcome_fields(
    *, status: PaymentStatus, order_id: str, amount: Decimal, currency: str, reason: str
) -> dict:
    fields = {"status": status.value, "amount": f"{amount:.2f}", "currency": currency}
    if status is PaymentStatus.DECLINED:
        return {**fields, "declineReason": reason}
    now = datetime.now(timezone.utc)
    fields.update(paymentId=domain.payment_id_for(order_id), authorizedAt=now)
    if status is PaymentStatus.REFUNDED:
        fields.update(refundReason=reason, refundedAt=now)
    return fields


def _outcome_events(
    *, status: PaymentStatus, order_id: str, payment_id: str, amount: Decimal, currency: str,
    shipping_country: str | None, reason: str, cause: Envelope,
) -> list[Envelope]:
    if status is PaymentStatus.DECLINED:
        failed = PaymentFailedV1(order_id=order_id, amount=amount, currency=currency, reason=reason)
        return [new_event(PAYMENT_FAILED, failed, order_id=order_id, cause=cause)]
    authorized = PaymentAuthorizedV1(
        order_id=order_id, payment_id=payment_id, amount=amount, currency=currency, shipping_country=shipping_country,
    )
    events = [new_event(PAYMENT_AUTHORIZED, authorized, order_id=order_id, cause=cause)]
    if status is PaymentStatus.REFUNDED:
        refunded = PaymentRefundedV1(order_id=order_id, payment_id=payment_id, amount=amount, currency=currency, reason=reason)
        events.append(new_event(PAYMENT_REFUNDED, refunded, order_id=order_id, cause=cause))
    return events


def _refunded_event(*, payment: dict, order_id: str, reason: str, cause: Envelope) -> Envelope:
    refunded = PaymentRefundedV1(
        order_id=order_id, payment_id=payment["paymentId"], amount=Decimal(payment["amount"]),
        currency=payment["currency"], reason=reason,
    )
    return new_event(PAYMENT_REFUNDED, refunded, order_id=order_id, cause=cause)
