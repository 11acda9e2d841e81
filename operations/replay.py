"""Replaying one dead letter, to the consumer that failed it and no other.

The event goes to that consumer's retry topic (`ops.retry.<consumer>`, read by its group only) with
its own eventId, so a consumer that applied it already skips it. The letter counts its replays; the
claim is atomic on that count, so two operators replaying at once publish once. A replayed event
that fails again updates the same letter (ecom_project/messaging/deadletters.py) and, after
DEAD_LETTER_MAX_REPLAYS replays, parks it: then only `force` or an edited payload replays it.
Poison (bytes that are not a valid event) is never replayed unchanged.
"""
from __future__ import annotations

import base64
import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from django.conf import settings
from pymongo import ReturnDocument

from ecom_project.api_errors import ApplicationError
from ecom_project.config import ConfigError
from ecom_project.events.envelope import Envelope, InvalidEvent, decode
from ecom_project.events.registry import DEAD_LETTER, DLQ_SUFFIX, is_retry_topic, retry_topic
from ecom_project.messaging.deadletters import PARKED, REPLAYED, current_bytes, dead_letters, link_event
from ecom_project.messaging.producer import PublishError, Publisher
from operations import services


@dataclass(frozen=True)
class ReplayPlan:
    """What a replay of one letter would send, and where."""

    message: bytes
    event: Envelope
    topic: str
    edited: bool


def replay_plan(letter: dict, *, force: bool = False, edited: bytes | None = None) -> ReplayPlan:
    """The checks of a replay, without side effects (dry runs use them too): ApplicationError when refused."""
    if edited is not None:
        event = _valid_edit(letter, edited)
        return ReplayPlan(message=edited, event=event, topic=retry_topic(letter["consumer"]), edited=True)
    message = current_bytes(letter)
    if message is None:
        raise ApplicationError("This dead letter has no original message to replay.", code="not_replayable", status_code=409)
    try:
        event = decode(message)
    except InvalidEvent as exc:
        raise ApplicationError(
            f"Poison: the message is not a valid event ({exc}); it cannot be replayed unchanged. "
            "Replay an edited payload that passes validation instead.", code="poison", status_code=409,
        ) from None
    replays = letter.get("replayCount", 0)
    if letter.get("status") == PARKED and not force:
        raise ApplicationError(
            f"Parked: replayed {replays} time(s) and failed again (DEAD_LETTER_MAX_REPLAYS="
            f"{settings.DEAD_LETTER_MAX_REPLAYS}); send force, or an edited payload, to replay it.",
            code="parked", status_code=409,
        )
    if letter.get("status") == REPLAYED and not force:
        raise ApplicationError("This dead letter was already replayed; send force to replay it again.",
                               code="already_replayed", status_code=409)
    return ReplayPlan(message=message, event=event, topic=retry_topic(letter["consumer"]), edited=False)


def _valid_edit(letter: dict, edited: bytes) -> Envelope:
    try:
        event = decode(edited)
    except InvalidEvent as exc:
        raise ApplicationError("The edited payload is not a valid event.", fields={"payload": str(exc)[:500]}) from None
    original_topic = letter.get("originalTopic") or ""
    if original_topic.endswith(DLQ_SUFFIX):
        expected, given = DEAD_LETTER, event.type
    else:
        expected, given = (event.topic, event.topic) if is_retry_topic(original_topic) else (original_topic, event.topic)
    if given != expected:
        raise ApplicationError("The edited payload is an event of another topic.",
                               fields={"payload": f"must be an event of {expected}, not {given}"})
    if letter.get("originalEventId") and str(event.event_id) != letter["originalEventId"]:
        raise ApplicationError("The edited payload changes the eventId.",
                               fields={"payload": f"keep eventId {letter['originalEventId']} (consumers dedupe by it)"})
    return event


def dead_letter_replay(*, dead_letter_id: str, requested_by: str, force: bool = False, edited: bytes | None = None,
                       publisher: Publisher | None = None, redrive_id: str | None = None) -> dict:
    """Replays one letter (see the module docstring); returns the letter as claimed. Audited, refusals too."""
    detail: dict = {"force": force, "edited": edited is not None}
    if edited is not None:
        detail["editSha256"] = hashlib.sha256(edited).hexdigest()
    if redrive_id:
        detail["redrive"] = redrive_id
    return services._audited(
        who=requested_by, action="deadletter.replay", target=f"deadletter:{dead_letter_id}", detail=detail,
        run=lambda: _replay(dead_letter_id=dead_letter_id, requested_by=requested_by, force=force, edited=edited,
                            publisher=publisher, redrive_id=redrive_id),
    )


def _replay(*, dead_letter_id: str, requested_by: str, force: bool, edited: bytes | None,
            publisher: Publisher | None, redrive_id: str | None) -> dict:
    letter = dead_letters().find_one({"_id": dead_letter_id})
    if letter is None:
        raise ApplicationError(f"No dead letter {dead_letter_id!r}.", code="not_found", status_code=404)
    plan = replay_plan(letter, force=force, edited=edited)
    publisher = publisher or services.default_publisher()
    now = datetime.now(timezone.utc)
    replay = {"id": uuid.uuid4().hex, "at": now, "by": requested_by, "forced": force, "edited": plan.edited,
              "topic": plan.topic, "redrive": redrive_id}
    pushes: dict = {"replays": replay}
    if plan.edited:
        pushes["edits"] = {"id": replay["id"], "at": now, "by": requested_by,
                           "rawBase64": base64.b64encode(plan.message).decode()}
    count = {"replayCount": letter["replayCount"]} if "replayCount" in letter else {"replayCount": {"$exists": False}}
    claimed = dead_letters().find_one_and_update(
        {"_id": dead_letter_id, **count}, {"$set": {"status": REPLAYED}, "$inc": {"replayCount": 1}, "$push": pushes},
        return_document=ReturnDocument.AFTER,
    )
    if claimed is None:  # another replay of this letter came first
        raise ApplicationError("This dead letter is being replayed by someone else right now.",
                               code="already_replayed", status_code=409)
    link_event(consumer=letter["consumer"], event_id=plan.event.event_id, dead_letter_id=dead_letter_id)
    try:
        publisher.publish([(plan.topic, plan.event.key, plan.message)])
    except (PublishError, ConfigError) as exc:
        _give_back(letter, claimed, replay["id"])
        raise ApplicationError(f"The broker did not accept the replay: {exc}", code="broker_unavailable",
                               status_code=503) from None
    return claimed


def _give_back(letter: dict, claimed: dict, replay_id: str) -> None:
    """Undo a claim whose publish failed ($pullAll matches the entries exactly as stored)."""
    pulls = {name: [e for e in claimed.get(name, []) if e["id"] == replay_id] for name in ("replays", "edits")}
    dead_letters().update_one({"_id": letter["_id"]}, {"$set": {"status": letter["status"]}, "$inc": {"replayCount": -1},
                                                       "$pullAll": {k: v for k, v in pulls.items() if v}})


def republish_last(letter: dict, *, publisher: Publisher) -> None:
    """Sends the letter's last replay again (a redrive that stopped between its claim and its checkpoint);
    the consumer's eventId guard makes a second copy harmless."""
    message = current_bytes(letter)
    event = decode(message)
    publisher.publish([(retry_topic(letter["consumer"]), event.key, message)])
