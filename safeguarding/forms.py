"""Forms of the data-protection officer's pages."""

from __future__ import annotations

from django import forms

from referrals.forms import GovDateField


class FindYoungPersonForm(forms.Form):
    q = forms.CharField(
        label="Young person's record number or name", max_length=100,
        help_text="For example 1042, or a given or family name",
        error_messages={"required": "Enter a record number or a name"},
    )


class SubjectAccessRequestForm(forms.Form):
    young_person = forms.ChoiceField(
        label="Who is the request about?", widget=forms.RadioSelect,
        error_messages={"required": "Select the young person the request is about"},
    )
    received_on = GovDateField(
        label="Date the request was received",
        help_text="The response is due one calendar month later. For example, 27 3 2026",
    )
    notes = forms.CharField(
        label="Notes (optional)", required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Who made the request and how their identity was checked. No more than needed.",
    )


class CompleteSubjectAccessRequestForm(forms.Form):
    completed_on = GovDateField(label="Date the response was sent")
