"""Runs consumers and their outbox relays on threads, and stops them cleanly."""
from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from django.conf import settings

from ecom_project.messaging.consumers import ConsumerSpec
from ecom_project.messaging.outbox import OutboxRelay
from ecom_project.messaging.groups import start_groups_at_end
from ecom_project.messaging.producer import Publisher, bootstrap_servers
from ecom_project.messaging.runner import ConsumerRunner

log = logging.getLogger(__name__)


def relay_for(spec: ConsumerSpec, publisher: Publisher | None) -> OutboxRelay:
    return OutboxRelay(
        name=spec.name, collections=spec.outbox_collections, publisher=publisher,
        lease_ms=settings.OUTBOX_LEASE_MS, poll_ms=settings.OUTBOX_POLL_MS, scan_ms=settings.OUTBOX_SCAN_MS,
    )


def start_web_relays(specs: Sequence[ConsumerSpec]) -> list[OutboxRelay]:
    """Relays alone, on daemon threads, for a web process that runs no consumer (runmulti, compose): it
    publishes what its own requests write (new orders, operator requests) at once, where the consumers'
    relays would find it only at their next scan."""
    relays = [relay_for(spec, None) for spec in specs]
    for relay in relays:
        threading.Thread(target=relay.run, name=f"web-relay-{relay.name}", daemon=True).start()
    return relays


class Worker:
    """One consumer runner plus one outbox relay per spec, each on its own thread."""

    def __init__(self, specs: Sequence[ConsumerSpec], *, group_suffix: str = "", publisher: Publisher | None = None,
                 start_at_end: bool = False) -> None:
        """`start_at_end`: the groups (new ones, named with `group_suffix`) read only what is produced from
        now on, not the topics' history."""
        if start_at_end:
            start_groups_at_end(bootstrap_servers(), {spec.group_id + group_suffix: spec.topics for spec in specs})
        self.publisher = publisher or Publisher()
        self.specs = list(specs)
        self.group_suffix = group_suffix
        self.runners = [self._runner_for(spec) for spec in self.specs]
        self.relays = [self._relay_for(spec) for spec in self.specs]
        self.threads: list[threading.Thread] = []
        self.errors: list[BaseException] = []
        self.periodic_tasks: list = []  # the specs' jobs (e.g. the stuck-order detector), started with the runners

    def _runner_for(self, spec: ConsumerSpec) -> ConsumerRunner:
        return ConsumerRunner(spec, group_id=spec.group_id + self.group_suffix, publisher=self.publisher)

    def _relay_for(self, spec: ConsumerSpec) -> OutboxRelay:
        return relay_for(spec, self.publisher)

    def start(self) -> "Worker":
        for component in [*self.runners, *self.relays]:
            self.threads.append(self._start_thread(component))
        self.periodic_tasks = [task.start() for spec in self.specs for task in spec.periodic_tasks()]
        return self

    def _start_thread(self, component: ConsumerRunner | OutboxRelay) -> threading.Thread:
        name = f"{type(component).__name__}-{getattr(component, 'spec', component).name}"
        thread = threading.Thread(target=self._guard, args=(component.run,), name=name, daemon=True)
        thread.start()
        return thread

    def _guard(self, target) -> None:
        try:
            target()
        except BaseException as exc:  # recorded so the supervisor (command or test) can see it
            self.errors.append(exc)
            log.exception("worker thread died", extra={"component": threading.current_thread().name})

    def restart_dead(self) -> list[str]:
        """Replace every runner/relay whose thread died (a crash) by a new instance on a new thread,
        in the same consumer group, as a process supervisor would; returns the restarted names."""
        restarted = []
        count = len(self.runners)
        for index, thread in enumerate(self.threads):
            if thread.is_alive():
                continue
            is_runner = index < count
            old = self.runners[index] if is_runner else self.relays[index - count]
            if old.stop_event.is_set():
                continue
            spec = self.specs[index if is_runner else index - count]
            if is_runner:
                old.abandon()
                component = self.runners[index] = self._runner_for(spec)
            else:
                component = self.relays[index - count] = self._relay_for(spec)
            self.threads[index] = self._start_thread(component)
            restarted.append(thread.name)
        return restarted

    def wait_assigned(self, timeout: float = 30.0) -> bool:
        return all(r.assigned.wait(timeout) for r in self.runners)

    def stop(self, timeout: float = 15.0) -> None:
        for task in self.periodic_tasks:
            task.stop()
        for component in [*self.runners, *self.relays]:
            component.stop()
        for thread in self.threads:
            thread.join(timeout)
        self.publisher.close()

    def alive(self) -> bool:
        return all(t.is_alive() for t in self.threads)
