"""Fixtures for the operator surface: users, tokens, an API client, dead letters in the store."""
from __future__ import annotations

import json
import uuid

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from ecom_project.messaging import deadletters
from tests.kernel.conftest import order_created, probe  # noqa: F401  (the probe consumer fixture)
from tests.support import chromium_page


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_user(username="ops-alice", password="s3cret-pass", is_staff=True)


@pytest.fixture
def plain_user(django_user_model):
    return django_user_model.objects.create_user(username="bob", password="s3cret-pass", is_staff=False)


@pytest.fixture
def staff_client(staff_user):
    from django.test import Client

    client = Client()
    client.force_login(staff_user)
    return client


@pytest.fixture
def page():
    with chromium_page() as page:
        yield page


@pytest.fixture
def staff_api(staff_user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(staff_user)}")
    return client


class FakePublisher:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, bytes]] = []

    def publish(self, messages) -> int:
        batch = list(messages)
        self.sent += batch
        return len(batch)

    def close(self) -> None:
        pass


@pytest.fixture
def fake_publisher(monkeypatch) -> FakePublisher:
    publisher = FakePublisher()
    monkeypatch.setattr("operations.services.default_publisher", lambda: publisher)
    return publisher


def stored_dead_letter(*, topic: str = "order.OrderCreated.v1", offset: int | None = None, order_id: str | None = None) -> dict:
    """A dead letter as the runner stores it, for an OrderCreated whose handler gave up."""
    event = order_created(order_id)
    raw = event.to_json()
    document, _ = deadletters.build_dead_letter(
        consumer="probe", topic=topic, partition=0, offset=uuid.uuid4().int % 10**9 if offset is None else offset,
        key=event.key.encode(), raw=raw, event=event, error="RuntimeError: probe told to fail", attempts=3,
    )
    deadletters.store(document)
    return {**document, "event": event, "rawBytes": raw, "wire": json.loads(raw)}
