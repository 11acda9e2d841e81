"""Committed contracts vs the code's schemas, and the breaking-change rules themselves."""
from __future__ import annotations

import json

import pytest

from ecom_project.events.contracts import CONTRACTS_DIR, breaking_changes, current_contracts

CURRENT = current_contracts()


@pytest.mark.parametrize("name", sorted(CURRENT))
def test_schema_change_breaks_no_consumer(name):
    path = CONTRACTS_DIR / name
    assert path.exists(), f"contracts/{name} missing: run `python manage.py export_contracts` and commit it"
    committed = json.loads(path.read_text())
    problems = breaking_changes(committed, CURRENT[name])
    assert not problems, f"{name} breaks existing consumers (publish a new version instead): {problems}"
    assert committed == json.loads(json.dumps(CURRENT[name])), (
        f"contracts/{name} is out of date (compatible change): run `python manage.py export_contracts`"
    )


def test_every_committed_contract_still_has_a_schema():
    committed = {p.name for p in CONTRACTS_DIR.glob("*.json")}
    assert committed <= set(CURRENT), f"schemas removed: {committed - set(CURRENT)}"


BASE = {
    "type": "object",
    "properties": {
        "orderId": {"type": "string"},
        "qty": {"type": "integer"},
        "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "line": {"$ref": "#/$defs/Line"},
        "step": {"enum": ["a", "b"], "type": "string"},
    },
    "required": ["orderId", "qty", "line"],
    "$defs": {"Line": {"type": "object", "properties": {"sku": {"type": "string"}}, "required": ["sku"]}},
}


def variant(mutate):
    schema = json.loads(json.dumps(BASE))
    mutate(schema)
    return schema


def test_identical_schema_and_added_optional_field_are_compatible():
    assert breaking_changes(BASE, BASE) == []
    assert breaking_changes(BASE, variant(lambda s: s["properties"].update(extra={"type": "string"}))) == []


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (lambda s: s["properties"].pop("qty"), "qty: field removed"),
        (lambda s: s["properties"].update(qty={"type": "string"}), "qty: type changed"),
        (lambda s: s["required"].append("note"), "note: optional field made required"),
        (lambda s: (s["properties"].update(new={"type": "string"}), s["required"].append("new")), "new: new required field"),
        (lambda s: s["$defs"]["Line"]["properties"].update(sku={"type": "integer"}), "line.sku: type changed"),
        (lambda s: s["properties"]["step"].update(enum=["a"]), "step: allowed values removed"),
    ],
)
def test_breaking_changes_are_named(mutate, expected):
    problems = breaking_changes(BASE, variant(mutate))
    assert any(expected in p for p in problems), problems
