"""Payment rules without Kafka or Mongo."""
from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from payments.domain import (
    AuthorizationDecision, PaymentStatus, RefundAction, authorization_outcome, decide_authorization, hash_fraction,
    payment_id_for, refund_action,
)

LIMIT = Decimal("5000")


def decide(amount: str, *, order_id: str = "order-1", failure_rate: float = 0.0) -> AuthorizationDecision:
    return decide_authorization(order_id=order_id, amount=Decimal(amount), limit=LIMIT, failure_rate=failure_rate)


def test_limit_is_inclusive():
    assert decide("5000.00").approved
    assert decide("0.00").approved


def test_one_cent_above_the_limit_is_declined_with_a_readable_reason():
    decision = decide("5000.01")
    assert not decision.approved
    assert decision.reason == "total 5000.01 exceeds the authorisation limit 5000.00"


def test_failure_rate_decision_is_fixed_by_the_order_id():
    order_ids = [uuid.uuid4().hex for _ in range(50)]
    first = [decide("10.00", order_id=o, failure_rate=0.5).approved for o in order_ids]
    again = [decide("10.00", order_id=o, failure_rate=0.5).approved for o in order_ids]
    assert first == again
    assert hash_fraction("order-1") == hash_fraction("order-1")
    assert 0.0 <= hash_fraction("order-1") < 1.0


def test_failure_rate_declines_roughly_that_share_of_orders():
    declined = sum(not decide("10.00", order_id=f"order-{n}", failure_rate=0.3).approved for n in range(4000))
    assert 0.27 < declined / 4000 < 0.33
    assert "simulated failure rate" in decide("10.00", order_id="x", failure_rate=1.0).reason


@pytest.mark.parametrize("rate, approved", [(0.0, True), (1.0, False)])
def test_failure_rate_extremes(rate, approved):
    assert all(decide("10.00", order_id=f"o{n}", failure_rate=rate).approved is approved for n in range(100))


def test_payment_id_is_deterministic_and_distinct_per_order():
    assert payment_id_for("a") == payment_id_for("a") != payment_id_for("b")


def test_authorisation_after_a_refund_request_is_refunded_at_once():
    approved, declined = AuthorizationDecision(True), AuthorizationDecision(False, "no")
    assert authorization_outcome(decision=approved, refund_requested=False) is PaymentStatus.AUTHORIZED
    assert authorization_outcome(decision=approved, refund_requested=True) is PaymentStatus.REFUNDED
    assert authorization_outcome(decision=declined, refund_requested=True) is PaymentStatus.DECLINED


@pytest.mark.parametrize("status, requested, remember, expected", [
    (PaymentStatus.AUTHORIZED, False, False, RefundAction.REFUND),
    (PaymentStatus.AUTHORIZED, False, True, RefundAction.REFUND),
    (PaymentStatus.REFUNDED, False, True, RefundAction.IGNORE),
    (PaymentStatus.DECLINED, False, True, RefundAction.IGNORE),
    (None, False, True, RefundAction.REMEMBER),
    (None, True, True, RefundAction.IGNORE),
    (None, False, False, RefundAction.IGNORE),
])
def test_refund_only_what_is_authorised(status, requested, remember, expected):
    assert refund_action(status=status, refund_requested=requested, remember_if_unauthorized=remember) is expected
