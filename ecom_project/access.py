"""Who may read what, in one place (issue 17).

- Anyone may place an order and follow it by its id, seeing the fields the apps' selectors keep
  for `staff=False` (status, timeline, items, total, country): never a name, street, phone or
  payment reference.
- Lists, status counts, the all-orders feed and the dashboard are for staff: a Django session
  (the pages, the websockets) or a JWT (scripts). `PUBLIC_ORDER_FEED=true` opens them on a
  trusted network, still with the anonymous fields only.

Every read view (and any alias of one) takes its permission from here and passes `staff` to
its selector; the websocket consumers and the SSE stream ask the same functions."""
from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken


def is_staff(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_active", False) and getattr(user, "is_staff", False))


def feed_is_public() -> bool:
    return bool(settings.PUBLIC_ORDER_FEED)


def may_read_lists(user: Any) -> bool:
    return is_staff(user) or feed_is_public()


class StrictJWTAuthentication(JWTAuthentication):
    """simplejwt looks the user up by the token's `user_id` as given: a validly signed token with a
    non-integer id raised ValueError (a 500). Any id the user table cannot hold is a bad token."""

    def get_user(self, validated_token: Any) -> Any:
        try:
            return super().get_user(validated_token)
        except (ValueError, TypeError, OverflowError) as exc:
            raise InvalidToken("The token names a user id that cannot exist.") from exc


class StrictJWTScheme(SimpleJWTScheme):
    """The OpenAPI document shows it as simplejwt's bearer scheme (drf-spectacular registers
    extensions when their class is defined)."""

    target_class = "ecom_project.access.StrictJWTAuthentication"


READER_AUTHENTICATION = [StrictJWTAuthentication, SessionAuthentication]  # JWT first: anonymous gets a 401 challenge


class MayReadLists(BasePermission):
    """Lists and counts: staff, or anyone when PUBLIC_ORDER_FEED is on. Anonymous callers get 401
    (a challenge), signed-in non-staff 403."""

    message = "Order lists are for staff: log in at /ops/login/ or send a staff JWT."

    def has_permission(self, request: Any, view: Any) -> bool:
        return may_read_lists(request.user)


def request_is_staff(request: Any) -> bool:
    """For plain Django views (the SSE stream): the session, else a Bearer token; a bad token is
    simply not staff here, since these views are open to anonymous callers anyway."""
    if is_staff(getattr(request, "user", None)):
        return True
    try:
        found = StrictJWTAuthentication().authenticate(request)
    except (AuthenticationFailed, InvalidToken):
        return False
    return bool(found) and is_staff(found[0])


def scope_is_staff(scope: dict) -> bool:
    """For websockets: the session user (AuthMiddlewareStack), else an `Authorization: Bearer`
    header of the handshake (tools such as loadgen; browsers cannot set it)."""
    if is_staff(scope.get("user")):
        return True
    headers = dict(scope.get("headers") or [])
    header = headers.get(b"authorization", b"").split()
    if len(header) != 2 or header[0].lower() != b"bearer":
        return False
    authenticator = StrictJWTAuthentication()
    try:
        return is_staff(authenticator.get_user(authenticator.get_validated_token(header[1])))
    except (AuthenticationFailed, InvalidToken):
        return False


def service_token(*, username: str) -> str:
    """An access token of staff user `username`, created without a usable password when missing,
    for scripts and tools on this machine (they hold the same keys, so they could sign one anyway)."""
    from django.contrib.auth import get_user_model
    from rest_framework_simplejwt.tokens import AccessToken

    user, created = get_user_model().objects.get_or_create(username=username, defaults={"is_staff": True})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    if not user.is_active or not user.is_staff:
        raise PermissionError(f"user {username!r} exists but is not an active staff user")
    return str(AccessToken.for_user(user))
