"""Every event the run's orders produced, read back from the topics: the evidence the invariants judge."""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field

from loadlab.chaos.topics import read_from_beginning
from ecom_project.events.registry import EVENT_TOPICS


@dataclass(frozen=True)
class SeenEvent:
    event_id: str
    type: str
    causation_id: str | None
    timestamp: str
    topic: str


@dataclass
class Ledger:
    by_order: dict[str, dict[str, SeenEvent]] = field(default_factory=lambda: defaultdict(dict))  # orderId -> eventId -> event
    copies: int = 0  # messages read, duplicates included

    def events(self, order_id: str, event_type: str | None = None) -> list[SeenEvent]:
        return [e for e in self.by_order.get(order_id, {}).values() if event_type is None or e.type == event_type]


def read_ledger(order_ids: set[str], *, topics: list[str] | None = None) -> Ledger:
    ledger = Ledger()
    for topic, key, value in read_from_beginning(topics or EVENT_TOPICS):
        if key is None or key.decode(errors="replace") not in order_ids:
            continue
        try:
            wire = json.loads(value)
            event = SeenEvent(wire["eventId"], wire["type"], wire.get("causationId"), wire["timestamp"], topic)
        except (ValueError, TypeError, KeyError):
            continue  # poison is judged through the dead letters, not here
        ledger.copies += 1
        ledger.by_order[key.decode()][event.event_id] = event
    return ledger
