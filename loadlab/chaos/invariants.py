"""The invariants a chaos run must keep, as pure functions over what the run observed."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from loadlab.chaos.ledger import Ledger
from ecom_project.events import registry as ev

TERMINAL = {"SHIPPED", "REJECTED", "CANCELLED"}
ONE_PER_ORDER = (ev.INVENTORY_RESERVED, ev.INVENTORY_FAILED, ev.INVENTORY_RELEASED, ev.PAYMENT_AUTHORIZED,
                 ev.PAYMENT_FAILED, ev.PAYMENT_REFUNDED, ev.ORDER_SHIPPED, ev.SHIPPING_FAILED)
EXAMPLES_SHOWN = 5


@dataclass
class Check:
    name: str
    violations: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    def line(self) -> str:
        shown = "; ".join(self.violations[:EXAMPLES_SHOWN])
        return f"{'PASS' if self.ok else 'FAIL'}  {self.name}" + ("" if self.ok else f"  ({len(self.violations)}: {shown})")


def every_order_terminal(statuses: Mapping[str, str]) -> Check:
    return Check("every order is terminal", [f"{o} is {s}" for o, s in statuses.items() if s not in TERMINAL])


def outcomes_as_designed(statuses: Mapping[str, str], expected: Mapping[str, frozenset[str]]) -> Check:
    return Check("every order ended as its inputs decide", [
        f"{o} is {statuses.get(o)}, expected {'/'.join(sorted(want))}" for o, want in expected.items()
        if statuses.get(o) not in want
    ])


def stock_conserved(stock: Iterable[Mapping], initial: Mapping[str, int]) -> Check:
    check = Check("per SKU initial == available + reserved + shipped, nothing left reserved")
    for row in stock:
        sku, total = row["sku"], row["available"] + row["reserved"] + row["shipped"]
        if total != initial.get(sku, row.get("stocked")):
            check.violations.append(f"{sku}: initial {initial.get(sku)} != {total}")
        if row["reserved"] or row.get("holds"):
            check.violations.append(f"{sku}: {row['reserved']} still reserved after quiescence")
    return check


def shipped_units_match(stock: Iterable[Mapping], shipped_lines: Iterable[Mapping]) -> Check:
    wanted: Counter[str] = Counter()
    for line in shipped_lines:
        wanted[line["sku"]] += line["qty"]
    return Check("per SKU shipped units == units of SHIPPED orders", [
        f"{row['sku']}: shipped {row['shipped']} != {wanted.get(row['sku'], 0)}" for row in stock
        if row["shipped"] != wanted.get(row["sku"], 0)
    ])


def one_effect_per_order(ledger: Ledger, order_ids: Iterable[str]) -> Check:
    """Two events of one outcome type for one order = an effect applied twice (≤ 1 authorisation, ≤ 1 refund...)."""
    check = Check("per order at most one event of each outcome (<= 1 authorisation, <= 1 refund, ...)")
    for order_id in order_ids:
        counts = Counter(e.type for e in ledger.events(order_id) if e.type in ONE_PER_ORDER)
        check.violations += [f"{order_id}: {n} x {t}" for t, n in counts.items() if n > 1]
    return check


def refund_after_authorisation(ledger: Ledger, order_ids: Iterable[str]) -> Check:
    check = Check("a refund only after an authorisation")
    for order_id in order_ids:
        authorized = ledger.events(order_id, ev.PAYMENT_AUTHORIZED)
        for refund in ledger.events(order_id, ev.PAYMENT_REFUNDED):
            if not authorized or authorized[0].timestamp > refund.timestamp:
                check.violations.append(f"{order_id}: refund {refund.event_id} without an earlier authorisation")
    return check


def compensations_complete(ledger: Ledger, statuses: Mapping[str, str]) -> Check:
    check = Check("every CANCELLED order had all its compensations; SHIPPED/REJECTED none")
    for order_id, status in statuses.items():
        seen = {e.type for e in ledger.events(order_id)}
        if status == "CANCELLED":
            if ev.INVENTORY_RESERVED in seen and ev.INVENTORY_RELEASED not in seen:
                check.violations.append(f"{order_id}: reserved, never released")
            if ev.PAYMENT_AUTHORIZED in seen and ev.PAYMENT_REFUNDED not in seen:
                check.violations.append(f"{order_id}: authorised, never refunded")
        elif seen & {ev.INVENTORY_RELEASED, ev.PAYMENT_REFUNDED}:
            check.violations.append(f"{order_id}: {status} but compensated")
    return check


def dead_letters_are_the_poison(letters: Iterable[Mapping], poison: Iterable[tuple[str, str]],
                                subscribers: Mapping[str, set[str]]) -> Check:
    """Each poison message is dead-lettered by every consumer of its topic, and nothing else is."""
    expected = {(key, topic, consumer) for key, topic in poison for consumer in subscribers.get(topic, ())}
    found = {(letter.get("key"), letter.get("originalTopic"), letter.get("consumer")) for letter in letters}
    check = Check("every poison message is a dead letter, and nothing else is")
    check.violations += [f"poison {k} on {t} not dead-lettered by {c}" for k, t, c in sorted(expected - found)]
    check.violations += [f"unexpected dead letter {k} on {t} by {c}" for k, t, c in sorted(found - expected, key=str)]
    return check


def every_group_consumed_its_topics(lags: Mapping[str, int | None]) -> Check:
    """Each consumer group committed every event of its topics (lag 0). With the ledger's checks
    (one effect per order, no status twice) this is "every event processed, none applied twice"."""
    check = Check("every consumer committed every event of its topics")
    check.violations += [f"{consumer}: {'lag unknown' if lag is None else f'{lag} events not committed'}"
                         for consumer, lag in sorted(lags.items()) if lag != 0]
    return check


def status_history_monotonic(histories: Mapping[str, list[str]]) -> Check:
    return Check("no order status recorded twice (no event applied twice by orders)", [
        f"{o}: {h}" for o, h in histories.items() if len(h) != len(set(h))
    ])
