"""What a chaos run does, decided up front by the seed: the orders (with their designed outcome)
and the faults (kind and the order index after which each is injected).

The same seed gives the same plan; the interleaving of threads is the only thing left to chance.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

SKUS = [f"SKU-{n}" for n in range(1, 21)]
SCARCE_SKU = "SKU-CHAOS-SCARCE"  # seeded with little stock, so some orders lose the race for it
UNKNOWN_SKU = "SKU-CHAOS-UNKNOWN"
DECLINED_TOTAL_FLOOR = 5000  # above PAYMENT_AUTH_LIMIT's default: the card is declined
UNSHIPPABLE_COUNTRY = "JP"  # not in SHIPPING_COUNTRIES' default

# outcome -> (weight, expected terminal statuses)
OUTCOMES: dict[str, tuple[int, frozenset[str]]] = {
    "ships": (55, frozenset({"SHIPPED"})),
    "unknown_sku": (10, frozenset({"REJECTED"})),
    "payment_declined": (12, frozenset({"CANCELLED"})),
    "shipping_refused": (13, frozenset({"CANCELLED"})),
    "scarce_stock": (10, frozenset({"SHIPPED", "REJECTED"})),
}
CRASHES = ("runner.after_effects", "runner.mid_batch", "relay.after_publish")
FAULT_KINDS = (*CRASHES, "handler.raise", "handler.slow", "duplicate", "poison.garbage", "poison.schema",
               "poison.oversized", "broker.pause")
# Each stalls the pipeline for many seconds (a handler slower than max.poll.interval.ms; the broker
# frozen for longer than the producer's message timeout): a few per run, however many faults.
RARE_KINDS = {"handler.slow": 50, "broker.pause": 100}  # kind -> one per this many faults (at least one)


@dataclass(frozen=True)
class PlannedOrder:
    index: int
    outcome: str
    body: dict


@dataclass(frozen=True)
class Fault:
    after_order: int  # injected once this many orders have been placed
    kind: str
    pick: int  # a seed-chosen number the injector uses (which hit, which topic, which message)


def planned_orders(rng: random.Random, count: int) -> list[PlannedOrder]:
    names = list(OUTCOMES)
    weights = [OUTCOMES[name][0] for name in names]
    return [PlannedOrder(i, outcome, _body(rng, outcome)) for i, outcome in enumerate(rng.choices(names, weights, k=count))]


def _body(rng: random.Random, outcome: str) -> dict:
    lines = [{"sku": sku, "qty": rng.randint(1, 3)} for sku in rng.sample(SKUS, rng.randint(1, 3))]
    total = round(rng.uniform(5, 900), 2)
    country = rng.choice(["US", "CA", "GB", "DE", "FR", "NL"])
    if outcome == "unknown_sku":
        lines.append({"sku": UNKNOWN_SKU, "qty": 1})
    elif outcome == "payment_declined":
        total = round(rng.uniform(DECLINED_TOTAL_FLOOR + 1, 20000), 2)
    elif outcome == "shipping_refused":
        country = UNSHIPPABLE_COUNTRY
    elif outcome == "scarce_stock":
        lines = [{"sku": SCARCE_SKU, "qty": rng.randint(1, 2)}]
    return {"items": lines, "total": total, "currency": "USD", "shippingAddress": {"country": country}}


def fault_schedule(rng: random.Random, *, orders: int, faults: int) -> list[Fault]:
    """`faults` faults (at least one of every kind), at seed-chosen points of the run."""
    rare = [kind for kind, every in RARE_KINDS.items() for _ in range(max(1, faults // every))]
    others = [k for k in FAULT_KINDS if k not in RARE_KINDS]
    kinds = others + [rng.choice(others) for _ in range(max(0, faults - len(rare) - len(others)))] + rare
    rng.shuffle(kinds)
    points = sorted(rng.randint(1, max(1, orders - 1)) for _ in kinds)
    return [Fault(after_order=at, kind=kind, pick=rng.randint(0, 10_000)) for at, kind in zip(points, kinds)]
