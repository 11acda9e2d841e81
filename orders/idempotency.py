"""Idempotent order intake: the one place that decides whether a request repeats an earlier one.

Two things in a request can name an earlier one: an `Idempotency-Key` header, and a
client-chosen `orderId`. Both are claims in one collection (repository.idempotency_key_claim),
written before the order, so racing requests agree on one orderId; a claim records a hash of
the body, so a repeat with another body is refused instead of answered with the wrong order.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from ecom_project.api_errors import ApplicationError
from orders import repository

# A client-chosen id is claimed under this prefix, so it can never be mistaken for a header key
# that happens to spell the same UUID.
_ORDER_ID_CLAIM = "orderId:"


@dataclass(frozen=True)
class _Claim:
    key: str
    field: str  # what the client sent, named in the error
    status_code: int  # a conflicting repeat: 409 for an orderId (the order exists), 422 for a header key
    code: str


def body_hash(*, items: list[dict], total: Decimal, currency: str, shipping_address: dict | None) -> str:
    """Of the validated body, so `20` and `20.00`, or key order, make no difference."""
    canonical = json.dumps(
        {"items": items, "total": f"{total:.2f}", "currency": currency, "shippingAddress": shipping_address},
        sort_keys=True, separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def claimed_order_id(
    *, new_order_id: str, client_order_id: str | None, idempotency_key: str | None, body_hash: str, at: datetime,
) -> str:
    """The orderId this request creates or repeats.

    Without a client id, a header key seen before answers with its earlier order. With one,
    the id is the order's and every claim must name it: a header key used for another order
    is refused."""
    claims = []
    if client_order_id is not None:
        claims.append(_Claim(_ORDER_ID_CLAIM + client_order_id, "orderId", 409, "conflict"))
    if idempotency_key is not None:
        claims.append(_Claim(idempotency_key, "Idempotency-Key", 422, "idempotency_key_mismatch"))
    order_id = client_order_id or new_order_id
    for claim in claims:
        record = repository.idempotency_key_claim(key=claim.key, body_hash=body_hash, order_id=order_id, at=at)
        if record["bodyHash"] != body_hash:
            raise _refusal(claim, "already used with a different body")
        if record["orderId"] != order_id:
            if client_order_id is not None:
                raise _refusal(claim, f"already used for order {record['orderId']}")
            order_id = record["orderId"]
    return order_id


def _refusal(claim: _Claim, reason: str) -> ApplicationError:
    return ApplicationError(
        f"This {claim.field} was {reason}.", code=claim.code, status_code=claim.status_code, fields={claim.field: reason},
    )
