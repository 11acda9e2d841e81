"""Admin endpoints need a valid HS256 access token of a staff user; every failure is JSON."""
from __future__ import annotations

import base64
import json
from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

pytestmark = pytest.mark.django_db
ADMIN_URL = "/api/admin/dead-letters"


def call_with(token: str | None):
    client = APIClient()
    if token is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.get(ADMIN_URL)


def assert_json_error(response, status: int) -> dict:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"} and error["message"]
    return error


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_staff_token_is_accepted(staff_user):
    assert call_with(str(AccessToken.for_user(staff_user))).status_code == 200


def test_no_token_is_401():
    response = call_with(None)
    assert_json_error(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_garbage_token_is_401():
    assert_json_error(call_with("not-a-jwt"), 401)


def test_expired_token_is_401(staff_user):
    token = AccessToken.for_user(staff_user)
    token.set_exp(lifetime=-timedelta(seconds=5))
    assert_json_error(call_with(str(token)), 401)


def test_token_signed_with_another_key_is_401(staff_user):
    claims = AccessToken.for_user(staff_user).payload
    assert_json_error(call_with(jwt.encode(claims, "some-other-key-0123456789abcdef0123", algorithm="HS256")), 401)


def test_alg_none_token_is_401(staff_user):
    claims = AccessToken.for_user(staff_user).payload
    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."
    assert_json_error(call_with(unsigned), 401)


def test_tampered_claims_are_401(staff_user, plain_user):
    header, _, signature = str(AccessToken.for_user(plain_user)).split(".")
    claims = {**AccessToken.for_user(plain_user).payload, "user_id": str(staff_user.pk)}
    assert_json_error(call_with(f"{header}.{b64(claims)}.{signature}"), 401)


def test_refresh_token_is_not_an_access_token(staff_api, staff_user):
    response = APIClient().post("/api/auth/token", {"username": "ops-alice", "password": "s3cret-pass"}, format="json")
    assert_json_error(call_with(response.json()["refresh"]), 401)


def test_non_staff_user_is_403(plain_user):
    assert_json_error(call_with(str(AccessToken.for_user(plain_user))), 403)


def test_token_pair_and_refresh(staff_user):
    client = APIClient()
    pair = client.post("/api/auth/token", {"username": "ops-alice", "password": "s3cret-pass"}, format="json")
    assert pair.status_code == 200
    assert jwt.get_unverified_header(pair.json()["access"])["alg"] == "HS256"
    jwt.decode(pair.json()["access"], settings.JWT_SECRET, algorithms=["HS256"])
    refreshed = client.post("/api/auth/token/refresh", {"refresh": pair.json()["refresh"]}, format="json")
    assert refreshed.status_code == 200
    assert call_with(refreshed.json()["access"]).status_code == 200


def test_wrong_password_is_401_json(staff_user):
    response = APIClient().post("/api/auth/token", {"username": "ops-alice", "password": "nope"}, format="json")
    assert_json_error(response, 401)


def test_missing_credentials_is_400_json():
    error = assert_json_error(APIClient().post("/api/auth/token", {}, format="json"), 400)
    assert "username" in error["fields"]


def signed(claims: dict) -> str:
    now = int(__import__("time").time())
    return jwt.encode({"token_type": "access", "exp": now + 300, "iat": now, "jti": "j1", **claims},
                      settings.JWT_SECRET, algorithm="HS256")


@pytest.mark.parametrize("user_id", ["abc", "1.5", {"a": 1}, [1], 10**30, "", None])
def test_a_validly_signed_token_naming_an_impossible_user_is_401(user_id):
    error = assert_json_error(call_with(signed({"user_id": user_id})), 401)
    assert not error["message"].startswith(("{", "[")), error


@pytest.mark.parametrize("path, body", [("/api/auth/token/refresh", {"refresh": "garbage"}),
                                        ("/api/auth/token", {"username": "nobody", "password": "x"})])
def test_token_errors_are_sentences_not_reprs(path, body):
    error = assert_json_error(APIClient().post(path, body, format="json"), 401)
    assert "{" not in error["message"] and "'" not in error["message"], error


def test_a_forged_token_signed_with_a_guessable_key_opens_nothing(staff_user):
    """Issue 17: the old code signed with a constant in settings.py. Keys are random now."""
    for guess in ("dev-only-insecure-jwt-secret-change-me-0123456789", "x" * 32, "secret"):
        token = jwt.encode({"token_type": "access", "exp": 2**31, "user_id": str(staff_user.pk), "jti": "j"},
                           guess, algorithm="HS256")
        assert_json_error(call_with(token), 401)
