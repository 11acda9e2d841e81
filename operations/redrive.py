"""Bulk redrive of dead letters: by filter, rate-limited, resumable, with a dry run.

A redrive is a document (`dead_letter_redrives`): its filter, rate, progress counters and a
checkpoint, the (failedAt, _id) of the last letter it handled. Letters are taken oldest first after
the checkpoint (a letter's failedAt never changes, so one that fails again during the redrive is not
taken twice), and each goes through the single-letter replay, whose claim makes replaying a letter
twice impossible. Whoever runs it owns it (`owner`) and beats a heartbeat; one that stopped (Ctrl-C,
a lost web process) is `interrupted` and `redrive_resume` goes on from the checkpoint.
"""
from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone

from ecom_project.api_errors import ApplicationError
from ecom_project.messaging.deadletters import PENDING, STATUSES, dead_letters
from ecom_project.messaging.producer import Publisher
from ecom_project.mongo import ONE_BATCH
from operations import replay, services
from operations.repository import audit_record, redrives

log = logging.getLogger(__name__)
RUNNING, INTERRUPTED, DONE = "running", "interrupted", "done"
STALE_AFTER_S = 15.0  # a running redrive without a heartbeat this long has lost its runner
MAX_LETTERS = 100_000
PAGE = 100
KEPT_REFUSALS = 100


@dataclass(frozen=True)
class LetterFilter:
    status: str | None = PENDING
    topic: str | None = None
    consumer: str | None = None
    error: str | None = None  # text in the last error
    order_id: str | None = None
    older_than_s: int | None = None

    def __post_init__(self) -> None:
        if self.status and self.status not in STATUSES:
            raise ApplicationError("Unknown status.", fields={"status": f"must be one of {', '.join(STATUSES)}"})

    def query(self, now: datetime | None = None) -> dict:
        clauses = [{field: value} for field, value in (("status", self.status), ("originalTopic", self.topic),
                                                        ("consumer", self.consumer), ("orderId", self.order_id)) if value]
        if self.error:
            clauses.append({"error": {"$regex": re.escape(self.error), "$options": "i"}})
        if self.older_than_s:
            clauses.append({"failedAt": {"$lt": (now or datetime.now(timezone.utc)) - timedelta(seconds=self.older_than_s)}})
        return {"$and": clauses} if clauses else {}


def _after(checkpoint: list | None) -> list[dict]:
    if not checkpoint:
        return []
    failed_at, letter_id = checkpoint
    return [{"$or": [{"failedAt": {"$gt": failed_at}}, {"failedAt": failed_at, "_id": {"$gt": letter_id}}]}]


def _letters(where: LetterFilter, *, checkpoint: list | None = None, now: datetime | None = None, limit: int = PAGE):
    query = where.query(now)
    clauses = (query.get("$and", []) if query else []) + _after(checkpoint)
    cursor = dead_letters().find({"$and": clauses} if clauses else {}, batch_size=ONE_BATCH)
    return list(cursor.sort([("failedAt", 1), ("_id", 1)]).limit(limit))


def redrive_preview(*, where: LetterFilter, force: bool = False, show: int = 100) -> dict:
    """A dry run: the letters the filter selects and, for each, whether a replay would go or why not."""
    now, checkpoint, seen, would, letters = datetime.now(timezone.utc), None, 0, 0, []
    while seen < MAX_LETTERS:
        page = _letters(where, checkpoint=checkpoint, now=now)
        if not page:
            break
        for letter in page:
            seen += 1
            try:
                replay.replay_plan(letter, force=force)
                outcome, reason = "replay", None
                would += 1
            except ApplicationError as exc:
                outcome, reason = exc.code, exc.message
            if len(letters) < show:
                letters.append({"id": letter["_id"], "consumer": letter.get("consumer"), "orderId": letter.get("orderId"),
                                "topic": letter.get("originalTopic"), "error": (letter.get("error") or "")[:200],
                                "outcome": outcome, "reason": reason})
        checkpoint = [page[-1]["failedAt"], page[-1]["_id"]]
    return {"dryRun": True, "matched": seen, "wouldReplay": would, "wouldRefuse": seen - would, "letters": letters}


def redrive_create(*, where: LetterFilter, rate: float, force: bool, requested_by: str) -> dict:
    now = datetime.now(timezone.utc)
    doc = {"_id": uuid.uuid4().hex[:16], "filter": asdict(where), "rate": rate, "force": force, "by": requested_by,
           "createdAt": now, "asOf": now, "state": RUNNING, "owner": None, "heartbeat": now, "checkpoint": None,
           "inFlight": None, "total": dead_letters().count_documents(where.query(now)), "replayed": 0, "refused": 0,
           "refusals": [], "finishedAt": None, "stopReason": None}
    redrives().insert_one(doc)
    audit_record(who=requested_by, action="deadletter.redrive", target=f"redrive:{doc['_id']}", outcome="accepted",
                 detail={"filter": doc["filter"], "rate": rate, "force": force, "total": doc["total"]})
    return doc


def redrive_get(redrive_id: str) -> dict:
    doc = redrives().find_one({"_id": redrive_id})
    if doc is None:
        raise ApplicationError(f"No redrive {redrive_id!r}.", code="not_found", status_code=404)
    return view(doc)


def redrive_list(limit: int = 20) -> list[dict]:
    return [view(doc) for doc in redrives().find().sort([("createdAt", -1)]).limit(limit)]


