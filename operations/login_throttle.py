"""Brute-force protection of the two password checks: POST /api/auth/token and POST /ops/login/.

- Attempts are counted per client IP and per username, in one-minute windows in Django's cache
  (LOGIN_RATE_PER_IP, LOGIN_RATE_PER_USERNAME); beyond either, the answer is 429 with Retry-After.
  The cache is per process (local memory): with several web replicas each counts its own share.
- A password check costs ~0.3 s of CPU (PBKDF2) on one of the few request threads that order
  intake also runs on. At most one runs at a time in a process; an attempt that finds it busy
  is told to retry in a second at once, instead of holding a thread while it waits, so a flood of
  logins cannot starve POST /api/orders.
"""
from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import cache

WINDOW_SECONDS = 60
BUSY_RETRY_SECONDS = 1
_password_checks = threading.BoundedSemaphore(1)


class LoginThrottled(Exception):
    def __init__(self, wait: int, reason: str) -> None:
        super().__init__(reason)
        self.wait = wait
        self.reason = reason


def login_attempt_count(*, ip: str | None, username: str | None, now: float | None = None) -> None:
    """Count one attempt; LoginThrottled when this IP or this username is over its limit."""
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    limits = (("ip", ip, settings.LOGIN_RATE_PER_IP), ("username", (username or "").strip().lower(),
                                                          settings.LOGIN_RATE_PER_USERNAME))
    for scope, who, limit in limits:
        if not who:
            continue
        key = f"login-attempts:{scope}:{hashlib.sha256(who.encode()).hexdigest()[:32]}:{window}"
        cache.add(key, 0, timeout=WINDOW_SECONDS * 2)
        if cache.incr(key) > limit:
            wait = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
            raise LoginThrottled(wait, f"Too many login attempts for this {scope.replace('ip', 'address')}; "
                                       f"try again in {wait} s.")


@contextmanager
def password_check_slot() -> Iterator[None]:
    """Hold the process's one password-check slot, or LoginThrottled at once when it is taken."""
    if not _password_checks.acquire(blocking=False):
        raise LoginThrottled(BUSY_RETRY_SECONDS, "Another login is being checked; try again in a second.")
    try:
        yield
    finally:
        _password_checks.release()


def client_ip(request) -> str:
    """The peer address daphne reports (behind the compose proxy, --proxy-headers makes it the
    client's); never a header the client could choose freely."""
    return request.META.get("REMOTE_ADDR") or ""
