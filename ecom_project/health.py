"""Liveness and readiness of the web process."""
from __future__ import annotations

from confluent_kafka.admin import AdminClient
from django.conf import settings
from django.http import JsonResponse

from ecom_project.mongo import ping


def broker_reachable(timeout: float = 2.0) -> bool:
    if not settings.KAFKA_BROKERS:
        return False
    try:
        AdminClient({"bootstrap.servers": settings.KAFKA_BROKERS, "socket.timeout.ms": int(timeout * 1000)}).list_topics(
            timeout=timeout
        )
        return True
    except Exception:  # any failure means "not ready"; the answer says which part
        return False


def health(request) -> JsonResponse:
    return JsonResponse({"status": "ok", "ok": True, "service": settings.SERVICE_NAME})  # `ok`: the reference spec's


def ready(request) -> JsonResponse:
    checks = {"broker": broker_reachable(), "store": ping()}
    ok = all(checks.values())
    return JsonResponse({"status": "ok" if ok else "unavailable", "checks": checks}, status=200 if ok else 503)
