"""Content-Security-Policy on every HTML page (Django 5.2 has none built in).

The dashboard and the operator pages load only this site's own scripts and styles (no inline
ones), so an injected `<script>` or style does not run, and no other site may frame them. The
API docs page is drf-spectacular's Swagger UI, which loads from its CDN and has inline script:
it gets a policy that allows exactly that, and it handles no session data.
"""
from __future__ import annotations

from collections.abc import Callable

from asgiref.sync import iscoroutinefunction
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import sync_and_async_middleware

PAGE_POLICY = "; ".join([
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "font-src 'self'",
    "connect-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
])
SWAGGER_CDN = "https://cdn.jsdelivr.net"
DOCS_POLICY = "; ".join([
    "default-src 'self'", f"script-src 'self' 'unsafe-inline' {SWAGGER_CDN}", f"style-src 'self' 'unsafe-inline' {SWAGGER_CDN}",
    f"img-src 'self' data: {SWAGGER_CDN}", "connect-src 'self'", "object-src 'none'", "base-uri 'none'",
    "frame-ancestors 'none'",
])
DOCS_PATHS = ("/api/docs",)


def _with_policy(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    if response.get("Content-Type", "").startswith("text/html") and "Content-Security-Policy" not in response:
        response["Content-Security-Policy"] = DOCS_POLICY if request.path in DOCS_PATHS else PAGE_POLICY
    return response


@sync_and_async_middleware
def content_security_policy(get_response: Callable) -> Callable:
    """Both kinds, so the async chain (the SSE stream) takes no thread hop for it."""
    if iscoroutinefunction(get_response):
        async def middleware(request: HttpRequest) -> HttpResponse:
            return _with_policy(request, await get_response(request))
    else:
        def middleware(request: HttpRequest) -> HttpResponse:
            return _with_policy(request, get_response(request))
    return middleware
