"""Back-pressure at the door: while the pipeline is behind, POST /api/orders answers 503 + Retry-After
in the usual error shape and writes nothing; /ready says why; the door opens again when it catches up."""
from __future__ import annotations

import json
import uuid

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from django.conf import settings
from django.test import Client

from ecom_project import backpressure
from ecom_project.asgi import django_asgi_app
from ecom_project.backpressure import Figures, PressureMonitor, reasons_of
from ecom_project.pipeline_figures import BrokerFigures
from orders import repository
from tests.support import wait_until

BODY = {"items": [{"sku": "SKU-1", "qty": 1}], "total": 10, "shippingAddress": {"country": "US"}}
BOUNDS = {"max_lag": 2, "max_in_flight": 0, "max_backlog": 0}


async def asgi_post(path: str, body: bytes, headers: list[tuple[bytes, bytes]] = ()) -> tuple[int, dict, bytes]:
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"host", b"127.0.0.1"), *headers],
        "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8000),
    }
    communicator = ApplicationCommunicator(django_asgi_app, scope)
    await communicator.send_input({"type": "http.request", "body": body, "more_body": False})
    start = await communicator.receive_output(10)
    content = b""
    while True:
        message = await communicator.receive_output(10)
        content += message.get("body", b"")
        if not message.get("more_body"):
            break
    await communicator.wait(10)
    return start["status"], {k.decode().lower(): v.decode() for k, v in start["headers"]}, content


def post_order(body: dict = BODY) -> tuple[int, dict, dict]:
    status, headers, content = async_to_sync(asgi_post)("/api/orders", json.dumps(body).encode())
    return status, headers, json.loads(content)


@pytest.fixture
def gauge(settings, monkeypatch):
    """Back-pressure on, with a monitor the test refreshes itself (no background thread)."""
    settings.BACKPRESSURE_ENABLED = True
    settings.BACKPRESSURE_RETRY_AFTER_S = 3
    figures = {"now": Figures()}
    monitor = PressureMonitor(measure=lambda: figures["now"], interval_s=1, bounds=BOUNDS)
    monkeypatch.setattr(backpressure, "_monitor", monitor)
    return monitor, figures


def test_bounds_name_each_figure_above_them():
    figures = Figures(consumer_lag={"ecom.inventory": 5, "ecom.payments": 1}, in_flight=600, outbox_backlog=10)
    reasons = reasons_of(figures, max_lag=2, max_in_flight=500, max_backlog=100)
    assert reasons == ("consumer group ecom.inventory is 5 events behind (bound 2)",
                       "600 orders accepted but not finished (bound 500)")
    assert reasons_of(figures, max_lag=0, max_in_flight=0, max_backlog=0) == (), "0 turns a bound off"


def test_figures_that_cannot_be_read_never_shed():
    def broken() -> Figures:
        raise RuntimeError("broker down")

    assert not PressureMonitor(measure=broken, interval_s=1, bounds=BOUNDS).refresh().behind


def test_orders_never_finishing_on_their_own_are_not_in_flight():
    figures = BrokerFigures(brokers="unused:1", groups={})
    assert figures.in_flight(40, {"g": 3}) == 40, "no settled point yet: all of it counts"
    assert figures.in_flight(7, {"g": 0}) == 0, "caught up: the 7 left wait for an operator"
    assert figures.in_flight(57, {"g": 9}) == 50
    assert figures.in_flight(5, {"g": 1}) == 0, "two of the 7 finished after all: the floor comes down"
    assert figures.in_flight(15, {"g": 1}) == 10
    assert figures.in_flight(30, {"g": 0}, quiet=False) == 25, (
        "every group caught up for an instant while events are still being produced: not a settled point")


def test_the_door_counts_what_it_lets_in_between_two_refreshes(gauge):
    monitor, figures = gauge
    monitor.bounds = {**BOUNDS, "max_in_flight": 5}
    figures["now"] = Figures(in_flight=3)
    assert monitor.refresh().room == 2
    assert [post_order()[0] for _ in range(2)] == [201, 201]
    status, headers, body = post_order()
    assert status == 503 and headers["retry-after"] == "3"
    assert "5 orders accepted but not finished, counting 2 let in since the figures were read (room was 2)" \
        in body["error"]["message"]
    assert repository.orders().count_documents({}) == 2, "the third was shed before it was written"
    monitor.refresh()
    assert post_order()[0] == 201, "the next refresh counts again from its own figures"


