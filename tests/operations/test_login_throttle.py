"""Brute force on /api/auth/token and /ops/login/: 429 with Retry-After per address and per username,
and password checks never hold the request threads order intake needs."""
from __future__ import annotations

import json
import threading

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.orders.conftest import GOOD_BODY
from tests.support import wait_until

pytestmark = pytest.mark.django_db
MID_WINDOW = 1_800_000_030.0  # 30 s into a one-minute window


@pytest.fixture(autouse=True)
def _one_window(monkeypatch):
    """The throttle counts in one-minute windows of the wall clock: a test whose attempts straddled a
    minute boundary would see its count start over. Its clock stands still mid-window here."""
    from types import SimpleNamespace

    from operations import login_throttle

    monkeypatch.setattr(login_throttle, "time", SimpleNamespace(time=lambda: MID_WINDOW))


def token_attempt(client, username: str, password: str = "wrong", ip: str = "10.0.0.1"):
    return client.post("/api/auth/token", {"username": username, "password": password}, format="json", REMOTE_ADDR=ip)


def page_attempt(client, username: str, password: str = "wrong", ip: str = "10.0.0.1"):
    return client.post("/ops/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_token_endpoint_throttles_one_address(settings, staff_user):
    settings.LOGIN_RATE_PER_IP, settings.LOGIN_RATE_PER_USERNAME = 3, 100
    api = APIClient()
    assert [token_attempt(api, f"user{n}").status_code for n in range(3)] == [401, 401, 401]
    refused = token_attempt(api, "ops-alice", "s3cret-pass")
    assert refused.status_code == 429 and 1 <= int(refused["Retry-After"]) <= 60
    error = refused.json()["error"]
    assert error["code"] == "throttled" and "Too many login attempts" in error["message"] and error["fields"] == {}
    assert token_attempt(api, "ops-alice", "s3cret-pass", ip="10.0.0.2").status_code == 200, "other addresses go on"


def test_token_endpoint_throttles_one_username_from_many_addresses(settings, staff_user):
    settings.LOGIN_RATE_PER_IP, settings.LOGIN_RATE_PER_USERNAME = 100, 3
    api = APIClient()
    for n in range(3):
        assert token_attempt(api, "ops-alice", ip=f"10.0.1.{n}").status_code == 401
    assert token_attempt(api, "OPS-Alice ", ip="10.0.1.99").status_code == 429
    assert token_attempt(api, "someone-else", ip="10.0.1.99").status_code == 401


def test_operator_login_page_throttles_with_a_page_saying_why(settings, staff_user):
    settings.LOGIN_RATE_PER_IP, settings.LOGIN_RATE_PER_USERNAME = 3, 100
    browser = Client()
    assert [page_attempt(browser, "ops-alice").status_code for _ in range(3)] == [200, 200, 200]
    refused = page_attempt(browser, "ops-alice", "s3cret-pass")
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert "Too many login attempts" in refused.content.decode() and "_auth_user_id" not in browser.session


def test_a_password_check_in_progress_turns_others_away_and_intake_goes_on(monkeypatch, staff_user, transactional_db):
    """One password check at a time, and the others are answered at once (no thread held waiting)."""
    from django.contrib.auth.backends import ModelBackend

    checking, release = threading.Event(), threading.Event()
    real = ModelBackend.authenticate

    def slow_check(self, request, username=None, password=None, **kwargs):
        checking.set()
        release.wait(10)
        return real(self, request, username=username, password=password, **kwargs)

    monkeypatch.setattr(ModelBackend, "authenticate", slow_check)
    answers = {}
    first = threading.Thread(target=lambda: answers.setdefault("first", token_attempt(APIClient(), "ops-alice")))
    first.start()
    try:
        wait_until(checking.is_set, timeout=10, message="the first password check started")
        assert token_attempt(APIClient(), "ops-alice", ip="10.0.9.9").status_code == 429
        assert page_attempt(Client(), "ops-alice", ip="10.0.9.9").status_code == 429
        placed = Client().post("/api/orders", json.dumps(GOOD_BODY), content_type="application/json")
        assert placed.status_code == 201
    finally:
        release.set()
        first.join(10)
    assert answers["first"].status_code == 401
    assert token_attempt(APIClient(), "ops-alice", "s3cret-pass", ip="10.0.9.9").status_code == 200, "slot released"
