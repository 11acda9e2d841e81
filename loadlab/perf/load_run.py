"""The load generator's engine: offers orders at a steady rate over HTTP and follows each one
to a terminal status through the websocket feed `/ws/orders/` (pushed, never polled).

An order the service sheds (503 with Retry-After: the pipeline is behind) is counted as shed, not
as an error, and not offered again: the offered rate stays the plan's. With `honour_retry_after`
the generator behaves as a polite client instead: after a shed it sends nothing until Retry-After
has passed, then carries on at the plan's rate (the orders due meanwhile are never sent), so the
pipeline works at the pace its door allows rather than answering a flood of 503s.

After the drain, orders the feed never showed finishing are looked up once in the read model
(`RECONCILE_LIMIT` at most): a feed that dropped updates under overload must not pass for a
pipeline that did not finish them. Their latency is unknown and left out of the percentiles."""
from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import aiohttp
import websockets

from ecom_project.events.saga import TERMINAL
from loadlab.perf.order_mix import order_body, pick_kind

MAX_ORDERS = 1_000_000  # rate x duration above this is refused: one run stays bounded in memory and time
RECONCILE_LIMIT = 5_000  # orders looked up in the store after the drain, at most
RECONCILE_SECONDS = 60.0


def _seconds(retry_after: str) -> float:
    """Retry-After as delay-seconds; an HTTP date or anything else counts as 1 s."""
    try:
        return max(0.0, min(float(retry_after), 3600.0))
    except ValueError:
        return 1.0


class LoadError(Exception):
    """The run cannot start (bad plan, target not reachable); one readable line."""


@dataclass(frozen=True)
class LoadPlan:
    rate: float
    duration: float
    base_url: str = "http://127.0.0.1:8000"
    concurrency: int = 64
    mix: dict[str, float] = field(default_factory=lambda: {"happy": 1.0})
    drain_timeout: float = 30.0
    follow: bool = True  # False: intake only, no websocket, no terminal tracking
    seed: int = 7
    auth_limit: float = 5000.0
    token: str = ""  # a staff JWT: the all-orders feed is for staff (unless the target sets PUBLIC_ORDER_FEED)
    honour_retry_after: bool = False  # True: after a shed, send nothing until its Retry-After has passed

    @property
    def planned(self) -> int:
        return int(self.rate * self.duration)

    def validate(self) -> None:
        if not 0 < self.rate <= 100_000:
            raise LoadError(f"--rate must be in (0, 100000] orders/s, got {self.rate:g}")
        if not 0 < self.duration <= 24 * 3600:
            raise LoadError(f"--duration must be in (0, 86400] seconds, got {self.duration:g}")
        if not 1 <= self.concurrency <= 10_000:
            raise LoadError(f"--concurrency must be in [1, 10000], got {self.concurrency}")
        if not 0 <= self.drain_timeout <= 3600:
            raise LoadError(f"--drain-timeout must be in [0, 3600] seconds, got {self.drain_timeout:g}")
        if self.planned < 1:
            raise LoadError("rate x duration is below one order")
        if self.planned > MAX_ORDERS:
            raise LoadError(f"rate x duration = {self.planned} orders is above the limit of {MAX_ORDERS}")
        parts = urlsplit(self.base_url)
        if parts.scheme not in {"http", "https"} or not parts.hostname or parts.path not in {"", "/"}:
            raise LoadError(f"--base-url must look like http://HOST:PORT, got {self.base_url!r}")

    @property
    def root(self) -> str:
        return self.base_url.rstrip("/")

    @property
    def feed_url(self) -> str:
        return "ws" + self.root[len("http"):] + "/ws/orders/"


@dataclass
class OrderRecord:
    kind: str
    sent_at: float
    answered_at: float | None = None
    order_id: str | None = None
    error: str | None = None
    status: str | None = None
    terminal_at: float | None = None
    store_status: str | None = None  # looked up after the drain: finished, but not seen on the feed
    checked: bool = False
    shed: bool = False  # 503 + Retry-After: the pipeline was behind and refused it before writing anything


@dataclass
class LoadOutcome:
    plan: LoadPlan
    started_at: float
    send_ended_at: float
    ended_at: float
    records: list[OrderRecord]
    feed_messages: int = 0


