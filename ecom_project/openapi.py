"""The OpenAPI document's parts DRF's generator cannot see: plain Django views (the SSE
streams, /health), and the tag that marks the reference pipeline's routes."""
from __future__ import annotations

from typing import Any

REFERENCE_TAG = "reference compatibility"
REFERENCE_TAG_DESCRIPTION = (
    "The routes of the reference pipeline's spec (POST/GET /orders, /orders/{id}, /orders/{id}/stream, "
    "/admin/retry|compensate/{id}), so its clients work unchanged. Each is a thin alias of an /api/ route "
    "with the same validation, permissions and error shape; new clients should use the /api/ routes."
)

_ORDER_ID = {"name": "order_id", "in": "path", "required": True, "schema": {"type": "string"}}
_ERROR = {"description": "No such order (the JSON error shape)"}


def _stream(*, tags: list[str], description: str) -> dict[str, Any]:
    return {"get": {
        "operationId": f"{tags[0].replace(' ', '_')}_order_stream", "tags": tags, "parameters": [_ORDER_ID],
        "description": description,
        "responses": {
            "200": {"description": "`event: projection` frames (data: the projection), ending after a final status",
                    "content": {"text/event-stream": {"schema": {"type": "string"}}}},
            "404": _ERROR,
        },
    }}


PLAIN_VIEW_PATHS: dict[str, dict[str, Any]] = {
    "/api/read/orders/{order_id}/stream": _stream(
        tags=["api"], description="Server-Sent Events: the order's projection now, then each change."),
    "/orders/{order_id}/stream": _stream(
        tags=[REFERENCE_TAG], description="The reference spec's stream: GET /api/read/orders/{order_id}/stream."),
    "/health": {"get": {
        "operationId": "health", "tags": ["health", REFERENCE_TAG],
        "description": "Liveness. `ok` is the reference spec's answer, `status` this project's.",
        "responses": {"200": {"description": "alive", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"ok": {"type": "boolean"}, "status": {"type": "string"},
                                             "service": {"type": "string"}}}}}}},
    }},
}


def document_plain_views(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook (settings.SPECTACULAR_SETTINGS); also describes the tag."""
    for path, operations in PLAIN_VIEW_PATHS.items():
        result["paths"].setdefault(path, operations)
    result.setdefault("tags", []).append({"name": REFERENCE_TAG, "description": REFERENCE_TAG_DESCRIPTION})
    return result
