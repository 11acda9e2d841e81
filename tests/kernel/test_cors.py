"""CORS: the reference pipeline's dashboard origin may call the API; nothing is open to `*` without DEBUG."""
from __future__ import annotations

import pytest
from django.test import Client

from ecom_project.config import ConfigError, cors_origins
from tests.support import manage

DEV_ORIGIN = "http://localhost:5173"


@pytest.fixture
def browser_client():
    return Client()


def test_default_origins_are_the_spec_dev_server():
    from django.conf import settings

    assert settings.CORS_ALLOWED_ORIGINS == [DEV_ORIGIN, "http://127.0.0.1:5173"]
    assert settings.CORS_ALLOW_ALL_ORIGINS is False


def test_preflight_of_a_json_post_from_the_dev_origin_is_allowed(browser_client):
    response = browser_client.options(
        "/orders", HTTP_ORIGIN=DEV_ORIGIN, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type,authorization,idempotency-key",
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == DEV_ORIGIN
    assert {"content-type", "authorization", "idempotency-key"} <= set(response["Access-Control-Allow-Headers"].split(", "))
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in response


@pytest.mark.parametrize("path", ["/orders", "/api/read/orders", "/health", "/api/orders/" + "0" * 32])
def test_answers_to_the_dev_origin_carry_its_origin(browser_client, path):
    response = browser_client.get(path, HTTP_ORIGIN=DEV_ORIGIN)
    assert response["Access-Control-Allow-Origin"] == DEV_ORIGIN
    assert "Retry-After" in response["Access-Control-Expose-Headers"]


def test_other_origins_and_the_operator_pages_get_no_cors_headers(browser_client):
    assert "Access-Control-Allow-Origin" not in browser_client.get("/orders", HTTP_ORIGIN="http://evil.example")
    assert "Access-Control-Allow-Origin" not in browser_client.get("/ops/", HTTP_ORIGIN=DEV_ORIGIN)


@pytest.mark.parametrize("raw, expected", [
    ("", ([], False)),
    ("https://shop.example.com, http://localhost:5173/", (["https://shop.example.com", DEV_ORIGIN], False)),
    ("*", ([], True)),
])
def test_origins_setting_is_parsed(raw, expected):
    assert cors_origins(raw, debug=True) == expected


@pytest.mark.parametrize("raw", ["localhost:5173", "ftp://x.example", "http://x.example/app", "http://x.example:99999",
                                 "http://u@x.example", "*,http://x.example"])
def test_bad_origins_are_a_config_error(raw):
    with pytest.raises(ConfigError):
        cors_origins(raw, debug=True)


def test_star_without_debug_stops_any_command_with_one_line():
    result = manage("check", env={"DEBUG": "false", "JWT_SECRET": "x" * 40, "CORS_ALLOWED_ORIGINS": "*"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "configuration error: CORS_ALLOWED_ORIGINS='*' is refused when DEBUG is off: list the origins",
    ]
