"""Server-Sent Events of one order, and the live dashboard page."""
from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render

from ecom_project.access import is_staff, may_read_lists, request_is_staff
from ecom_project.api_errors import ApplicationError, error_response
from projections import domain, selectors
from projections.services import is_followable, order_group

KEEPALIVE_SECONDS = 15.0
WAITING_POLL_SECONDS = 1.0
DASHBOARD_FIRST_PAGE = 200


async def order_stream(request: HttpRequest, order_id: str) -> HttpResponse:
    """The projection now, then each change; ends after a terminal status. For an order the
    orders app accepted but the read model has not seen yet, it waits for the projection
    (keep-alives meanwhile); 404 only for ids nobody knows.

    It joins the order's channel-layer group *before* reading the store, so no change
    can slip between the snapshot and the subscription. On a client disconnect Django
    cancels the generator, and its `finally` leaves the group."""
    if not is_followable(order_id):
        return error_response("not_found", "No such order in the read model.", 404)
    staff = await sync_to_async(request_is_staff)(request)
    layer = get_channel_layer()
    channel = await layer.new_channel()
    group = order_group(order_id)
    await layer.group_add(group, channel)
    try:
        projection = await sync_to_async(selectors.order_projection_follow)(order_id=order_id, staff=staff)
    except ApplicationError as exc:
        await layer.group_discard(group, channel)
        return error_response(exc.code, exc.message, exc.status_code)
    except BaseException:
        await layer.group_discard(group, channel)
        raise
    response = StreamingHttpResponse(
        _stream_events(layer=layer, group=group, channel=channel, order_id=order_id, first=projection, staff=staff),
        content_type="text/event-stream",
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # proxies must not buffer a live stream
    return response


async def _stream_events(*, layer: Any, group: str, channel: str, order_id: str,
                         first: dict[str, Any] | None, staff: bool) -> AsyncIterator[str]:
    try:
        if first is None:
            yield ": waiting for the read model\n\n"  # headers out now: the client knows the order exists
            while first is None:
                first = await _first_projection(layer=layer, channel=channel, order_id=order_id)
                if first is None:
                    yield ": keep-alive\n\n"
        yield sse_frame(selectors.reader_view(first, staff=staff))  # a push is the stored document
        revision = first["revision"]
        terminal = first["terminal"]
        while not terminal:
            try:
                message = await asyncio.wait_for(layer.receive(channel), KEEPALIVE_SECONDS)
            except asyncio.TimeoutError:
                yield ": keep-alive\n\n"
                continue
            projection = message.get("projection") or {}
            if projection.get("revision", 0) <= revision:  # a stale or repeated push
                continue
            revision, terminal = projection["revision"], projection["terminal"]
            yield sse_frame(selectors.reader_view(projection, staff=staff))
    finally:
        await layer.group_discard(group, channel)


async def _first_projection(*, layer: Any, channel: str, order_id: str) -> dict[str, Any] | None:
    """The first push for the order, or the stored projection after WAITING_POLL_SECONDS: pushes are
    best effort, so a lost one must not leave the subscriber waiting forever."""
    deadline = asyncio.get_running_loop().time() + KEEPALIVE_SECONDS
    while (left := deadline - asyncio.get_running_loop().time()) > 0:
        try:
            message = await asyncio.wait_for(layer.receive(channel), min(WAITING_POLL_SECONDS, left))
            if message.get("projection"):
                return message["projection"]
        except asyncio.TimeoutError:
            # the whole document, as a push carries it: the stream narrows it to what its reader may see
            stored = await sync_to_async(selectors.order_projection_find)(order_id=order_id, staff=True)
            if stored is not None:
                return stored
    return None


def sse_frame(projection: dict[str, Any]) -> str:
    data = json.dumps(projection, separators=(",", ":"), default=str)
    return f"id: {projection['revision']}\nevent: projection\ndata: {data}\n\n"


def dashboard(request: HttpRequest) -> HttpResponse:
    """Staff only, unless PUBLIC_ORDER_FEED opens it (ecom_project/access.py)."""
    if not may_read_lists(request.user):
        return redirect_to_login(request.get_full_path())
    first_page = selectors.order_projection_list(status=None, limit=DASHBOARD_FIRST_PAGE, cursor=None,
                                                 staff=is_staff(request.user))
    counts = selectors.status_counts()
    context = {
        "status_counts": list(counts.items()),
        "stuck_count": selectors.stuck_count(),
        # The deadlines let the page mark rows that become overdue while it is open (saga.overdue_step).
        "initial": {**first_page, "counts": counts, "statuses": list(domain.STATUSES),
                    "stepTimeouts": settings.SAGA_STEP_TIMEOUT_S},
    }
    return render(request, "dashboard/index.html", context)
