"""Who may call the admin API: a valid HS256 access token (settings.SIMPLE_JWT) of a staff user."""
from __future__ import annotations

from rest_framework.permissions import IsAdminUser
from rest_framework.views import APIView

from ecom_project.access import StrictJWTAuthentication


class StaffJwtApi(APIView):
    """Base of every admin endpoint. No token or a bad one -> 401 (the authenticator sends a
    WWW-Authenticate challenge); a valid token of a non-staff user -> 403."""

    authentication_classes = [StrictJWTAuthentication]
    permission_classes = [IsAdminUser]

    @property
    def operator(self) -> str:
        return self.request.user.get_username()