def test_behind_sheds_with_retry_after_and_writes_nothing_then_recovers(gauge):
    monitor, figures = gauge
    figures["now"] = Figures(consumer_lag={"ecom.inventory": 7}, in_flight=3, outbox_backlog=None)
    monitor.refresh()
    status, headers, body = post_order()
    assert status == 503 and headers["retry-after"] == "3"
    assert body["error"]["code"] == "overloaded" and "ecom.inventory is 7 events behind" in body["error"]["message"]
    assert body["error"]["fields"]["consumerLag"] == {"ecom.inventory": 7}
    assert repository.orders().count_documents({}) == 0, "nothing written while shedding"
    bad_status, _, _ = post_order({"items": []})
    assert bad_status == 503, "shed before the body is even read"

    ready = Client().get("/ready")
    assert ready.status_code == 503
    answer = ready.json()
    assert answer["checks"]["pipeline"] is False and answer["status"] == "behind"
    assert answer["pipeline"]["reasons"] == ["consumer group ecom.inventory is 7 events behind (bound 2)"]
    assert answer["pipeline"]["figures"]["inFlight"] == 3

    figures["now"] = Figures(consumer_lag={"ecom.inventory": 2}, in_flight=3)
    monitor.refresh()
    status, _, body = post_order()
    assert status == 201 and repository.orders().count_documents({"_id": body["orderId"]}) == 1
    assert Client().get("/ready").json()["checks"]["pipeline"] is True


def test_other_paths_and_methods_are_never_shed(gauge):
    monitor, figures = gauge
    figures["now"] = Figures(consumer_lag={"g": 99})
    monitor.refresh()
    assert Client().get("/health").status_code == 200
    assert Client().get("/api/orders/nope").status_code == 404


@pytest.fixture
def scratch_topic(engines):
    """A topic of the test's own with 5 messages, and a consumer group that committed 2 of them."""
    topic, group = f"test-bp-{uuid.uuid4().hex[:8]}", f"test-bp-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": settings.KAFKA_BROKERS})
    admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])[topic].result(10)
    producer = Producer({"bootstrap.servers": settings.KAFKA_BROKERS})
    for i in range(5):
        producer.produce(topic, key=b"k", value=str(i).encode())
    assert producer.flush(10) == 0
    committer = Consumer({"bootstrap.servers": settings.KAFKA_BROKERS, "group.id": group, "enable.auto.commit": False})
    committer.commit(offsets=[TopicPartition(topic, 0, 2)], asynchronous=False)

    def commit(offset: int) -> None:
        committer.commit(offsets=[TopicPartition(topic, 0, offset)], asynchronous=False)

    yield topic, group, commit
    committer.close()
    admin.delete_topics([topic])


def test_consumer_lag_read_from_the_broker_sheds_until_the_group_catches_up(gauge, scratch_topic, monkeypatch):
    topic, group, commit = scratch_topic
    broker = BrokerFigures(groups={group: [topic]})
    monitor = PressureMonitor(measure=broker.measure, interval_s=1, bounds=BOUNDS)
    monkeypatch.setattr(backpressure, "_monitor", monitor)

    assert wait_until(lambda: monitor.refresh().figures.consumer_lag.get(group) == 3, timeout=10)
    assert monitor.current.behind
    assert post_order()[0] == 503 and repository.orders().count_documents({}) == 0

    commit(5)
    wait_until(lambda: not monitor.refresh().behind, timeout=10)
    assert monitor.current.figures.consumer_lag == {group: 0}
    assert post_order()[0] == 201


def test_an_idle_pipeline_costs_the_broker_one_offsets_read_per_refresh(scratch_topic, monkeypatch):
    topic, group, commit = scratch_topic
    commit(5)
    broker = BrokerFigures(groups={group: [topic]})
    assert broker.measure().consumer_lag == {group: 0}
    reads, reader = [], broker._reader
    for name in ("lag", "partitions"):  # count the reader's requests; it still asks the broker
        real = getattr(reader, name)
        monkeypatch.setattr(reader, name, lambda *a, _real=real, _name=name, **k: reads.append(_name) or _real(*a, **k))
    assert broker.measure().consumer_lag == {group: 0}
    assert broker.measure().consumer_lag == {group: 0}
    assert reads == [], "nothing produced and every group caught up: neither committed offsets nor metadata read"
    producer = Producer({"bootstrap.servers": settings.KAFKA_BROKERS})
    producer.produce(topic, key=b"k", value=b"5")
    assert producer.flush(10) == 0
    assert broker.measure().consumer_lag == {group: 1} and reads == ["lag"]
    commit(6)
    assert broker.measure().consumer_lag == {group: 0}, "behind at the last refresh: read again though nothing was produced"
    commit(2)  # rewound by hand: seen once the caught-up lag is CAUGHT_UP_TTL_S old
    monkeypatch.setattr("ecom_project.pipeline_figures.CAUGHT_UP_TTL_S", 0.0)
    assert broker.measure().consumer_lag == {group: 4}


