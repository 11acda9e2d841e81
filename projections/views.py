"""Server-Sent Events of one order, and the live dashboard page."""
from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render

from ecom_project.access import is_staff, may_read_lists, request_is_staff
from ecom_project.api_errors import error_response
from projections import domain, selectors
from projections.services import is_followable, order_group

KEEPALIVE_SECONDS = 15.0
DASHBOARD_FIRST_PAGE = 200


async def order_stream(request: HttpRequest, order_id: str) -> HttpResponse:
    """The projection now, then each change; ends after a terminal status.

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
        projection = await sync_to_async(selectors.order_projection_find)(order_id=order_id, staff=staff)
    except BaseException:
        await layer.group_discard(group, channel)
        raise
    if projection is None:
        await layer.group_discard(group, channel)
        return error_response("not_found", "No such order in the read model.", 404)
    response = StreamingHttpResponse(
        _stream_events(layer=layer, group=group, channel=channel, first=projection, staff=staff),
        content_type="text/event-stream",
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # proxies must not buffer a live stream
    return response


async def _stream_events(*, layer: Any, group: str, channel: str, first: dict[str, Any],
                         staff: bool) -> AsyncIterator[str]:
    try:
        yield sse_frame(first)
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
        "initial": {**first_page, "counts": counts, "statuses": list(domain.STATUSES)},
    }
    return render(request, "dashboard/index.html", context)
