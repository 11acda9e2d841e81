"""Payment rules of the simulated card provider: pure decisions, no I/O."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum


class PaymentStatus(str, Enum):
    AUTHORIZED = "AUTHORIZED"
    DECLINED = "DECLINED"
    REFUNDED = "REFUNDED"


class RefundAction(str, Enum):
    REFUND = "refund"
    # The refund request came before any authorisation: keep it, so a later authorisation is refunded at once.
    REMEMBER = "remember"
    IGNORE = "ignore"


@dataclass(frozen=True)
class AuthorizationDecision:
    approved: bool
    reason: str = ""


def hash_fraction(order_id: str) -> float:
    """A fraction in [0, 1) fixed by the orderId, so a replay or retry decides the same way."""
    digest = hashlib.sha256(f"payment:{order_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def payment_id_for(order_id: str) -> str:
    return "PAY-" + hashlib.sha256(f"payment-id:{order_id}".encode()).hexdigest()[:20].upper()


def decide_authorization(*, order_id: str, amount: Decimal, limit: Decimal, failure_rate: float) -> AuthorizationDecision:
    if amount > limit:
        return AuthorizationDecision(False, f"total {amount:.2f} exceeds the authorisation limit {limit:.2f}")
    if failure_rate > 0 and hash_fraction(order_id) < failure_rate:
        return AuthorizationDecision(False, "card declined by the provider (simulated failure rate)")
    return AuthorizationDecision(True)


def authorization_outcome(*, decision: AuthorizationDecision, refund_requested: bool) -> PaymentStatus:
    """An authorisation that arrives after the order's refund was requested is refunded in the same write."""
    if not decision.approved:
        return PaymentStatus.DECLINED
    return PaymentStatus.REFUNDED if refund_requested else PaymentStatus.AUTHORIZED


def refund_action(*, status: PaymentStatus | None, refund_requested: bool, remember_if_unauthorized: bool) -> RefundAction:
    """Refund an authorised payment once; never refund what was not authorised."""
    if status is PaymentStatus.AUTHORIZED:
        return RefundAction.REFUND
    if status is None and remember_if_unauthorized and not refund_requested:
        return RefundAction.REMEMBER
    return RefundAction.IGNORE

