"""JSON Schema contracts of every event, and the check that a schema change breaks no consumer.

Breaking: a field removed, a field's type changed or narrowed, an optional field made
required, a new required field. Adding an optional field or widening a type is fine;
anything else needs a new event version on its own topic.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ecom_project.events.envelope import Envelope
from ecom_project.events.registry import SCHEMAS, topic_of

CONTRACTS_DIR = Path(__file__).resolve().parents[2] / "contracts"


def current_contracts() -> dict[str, dict]:
    """File name -> JSON Schema, for the envelope and every payload schema."""
    contracts = {"envelope.json": Envelope.model_json_schema(by_alias=True)}
    for (event_type, version), schema in SCHEMAS.items():
        contracts[f"{topic_of(event_type, version)}.json"] = schema.model_json_schema(by_alias=True)
    return contracts


def write_contracts(directory: Path = CONTRACTS_DIR) -> list[str]:
    directory.mkdir(exist_ok=True)
    for name, schema in current_contracts().items():
        (directory / name).write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
    return sorted(current_contracts())


def breaking_changes(old: dict, new: dict, *, path: str = "") -> list[str]:
    return _compare(_resolve(old, old), _resolve(new, new), path or "<root>")


def _resolve(node: Any, root: dict) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            return _resolve(root["$defs"][name], root)
        return {k: _resolve(v, root) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_resolve(v, root) for v in node]
    return node


def _types(node: dict) -> set[str]:
    if "anyOf" in node:
        return set().union(*(_types(option) for option in node["anyOf"]))
    if "type" in node:
        return {node["type"]} if isinstance(node["type"], str) else set(node["type"])
    if "enum" in node or "const" in node:
        return {"enum"}
    return {"any"}


def _object_branch(node: dict) -> dict | None:
    for option in node.get("anyOf", [node]):
        if option.get("type") == "object" and "properties" in option:
            return option
    return None


def _compare(old: dict, new: dict, path: str) -> list[str]:
    problems: list[str] = []
    old_types, new_types = _types(old), _types(new)
    if "any" not in new_types and not old_types <= new_types:
        problems.append(f"{path}: type changed from {sorted(old_types)} to {sorted(new_types)}")
    old_enum = set(map(str, old.get("enum", []) or ([old["const"]] if "const" in old else [])))
    new_enum = set(map(str, new.get("enum", []) or ([new["const"]] if "const" in new else [])))
    if old_enum and new_enum and not old_enum <= new_enum:
        problems.append(f"{path}: allowed values removed: {sorted(old_enum - new_enum)}")
    old_obj, new_obj = _object_branch(old), _object_branch(new)
    if old_obj and new_obj:
        old_props, new_props = old_obj["properties"], new_obj["properties"]
        for name in old_props:
            if name not in new_props:
                problems.append(f"{path}.{name}: field removed")
            else:
                problems.extend(_compare(old_props[name], new_props[name], f"{path}.{name}"))
        newly_required = set(new_obj.get("required", [])) - set(old_obj.get("required", []))
        for name in sorted(newly_required):
            what = "optional field made required" if name in old_props else "new required field"
            problems.append(f"{path}.{name}: {what}")
    if "items" in old and "items" in new:
        problems.extend(_compare(old["items"], new["items"], f"{path}[]"))
    return problems
