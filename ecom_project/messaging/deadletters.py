"""Dead letters: the DLQ topic message and the `dead_letters` document operators act on.

A letter is one failed event of one consumer, for its whole life: a replay goes to that consumer's
retry topic only, and when the replayed event fails again the same letter is updated (failures,
last error, history) instead of a new one being made. Letters are found by `<consumer>:<eventId>`
(the `dead_letter_refs` collection, read by `_id` only).
"""
from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime, timezone
from typing import Any

from django.conf import settings

from ecom_project.events.envelope import Envelope
from ecom_project.events.registry import DEAD_LETTER, DLQ_SUFFIX, dlq_topic, is_retry_topic, schema_for
from ecom_project.mongo import ensure_index, get_db

PENDING, REPLAYED, PARKED = "pending", "replayed", "parked"
STATUSES = (PENDING, REPLAYED, PARKED)
_REFAILURE = "_refailure"  # marks a document of build_dead_letter that updates an existing letter


def dead_letters() -> Any:
    return get_db()["dead_letters"]


def dead_letter_refs() -> Any:
    return get_db()["dead_letter_refs"]


def ensure_indexes() -> None:
    col = dead_letters()
    ensure_index(col, [("status", 1), ("failedAt", -1)])
    ensure_index(col, [("originalTopic", 1), ("failedAt", -1)])
    ensure_index(col, [("orderId", 1)])


def ref_id(consumer: str, event_id: object) -> str:
    return f"{consumer}:{event_id}"


def link_event(*, consumer: str, event_id: object, dead_letter_id: str) -> None:
    """A later failure of this event in this consumer updates `dead_letter_id` (an edited replay links its own id)."""
    dead_letter_refs().update_one({"_id": ref_id(consumer, event_id)}, {"$set": {"letter": dead_letter_id}}, upsert=True)


def letter_of_event(consumer: str, event_id: object) -> dict | None:
    ref = dead_letter_refs().find_one({"_id": ref_id(consumer, event_id)})
    return dead_letters().find_one({"_id": ref["letter"]}) if ref else None


def build_dead_letter(
    *, consumer: str, topic: str, partition: int, offset: int, key: bytes | None, raw: bytes | None,
    event: Envelope | None, error: str, attempts: int,
) -> tuple[dict, Envelope]:
    """The stored document and the DLQ envelope for one failed message.

    A new letter's id is derived from (consumer, topic, partition, offset): dead-lettering the same
    message again after a crash overwrites nothing and adds nothing. An event that already has a
    letter in this consumer (a replay that failed again) gets that letter's id and updates it.
    """
    source = f"{topic}:{partition}:{offset}"
    failed_at = datetime.now(timezone.utc)
    existing = letter_of_event(consumer, event.event_id) if event else None
    original_topic = existing["originalTopic"] if existing else (event.topic if event and is_retry_topic(topic) else topic)
    dead_letter_id = existing["_id"] if existing else f"{consumer}:{topic}:{partition}:{offset}"
    original: Any = event.to_wire() if event else _raw_payload(raw)
    order_id = event.key if event else _guess_order_id(original, key)
    payload = schema_for(DEAD_LETTER)(
        original_topic=original_topic, original_type=event.type if event else None,
        original_event_id=str(event.event_id) if event else None, order_id=order_id,
        consumer=consumer, error=error[:2000], attempts=attempts,
        failed_at=failed_at.isoformat(), payload=original,
    )
    envelope = Envelope(
        event_id=uuid.uuid5(uuid.NAMESPACE_URL, f"{dead_letter_id}#{source}" if existing else dead_letter_id),
        type=DEAD_LETTER, version=1,
        timestamp=failed_at, correlation_id=event.correlation_id if event else (order_id or "unknown"),
        causation_id=str(event.event_id) if event else None, key=order_id or "unknown",
        payload=payload.model_dump(mode="json", by_alias=True),
        headers={"deadLetterId": dead_letter_id},  # readers (the order timeline) link to the stored letter
    )
    failure = {"at": failed_at, "error": error[:2000], "attempts": attempts, "source": source}
    # A failed dead letter (the projector reading a .dlq topic) is stored, never re-published to a .dlq.dlq.
    failed_letter = original_topic.endswith(DLQ_SUFFIX) or (event is not None and event.type == DEAD_LETTER)
    dlq = None if failed_letter else dlq_topic(original_topic)
    if existing:
        return {"_id": dead_letter_id, _REFAILURE: failure, "dlqTopic": dlq, "consumer": consumer}, envelope
    document = {
        "_id": dead_letter_id, "status": PENDING, "dlqTopic": dlq, "partition": partition, "offset": offset,
        **_exact("raw", raw), **_exact("key", key),
        "poison": event is None, "replayCount": 0, "replays": [], "edits": [], "failures": 1,
        "history": [failure], "lastSource": source, "lastFailedAt": failed_at,
        **payload.model_dump(mode="json", by_alias=True), "failedAt": failed_at,
    }
    document["payload"] = _storable(document["payload"])
    return document, envelope


