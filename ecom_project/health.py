"""Liveness and readiness of the web process."""
from __future__ import annotations

from confluent_kafka.admin import AdminClient
from django.conf import settings
from django.http import JsonResponse

from ecom_project.backpressure import readiness
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
    """503 when the broker or the store is unreachable, or when the pipeline is behind (order intake
    sheds then): `pipeline` says why, with the figures and their bounds' reasons."""
    pipeline = readiness()
    checks = {"broker": broker_reachable(), "store": ping(), "pipeline": not pipeline["behind"]}
    ok = all(checks.values())
    status = "ok" if ok else "behind" if checks["broker"] and checks["store"] else "unavailable"
    return JsonResponse({"status": status, "checks": checks, "pipeline": pipeline}, status=200 if ok else 503)
