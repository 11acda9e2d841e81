"""POST /api/auth/token: simplejwt's pair view behind the login throttle (operations/login_throttle.py)."""
from __future__ import annotations

from rest_framework.exceptions import Throttled
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework_simplejwt.views import TokenObtainPairView

from operations.login_throttle import LoginThrottled, client_ip, login_attempt_count, password_check_slot


class ThrottledTokenObtainPairView(TokenObtainPairView):
    """429 with Retry-After when this address or this username tried too often, or when another
    password is being checked right now."""

    def post(self, request: Request, *args, **kwargs) -> Response:
        username = request.data.get("username") if hasattr(request.data, "get") else None
        try:
            login_attempt_count(ip=client_ip(request), username=username if isinstance(username, str) else None)
            with password_check_slot():
                return super().post(request, *args, **kwargs)
        except LoginThrottled as exc:
            raise Throttled(wait=exc.wait, detail=exc.reason) from None
