"""Forms for the sign-in pages. They only parse: ``agencies.two_factor``
says whether a code is right, and the view puts its answer on the field."""

from __future__ import annotations

from django import forms


class AppCodeForm(forms.Form):
    code = forms.CharField(
        label="Code from your authenticator app", required=False, max_length=20,
        help_text="The 6-digit code your app shows for Crossroads, for example 123456",
    )


class RecoveryCodeForm(forms.Form):
    code = forms.CharField(
        label="Recovery code", required=False, max_length=40,
        help_text="One of the recovery codes you saved when you set up two-factor authentication",
    )
