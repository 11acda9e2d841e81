"""Dead letters: the DLQ topic message and the `dead_letters` document operators act on."""
from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime, timezone
from typing import Any

from ecom_project.events.envelope import Envelope
from ecom_project.events.registry import DEAD_LETTER, dlq_topic, schema_for
from ecom_project.mongo import ensure_index, get_db

PENDING, REPLAYED = "pending", "replayed"


def dead_letters() -> Any:
    return get_db()["dead_letters"]


def ensure_indexes() -> None:
    col = dead_letters()
    ensure_index(col, [("status", 1), ("failedAt", -1)])
    ensure_index(col, [("originalTopic", 1), ("failedAt", -1)])
    ensure_index(col, [("orderId", 1)])


def build_dead_letter(
    *, consumer: str, topic: str, partition: int, offset: int, key: bytes | None, raw: bytes | None,
    event: Envelope | None, error: str, attempts: int,
) -> tuple[dict, Envelope]:
    """The stored document and the DLQ envelope for one failed message.

    The id is derived from (consumer, topic, partition, offset): dead-lettering the same
    message again after a crash overwrites nothing and adds nothing.
    """
    dead_letter_id = f"{consumer}:{topic}:{partition}:{offset}"
    failed_at = datetime.now(timezone.utc)
    original: Any = event.to_wire() if event else _raw_payload(raw)
    order_id = event.key if event else _guess_order_id(original, key)
    payload = schema_for(DEAD_LETTER)(
        original_topic=topic, original_type=event.type if event else None,
        original_event_id=str(event.event_id) if event else None, order_id=order_id,
        consumer=consumer, error=error[:2000], attempts=attempts,
        failed_at=failed_at.isoformat(), payload=original,
    )
    envelope = Envelope(
        event_id=uuid.uuid5(uuid.NAMESPACE_URL, dead_letter_id), type=DEAD_LETTER, version=1,
        timestamp=failed_at, correlation_id=event.correlation_id if event else (order_id or "unknown"),
        causation_id=str(event.event_id) if event else None, key=order_id or "unknown",
        payload=payload.model_dump(mode="json", by_alias=True),
        headers={"deadLetterId": dead_letter_id},  # readers (the order timeline) link to the stored letter
    )
    document = {
        "_id": dead_letter_id, "status": PENDING, "dlqTopic": dlq_topic(topic), "partition": partition,
        "offset": offset, "raw": raw.decode("utf-8", "replace") if raw is not None else None,
        "rawBase64": base64.b64encode(raw).decode() if raw is not None else None,
        "key": key.decode("utf-8", "replace") if key is not None else None,  # a replay reuses the partition key
        "replays": [], **payload.model_dump(mode="json", by_alias=True), "failedAt": failed_at,
    }
    document["payload"] = _storable(document["payload"])
    return document, envelope


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
    """The message exactly as it was consumed (`raw` is only its readable text)."""
    if document.get("rawBase64") is not None:
        return base64.b64decode(document["rawBase64"])
    return document["raw"].encode("utf-8") if document.get("raw") is not None else None


def store(document: dict) -> None:
    dead_letters().update_one({"_id": document["_id"]}, {"$setOnInsert": document}, upsert=True)


def _raw_payload(raw: bytes | None) -> Any:
    if raw is None:
        return None
    text = raw.decode("utf-8", "replace")
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
