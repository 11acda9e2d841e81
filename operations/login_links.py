"""One-time operator login links, as Jupyter prints its token URL: `make run` prints one, so a
newcomer reaches the (staff-only) dashboard in two steps without creating a user first.

A link logs in staff user `operator` (made without a usable password when missing). Its token is
an HMAC, under SECRET_KEY, of the user's id, password hash, last login and the link's time:
- it expires after LINK_SECONDS;
- it works once: logging in changes `last_login`, and every earlier link stops matching;
- nothing is stored, so there is nothing to clean up and nothing to steal from the database.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.encoding import force_bytes, force_str
from django.utils.http import base36_to_int, int_to_base36, urlsafe_base64_decode, urlsafe_base64_encode

LINK_USERNAME = "operator"
LINK_SECONDS = 15 * 60
_SALT = "operations.login_links"


def _signature(user, issued: int) -> str:
    value = f"{user.pk}|{user.password}|{user.last_login}|{issued}"
    return salted_hmac(_SALT, value, algorithm="sha256").hexdigest()[:40]


def login_token_create(user, *, now: float | None = None) -> str:
    issued = int(now if now is not None else time.time())
    return f"{int_to_base36(issued)}-{_signature(user, issued)}"


def login_token_user(uid: str, token: str, *, now: float | None = None):
    """The active staff user the link was made for, or None (forged, expired or used)."""
    try:
        pk = int(force_str(urlsafe_base64_decode(uid)))
        issued_text, signature = token.split("-", 1)
        issued = base36_to_int(issued_text)
        user = get_user_model().objects.get(pk=pk)
    except (ValueError, TypeError, OverflowError, get_user_model().DoesNotExist):
        return None
    fresh = 0 <= (now if now is not None else time.time()) - issued <= LINK_SECONDS
    if not fresh or not constant_time_compare(signature, _signature(user, issued)):
        return None
    return user if user.is_active and user.is_staff else None


def operator_login_url(*, base_url: str) -> str:
    """A fresh one-time login URL of the `operator` staff user."""
    user, created = get_user_model().objects.get_or_create(username=LINK_USERNAME, defaults={"is_staff": True})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    if not user.is_active or not user.is_staff:
        raise PermissionError(f"user {LINK_USERNAME!r} exists but is not an active staff user")
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return base_url.rstrip("/") + reverse("ops:login-link", kwargs={"uid": uid, "token": login_token_create(user)})


def operator_login_line(*, base_url: str) -> str:
    """The line `runpipeline` prints once it serves. Safe to call from the server's event-loop thread:
    the database work runs on a thread of its own (Django refuses it inside a running loop)."""
    def make() -> str:
        try:
            url = operator_login_url(base_url=base_url)
            return f"operator login (one-time, valid {LINK_SECONDS // 60} min; opens the dashboard): {url}"
        except PermissionError as exc:
            return f"no operator login link: {exc}"
        except DatabaseError as exc:  # `make run` migrates first; a bare runpipeline may not have
            return f"no operator login link: {exc} (run python manage.py migrate)"
        finally:
            connection.close()  # this thread's own connection ends with it

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(make).result()
