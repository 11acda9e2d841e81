"""Order intake through the web handler: a lean middleware chain (no session, CSRF, auth, messages),
signals and view in one hop on the pool, and the same answers as through the full chain."""
from __future__ import annotations

import json
import threading

from asgiref.sync import async_to_sync
from django.core import signals

from ecom_project.http_handler import THREAD_PREFIX
from orders import repository
from orders.api import OrderCreateApi
from tests.kernel.test_backpressure import BODY, asgi_post


def post(body: bytes, headers=()) -> tuple[int, dict, dict]:
    status, answer_headers, content = async_to_sync(asgi_post)("/api/orders", body, list(headers))
    return status, answer_headers, json.loads(content)


def test_intake_answers_as_before_201_and_400_in_the_usual_shape():
    status, headers, body = post(json.dumps(BODY).encode())
    assert status == 201 and repository.orders().count_documents({"_id": body["orderId"]}) == 1
    assert "set-cookie" not in headers and headers["x-frame-options"] == "DENY"
    status, _, body = post(json.dumps({"items": [{"sku": "S", "qty": 0}], "total": 1}).encode())
    assert status == 400 and set(body["error"]) == {"code", "message", "fields"} and "items" in body["error"]["fields"]
    status, _, body = post(b"{not json")
    assert status == 400 and body["error"]["code"]


def test_a_cookie_buys_nothing_and_needs_no_csrf_token():
    """Anonymous intake never reads a cookie: a browser's session cookie neither authenticates nor blocks it."""
    status, headers, _ = post(json.dumps(BODY).encode(), [(b"cookie", b"sessionid=abc; csrftoken=x")])
    assert status == 201 and "set-cookie" not in headers


def test_intake_skips_session_auth_messages_and_takes_one_hop(monkeypatch):
    seen: dict[str, object] = {}
    threads: list[str] = []
    original = OrderCreateApi.post

    def spy(self, request):
        raw = request._request
        seen.update(session=hasattr(raw, "session"), auth=hasattr(raw, "auser"), messages=hasattr(raw, "_messages"))
        threads.append(threading.current_thread().name)
        return original(self, request)

    def on_signal(**_):
        threads.append(threading.current_thread().name)

    monkeypatch.setattr(OrderCreateApi, "post", spy)
    signals.request_started.connect(on_signal)
    signals.request_finished.connect(on_signal)
    try:
        assert post(json.dumps(BODY).encode())[0] == 201
    finally:
        signals.request_started.disconnect(on_signal)
        signals.request_finished.disconnect(on_signal)
    assert seen == {"session": False, "auth": False, "messages": False}
    assert len(threads) == 3 and len(set(threads)) == 1 and threads[0].startswith(THREAD_PREFIX), threads