class LoadRun:
    def __init__(self, plan: LoadPlan, *, on_tick: Callable[[dict[str, int]], None] | None = None) -> None:
        plan.validate()
        self.plan = plan
        self.on_tick = on_tick
        self.records: list[OrderRecord] = []
        self.by_id: dict[str, OrderRecord] = {}
        self.early: dict[str, tuple[str, float]] = {}  # terminal seen before the POST answered
        self.counts: Counter[str] = Counter()
        self.feed_messages = 0
        self._all_done = asyncio.Event()
        self._sending = True
        self._resume_at = 0.0  # honour_retry_after: no send before this (monotonic seconds)

    async def run(self) -> LoadOutcome:
        timeout = aiohttp.ClientTimeout(total=30)
        connector = aiohttp.TCPConnector(limit=self.plan.concurrency)
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
            await self._check_reachable(session)
            feed = await self._open_feed() if self.plan.follow else None
            follower = asyncio.create_task(self._follow(feed)) if feed else None
            ticker = asyncio.create_task(self._tick())
            try:
                started = time.monotonic()
                await self._offer(session)
                send_ended = time.monotonic()
                self._sending = False
                self._check_done()
                if follower:
                    try:
                        await asyncio.wait_for(self._all_done.wait(), self.plan.drain_timeout)
                    except asyncio.TimeoutError:
                        pass  # looked up below, then reported as finished unseen or unfinished
            finally:
                for task in (follower, ticker):
                    if task:
                        task.cancel()
                if feed:
                    await feed.close()
            if self.plan.follow:
                await self._reconcile(session)
            self._emit_tick()
        return LoadOutcome(self.plan, started, send_ended, time.monotonic(), self.records, self.feed_messages)

    async def _check_reachable(self, session: aiohttp.ClientSession) -> None:
        try:
            async with session.get(self.plan.root + "/health", timeout=aiohttp.ClientTimeout(total=5)) as answer:
                await answer.read()
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            raise LoadError(f"order service {self.plan.root} is not reachable: {type(exc).__name__} {exc}".strip()) from None

    async def _open_feed(self):
        try:
            # The server checks the Origin against its ALLOWED_HOSTS, as for a browser.
            headers = {"Authorization": f"Bearer {self.plan.token}"} if self.plan.token else None
            return await websockets.connect(self.plan.feed_url, max_size=2**22, open_timeout=10,
                                            origin=self.plan.root, additional_headers=headers)
        except (OSError, asyncio.TimeoutError, websockets.InvalidHandshake) as exc:
            raise LoadError(f"cannot open the websocket feed {self.plan.feed_url}: {exc}") from None

    async def _offer(self, session: aiohttp.ClientSession) -> None:
        """Open loop: order i is due at start + i/rate; a full concurrency window delays sends (reported)."""
        rng = random.Random(self.plan.seed)
        gate = asyncio.Semaphore(self.plan.concurrency)
        tasks: set[asyncio.Task] = set()
        start = time.monotonic()
        deadline = start + self.plan.duration
        for index in range(self.plan.planned):
            delay = start + index / self.plan.rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await gate.acquire()
            while self._resume_at > time.monotonic() < deadline:  # told to come back later: orders due meanwhile are skipped
                gate.release()
                await asyncio.sleep(min(self._resume_at, deadline) - time.monotonic())
                start = max(start, time.monotonic() - index / self.plan.rate)
                await gate.acquire()
            if time.monotonic() >= deadline:
                gate.release()
                break
            kind = pick_kind(self.plan.mix, rng)
            body = order_body(kind, rng, auth_limit=self.plan.auth_limit)
            task = asyncio.create_task(self._post(session, kind, body, gate))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.gather(*tasks)

    async def _post(self, session: aiohttp.ClientSession, kind: str, body: dict, gate: asyncio.Semaphore) -> None:
        record = OrderRecord(kind=kind, sent_at=time.monotonic())
        self.records.append(record)
        self.counts["sent"] += 1
        try:
            async with session.post(self.plan.root + "/api/orders", json=body) as answer:
                payload = await answer.read()
                record.answered_at = time.monotonic()
                if answer.status == 201:
                    record.order_id = json.loads(payload)["orderId"]
                elif answer.status == 503 and "Retry-After" in answer.headers:
                    record.shed = True
                    if self.plan.honour_retry_after:
                        self._resume_at = max(self._resume_at, record.answered_at + _seconds(answer.headers["Retry-After"]))
                else:
                    record.error = f"HTTP {answer.status}"
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError, KeyError) as exc:
            record.answered_at = time.monotonic()
            record.error = type(exc).__name__
        finally:
            gate.release()
        if record.shed:
            self.counts["shed"] += 1
            return
        if record.error:
            self.counts["errors"] += 1
            return
        self.counts["accepted"] += 1
        self.by_id[record.order_id] = record
        if record.order_id in self.early:
            self._finish(record, *self.early.pop(record.order_id))

    async def _follow(self, feed) -> None:
        try:
            async for message in feed:
                self.feed_messages += 1
                try:
                    frame = json.loads(message)
                except ValueError:
                    continue
                for update in frame if isinstance(frame, list) else [frame]:  # a frame is one tick's orders
                    if isinstance(update, dict):
                        self._seen(update.get("orderId"), update.get("status"))
        except websockets.ConnectionClosed:
            return  # the run goes on; orders not seen finishing are reported as unfinished

    def _seen(self, order_id: str | None, status: str | None) -> None:
        if status not in TERMINAL:
            return
        record = self.by_id.get(order_id)
        if record is not None:
            self._finish(record, status, time.monotonic())
        elif self._sending:
            self.early.setdefault(order_id, (status, time.monotonic()))

    async def _reconcile(self, session: aiohttp.ClientSession) -> None:
        """One read-model lookup per order the feed did not show finishing (bounded in count and time)."""
        missing = [r for r in self.records if r.order_id and r.status is None][:RECONCILE_LIMIT]
        if not missing:
            return
        gate = asyncio.Semaphore(self.plan.concurrency)

        async def look_up(record: OrderRecord) -> None:
            async with gate:
                try:
                    url = f"{self.plan.root}/api/read/orders/{record.order_id}"
                    async with session.get(url, timeout=aiohttp.ClientTimeout(total=10)) as answer:
                        status = (await answer.json()).get("status") if answer.status == 200 else None
                except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError, AttributeError):
                    return
                record.checked = True
                if status in TERMINAL:
                    record.store_status = status
                    self.counts["finishedUnseen"] += 1

        try:
            await asyncio.wait_for(asyncio.gather(*(look_up(r) for r in missing)), RECONCILE_SECONDS)
        except asyncio.TimeoutError:
            pass  # the rest stay unchecked, and are reported as such

    def _finish(self, record: OrderRecord, status: str, at: float) -> None:
        if record.status is not None:
            return  # later pushes of a finished order (e.g. timeline details) change nothing
        record.status, record.terminal_at = status, at
        self.counts["terminal"] += 1
        self._check_done()

    def _check_done(self) -> None:
        if not self._sending and self.counts["terminal"] >= self.counts["accepted"]:
            self._all_done.set()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(0.25)
            self._emit_tick()

    def _emit_tick(self) -> None:
        if self.on_tick:
            self.on_tick(dict(self.counts))
