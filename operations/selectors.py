"""Reads for operators: dead letters (keyset-paginated, newest first) and consumer health."""
from __future__ import annotations

import base64
import binascii
import json
import re
from collections import defaultdict
from datetime import datetime, timedelta, timezone

from ecom_project.api_errors import ApplicationError
from ecom_project.messaging.consumers import all_consumer_specs
from ecom_project.messaging.deadletters import PENDING, STATUSES, dead_letters
from ecom_project.messaging.outbox import backlog
from ecom_project.messaging.runner import consumer_status
from operations.consumer_lag import group_lag

MAX_LIMIT = 200


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


MAX_CURSOR_CHARS = 400  # ours are ~100


def _encode_cursor(letter: dict) -> str:
    position = [_utc(letter["failedAt"]).isoformat(), letter["_id"]]
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode()


def _decode_cursor(cursor: str) -> dict:
    try:
        if len(cursor) > MAX_CURSOR_CHARS:
            raise ValueError("longer than any cursor this API returns")
        failed_at, letter_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(letter_id, str):
            raise TypeError("the letter id of a cursor is a string")
        moment = _utc(datetime.fromisoformat(failed_at))
    except (ValueError, TypeError, binascii.Error, RecursionError):  # RecursionError: deeply nested JSON
        raise ApplicationError("Bad cursor.", code="invalid", fields={"cursor": "not a cursor from a previous page"}) from None
    return {"$or": [{"failedAt": {"$lt": moment}}, {"failedAt": moment, "_id": {"$lt": letter_id}}]}


def dead_letter_list(*, status: str | None = None, topic: str | None = None, order_id: str | None = None,
                     consumer: str | None = None, error: str | None = None, older_than_s: int | None = None,
                     limit: int = 50, cursor: str | None = None) -> tuple[list[dict], str | None]:
    """One page of dead letters and the cursor of the next page (None on the last)."""
    if status and status not in STATUSES:
        raise ApplicationError("Unknown status.", code="invalid", fields={"status": f"must be one of {', '.join(STATUSES)}"})
    clauses = [{key: value} for key, value in (("status", status), ("originalTopic", topic), ("orderId", order_id),
                                               ("consumer", consumer)) if value]
    if error:
        clauses.append({"error": {"$regex": re.escape(error), "$options": "i"}})
    if older_than_s:
        clauses.append({"failedAt": {"$lt": datetime.now(timezone.utc) - timedelta(seconds=older_than_s)}})
    if cursor:
        clauses.append(_decode_cursor(cursor))
    query = {"$and": clauses} if clauses else {}
    limit = max(1, min(limit, MAX_LIMIT))
    page = list(dead_letters().find(query).sort([("failedAt", -1), ("_id", -1)]).limit(limit + 1))
    next_cursor = _encode_cursor(page[limit - 1]) if len(page) > limit else None
    return page[:limit], next_cursor


def dead_letter_get(*, dead_letter_id: str) -> dict:
    letter = dead_letters().find_one({"_id": dead_letter_id})
    if letter is None:
        raise ApplicationError(f"No dead letter {dead_letter_id!r}.", code="not_found", status_code=404)
    return letter


def dead_letter_topics() -> list[str]:
    return sorted(t for t in dead_letters().distinct("originalTopic") if t)


def dead_letter_consumers() -> list[str]:
    return sorted(c for c in dead_letters().distinct("consumer") if c)


def consumer_overview(*, with_lag: bool = True) -> list[dict]:
    """Per consumer: totals over its instances' status reports, dead letters, outbox backlog, lag."""
    rows: dict[str, dict] = defaultdict(lambda: {"processed": 0, "duplicates": 0, "failures": 0, "batches": 0,
                                                 "instances": 0, "running": 0, "heartbeat": None, "group": None})
    for report in consumer_status().find():
        row = rows[report["consumer"]]
        for counter in ("processed", "duplicates", "failures", "batches"):
            row[counter] += report.get(counter, 0)
        row["instances"] += 1
        row["running"] += report.get("state") == "running"
        beat = _utc(report["heartbeat"]) if report.get("heartbeat") else None
        row["heartbeat"] = max(filter(None, [row["heartbeat"], beat]), default=None)
        row["group"] = report.get("group")
    specs = {spec.name: spec for spec in all_consumer_specs()}
    for name in sorted(set(rows) | set(specs)):
        row, spec = rows[name], specs.get(name)
        row["name"] = name
        row["deadLetters"] = dead_letters().count_documents({"consumer": name})
        row["pendingDeadLetters"] = dead_letters().count_documents({"consumer": name, "status": PENDING})
        row["outboxBacklog"] = backlog(spec.outbox_collections()) if spec else None
        group = row["group"] or (spec.group_id if spec else None)
        row["lag"] = group_lag(group_id=group, topics=spec.topics) if with_lag and spec and group else None
    return [rows[name] for name in sorted(rows)]
