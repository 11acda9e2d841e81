"""What kinds of orders a load run offers, and the request body of each kind (DESIGN §6 providers)."""
from __future__ import annotations

import random
from collections.abc import Mapping

HAPPY = "happy"
DECLINE = "decline"
SHIPFAIL = "shipfail"
UNKNOWN = "unknown"
KINDS = (HAPPY, DECLINE, SHIPFAIL, UNKNOWN)
DEFAULT_MIX = "happy=0.8,decline=0.1,shipfail=0.05,unknown=0.05"
# The terminal status each kind is expected to reach; a different one is worth a look.
EXPECTED_STATUS = {HAPPY: "SHIPPED", DECLINE: "CANCELLED", SHIPFAIL: "CANCELLED", UNKNOWN: "REJECTED"}
KNOWN_SKUS = 20  # seed_inventory seeds SKU-1..SKU-20


class MixError(ValueError):
    """The --mix text cannot be understood."""


def parse_mix(text: str) -> dict[str, float]:
    """`happy=0.8,decline=0.2` -> normalised weights; unknown kinds, bad numbers or an all-zero mix are errors."""
    weights: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        name = name.strip().lower()
        if not sep or name not in KINDS:
            raise MixError(f"--mix part {part!r} is not one of {', '.join(k + '=WEIGHT' for k in KINDS)}")
        try:
            weight = float(value)
        except ValueError:
            raise MixError(f"--mix weight {value.strip()!r} of {name} is not a number") from None
        if not 0 <= weight < float("inf"):
            raise MixError(f"--mix weight of {name} must be a finite number >= 0")
        weights[name] = weights.get(name, 0.0) + weight
    total = sum(weights.values())
    if total <= 0:
        raise MixError("--mix needs at least one kind with a weight above 0")
    return {name: weight / total for name, weight in weights.items() if weight > 0}


def pick_kind(mix: Mapping[str, float], rng: random.Random) -> str:
    return rng.choices(list(mix), weights=list(mix.values()))[0]


def order_body(kind: str, rng: random.Random, *, auth_limit: float = 5000.0, unshipped_country: str = "BR") -> dict:
    """A valid POST /api/orders body that drives the saga down the path of `kind`."""
    sku = f"SKU-{rng.randint(1, KNOWN_SKUS)}"
    body: dict = {"items": [{"sku": sku, "qty": 1}], "total": round(rng.uniform(5, 200), 2),
                  "currency": "USD", "shippingAddress": {"country": "US"}}
    if kind == DECLINE:
        body["total"] = round(auth_limit + rng.uniform(1, 1000), 2)
    elif kind == SHIPFAIL:
        body["shippingAddress"] = {"country": unshipped_country}
    elif kind == UNKNOWN:
        body["items"] = [{"sku": f"NO-SUCH-SKU-{rng.randint(1, 10**6)}", "qty": 1}]
    elif kind != HAPPY:
        raise MixError(f"unknown order kind {kind!r}")
    return body
