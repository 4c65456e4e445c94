"""Forms for the pages: they parse what a person typed and nothing
more. The rules live in the services, whose ``DomainError`` a view puts back
on the field at fault (see ``web.kit.add_domain_error``)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from agencies import selectors as agency_selectors
from agencies.models import ApiScope
from partnerships.models import OTHER_CONCERN
from contexts.models import (
    ActionStatus,
    ContextInterventionKind,
    ContextInterventionStatus,
    ContextKind,
    HandlingCode,
    IntelligenceAssessment,
    MinuteKind,
    PeerRelationship,
    SourceEvaluation,
)
from referrals.models import (
    ClosureReason,
    Consent,
    Gender,
    InterventionKind,
    InterventionStatus,
    TRANSFER_JOINT_DAYS_MAX,
    LawfulBasis,
    NoteKind,
    NoteVisibility,
    ReviewDecision,
    RiskLevel,
    TransferArrangement,
)
from safeguarding.models import BreakGlassOutcome, WithheldFrom, WithholdingCategory


def agency_choices(blank: str, *, partnership: int | None, exclude: int | None = None) -> list[tuple[str, str]]:
    """A partnership's active agencies as choices, after a blank prompt."""
    return [("", blank)] + [
        (str(a.pk), a.name) for a in agency_selectors.directory(partnership=partnership, exclude=exclude)
    ]


def share_recipient_choices(blank: str, *, case, day) -> list[tuple[str, str]]:
    """Whom a case may be shared with: the agencies of its partnership, then
    those of neighbouring partnerships under a cross-border agreement with
    the lead agency (named with their partnership)."""
    across = agency_selectors.cross_border_partners(case.lead_agency_id, partnership=case.partnership_id, day=day)
    return agency_choices(blank, partnership=case.partnership_id, exclude=case.lead_agency_id) + [
        (str(a.pk), f"{a.name} ({a.partnership_names}: cross-border)") for a in across
    ]


class DateParts(forms.MultiWidget):
    """The GOV.UK date input: day, month and year boxes named
    ``<name>-day``, ``<name>-month`` and ``<name>-year``."""


    def __init__(self):
        super().__init__(widgets=[forms.TextInput, forms.TextInput, forms.TextInput])
        self.widgets_names = ["-day", "-month", "-year"]

    def decompress(self, value):
        if isinstance(value, dt.date):
            return [str(value.day), str(value.month), str(value.year)]
        return [None, None, None]


class GovDateField(forms.MultiValueField):
    widget = DateParts

    def __init__(self, *, required=True, **kwargs):
        fields = (forms.CharField(), forms.CharField(), forms.CharField())
        super().__init__(fields=fields, required=required, require_all_fields=False, **kwargs)

    def compress(self, data_list):
        if not data_list or not any(data_list):
            return None
        day, month, year = (str(part or "").strip() for part in data_list)
        if not (day and month and year):
            raise ValidationError(f"{self.label} must include a day, month and year", code="incomplete")
        try:
            return dt.date(int(year), int(month), int(day))
        except ValueError:
            raise ValidationError(f"{self.label} must be a real date", code="invalid") from None

    def clean(self, value):
        if self.required and not any(value or []):
            raise ValidationError(f"Enter {self.label.lower()}", code="required")
        return self.compress(value)


def _radios(choices, label, **kwargs):
    return forms.ChoiceField(
        label=label, choices=choices, widget=forms.RadioSelect,
        error_messages={"required": f"Select {label.lower()}"}, **kwargs,
    )


class PastDateOfBirth:
    """A date of birth is never in the future: say so on its own page."""

    def clean_date_of_birth(self):
        born = self.cleaned_data.get("date_of_birth")
        if born is not None and born > timezone.localdate():
            raise ValidationError("Date of birth must be in the past", code="future")
        return born


class FindPersonForm(PastDateOfBirth, forms.Form):
    given_name = forms.CharField(label="First name", max_length=100, error_messages={"required": "Enter a first name"})
    family_name = forms.CharField(label="Last name", max_length=100, error_messages={"required": "Enter a last name"})
    date_of_birth = GovDateField(label="Date of birth", help_text="For example, 27 3 2010")


class NewPersonForm(PastDateOfBirth, forms.Form):
    given_name = forms.CharField(label="First name", max_length=100, error_messages={"required": "Enter a first name"})
    family_name = forms.CharField(label="Last name", max_length=100, error_messages={"required": "Enter a last name"})
    preferred_name = forms.CharField(label="Preferred name (optional)", max_length=100, required=False)
    date_of_birth = GovDateField(label="Date of birth", help_text="For example, 27 3 2010")
    gender = _radios(Gender.choices, "Gender")
    postcode = forms.CharField(label="Postcode (optional)", max_length=10, required=False)


