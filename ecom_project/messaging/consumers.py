"""The one registry of consumers: name -> topics, handlers, group, outbox collections.

A consumer is declared once, as the `CONSUMER` spec of its app's `handlers` module; the registry
finds every installed app's (in INSTALLED_APPS order). `manage.py consume_<name>` runs it."""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import import_module
from importlib.util import find_spec
from typing import Any

from django.apps import apps

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


@lru_cache(maxsize=None)
def _registry() -> dict[str, ConsumerSpec]:
    specs: dict[str, ConsumerSpec] = {}
    for app in apps.get_app_configs():
        if find_spec(f"{app.name}.handlers") is None:
            continue
        spec = getattr(import_module(f"{app.name}.handlers"), "CONSUMER", None)
        if isinstance(spec, ConsumerSpec):
            specs[spec.name] = spec
    return specs


def consumer_names() -> list[str]:
    return list(_registry())


def consumer_spec(name: str) -> ConsumerSpec:
    try:
        return _registry()[name]
    except KeyError:
        raise KeyError(f"unknown consumer {name!r}; known: {', '.join(_registry())}") from None


def all_consumer_specs() -> list[ConsumerSpec]:
    return list(_registry().values())
