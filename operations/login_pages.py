"""The page a one-time login link opens (operations/login_links.py)."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from operations.login_links import login_token_user

LANDING = "/dashboard/"


@never_cache
@require_GET
def login_link(request: HttpRequest, uid: str, token: str) -> HttpResponse:
    user = login_token_user(uid, token)
    if user is None:
        messages.error(request, "This login link has expired or was used already. Ask for a new one "
                                "(python manage.py login_link) or log in with a password.")
        return redirect("ops:login")
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    wanted = request.GET.get("next", "")
    safe = url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    return redirect(wanted if safe and wanted.startswith("/") else LANDING)