class ConcernsForm(forms.Form):
    """The concerns of the partnership's vocabulary a referrer may choose
    (the view passes them: ``partnerships.vocabulary.choosable``)."""

    concerns = forms.MultipleChoiceField(
        label="What are you worried about?", widget=forms.CheckboxSelectMultiple,
        help_text="Select all that apply.",
        error_messages={"required": "Select at least one concern",
                        "invalid_choice": "Select concerns from the list"},
    )
    concerns_other = forms.CharField(label="Describe the other concern", max_length=200, required=False)

    def __init__(self, *args, concerns=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.concerns = list(concerns)
        self.concerns_by_code = {c.code: c for c in self.concerns}
        self.fields["concerns"].choices = [(c.code, c.label) for c in self.concerns]

    def clean(self):
        data = super().clean()
        if OTHER_CONCERN in (data.get("concerns") or []) and not (data.get("concerns_other") or "").strip():
            self.add_error("concerns_other", "Describe the other concern")
        return data


class RiskForm(forms.Form):
    risk_level = _radios(RiskLevel.choices, "Risk level")


class AccountForm(forms.Form):
    account = forms.CharField(
        label="What happened?", widget=forms.Textarea, max_length=10_000,
        help_text="In your own words: what you saw or were told, when, and by whom.",
        error_messages={"required": "Enter what happened"},
    )


class ConsentForm(forms.Form):
    consent = _radios(Consent.choices, "Consent")
    lawful_basis = forms.ChoiceField(
        label="Lawful basis for referring without consent", required=False,
        choices=[("", "Choose the lawful basis"), *LawfulBasis.choices],
    )
    consent_reason = forms.CharField(label="Why was consent not sought?", widget=forms.Textarea, required=False)

    def clean(self):
        data = super().clean()
        if data.get("consent") == Consent.NOT_SOUGHT:
            if not data.get("lawful_basis"):
                self.add_error("lawful_basis", "Select the lawful basis for referring without consent")
            if not (data.get("consent_reason") or "").strip():
                self.add_error("consent_reason", "Say why consent was not sought")
        else:
            data["lawful_basis"] = ""
            data["consent_reason"] = ""
        return data


class TransferForm(ConsentForm):
    """Propose moving a case to the partnership the young person moved to.
    Choices (partnerships, chronology entries) are set by the view; the
    transfer service decides whether they will do."""

    to_partnership = forms.ChoiceField(
        label="Which partnership has the young person moved to?", widget=forms.RadioSelect,
        error_messages={"required": "Select the partnership the young person has moved to"},
    )
    new_postcode = forms.CharField(label="New postcode (optional)", max_length=10, required=False)
    reason = forms.CharField(
        label="Why should the case move?", widget=forms.Textarea, max_length=2_000,
        help_text="For example, the family moved to a new address there on 1 December.",
        error_messages={"required": "Say why the case should move"},
    )
    summary = forms.CharField(
        label="Summary for the receiving hub", widget=forms.Textarea, max_length=10_000,
        help_text="What they need to know to keep the young person safe: risks, what has worked, who is involved.",
        error_messages={"required": "Write a summary for the receiving hub"},
    )
    note_ids = forms.MultipleChoiceField(
        label="Chronology entries to send (optional)", required=False, widget=forms.CheckboxSelectMultiple,
        help_text="Only what the receiving hub needs. Nothing else of this case crosses to the other partnership.",
    )
    arrangement = _radios(TransferArrangement.choices, "If the receiving hub accepts")
    joint_days = forms.IntegerField(
        label="How many days should the case stay open jointly?", required=False, min_value=1,
        max_value=TRANSFER_JOINT_DAYS_MAX, help_text=f"Only for a joint period: 1 to {TRANSFER_JOINT_DAYS_MAX} days.",
    )
    field_order = ["to_partnership", "new_postcode", "reason", "summary", "note_ids", "arrangement", "joint_days",
                   "consent", "lawful_basis", "consent_reason"]

    consent_reason = forms.CharField(label="Why was consent not sought?", widget=forms.Textarea, required=False,
                                     max_length=2_000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["consent"].label = "Consent to the transfer"
        self.fields["lawful_basis"].label = "Lawful basis for transferring without consent"

    def clean(self):
        data = super().clean()
        if data.get("arrangement") == TransferArrangement.JOINT and not data.get("joint_days"):
            self.add_error("joint_days", "Enter how many days the case should stay open jointly")
        if data.get("arrangement") != TransferArrangement.JOINT:
            data["joint_days"] = None
        return data


class EnquiryForm(forms.Form):
    message = forms.CharField(
        label="What are you asking?", widget=forms.Textarea, max_length=2_000,
        help_text="For example: we are screening a referral about this young person, who may be known to you. "
                  "If your lead agency holds a case, could it share it with us across the border or propose a transfer?",
        error_messages={"required": "Say what you are asking"},
    )


class EnquiryAnswerForm(forms.Form):
    answer = forms.CharField(
        label="Your answer", widget=forms.Textarea, max_length=2_000,
        help_text="Say whether you know the young person and what your lead agency will do; "
                  "share nothing more here than the asking hub needs.",
        error_messages={"required": "Enter your answer"},
    )


class WithdrawTransferForm(forms.Form):
    reason = forms.CharField(label="Why is the transfer withdrawn?", widget=forms.Textarea, max_length=2_000,
                             error_messages={"required": "Say why the transfer is withdrawn"})


class DecisionForm(forms.Form):
    DECISIONS = [
        ("accept", "Accept and allocate (or join the open case)"),
        ("signpost", "Signpost to another service"),
        ("no_further_action", "No further action"),
    ]
    decision = _radios(DECISIONS, "Decision")
    lead_agency = forms.ChoiceField(label="Lead agency", required=False)
    key_worker = forms.ChoiceField(label="Key worker (optional)", required=False)
    young_person = forms.ChoiceField(label="Which record is this young person?", required=False, widget=forms.RadioSelect)
    signposted_to = forms.CharField(label="Signposted to", max_length=200, required=False)
    reason = forms.CharField(label="Reason", widget=forms.Textarea, required=False)


class NoteForm(forms.Form):
    kind = _radios(NoteKind.choices, "Kind of entry")
    text = forms.CharField(label="Entry", widget=forms.Textarea, max_length=20_000, error_messages={"required": "Enter the entry"})
    visibility = _radios(NoteVisibility.choices, "Who can see it", initial=NoteVisibility.CASE)


class CorrectNoteForm(forms.Form):
    text = forms.CharField(label="Corrected entry", widget=forms.Textarea, max_length=20_000,
                           help_text="Leave any ⟦withheld:…⟧ in place: it keeps those words withheld.",
                           error_messages={"required": "Enter the corrected entry"})


class InterventionForm(forms.Form):
    provider_agency = forms.ChoiceField(label="Provider", error_messages={"required": "Select the provider"})
    kind = forms.ChoiceField(label="Kind of intervention", choices=[("", "Choose"), *InterventionKind.choices],
                             error_messages={"required": "Select the kind of intervention"})
    goals = forms.CharField(label="Goals", widget=forms.Textarea, error_messages={"required": "Enter the goals"})
    status = _radios(InterventionStatus.choices[:2], "Status", initial=InterventionStatus.PLANNED)
    planned_start = GovDateField(label="Planned start", required=False)
    started_on = GovDateField(label="Start date", required=False, help_text="Needed if it is active")
    sessions_offered = forms.IntegerField(label="Sessions offered", min_value=0, initial=0)


class InterventionUpdateForm(forms.Form):
    status = _radios(InterventionStatus.choices, "Status")
    started_on = GovDateField(label="Start date", required=False)
    ended_on = GovDateField(label="End date", required=False, help_text="Needed once it has finished")
    sessions_offered = forms.IntegerField(label="Sessions offered", min_value=0)
    sessions_attended = forms.IntegerField(label="Sessions attended", min_value=0)
    outcome = forms.CharField(label="Outcome (optional)", widget=forms.Textarea, required=False)


class ReviewForm(forms.Form):
    risk_after = _radios(RiskLevel.choices, "Risk after the review")
    decision = _radios(ReviewDecision.choices, "Decision")
    summary = forms.CharField(label="Summary", widget=forms.Textarea, error_messages={"required": "Enter a summary"})


class ShareForm(forms.Form):
    agency = forms.ChoiceField(label="Agency to share with", error_messages={"required": "Select the agency"})
    purpose = forms.CharField(label="Purpose", widget=forms.Textarea, error_messages={"required": "Enter the purpose"})
    lawful_basis = forms.ChoiceField(label="Lawful basis", choices=[("", "Choose"), *LawfulBasis.choices],
                                     error_messages={"required": "Select the lawful basis"})
    agreement = forms.ChoiceField(label="Information-sharing agreement", required=False)
    consent_sought = _radios([("yes", "Yes"), ("no", "No")], "Was consent sought")
    consent_reason = forms.CharField(label="Why was consent sought or not sought?", widget=forms.Textarea,
                                     error_messages={"required": "Say why consent was or was not sought"})
    expires_on = GovDateField(label="Share until", help_text="At most 12 months from today")
    emergency_basis = forms.CharField(label="Emergency basis (only if there is no agreement)", widget=forms.Textarea,
                                      required=False)


class DeclineShareForm(forms.Form):
    agency = forms.ChoiceField(label="Agency that asked", error_messages={"required": "Select the agency"})
    purpose = forms.CharField(label="What they asked for, and why", widget=forms.Textarea,
                              error_messages={"required": "Enter the purpose"})
    reason = forms.CharField(label="Why you are not sharing", widget=forms.Textarea,
                             error_messages={"required": "Enter the reason for not sharing"})
    lawful_basis = forms.ChoiceField(label="Lawful basis considered (optional)", required=False,
                                     choices=[("", "None"), *LawfulBasis.choices])
    consent_sought = _radios([("yes", "Yes"), ("no", "No")], "Was consent sought")
    consent_reason = forms.CharField(label="Why was consent sought or not sought?", widget=forms.Textarea,
                                     error_messages={"required": "Say why consent was or was not sought"})


class RevokeForm(forms.Form):
    reason = forms.CharField(label="Reason for revoking", widget=forms.Textarea, error_messages={"required": "Enter a reason"})


class CloseForm(forms.Form):
    reason = _radios(ClosureReason.choices, "Reason for closing")
    outcome = forms.CharField(label="Outcome", widget=forms.Textarea, error_messages={"required": "Enter the outcome"})


class ReassignForm(forms.Form):
    key_worker = forms.ChoiceField(label="Key worker", error_messages={"required": "Select a key worker"})


# ---------------------------------------------------------------------------
# An agency administrator's partner-API clients
# ---------------------------------------------------------------------------


class ApiClientIssueForm(forms.Form):
    """Parses only; the service says what is missing or wrong.

    The view passes the agency's partnerships: for an agency in several, the
    form asks which one the client will work in (radios, by id; any other id
    is not a choice); for one in a single partnership it has no such field
    and the service uses that one."""

    name = forms.CharField(
        label="Client name", required=False,
        help_text="The partner system's name, e.g. Police case system",
    )
    scopes = forms.MultipleChoiceField(
        label="What may it do?", required=False, choices=ApiScope.choices, widget=forms.CheckboxSelectMultiple,
        help_text="Select all that apply. Adding to cases needs reading them too.",
    )

    def __init__(self, *args, partnerships=(), **kwargs):
        super().__init__(*args, **kwargs)
        if len(partnerships) > 1:
            self.fields["partnership"] = forms.TypedChoiceField(
                label="Which partnership will it work in?", coerce=int, required=False, widget=forms.RadioSelect,
                choices=[(p.pk, p.name) for p in partnerships],
                help_text="The client sees the young people, referrals and cases of that partnership only.",
                error_messages={"invalid_choice": "Choose a partnership your agency works in"},
            )


# ---------------------------------------------------------------------------
# The data-protection officer's pages
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# The partnership a person is working in
# ---------------------------------------------------------------------------


class PartnershipChoiceForm(forms.Form):
    """Which of their agency's partnerships a person works in. The view
    passes the agency's partnerships; any other id is not a choice."""

    partnership = forms.TypedChoiceField(
        label="Which partnership are you working in?", coerce=int, widget=forms.RadioSelect,
        help_text="You see the young people, referrals and cases of one partnership at a time.",
        error_messages={
            "required": "Select the partnership you are working in",
            "invalid_choice": "Choose a partnership you work in",
        },
    )

    def __init__(self, *args, partnerships, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["partnership"].choices = [(p.pk, p.name) for p in partnerships]


# ---------------------------------------------------------------------------
# The partnership administrator's settings
# ---------------------------------------------------------------------------


def _bounded(label: str, low: int, high: int, unit: str, *, required: bool = True, help_text: str = ""):
    limit = "a year" if high >= 366 else f"{high:,} {unit}"
    return forms.IntegerField(
        label=label, required=required, min_value=low, max_value=high, help_text=help_text,
        error_messages={
            "required": f"Enter {label[0].lower() + label[1:]}",
            "invalid": f"{label} must be a whole number of {unit}",
            "min_value": (f"{label} must be at least {low} {unit[:-1] if low == 1 else unit}: a limit of zero is no limit"
                          if low >= 1 else f"{label} cannot be negative"),
            "max_value": f"{label} must be no more than {limit}",
        },
    )


class RulesForm(forms.Form):
    """A new version of the partnership's rules. Parses and bounds each
    number (a limit of zero or beyond a year is an error here); the service
    checks the date against the versions already set."""

    effective_from = GovDateField(label="Date the new rules take effect",
                                  help_text="Today or later. For example, 27 3 2026")
    decision_hours_red = _bounded("Red decision limit", 1, 8_784, "hours", required=False,
                                  help_text="Working hours. Leave empty for one working day")
    decision_hours_amber = _bounded("Amber decision limit", 1, 8_784, "hours", required=False,
                                    help_text="Working hours. Leave empty for one working day")
    decision_hours_green = _bounded("Green decision limit", 1, 8_784, "hours", required=False,
                                    help_text="Working hours. Leave empty for one working day")
    review_days_red = _bounded("Red review interval", 1, 366, "days")
    review_days_amber = _bounded("Amber review interval", 1, 366, "days")
    review_days_green = _bounded("Green review interval", 1, 366, "days")
    alert_minutes_red = _bounded("Red alert lead time", 0, 527_040, "minutes",
                                 help_text="Minutes before the decision deadline the hub is alerted; 0 at the deadline")
    alert_minutes_amber = _bounded("Amber alert lead time", 0, 527_040, "minutes")
    alert_minutes_green = _bounded("Green alert lead time", 0, 527_040, "minutes")
    retention_age_years = _bounded("Retention age", 18, 100, "years",
                                   help_text="Closed cases are kept until the young person reaches this age")
    small_number_threshold = _bounded("Small-number threshold", 1, 100, "people",
                                      help_text="Monitoring hides counts below this")
    consent_competence_age = _bounded("Age from which a young person may consent", 10, 18, "years")
    break_glass_hours = _bounded("Length of emergency (break-glass) access", 1, 168, "hours")
    reason = forms.CharField(label="Why the rules change (optional)", widget=forms.Textarea, required=False,
                             max_length=2_000)


class ConcernForm(forms.Form):
    label = forms.CharField(label="Name", max_length=120, error_messages={"required": "Enter the concern's name"})
    signs = forms.CharField(
        label="Signs to look for", widget=forms.Textarea, required=False, max_length=10_000,
        help_text="In plain language, in Markdown: a line starting with - is a bullet point; "
                  "[words](https://...) is a link. No HTML.",
    )
    source_title = forms.CharField(label="Source (optional)", max_length=200, required=False,
                                   help_text="Who wrote the guidance the signs come from")
    source_url = forms.CharField(label="Source link (optional)", max_length=500, required=False,
                                 help_text="A web address starting with https://")


class ConcernEditForm(ConcernForm):
    retired = forms.BooleanField(label="Retired: referrers can no longer choose it", required=False)


class MoveForm(forms.Form):
    direction = forms.ChoiceField(choices=[("up", "Up"), ("down", "Down")],
                                  error_messages={"required": "Choose up or down", "invalid_choice": "Choose up or down"})


class IndicatorForm(forms.Form):
    concern = forms.ChoiceField(label="Which concern is it a sign of?", required=False,
                                error_messages={"invalid_choice": "Select a concern of this partnership's vocabulary"})
    text = forms.CharField(label="Indicator", max_length=200, error_messages={"required": "Enter the indicator"},
                           help_text="A sign a referrer might have seen, for example: has unexplained money")

    def __init__(self, *args, concerns=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["concern"].choices = [("", "Choose the concern")] + [(str(c.pk), c.label) for c in concerns]

    def clean_concern(self):
        if not self.cleaned_data.get("concern"):
            raise ValidationError("Select the concern this indicator is a sign of", code="required")
        return self.cleaned_data["concern"]


class IndicatorEditForm(forms.Form):
    text = forms.CharField(label="Indicator", max_length=200, error_messages={"required": "Enter the indicator"})
    retired = forms.BooleanField(label="Retired: referrers no longer see it", required=False)


class AgreementTemplateForm(forms.Form):
    title = forms.CharField(label="Title", max_length=200, error_messages={"required": "Enter the template's title"})
    body = forms.CharField(label="Agreement", widget=forms.Textarea, max_length=50_000,
                           error_messages={"required": "Enter the agreement's wording"},
                           help_text="In Markdown, as the signs to look for. No HTML.")
    retired = forms.BooleanField(label="Retired: no longer offered to agencies", required=False)


class IndicatorsForm(forms.Form):
    """The referral's optional checklist: signs the referrer has seen, of the
    concerns they chose (the view passes those concerns)."""

    indicators = forms.MultipleChoiceField(
        label="Which of these signs have you seen?", required=False, widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Select only signs of the concerns you chose"},
    )

    def __init__(self, *args, concerns=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.concerns = list(concerns)
        self.fields["indicators"].choices = [
            (str(i.pk), i.text) for concern in self.concerns for i in concern.live_indicators
        ]
        # Each concern with its checklist, each box with its id (the first is
        # ``id_indicators_0``, where the error summary links).
        numbered = iter(range(len(self.fields["indicators"].choices)))
        self.groups = [
            (concern, [(f"id_indicators_{next(numbered)}", i) for i in concern.live_indicators])
            for concern in self.concerns if concern.live_indicators
        ]

    @property
    def checked(self) -> set[str]:
        value = self["indicators"].value() or []
        return {str(v) for v in value}


# ---------------------------------------------------------------------------
# Contexts and panels
# ---------------------------------------------------------------------------


class ContextForm(forms.Form):
    kind = _radios(ContextKind.choices, "What kind of context is it?")
    name = forms.CharField(label="Name", max_length=200, help_text="A place's name, a group's name, a platform "
                           "and group name, or a person's name", error_messages={"required": "Enter the name"})
    known = forms.CharField(label="What is known", widget=forms.Textarea, max_length=20_000,
                            error_messages={"required": "Enter what is known"})
    risk_level = _radios(RiskLevel.choices, "Risk")
    lead_agency = forms.ChoiceField(label="Lead agency (yours unless you choose another)", required=False)
    ward = forms.CharField(label="Ward (optional)", max_length=100, required=False)
    latitude = forms.DecimalField(label="Latitude (optional, places only)", required=False, max_digits=8,
                                  decimal_places=5, min_value=-90, max_value=90, help_text="For example, 51.47312")
    longitude = forms.DecimalField(label="Longitude (optional, places only)", required=False, max_digits=8,
                                   decimal_places=5, min_value=-180, max_value=180, help_text="For example, -0.06921")
    street_names = forms.CharField(label="Street names its members use (optional, peer groups)", required=False,
                                   widget=forms.Textarea, max_length=3_000, help_text="Separate them with commas")
    restricted_to = forms.MultipleChoiceField(
        label="Which other agencies may see this person of concern? (persons of concern only)", required=False,
        widget=forms.CheckboxSelectMultiple, help_text="Your own agency always can. No other agency sees it.",
    )


class ContextShareForm(forms.Form):
    agencies = forms.MultipleChoiceField(label="Which other agencies may see this person of concern?",
                                         required=False, widget=forms.CheckboxSelectMultiple,
                                         help_text="Your own agency always can.")


class GradingForm(forms.Form):
    """Where the information came from, when, and its 3x5x2 grade."""

    source = forms.CharField(label="Source of the information", max_length=300,
                             help_text="For example, a school incident log, a police intelligence report, a "
                                       "detached youth worker's observation",
                             error_messages={"required": "Enter the source of the information"})
    information_date = GovDateField(label="Date of the information")
    source_evaluation = _radios(SourceEvaluation.choices, "Source evaluation")
    intelligence_assessment = _radios(IntelligenceAssessment.choices, "Intelligence assessment")
    handling_code = _radios(HandlingCode.choices, "Handling code", initial=HandlingCode.PERMITTED)
    handling_conditions = forms.CharField(label="Conditions on sharing (handling code C only)", max_length=300,
                                          required=False)


class ContextLinkForm(GradingForm):
    context = forms.ChoiceField(label="Place, group or person", error_messages={"required": "Select one"})
    field_order = ["context", *GradingForm.base_fields]


class PeerLinkForm(GradingForm):
    other_case = forms.CharField(label="The other young person's case reference", max_length=20,
                                 error_messages={"required": "Enter the case reference"})
    relationship = _radios(PeerRelationship.choices, "How are they linked?")
    field_order = ["other_case", "relationship", *GradingForm.base_fields]


class ContextInterventionForm(forms.Form):
    kind = forms.ChoiceField(label="Kind of work", choices=[("", "Choose"), *ContextInterventionKind.choices],
                             error_messages={"required": "Select the kind of work"})
    description = forms.CharField(label="What will be done", widget=forms.Textarea, max_length=20_000,
                                  error_messages={"required": "Enter what will be done"})
    owner_agency = forms.ChoiceField(label="Owner agency", error_messages={"required": "Select the owner agency"})
    status = _radios(ContextInterventionStatus.choices[:2], "Status", initial=ContextInterventionStatus.PLANNED)
    started_on = GovDateField(label="Start date", required=False, help_text="Needed if it is active")


class ContextInterventionUpdateForm(forms.Form):
    status = _radios(ContextInterventionStatus.choices, "Status")
    started_on = GovDateField(label="Start date", required=False)
    ended_on = GovDateField(label="End date", required=False, help_text="Needed once it has finished")


class ContextNoteForm(forms.Form):
    kind = _radios(NoteKind.choices, "Kind of entry")
    text = forms.CharField(label="Entry", widget=forms.Textarea, max_length=20_000,
                           error_messages={"required": "Enter the entry"})


class TimeField(forms.CharField):
    """A time of day typed as HH:MM (24-hour)."""

    def clean(self, value):
        value = super().clean(value).strip()
        if not value:
            return None
        try:
            hour, minute = (int(part) for part in value.replace(".", ":").split(":"))
            return dt.time(hour, minute)
        except (ValueError, TypeError):
            raise ValidationError(f"{self.label} must be a time like 14:30", code="invalid") from None


class PanelForm(forms.Form):
    title = forms.CharField(label="Title", max_length=200, initial="MACE panel",
                            error_messages={"required": "Enter the title"})
    meets_on = GovDateField(label="Date of the meeting")
    meets_time = TimeField(label="Time", max_length=5, help_text="For example, 14:30",
                           error_messages={"required": "Enter the time"})
    location = forms.CharField(label="Where (optional)", max_length=200, required=False)
    chair = forms.ChoiceField(label="Chair (you, unless you choose someone else)", required=False)


class ConfirmForm(forms.Form):
    """A button and nothing else: the service checks what it must."""


class PanelAttendeeForm(forms.Form):
    user = forms.ChoiceField(label="Person (and the agency they attend for)",
                             error_messages={"required": "Select the person"})


class PanelAgendaForm(forms.Form):
    case = forms.CharField(label="Case reference (or choose a context)", max_length=20, required=False)
    context = forms.ChoiceField(label="Context", required=False)
    reason = forms.CharField(label="Why it is on the agenda (optional)", max_length=500, required=False)


class PanelMinuteForm(forms.Form):
    item = forms.ChoiceField(label="About", required=False)
    kind = _radios(MinuteKind.choices, "Kind of minute")
    text = forms.CharField(label="Minute", widget=forms.Textarea, max_length=20_000,
                           error_messages={"required": "Enter the minute"},
                           help_text="A decision about a case is written into that case's chronology too.")


class PanelMinuteCorrectForm(forms.Form):
    text = forms.CharField(label="Corrected minute", widget=forms.Textarea, max_length=20_000,
                           error_messages={"required": "Enter the corrected minute"})


class PanelActionForm(forms.Form):
    item = forms.ChoiceField(label="About (optional)", required=False)
    description = forms.CharField(label="Action", widget=forms.Textarea, max_length=20_000,
                                  error_messages={"required": "Enter the action"})
    owner = forms.ChoiceField(label="Owner (and their agency)", error_messages={"required": "Select the owner"})
    due_on = GovDateField(label="Due date")


class PanelActionUpdateForm(forms.Form):
    status = _radios(ActionStatus.choices, "Status")
    update = forms.CharField(label="Update (optional)", widget=forms.Textarea, max_length=20_000, required=False)


class MonitoringFiltersForm(forms.Form):
    """The monitoring's filters: a financial year (fixed quarters, so no two
    periods overlap), a ward or "ward not known", a concern."""

    year = forms.TypedChoiceField(label="Financial year", coerce=int)
    ward = forms.ChoiceField(label="Ward", required=False)
    concern = forms.ChoiceField(label="Concern", required=False)

    def __init__(self, data, *, years: list[int], wards: list, concerns: list[tuple[str, str]], not_known: int):
        super().__init__(data)
        self.fields["year"].choices = [(y, f"April {y} to March {y + 1}") for y in years]
        self.fields["ward"].choices = [("", "All wards"), *((w.pk, w.name) for w in wards),
                                       (not_known, "Ward not known")]
        self.fields["concern"].choices = [("", "All concerns"), *concerns]

    def chosen(self, default_year: int) -> tuple[int, int | None, str | None]:
        """The filters chosen, or every one left at its default if any is
        not one of the choices."""
        if not self.is_bound or not self.is_valid():
            return default_year, None, None
        ward = self.cleaned_data["ward"]
        return self.cleaned_data["year"], int(ward) if ward != "" else None, self.cleaned_data["concern"] or None


class WithholdForm(forms.Form):
    """Withhold words of a record from other agencies (``safeguarding.redaction``)."""

    field = _radios([], "Which part")
    passage = forms.CharField(
        label="Words to withhold", widget=forms.Textarea, max_length=5_000, required=False,
        help_text="Copy them exactly as they are written. If they appear more than once, include some of the "
                  "words around them.",
    )
    whole = forms.BooleanField(label="Withhold all of it instead", required=False)
    category = forms.ChoiceField(
        label="What kind of information is it?", choices=WithholdingCategory.choices, widget=forms.RadioSelect,
        error_messages={"required": "Select what kind of information it is"},
    )
    withheld_from = _radios(WithheldFrom.choices, "Whom to withhold it from")
    agencies = forms.MultipleChoiceField(
        label="The agencies to withhold it from", required=False, widget=forms.CheckboxSelectMultiple,
        help_text="Only when withholding it from the agencies you name.",
        error_messages={"invalid_choice": "Select agencies from the list"},
    )
    released_to = forms.MultipleChoiceField(
        label="Release it to (optional)", required=False, widget=forms.CheckboxSelectMultiple,
        help_text="Information about a third party (a witness, a victim, anyone else named) is withheld from "
                  "every other agency unless you release it to one.",
        error_messages={"invalid_choice": "Select agencies from the list"},
    )
    ask = forms.CharField(
        label="Whom should they ask for it", max_length=120, initial="the case's lead",
        help_text="Shown where the words were, for example: the case's lead, or a named officer and how to "
                  "reach them.", error_messages={"required": "Enter whom they should ask"},
    )
    reason = forms.CharField(label="Why (optional)", widget=forms.Textarea, max_length=5_000, required=False)

    def __init__(self, *args, fields: list[tuple[str, str]], agencies: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["field"].choices = fields
        if len(fields) == 1:
            self.fields["field"].initial = fields[0][0]
            self.fields["field"].widget = forms.HiddenInput()
        self.fields["agencies"].choices = agencies
        self.fields["released_to"].choices = agencies


class ReleaseForm(forms.Form):
    """Release withheld words to agencies (``safeguarding.redaction``)."""

    agencies = forms.MultipleChoiceField(
        label="Release the words to", widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Select the agencies to release it to",
                        "invalid_choice": "Select agencies from the list"},
    )
    reason = forms.CharField(label="Why are they released", widget=forms.Textarea, max_length=5_000,
                             error_messages={"required": "Enter why they are released"})

    def __init__(self, *args, agencies: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agencies"].choices = agencies


# ---------------------------------------------------------------------------
# Consent and break-glass (issue 18)
# ---------------------------------------------------------------------------


class CaseConsentForm(forms.Form):
    given_by = _radios(Consent.choices, "Consent",
                       help_text="From the young person only if they are old enough and you judge them competent")
    judged_competent = forms.ChoiceField(
        label="If the young person gave it: did you judge them competent to consent?", required=False,
        choices=[("yes", "Yes, they understand what will be shared, with whom and why"), ("no", "No")],
        widget=forms.RadioSelect,
    )
    lawful_basis = forms.ChoiceField(label="If consent was not sought: the lawful basis relied on", required=False,
                                     choices=[("", "Choose"), *LawfulBasis.choices])
    reason = forms.CharField(label="If consent was not sought: why (otherwise, how it was given)", required=False,
                             widget=forms.Textarea)


class ConsentWithdrawForm(forms.Form):
    withdrawn_by = _radios(
        [(Consent.YOUNG_PERSON, "The young person"), (Consent.PARENT_CARER, "A parent or carer")],
        "Who withdrew consent",
    )
    reason = forms.CharField(label="What they said (optional)", required=False, widget=forms.Textarea)


class BreakGlassForm(forms.Form):
    case_reference = forms.CharField(
        label="Case reference", max_length=20, help_text="For example, C-7K2M-QX4P",
        error_messages={"required": "Enter the case reference"},
    )
    reason = forms.CharField(
        label="Why you need this case now", widget=forms.Textarea,
        help_text="Your manager and the data-protection officer will read this",
        error_messages={"required": "Enter why you need this case now"},
    )


class BreakGlassReviewForm(forms.Form):
    outcome = _radios(BreakGlassOutcome.choices, "Your decision")
    note = forms.CharField(label="Your note", widget=forms.Textarea, error_messages={"required": "Enter your note"})
