"""No public 500s (issue 17): every route of the URLconf, swept with odd ids, cursors and query
values, anonymous and as staff, GET and POST, answers below 500, and every 4xx of an /api/ route is
the one JSON error shape. The test client re-raises a view's exception, so a crash fails loudly."""
from __future__ import annotations

import base64
import json
import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework_simplejwt.tokens import AccessToken

pytestmark = pytest.mark.django_db

ODD_SEGMENTS = ["%C3%A9", "a%20b", "%3Cscript%3E", "x" * 200, "..", "%00", "$where", "0" * 32, "a.b", "-1", "1e309"]
DEEP_CURSOR = base64.urlsafe_b64encode(b"[" * 3000).decode()
ODD_QUERIES = [
    "", f"cursor={DEEP_CURSOR}", "cursor=!!", "cursor=W10", "limit=-1", "limit=x", "limit=99999999999999999999",
    "status=%3Cx%3E", "q=a/b", "q=%C3%A9%20x", "next=//evil.example", "orderId=%00", "topic=..%2F", "status=",
]
BODIES = [("application/json", "{}"), ("application/json", "[[[[]]]]"), ("application/json", "{not json"),
          ("text/plain", "x"), ("application/x-www-form-urlencoded", "a=b&step=payment&action=refundPayment")]
NOT_SWEPT = {"ops/logout/"}
NOT_JSON_API = ("/api/docs", "/api/schema")  # the Swagger page and the OpenAPI document (HTML, YAML)
# A 503 is an answer, not a crash: /ready says the broker is down, intake says it is behind (Retry-After).
MAY_BE_UNAVAILABLE = ("/ready", "/api/orders")  # logging out the sweep's own staff session would only shorten the sweep


def route_templates(patterns=None, prefix: str = "") -> list[str]:
    """Every route as a path template, parameters as <name>."""
    found = []
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        text = str(entry.pattern)
        if hasattr(entry.pattern, "regex") and text.startswith("^"):
            text = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", text.lstrip("^").rstrip("$"))
        if isinstance(entry, URLResolver):
            found += route_templates(entry.url_patterns, prefix + text)
        elif isinstance(entry, URLPattern):
            found.append(prefix + re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", text))
    return sorted(set(found) - NOT_SWEPT)


def concrete_paths(template: str) -> list[str]:
    if "<" not in template:
        return ["/" + template]
    return ["/" + re.sub(r"<\w+>", segment, template) for segment in ODD_SEGMENTS]


@pytest.fixture
def callers(django_user_model) -> dict[str, Client]:
    staff = django_user_model.objects.create_user(username="sweep-ops", is_staff=True)
    session = Client()
    session.force_login(staff)
    return {"anonymous": Client(), "staff session": session,
            "staff jwt": Client(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(staff)}")}


def assert_no_500(response, what: str) -> None:
    path = what.split()[1].split("?")[0]
    unavailable = response.status_code == 503 and path in MAY_BE_UNAVAILABLE
    assert response.status_code < 500 or unavailable, f"{what} -> {response.status_code}"
    if path.startswith("/api/") and not path.startswith(NOT_JSON_API) and 400 <= response.status_code < 500:
        assert response["Content-Type"].startswith("application/json"), what
        error = json.loads(response.content)["error"]
        assert set(error) == {"code", "message", "fields"} and isinstance(error["message"], str), what
        assert not error["message"].startswith(("{", "[")), what


def test_the_sweep_covers_every_public_route():
    templates = route_templates()
    for expected in ["api/orders", "api/orders/<order_id>", "api/read/orders", "api/read/orders/<order_id>/stream",
                     "api/read/status-counts", "dashboard/", "ops/orders/", "ops/login/", "api/auth/token",
                     "api/admin/dead-letters/<dead_letter_id>/replay", "static/<path>"]:
        assert expected in templates


@pytest.mark.parametrize("template", route_templates())
def test_odd_input_never_makes_a_route_answer_500(template, callers):
    for path in concrete_paths(template):
        for who, client in callers.items():
            for query in ODD_QUERIES:
                url = f"{path}?{query}" if query else path
                response = client.get(url)
                assert_no_500(response, f"GET {url} as {who}")
                if getattr(response, "streaming", False):
                    response.close()
            for content_type, body in BODIES:
                assert_no_500(client.generic("POST", path, body, content_type=content_type),
                              f"POST {path} ({content_type}) as {who}")
