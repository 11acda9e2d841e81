"""The one registry of consumers: name -> topics, handlers, group, outbox collections."""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from ecom_project.events.envelope import Envelope
from ecom_project.events.registry import DEAD_LETTER, EVENT_TOPICS, dlq_topic, retry_topic, topic_of

Handler = Callable[[Envelope], None]


@dataclass(frozen=True)
class ConsumerSpec:
    name: str
    handlers: Mapping[str, Handler]
    outbox_collections: Callable[[], Sequence[Any]] = lambda: ()
    setup: Callable[[], None] | None = None
    group: str | None = field(default=None)
    # Jobs the consumer's process runs beside it (objects with start()/stop(), e.g. a PeriodicTask).
    periodic_tasks: Callable[[], Sequence[Any]] = lambda: ()

    @property
    def topics(self) -> list[str]:
        """A handler for ops.DeadLetter subscribes to every dead-letter topic (one per event topic); every
        consumer reads its own retry topic, where replays of its dead letters arrive."""
        topics = [topic_of(event_type) for event_type in self.handlers if event_type != DEAD_LETTER]
        topics += [dlq_topic(topic) for topic in EVENT_TOPICS] if DEAD_LETTER in self.handlers else []
        return topics + [retry_topic(self.name)]

    @property
    def group_id(self) -> str:
        return self.group or f"ecom.{self.name}"


def consumer_spec(name: str) -> ConsumerSpec:
    try:
        path = settings.PIPELINE_CONSUMERS[name]
    except KeyError:
        raise KeyError(f"unknown consumer {name!r}; known: {', '.join(settings.PIPELINE_CONSUMERS)}") from None
    return import_string(path)


def all_consumer_specs() -> list[ConsumerSpec]:
    return [consumer_spec(name) for name in settings.PIPELINE_CONSUMERS]
