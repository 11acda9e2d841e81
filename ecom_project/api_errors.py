"""One error shape for every API answer: {"error": {"code", "message", "fields"}}."""
from __future__ import annotations

from typing import Any

from django.http import JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class ApplicationError(Exception):
    def __init__(self, message: str, *, code: str = "invalid", status_code: int = 400, fields: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status_code = status_code
        self.fields = fields or {}


def error_body(code: str, message: str, fields: dict | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def error_response(code: str, message: str, status_code: int, fields: dict | None = None) -> JsonResponse:
    return JsonResponse(error_body(code, message, fields), status=status_code)


def _flatten(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        flat = [_flatten(item) for item in detail]
        return flat[0] if len(flat) == 1 and isinstance(flat[0], str) else flat
    return str(detail)


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, ApplicationError):
        return Response(error_body(exc.code, exc.message, exc.fields), status=exc.status_code)
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        return Response(error_body("invalid", "The request has invalid fields.", _flatten(detail)), status=400)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = getattr(exc, "default_code", "error")
    response.data = error_body(code, message_text(getattr(exc, "detail", str(exc))))
    return response


def message_text(detail: Any) -> str:
    """One readable sentence from a DRF/simplejwt error detail, never a repr: simplejwt's is a dict
    {"detail", "code", "messages": [...]}, which used to arrive as "{'detail': ...}"."""
    if isinstance(detail, dict):
        if "detail" in detail:
            return message_text(detail["detail"])
        return " ".join(f"{key}: {message_text(value)}" for key, value in detail.items())
    if isinstance(detail, (list, tuple)):
        return " ".join(message_text(item) for item in detail)
    return str(detail)


def handler404(request, exception=None) -> JsonResponse:
    return error_response("not_found", "No such resource.", status.HTTP_404_NOT_FOUND)


def handler500(request) -> JsonResponse:
    return error_response("server_error", "Internal error.", status.HTTP_500_INTERNAL_SERVER_ERROR)