def _exact(name: str, value: bytes | None) -> dict:
    """The bytes exactly (`<name>Base64`) and, only when they are UTF-8, as text (`<name>`)."""
    if value is None:
        return {name: None, f"{name}Base64": None, f"{name}Encoding": None}
    try:
        return {name: value.decode("utf-8"), f"{name}Base64": base64.b64encode(value).decode(), f"{name}Encoding": "utf-8"}
    except UnicodeDecodeError:
        return {name: None, f"{name}Base64": base64.b64encode(value).decode(), f"{name}Encoding": "base64"}


def _storable(value: Any) -> Any:
    """A poison payload may have keys no document can hold (`$gt`, `a.b`): then it is kept as its JSON
    text (the exact bytes are in rawBase64 either way)."""
    def clean(node: Any) -> bool:
        if isinstance(node, dict):
            return all(isinstance(k, str) and not k.startswith("$") and "." not in k and "\0" not in k and clean(v)
                       for k, v in node.items())
        if isinstance(node, list):
            return all(clean(item) for item in node)
        return True

    return value if clean(value) else json.dumps(value)


def original_bytes(document: dict) -> bytes | None:
    """The message exactly as it was consumed (`raw` is only its text, when it is UTF-8)."""
    if document.get("rawBase64") is not None:
        return base64.b64decode(document["rawBase64"])
    return document["raw"].encode("utf-8") if document.get("raw") is not None else None


def current_bytes(document: dict) -> bytes | None:
    """What a replay sends: the latest operator edit, else the original message."""
    edits = document.get("edits") or []
    return base64.b64decode(edits[-1]["rawBase64"]) if edits else original_bytes(document)


def store(document: dict) -> None:
    failure = document.pop(_REFAILURE, None)
    if failure is not None:
        _record_refailure(document["_id"], failure)
        return
    dead_letters().update_one({"_id": document["_id"]}, {"$setOnInsert": document}, upsert=True)
    if document.get("originalEventId"):
        link_event(consumer=document["consumer"], event_id=document["originalEventId"], dead_letter_id=document["_id"])


def _record_refailure(dead_letter_id: str, failure: dict) -> None:
    """The replayed event failed again: the same letter takes the failure; parked once it was replayed
    DEAD_LETTER_MAX_REPLAYS times. The same message dead-lettered twice (a crash) is recorded once."""
    letter = dead_letters().find_one({"_id": dead_letter_id}, {"replayCount": 1})
    if letter is None:
        return
    replays = letter.get("replayCount", 0)
    status = PARKED if replays >= settings.DEAD_LETTER_MAX_REPLAYS else PENDING
    dead_letters().update_one(
        {"_id": dead_letter_id, "lastSource": {"$ne": failure["source"]}},
        {"$set": {"status": status, "error": failure["error"], "attempts": failure["attempts"],
                  "lastFailedAt": failure["at"], "lastSource": failure["source"], "poison": False},
         "$inc": {"failures": 1}, "$push": {"history": {**failure, "afterReplay": replays}}},
    )


def _raw_payload(raw: bytes | None) -> Any:
    if raw is None:
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"rawBase64": base64.b64encode(raw).decode()}
    try:
        return json.loads(text)
    except ValueError:
        return text[:65536]


def _guess_order_id(original: Any, key: bytes | None) -> str | None:
    payload = original.get("payload") if isinstance(original, dict) else None
    guess = (original.get("key") if isinstance(original, dict) else None) or (
        payload.get("orderId") if isinstance(payload, dict) else None
    ) or (key.decode("utf-8", "replace") if key else None)
    return str(guess)[:64] if guess else None
