"""The operations app's store: the audit log of operator actions and the dead-letter redrives (the only file naming them)."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ecom_project.mongo import ensure_index, get_db

ACCEPTED, REFUSED, FAILED = "accepted", "refused", "failed"


def audit_log() -> Any:
    return get_db()["audit_log"]


def redrives() -> Any:
    return get_db()["dead_letter_redrives"]


def ensure_indexes() -> None:
    ensure_index(redrives(), [("createdAt", -1)])
    ensure_index(audit_log(), [("at", -1)])
    ensure_index(audit_log(), [("target", 1), ("at", -1)])


def audit_record(*, who: str, action: str, target: str, outcome: str, detail: dict) -> None:
    audit_log().insert_one({
        "who": who, "action": action, "target": target, "outcome": outcome, "detail": detail,
        "at": datetime.now(timezone.utc),
    })


def audit_entries(*, target: str | None = None, limit: int = 50) -> list[dict]:
    query = {"target": target} if target else {}
    return list(audit_log().find(query, {"_id": 0}).sort([("at", -1)]).limit(limit))
