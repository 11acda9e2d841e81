"""Operator pages (/ops/): staff-only, Django session login, in the look of Django's admin."""
from __future__ import annotations

import json
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import user_passes_test
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from ecom_project.api_errors import ApplicationError
from ecom_project.messaging.deadletters import current_bytes

from operations import replay, selectors
from operations.forms import DeadLetterEditForm, DeadLetterFilterForm, DeadLetterReplayForm
from operations.login_throttle import LoginThrottled, client_ip, login_attempt_count, password_check_slot
from orders.selectors import stuck_counts

staff_required: Callable = user_passes_test(lambda user: user.is_active and user.is_staff)
SITE = {"site_header": "Order pipeline operations", "site_title": "Operations"}


def page(request: HttpRequest, template: str, title: str, *, status: int = 200, **context: object) -> HttpResponse:
    return render(request, template, {**SITE, "title": title, **context}, status=status)


def back_to(request: HttpRequest, fallback: str) -> HttpResponse:
    """Redirect to the page the form came from, if it is one of ours."""
    back = request.POST.get("back", "")
    safe = url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}) and back.startswith("/ops/")
    return redirect(back if safe else fallback)


class OpsLoginView(LoginView):
    template_name = "ops/login.html"
    extra_context = {**SITE, "title": "Log in"}
    redirect_authenticated_user = False

    def get_context_data(self, **kwargs: object) -> dict:
        return {**super().get_context_data(**kwargs), "app_path": self.request.get_full_path()}

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        """The password check behind the login throttle (operations/login_throttle.py)."""
        try:
            login_attempt_count(ip=client_ip(request), username=request.POST.get("username"))
            with password_check_slot():
                return super().post(request, *args, **kwargs)
        except LoginThrottled as exc:  # the password is not checked at all
            messages.error(request, exc.reason)
            form = self.form_class(request, initial={"username": request.POST.get("username", "")[:150]})
            response = self.render_to_response(self.get_context_data(form=form), status=429)
            response["Retry-After"] = str(exc.wait)
            return response


@staff_required
def index(request: HttpRequest) -> HttpResponse:
    pending, _ = selectors.dead_letter_list(status="pending", limit=selectors.MAX_LIMIT)
    return page(request, "ops/index.html", "Operations", pending_dead_letters=len(pending),
                stuck_orders=sum(stuck_counts().values()), consumers=selectors.consumer_overview(with_lag=False))


@staff_required
@require_http_methods(["GET"])
def dead_letter_list(request: HttpRequest) -> HttpResponse:
    form = DeadLetterFilterForm(request.GET)
    letters, next_cursor = [], None
    if form.is_valid():
        where, data = form.letter_filter(), form.cleaned_data
        try:
            letters, next_cursor = selectors.dead_letter_list(
                status=where.status, topic=where.topic, order_id=where.order_id, consumer=where.consumer,
                error=where.error, older_than_s=where.older_than_s, cursor=data.get("cursor") or None,
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, "; ".join(e for errors in form.errors.values() for e in errors))
    filters = {key: request.GET.get(key) or None for key in form.fields}
    letters = [{**letter, "id": letter["_id"]} for letter in letters]  # templates cannot read "_id"
    return page(request, "ops/dead_letter_list.html", "Dead letters", letters=letters, next_cursor=next_cursor,
                filters=filters, form=form, query=form.query_without_cursor(), statuses=selectors.STATUSES,
                topics=selectors.dead_letter_topics(), consumers=selectors.dead_letter_consumers(),
                default_rate=settings.DEAD_LETTER_REDRIVE_RATE)


@staff_required
def dead_letter_detail(request: HttpRequest, dead_letter_id: str, *, edit_form: DeadLetterEditForm | None = None,
                       status: int = 200) -> HttpResponse:
    try:
        letter = selectors.dead_letter_get(dead_letter_id=dead_letter_id)
    except ApplicationError as exc:
        return page(request, "ops/not_found.html", "Not found", message=exc.message, status=404)
    payload = json.dumps(letter.get("payload"), indent=2, default=str)
    edit_form = edit_form or DeadLetterEditForm(initial={"payload": _editable(letter)})
    return page(request, "ops/dead_letter_detail.html", f"Dead letter {dead_letter_id}", status=status,
                letter={**letter, "id": letter["_id"]}, payload=payload, edit_form=edit_form,
                max_replays=settings.DEAD_LETTER_MAX_REPLAYS)


def _editable(letter: dict) -> str:
    """The text an operator starts editing from: the last edit, else the original when it is text."""
    message = current_bytes(letter) or b""
    try:
        text = message.decode("utf-8")
    except UnicodeDecodeError:
        return ""
    try:
        return json.dumps(json.loads(text), indent=2)
    except ValueError:
        return text


@staff_required
@require_POST
def dead_letter_replay(request: HttpRequest) -> HttpResponse:
    form = DeadLetterReplayForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return back_to(request, "ops:dead-letters")
    for letter_id in form.cleaned_data["ids"]:
        try:
            replay.dead_letter_replay(dead_letter_id=letter_id, requested_by=request.user.get_username(),
                                      force=form.cleaned_data["force"])
            messages.success(request, f"Replayed {letter_id}.")
        except ApplicationError as exc:
            messages.error(request, f"{letter_id}: {exc.message}")
    return back_to(request, "ops:dead-letters")


@staff_required
def consumer_list(request: HttpRequest) -> HttpResponse:
    return page(request, "ops/consumer_list.html", "Consumers", consumers=selectors.consumer_overview())