def view(doc: dict) -> dict:
    """The redrive as shown: a running one whose runner went silent is interrupted."""
    beat = _utc(doc.get("heartbeat"))
    stale = doc["state"] == RUNNING and beat and (datetime.now(timezone.utc) - beat).total_seconds() > STALE_AFTER_S
    done = doc["replayed"] + doc["refused"]
    return {**doc, "id": doc["_id"], "state": INTERRUPTED if stale else doc["state"], "done": done,
            "remaining": max(0, doc["total"] - done)}


def _utc(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=timezone.utc) if moment and moment.tzinfo is None else moment


def redrive_claim(redrive_id: str, *, requested_by: str) -> dict:
    """Takes a redrive over to run it: a new one, or an interrupted one (409 while another runs it)."""
    doc = redrive_get(redrive_id)
    if doc["state"] == DONE:
        raise ApplicationError("This redrive has finished.", code="finished", status_code=409)
    if doc["state"] == RUNNING and doc["owner"] is not None:
        raise ApplicationError("This redrive is running; resume it only once it is interrupted.",
                               code="running", status_code=409)
    owner = uuid.uuid4().hex
    claimed = redrives().find_one_and_update(
        {"_id": redrive_id, "owner": doc["owner"]},
        {"$set": {"owner": owner, "state": RUNNING, "heartbeat": datetime.now(timezone.utc), "stopReason": None}},
    )
    if claimed is None:
        raise ApplicationError("Someone else resumed this redrive just now.", code="running", status_code=409)
    if doc["owner"] is not None:
        audit_record(who=requested_by, action="deadletter.redrive.resume", target=f"redrive:{redrive_id}",
                     outcome="accepted", detail={"done": doc["done"], "checkpoint": str(doc["checkpoint"])})
    return {**claimed, "owner": owner}


def redrive_run(doc: dict, *, publisher: Publisher | None = None, stop: threading.Event | None = None,
                on_progress: Callable[[dict], None] | None = None) -> dict:
    """Runs a claimed redrive to its end (or until `stop`); returns its final view."""
    stop = stop or threading.Event()
    publisher = publisher or services.default_publisher()
    where, mine = LetterFilter(**doc["filter"]), {"_id": doc["_id"], "owner": doc["owner"]}
    _finish_in_flight(doc, publisher)
    started, sent, checkpoint = time.monotonic(), 0, doc["checkpoint"]
    while True:
        page = _letters(where, checkpoint=checkpoint, now=doc["asOf"])
        if not page:
            return _close(mine, DONE, None)
        for letter in page:
            if stop.wait(max(0.0, started + sent / doc["rate"] - time.monotonic())):
                return _close(mine, INTERRUPTED, "stopped")
            sent += 1
            if not redrives().update_one(mine, {"$set": {"inFlight": letter["_id"], "heartbeat": _now()}}).matched_count:
                return view(redrives().find_one({"_id": doc["_id"]}))  # resumed elsewhere: that runner goes on
            counter, refusal = "replayed", None
            try:
                replay.dead_letter_replay(dead_letter_id=letter["_id"], requested_by=doc["by"], force=doc["force"],
                                          publisher=publisher, redrive_id=doc["_id"])
            except ApplicationError as exc:
                if exc.code == "broker_unavailable":  # nothing was replayed: stop before the checkpoint moves on
                    return _close(mine, INTERRUPTED, exc.message)
                counter, refusal = "refused", {"id": letter["_id"], "code": exc.code, "reason": exc.message[:300]}
            checkpoint = [letter["failedAt"], letter["_id"]]
            progress = redrives().find_one_and_update(
                mine, {"$set": {"checkpoint": checkpoint, "inFlight": None, "heartbeat": _now()}, "$inc": {counter: 1}},
                return_document=True,
            )
            if refusal and progress and progress["refused"] <= KEPT_REFUSALS:
                redrives().update_one(mine, {"$push": {"refusals": refusal}})
            if on_progress and progress:
                on_progress(view(progress))


def _finish_in_flight(doc: dict, publisher: Publisher) -> None:
    """The letter a stopped runner was replaying: if its claim went through but the checkpoint did not, its
    message may not have been sent; sending it again is harmless (the consumer's eventId guard)."""
    letter = dead_letters().find_one({"_id": doc["inFlight"]}) if doc.get("inFlight") else None
    if letter and letter.get("replays") and letter["replays"][-1].get("redrive") == doc["_id"]:
        replay.republish_last(letter, publisher=publisher)
        redrives().update_one({"_id": doc["_id"]}, {"$set": {"checkpoint": [letter["failedAt"], letter["_id"]]},
                                                    "$inc": {"replayed": 1}})
        doc["checkpoint"] = [letter["failedAt"], letter["_id"]]


def _close(mine: dict, state: str, reason: str | None) -> dict:
    fields = {"state": state, "stopReason": reason, "heartbeat": _now(), "owner": None if state != DONE else mine["owner"]}
    if state == DONE:
        fields["finishedAt"] = _now()
    redrives().update_one(mine, {"$set": fields})
    return view(redrives().find_one({"_id": mine["_id"]}))


def _now() -> datetime:
    return datetime.now(timezone.utc)


def redrive_in_background(doc: dict) -> None:
    """For the web process: the redrive runs on a thread; a lost process leaves it interrupted, resumable."""
    def run() -> None:
        try:
            redrive_run(doc)
        except Exception:
            log.exception("redrive failed", extra={"redrive": doc["_id"]})
            redrives().update_one({"_id": doc["_id"], "owner": doc["owner"]},
                                  {"$set": {"state": INTERRUPTED, "owner": None, "stopReason": "failed; see the web logs"}})

    threading.Thread(target=run, name=f"redrive-{doc['_id']}", daemon=True).start()
