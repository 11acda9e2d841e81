"""rebuild_projections against the real broker: the replayed read model equals the live one."""
from __future__ import annotations

import io
import random
from collections import Counter

import pytest
from django.core.management import CommandError, call_command

from ecom_project.messaging.producer import Publisher
from projections import domain, handlers, repository, services
from projections.status_counts import PROJECTION_COUNTS
from tests.projections.conftest import HAPPY, PAYMENT_DECLINED, REJECTED, SHIPPING_FAILED, saga
from tests.support import wait_until

pytestmark = pytest.mark.integration


def publish(events) -> None:
    publisher = Publisher()
    publisher.publish([(e.topic, e.key, e.to_json()) for e in events])
    publisher.close()


def test_rebuild_replays_the_topics_into_the_same_projection(start_worker, order_id):
    paths = {f"{order_id}-{i}": path for i, path in enumerate([HAPPY, REJECTED, PAYMENT_DECLINED, SHIPPING_FAILED])}
    events = [event for oid, path in paths.items() for event in saga(oid, *path)]
    shuffled = events + events[:3]  # out of order, with duplicates
    random.Random(3).shuffle(shuffled)
    start_worker([handlers.CONSUMER])
    publish(shuffled)

    def live():
        docs = [repository.find(oid) for oid in paths]
        return all(d and len(d["timeline"]) == len(paths[d["orderId"]]) for d in docs) and docs

    expected = {d["orderId"]: services.public_view(d) for d in wait_until(live, timeout=30, message="live projection")}
    assert [expected[oid]["status"] for oid in paths] == [domain.SHIPPED, domain.REJECTED, domain.CANCELLED, domain.CANCELLED]

    # damage the live read model: the rebuild must not depend on it
    repository.projections().delete_one({"_id": f"{order_id}-0"})
    repository.projections().update_one({"_id": f"{order_id}-1"}, {"$set": {"status": "PENDING", "timeline": []}})
    repository.status_counts().drop()  # and its counts per status
    out, err = io.StringIO(), io.StringIO()
    call_command("rebuild_projections", stdout=out, stderr=err)
    assert "rebuilt orders_projection" in out.getvalue()
    assert "replaying events" in err.getvalue()  # the progress bar
    rebuilt = {oid: services.public_view(repository.find(oid)) for oid in paths}
    assert rebuilt == expected
    # The counts describe the rebuilt collection (every order the topics hold, earlier tests' too).
    held = Counter(p["status"] for p in repository.projections().find({}, {"status": 1}))
    assert PROJECTION_COUNTS.current() == {status: held[status] for status in domain.STATUSES}
    names = repository.projections().database.list_collection_names()
    assert not [n for n in names if n.startswith("orders_projection_rebuild_")], "the rebuild collection was swapped in"


def test_rebuild_without_a_broker_is_one_readable_error(settings):
    settings.KAFKA_BROKERS = ""
    with pytest.raises(CommandError, match="cannot read the topics: KAFKA_BROKERS is not set"):
        call_command("rebuild_projections")


def test_rebuild_rejects_nonsense_options():
    with pytest.raises(CommandError, match="must be positive"):
        call_command("rebuild_projections", max_seconds=0)
