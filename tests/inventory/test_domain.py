"""Pure inventory rules: planning, shortages, reasons, state decisions."""
from __future__ import annotations

import pytest

from inventory import domain
from inventory.domain import PlannedLine as L


def test_plan_merges_a_sku_listed_twice_and_sorts():
    plan = domain.plan_reservation([L("SKU-2", 1), L("SKU-1", 2), L("SKU-2", 3)])
    assert plan == [L("SKU-1", 2), L("SKU-2", 4)]


def test_plan_rejects_a_non_positive_quantity():
    with pytest.raises(ValueError, match="SKU-1"):
        domain.plan_reservation([L("SKU-1", 0)])


def test_no_shortage_when_every_line_fits():
    plan = [L("SKU-1", 5), L("SKU-2", 1)]
    assert domain.find_shortages(plan, available={"SKU-1": 5, "SKU-2": 9}) == []


def test_shortages_report_unknown_and_short_lines_but_not_held_ones():
    plan = [L("A", 5), L("B", 3), L("C", 2)]
    shortages = domain.find_shortages(plan, available={"A": 0, "B": 1}, held=["A"])
    assert shortages == [domain.ShortLine("B", 3, 1, known=True), domain.ShortLine("C", 2, 0, known=False)]


def test_failure_reason_is_readable_and_bounded():
    reason = domain.failure_reason([domain.ShortLine("B", 3, 1, True), domain.ShortLine("C", 2, 0, False)])
    assert reason == "cannot reserve all lines: B short (requested 3, available 1); C unknown SKU"
    many = [domain.ShortLine(f"SKU-{n}", 1, 0, False) for n in range(100)]
    assert len(domain.failure_reason(many)) == domain.MAX_REASON_CHARS


def test_event_lines_split_a_merged_quantity_above_the_schema_cap():
    assert domain.event_lines([L("A", 25_000), L("B", 2)]) == [L("A", 10_000), L("A", 10_000), L("A", 5_000), L("B", 2)]


@pytest.mark.parametrize("status, reserve, release, ship, settle", [
    (None, True, False, False, None),
    (domain.RESERVING, True, True, False, None),
    (domain.RESERVED, False, True, True, None),
    (domain.FAILED, False, False, False, "release"),
    (domain.RELEASED, False, False, False, "release"),
    (domain.CANCELLED, False, False, False, "release"),
    (domain.SHIPPED, False, False, False, "ship"),
])
def test_state_decisions(status, reserve, release, ship, settle):
    assert domain.may_reserve(status) is reserve
    assert domain.may_release(status) is release
    assert domain.may_ship(status) is ship
    assert domain.settlement(status) == settle


def test_only_a_saga_failure_for_an_unknown_order_is_remembered():
    assert domain.records_early_release(None, from_saga=True)
    assert not domain.records_early_release(None, from_saga=False)
    assert not domain.records_early_release(domain.RESERVED, from_saga=True)