def test_finishing_rate_is_measured_over_a_sliding_window():
    figures = BrokerFigures(brokers="unused:1", groups={})
    assert figures.finishing_rate(100, now=0.0) == 0.0, "one sample: no rate yet"
    assert figures.finishing_rate(110, now=2.0) == 5.0
    assert figures.finishing_rate(150, now=10.0) == 5.0
    assert figures.finishing_rate(150, now=14.0) == 3.3, "the sample at 0 s left the window: (150 - 110) / (14 - 2)"
    assert figures.finishing_rate(3, now=15.0) == 0.0, "final events went backwards (topics made anew): start again"
    assert figures.finishing_rate(9, now=17.0) == 3.0


def test_in_flight_bound_follows_the_finishing_rate_within_floor_and_cap():
    def bound(rate, **kw):
        kw = {"max_in_flight": 500, "latency_budget_s": 3.0, "min_in_flight": 8, **kw}
        return backpressure.in_flight_bound(Figures(in_flight=0, finished_per_second=rate), **kw)[0]

    assert bound(4.6) == 14, "what 4.6 orders/s finish in 3 s, rounded up"
    assert bound(0.0) == 8, "idle: the floor lets the first orders in"
    assert bound(400.0) == 500, "the cap still holds"
    assert bound(400.0, max_in_flight=0) == 1200, "no cap"
    assert bound(4.6, latency_budget_s=0) == 500, "budget off: the fixed bound"
    assert bound(None) == 500, "no rate (no broker): the fixed bound"


def test_orders_beyond_what_the_budget_finishes_are_shed(gauge):
    monitor, figures = gauge
    monitor.bounds = {**BOUNDS, "max_in_flight": 500, "latency_budget_s": 2.0, "min_in_flight": 4}
    figures["now"] = Figures(in_flight=11, finished_per_second=5.0)
    monitor.refresh()
    status, _, body = post_order()
    assert status == 503, "11 in flight, 5/s x 2 s = 10 let in"
    assert body["error"]["message"].endswith(
        "11 orders accepted but not finished (bound 10 = 5 finished/s x 2 s, within [4, 500])")
    assert body["error"]["fields"]["finishedPerSecond"] == 5.0
    figures["now"] = Figures(in_flight=11, finished_per_second=6.0)
    monitor.refresh()
    assert post_order()[0] == 201, "finishing faster: 12 let in"


def test_finishing_rate_is_read_from_the_final_topics(scratch_topic, monkeypatch):
    topic, _, _ = scratch_topic
    monkeypatch.setattr("ecom_project.pipeline_figures.FINAL_TOPICS", (topic,))
    monkeypatch.setattr("ecom_project.pipeline_figures.ACCEPTED_TOPICS", (topic,))
    broker = BrokerFigures(groups={})
    assert broker.measure().finished_per_second == 0.0
    producer = Producer({"bootstrap.servers": settings.KAFKA_BROKERS})
    for i in range(6):
        producer.produce(topic, key=b"k", value=str(i).encode())
    assert producer.flush(10) == 0
    assert broker.measure().finished_per_second > 0, "6 more final events since the first measure"


def test_the_chaos_drill_offers_a_shed_order_again_after_retry_after(gauge, monkeypatch):
    from loadlab.management.commands import chaos

    monitor, figures = gauge
    figures["now"] = Figures(consumer_lag={"ecom.inventory": 7})
    monitor.refresh()
    waits = []

    def caught_up_while_waiting(seconds: float) -> None:  # the drill waits Retry-After; the pipeline catches up
        waits.append(seconds)
        figures["now"] = Figures(consumer_lag={"ecom.inventory": 0})
        monitor.refresh()

    monkeypatch.setattr(chaos, "_wait_retry_after", caught_up_while_waiting)
    status, answer = chaos.app_access(orders=10).place_order(BODY)
    assert (status, waits) == (201, [3.0]), "shed once, waited the Retry-After, then accepted"
    assert repository.orders().count_documents({"_id": answer["orderId"]}) == 1
