"""Forms of the operator pages (CSRF-protected by the middleware; validated here)."""
from __future__ import annotations

from django import forms

from operations.services import ACTIONS, STEPS


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


class OrderCompensateForm(forms.Form):
    action = forms.ChoiceField(choices=[(a, a) for a in ACTIONS])
