"""Forms of the operator pages (CSRF-protected by the middleware; validated here)."""
from __future__ import annotations

from urllib.parse import urlencode

from django import forms

from ecom_project.events import saga
from ecom_project.messaging.deadletters import STATUSES as LETTER_STATUSES
from operations.redrive import LetterFilter
from operations.services import ACTIONS, STEPS
from orders.selectors import OrderFilter


class DeadLetterReplayForm(forms.Form):
    ids = forms.MultipleChoiceField(error_messages={"required": "Select at least one dead letter."})
    force = forms.BooleanField(required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Any id is acceptable here; the service answers for ids that do not exist.
        self.fields["ids"].choices = [(i, i) for i in self.data.getlist("ids")] if self.data else []


class StockAdjustForm(forms.Form):
    sku = forms.CharField(max_length=64)
    delta = forms.IntegerField(min_value=-1_000_000, max_value=1_000_000)
    reason = forms.CharField(max_length=200)

    def clean_delta(self) -> int:
        if self.cleaned_data["delta"] == 0:
            raise forms.ValidationError("A change of 0 changes nothing.")
        return self.cleaned_data["delta"]


class OrderRetryForm(forms.Form):
    step = forms.ChoiceField(choices=[(s, s) for s in STEPS])

    def __init__(self, *args, steps: list[str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if steps is not None:  # on the page: only the steps the order's state allows
            self.fields["step"].choices = [(s, s) for s in steps]


class OrderCompensateForm(forms.Form):
    action = forms.ChoiceField(choices=[(a, a) for a in ACTIONS])

    def __init__(self, *args, actions: list[str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if actions is not None:
            self.fields["action"].choices = [(a, a) for a in actions]


class OrderFilterForm(forms.Form):
    """The /ops/ orders list's filter, also what its bulk action applies to."""

    STATUSES = saga.STATUSES
    STEPS = saga.STEPS
    status = forms.ChoiceField(choices=[("", "any")] + [(s, s) for s in saga.STATUSES], required=False)
    step = forms.ChoiceField(choices=[("", "any")] + [(s, s) for s in saga.STEPS], required=False)
    stuck = forms.BooleanField(required=False)
    older_than_min = forms.IntegerField(required=False, min_value=1, max_value=525600, label="Older than (minutes)")
    error = forms.CharField(required=False, max_length=200, label="Error contains")
    cursor = forms.CharField(required=False, max_length=500, widget=forms.HiddenInput)

    def order_filter(self) -> OrderFilter:
        data = self.cleaned_data
        minutes = data.get("older_than_min")
        return OrderFilter(status=data.get("status") or None, step=data.get("step") or None, stuck=bool(data.get("stuck")),
                           older_than_s=minutes * 60 if minutes else None, error=data.get("error") or None)

    def query_without_cursor(self) -> str:
        """The filter as a query string, for links that keep it (paging, the status filter)."""
        given = {k: v for k, v in (self.data or {}).items() if k in self.fields and k != "cursor" and v}
        return urlencode(given)


class DeadLetterFilterForm(forms.Form):
    """The /ops/ dead-letter list's filter, also what a redrive from there replays."""

    status = forms.ChoiceField(choices=[("", "any")] + [(s, s) for s in LETTER_STATUSES], required=False)
    topic = forms.CharField(required=False, max_length=249)
    consumer = forms.CharField(required=False, max_length=100)
    error = forms.CharField(required=False, max_length=200, label="Error contains")
    orderId = forms.CharField(required=False, max_length=64, label="Order id")  # noqa: N815
    older_than_min = forms.IntegerField(required=False, min_value=1, max_value=525600, label="Older than (minutes)")
    cursor = forms.CharField(required=False, max_length=1000, widget=forms.HiddenInput)

    def letter_filter(self) -> LetterFilter:
        data = self.cleaned_data
        minutes = data.get("older_than_min")
        return LetterFilter(status=data.get("status") or None, topic=data.get("topic") or None,
                            consumer=data.get("consumer") or None, error=data.get("error") or None,
                            order_id=data.get("orderId") or None, older_than_s=minutes * 60 if minutes else None)

    def query_without_cursor(self, **changes: str) -> str:
        given = {k: v for k, v in (self.data or {}).items() if k in self.fields and k != "cursor" and v}
        return urlencode({k: v for k, v in {**given, **changes}.items() if v})


class DeadLetterRedriveForm(DeadLetterFilterForm):
    rate = forms.FloatField(required=False, min_value=0.1, max_value=1000, label="Rate (events/s)")
    force = forms.BooleanField(required=False, label="also parked and replayed letters")
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)


class DeadLetterEditForm(forms.Form):
    payload = forms.CharField(max_length=1_000_000, widget=forms.Textarea(attrs={"rows": 16, "cols": 100}),
                              label="Corrected event (JSON)")
