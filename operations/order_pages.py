"""Operator pages for orders (list with filters, age, stuck orders and bulk actions; detail with
timeline, dead letters and the actions the order's state allows) and stock levels."""
from __future__ import annotations

import re

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from ecom_project.api_errors import ApplicationError
from inventory.selectors import stock_list as stock_select
from operations import bulk, selectors, services
from operations.forms import OrderCompensateForm, OrderFilterForm, OrderRetryForm, StockAdjustForm
from operations.pages import page, staff_required
from operations.repository import audit_entries
from orders.selectors import order_get, order_search
from projections.selectors import order_projection_find

# What an order id can look like in a URL path segment; anything else (a/b, spaces) is no order.
SEARCHABLE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

@staff_required
def order_list(request: HttpRequest) -> HttpResponse:
    search = (request.GET.get("q") or "").strip()
    if search:
        if not SEARCHABLE_ID.fullmatch(search):
            return page(request, "ops/not_found.html", "Not found", message="No order has that id.", status=404)
        return redirect("ops:order", order_id=search)
    form = OrderFilterForm(request.GET)
    orders, next_cursor = [], None
    if form.is_valid():
        try:
            orders, next_cursor = order_search(where=form.order_filter(), limit=50, cursor=form.cleaned_data["cursor"] or None)
        except ApplicationError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, "; ".join(e for errors in form.errors.values() for e in errors))
    return page(request, "ops/order_list.html", "Orders", orders=orders, form=form, next_cursor=next_cursor,
                filters=form.cleaned_data if form.is_valid() else {}, query=form.query_without_cursor(),
                statuses=OrderFilterForm.STATUSES, steps=OrderFilterForm.STEPS, actions=bulk.BULK_ACTIONS)


@staff_required
def order_detail(request: HttpRequest, order_id: str) -> HttpResponse:
    try:
        order = order_get(order_id=order_id, staff=True)
    except ApplicationError as exc:
        return page(request, "ops/not_found.html", "Not found", message=exc.message, status=404)
    projection = order_projection_find(order_id=order_id, staff=True)  # None until the read model has seen the order
    letters, _ = selectors.dead_letter_list(order_id=order_id, limit=selectors.MAX_LIMIT)
    allowed = bulk.allowed_actions(order)
    return page(request, "ops/order_detail.html", f"Order {order_id}", order=order,
                timeline=projection.get("timeline", []) if projection else [],
                letters=[{**letter, "id": letter["_id"]} for letter in letters],
                allowed=allowed, fitting_retry=order["waitingStep"] if order["waitingStep"] in allowed["retry"] else None,
                retry_form=OrderRetryForm(steps=allowed["retry"], initial={"step": order["waitingStep"]}),
                compensate_form=OrderCompensateForm(actions=allowed["compensate"]),
                audit=audit_entries(target=f"order:{order_id}", limit=20))


def _order_action(request: HttpRequest, order_id: str, form_class: type, act) -> HttpResponse:
    form = form_class(request.POST)
    if not form.is_valid():
        messages.error(request, "; ".join(e for errors in form.errors.values() for e in errors))
        return redirect("ops:order", order_id=order_id)
    try:
        event_id = act(form.cleaned_data)
        messages.success(request, f"Requested; event {event_id}.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("ops:order", order_id=order_id)


@staff_required
@require_POST
def order_retry(request: HttpRequest, order_id: str) -> HttpResponse:
    who = request.user.get_username()
    return _order_action(request, order_id, OrderRetryForm, lambda data: services.admin_order_retry(
        order_id=order_id, step=data["step"], requested_by=who))


@staff_required
@require_POST
def order_compensate(request: HttpRequest, order_id: str) -> HttpResponse:
    who = request.user.get_username()
    return _order_action(request, order_id, OrderCompensateForm, lambda data: services.admin_order_compensate(
        order_id=order_id, action=data["action"], requested_by=who))


@staff_required
@require_POST
def order_bulk(request: HttpRequest) -> HttpResponse:
    """The bulk action on the list's filter: a dry run first; its page offers to run it for real."""
    form = OrderFilterForm(request.POST)
    action = request.POST.get("action", "")
    dry_run = request.POST.get("confirm") != "1"
    if not form.is_valid():
        messages.error(request, "; ".join(e for errors in form.errors.values() for e in errors))
        return redirect("ops:orders")
    try:
        outcome = bulk.orders_bulk_action(where=form.order_filter(), action=action, dry_run=dry_run,
                                          requested_by=request.user.get_username())
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("ops:orders")
    title = f"Bulk {action}: {'dry run' if dry_run else 'done'}"
    return page(request, "ops/order_bulk.html", title, outcome=outcome, filter_fields=form.cleaned_data,
                query=form.query_without_cursor())


@staff_required
def stock_list(request: HttpRequest, form: StockAdjustForm | None = None) -> HttpResponse:
    return page(request, "ops/stock_list.html", "Stock levels", stock=stock_select(), form=form or StockAdjustForm(),
                status=400 if form else 200)


@staff_required
@require_POST
def stock_adjust(request: HttpRequest) -> HttpResponse:
    form = StockAdjustForm(request.POST)
    if not form.is_valid():
        return stock_list(request, form=form)
    data = form.cleaned_data
    try:
        services.admin_stock_adjust(sku=data["sku"], delta=data["delta"], reason=data["reason"],
                                    requested_by=request.user.get_username())
        messages.success(request, f"Stock of {data['sku']} changed by {data['delta']:+d}.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("ops:stock")
