"""Operator pages for dead-letter redrives (/ops/dead-letters/redrives/) and edited replays."""
from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from ecom_project.api_errors import ApplicationError
from operations import redrive, replay
from operations.forms import DeadLetterEditForm, DeadLetterRedriveForm
from operations.pages import dead_letter_detail, page, staff_required


@staff_required
@require_POST
def redrive_start(request: HttpRequest) -> HttpResponse:
    """The redrive of the list's filter: a dry run first; its page offers to start it for real."""
    form = DeadLetterRedriveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "; ".join(e for errors in form.errors.values() for e in errors))
        return redirect("ops:dead-letters")
    data, who = form.cleaned_data, request.user.get_username()
    try:
        where = form.letter_filter()
        if not data["confirm"]:
            preview = redrive.redrive_preview(where=where, force=data["force"])
            return page(request, "ops/dead_letter_redrive_preview.html", "Redrive: dry run", preview=preview,
                        fields=data, rate=data.get("rate") or settings.DEAD_LETTER_REDRIVE_RATE,
                        query=form.query_without_cursor())
        doc = redrive.redrive_create(where=where, rate=data.get("rate") or settings.DEAD_LETTER_REDRIVE_RATE,
                                     force=data["force"], requested_by=who)
        redrive.redrive_in_background(redrive.redrive_claim(doc["_id"], requested_by=who))
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("ops:dead-letters")
    return redirect("ops:dead-letter-redrive", redrive_id=doc["_id"])


@staff_required
def redrive_list(request: HttpRequest) -> HttpResponse:
    return page(request, "ops/dead_letter_redrive_list.html", "Redrives", redrives=redrive.redrive_list(limit=50))


@staff_required
def redrive_detail(request: HttpRequest, redrive_id: str) -> HttpResponse:
    try:
        doc = redrive.redrive_get(redrive_id)
    except ApplicationError as exc:
        return page(request, "ops/not_found.html", "Not found", message=exc.message, status=404)
    percent = int(100 * doc["done"] / doc["total"]) if doc["total"] else 100
    return page(request, "ops/dead_letter_redrive.html", f"Redrive {redrive_id}", redrive=doc, percent=min(percent, 100))


@staff_required
@require_POST
def redrive_resume(request: HttpRequest, redrive_id: str) -> HttpResponse:
    try:
        redrive.redrive_in_background(redrive.redrive_claim(redrive_id, requested_by=request.user.get_username()))
        messages.success(request, f"Redrive {redrive_id} goes on from its checkpoint.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("ops:dead-letter-redrive", redrive_id=redrive_id)


@staff_required
@require_POST
def dead_letter_edit_replay(request: HttpRequest, dead_letter_id: str) -> HttpResponse:
    """Replays a corrected event in place of the original (kept); validated, audited."""
    form = DeadLetterEditForm(request.POST)
    if form.is_valid():
        try:
            replay.dead_letter_replay(dead_letter_id=dead_letter_id, requested_by=request.user.get_username(),
                                      edited=form.cleaned_data["payload"].encode())
            messages.success(request, f"Replayed the edited event of {dead_letter_id}.")
            return redirect("ops:dead-letter", dead_letter_id=dead_letter_id)
        except ApplicationError as exc:
            for field, problem in exc.fields.items():
                form.add_error("payload" if field == "payload" else None, problem)
            if not exc.fields:
                form.add_error(None, exc.message)
    return dead_letter_detail(request, dead_letter_id, edit_form=form, status=400)
