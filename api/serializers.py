"""Small input and output serializers, one pair per operation. Inputs only
parse and type-check; the rules live in the services, whose ``DomainError``
comes back as a 400 naming the same fields."""

from __future__ import annotations

from django.utils import timezone
from rest_framework import serializers

from agencies.models import AgencyKind
from referrals.models import (
    CaseStatus,
    Concern,
    Consent,
    Ethnicity,
    Gender,
    InterventionKind,
    InterventionStatus,
    LawfulBasis,
    NoteKind,
    NoteVisibility,
    ReferralStatus,
    RiskLevel,
)


class Problem(serializers.Serializer):
    """RFC 9457 problem details (for the schema)."""

    class FieldError(serializers.Serializer):
        field = serializers.CharField(allow_null=True, help_text="Dotted path of the input at fault")
        message = serializers.CharField()
        code = serializers.CharField()

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    instance = serializers.CharField(required=False)
    errors = FieldError(many=True, required=False)


# -- shared pieces ----------------------------------------------------------

_PAGES: dict[str, type] = {}


def page_of(item: type[serializers.Serializer], *, counted: bool = False) -> type[serializers.Serializer]:
    """The schema of one page of a cursor-paginated list of ``item``; with
    ``counted``, the page also gives the total of the whole list."""
    name = f"{'Counted' if counted else 'Paginated'}{item.__name__}List"
    if name not in _PAGES:
        fields = {"__module__": __name__}
        if counted:
            fields["count"] = serializers.IntegerField(help_text="How many items the whole list holds")
        fields.update(
            next=serializers.URLField(allow_null=True, help_text="The next page, or null on the last"),
            previous=serializers.URLField(allow_null=True, help_text="The previous page, or null on the first"),
            results=item(many=True),
        )
        _PAGES[name] = type(name, (serializers.Serializer,), fields)
    return _PAGES[name]


class AgencyRef(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class YoungPersonOut(serializers.Serializer):
    id = serializers.IntegerField()
    given_name = serializers.CharField()
    family_name = serializers.CharField()
    preferred_name = serializers.CharField()
    date_of_birth = serializers.DateField()


def _person_name(user) -> str | None:
    if user is None:
        return None
    return _full_name(user.first_name, user.last_name, user.get_username())


def _full_name(first_name: str, last_name: str, username: str) -> str:
    # As Django's get_full_name(), falling back to the username.
    return f"{first_name} {last_name}".strip() or username


# -- agencies ---------------------------------------------------------------


class AgencyOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    kind = serializers.ChoiceField(choices=AgencyKind.choices)
    email = serializers.CharField(help_text="The agency's shared mailbox; empty when none is recorded")


# -- referrals --------------------------------------------------------------


class PersonIn(serializers.Serializer):
    given_name = serializers.CharField(max_length=100)
    family_name = serializers.CharField(max_length=100)
    preferred_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    date_of_birth = serializers.DateField()
    gender = serializers.ChoiceField(choices=Gender.choices, required=False)
    ethnicity = serializers.ChoiceField(choices=Ethnicity.choices, required=False)
    postcode = serializers.CharField(max_length=10, required=False, allow_blank=True)
    ward = serializers.CharField(max_length=100, required=False, allow_blank=True)
    school = serializers.IntegerField(required=False, allow_null=True, help_text="The school's agency id")
    unique_pupil_number = serializers.CharField(max_length=13, required=False, allow_blank=True)
    nhs_number = serializers.CharField(max_length=12, required=False, allow_blank=True)
    police_reference = serializers.CharField(max_length=40, required=False, allow_blank=True)


class ReferralIn(serializers.Serializer):
    person = PersonIn(required=False, help_text="A new young person's details (or give `young_person`)")
    young_person = serializers.IntegerField(
        required=False, help_text="The id of a young person your agency already referred (or give `person`)",
    )
    concerns = serializers.ListField(child=serializers.ChoiceField(choices=Concern.choices), allow_empty=False)
    concerns_other = serializers.CharField(max_length=200, required=False, allow_blank=True)
    risk_level = serializers.ChoiceField(choices=RiskLevel.choices)
    account = serializers.CharField(help_text="What happened, in the referrer's words", max_length=10_000)
    consent = serializers.ChoiceField(choices=Consent.choices)
    lawful_basis = serializers.ChoiceField(choices=LawfulBasis.choices, required=False, allow_blank=True)
    consent_reason = serializers.CharField(required=False, allow_blank=True, help_text="Why consent was not sought")
    partner_reference = serializers.CharField(
        max_length=100, required=False, allow_blank=True, help_text="Your system's own reference",
    )
    received_at = serializers.DateTimeField(required=False, help_text="When your agency received the concern")


class ReferralOut(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    partner_reference = serializers.CharField()
    status = serializers.ChoiceField(choices=ReferralStatus.choices)
    young_person = YoungPersonOut()
    concerns = serializers.ListField(child=serializers.ChoiceField(choices=Concern.choices))
    concerns_other = serializers.CharField()
    risk_level = serializers.ChoiceField(choices=RiskLevel.choices)
    account = serializers.CharField()
    consent = serializers.ChoiceField(choices=Consent.choices)
    lawful_basis = serializers.CharField()
    consent_reason = serializers.CharField()
    received_at = serializers.DateTimeField()
    decision_due_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_reason = serializers.CharField()
    signposted_to = serializers.CharField()
    case = serializers.SerializerMethodField(
        help_text="The case the referral became, when your agency may see it (else null)",
    )
    updated_at = serializers.DateTimeField()

    def get_case(self, referral) -> int | None:
        return referral.case_id if getattr(referral, "case_visible", False) else None


class ReferralFilter(serializers.Serializer):
    status = serializers.ChoiceField(choices=ReferralStatus.choices, required=False)
    updated_since = serializers.DateTimeField(required=False)


# -- cases ------------------------------------------------------------------


class CaseOut(serializers.Serializer):
    class KeyWorker(serializers.Serializer):
        id = serializers.IntegerField()
        name = serializers.SerializerMethodField()

        def get_name(self, user) -> str:
            return _person_name(user)

    id = serializers.IntegerField()
    reference = serializers.CharField()
    status = serializers.ChoiceField(choices=CaseStatus.choices)
    young_person = YoungPersonOut()
    lead_agency = AgencyRef()
    key_worker = KeyWorker(allow_null=True)
    risk_level = serializers.ChoiceField(choices=RiskLevel.choices)
    opened_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    review_interval_days = serializers.IntegerField()
    next_review_due = serializers.DateField(allow_null=True)
    closure_reason = serializers.CharField()
    outcome = serializers.CharField()
    updated_at = serializers.DateTimeField()


class CaseRows:
    """Cases shaped exactly as ``CaseOut`` (the schema; a test holds the two
    equal), read as plain values: the caseload is the API's busiest list, and
    this is its one page query, with no model instances and no serializer
    per row (``CaseOut`` per row costs more than the page's SQL)."""

    FIELDS = (
        "id", "reference", "status", "risk_level", "opened_at", "closed_at", "review_interval_days",
        "next_review_due", "closure_reason", "outcome", "updated_at",
        "young_person_id", "young_person__given_name", "young_person__family_name",
        "young_person__preferred_name", "young_person__date_of_birth",
        "lead_agency_id", "lead_agency__name",
        "key_worker_id", "key_worker__first_name", "key_worker__last_name", "key_worker__username",
    )

    @classmethod
    def values(cls, cases, *extra: str):
        """The queryset of cases as the rows ``render`` takes (plus ``extra``
        columns, such as the pagination's ordering key)."""
        return cases.values(*cls.FIELDS, *extra)

    @classmethod
    def render(cls, rows) -> list[dict]:
        zone = timezone.get_current_timezone()

        def moment(value):
            # DRF's DateTimeField: ISO 8601 in the current time zone, UTC as "Z".
            text = value.astimezone(zone).isoformat()
            return text[:-6] + "Z" if text.endswith("+00:00") else text

        def day(value):
            return value.isoformat() if value is not None else None

        return [
            {
                "id": row["id"],
                "reference": row["reference"],
                "status": row["status"],
                "young_person": {
                    "id": row["young_person_id"],
                    "given_name": row["young_person__given_name"],
                    "family_name": row["young_person__family_name"],
                    "preferred_name": row["young_person__preferred_name"],
                    "date_of_birth": day(row["young_person__date_of_birth"]),
                },
                "lead_agency": {"id": row["lead_agency_id"], "name": row["lead_agency__name"]},
                "key_worker": None if row["key_worker_id"] is None else {
                    "id": row["key_worker_id"],
                    "name": _full_name(
                        row["key_worker__first_name"], row["key_worker__last_name"], row["key_worker__username"],
                    ),
                },
                "risk_level": row["risk_level"],
                "opened_at": moment(row["opened_at"]),
                "closed_at": moment(row["closed_at"]) if row["closed_at"] is not None else None,
                "review_interval_days": row["review_interval_days"],
                "next_review_due": day(row["next_review_due"]),
                "closure_reason": row["closure_reason"],
                "outcome": row["outcome"],
                "updated_at": moment(row["updated_at"]),
            }
            for row in rows
        ]


class CaseFilter(serializers.Serializer):
    status = serializers.ChoiceField(choices=CaseStatus.choices, required=False)
    risk = serializers.ChoiceField(choices=RiskLevel.choices, required=False)
    key_worker = serializers.IntegerField(required=False, min_value=1)
    review_due_before = serializers.DateField(required=False)
    updated_since = serializers.DateTimeField(required=False)


# -- chronology -------------------------------------------------------------


class NoteOut(serializers.Serializer):
    id = serializers.IntegerField()
    occurred_at = serializers.DateTimeField()
    recorded_at = serializers.DateTimeField()
    kind = serializers.ChoiceField(choices=NoteKind.choices)
    text = serializers.CharField()
    visibility = serializers.ChoiceField(choices=NoteVisibility.choices)
    agency = AgencyRef()
    author = serializers.SerializerMethodField()
    corrects = serializers.IntegerField(source="corrects_id", allow_null=True)

    def get_author(self, note) -> str:
        return _person_name(note.author)


class NoteIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=NoteKind.choices)
    text = serializers.CharField(max_length=20_000)
    occurred_at = serializers.DateTimeField(required=False, help_text="When it happened (default: now)")
    visibility = serializers.ChoiceField(choices=NoteVisibility.choices, required=False)


class NoteCorrectionIn(serializers.Serializer):
    text = serializers.CharField(max_length=20_000, help_text="The corrected entry")


# -- interventions and reviews ----------------------------------------------


class InterventionOut(serializers.Serializer):
    id = serializers.IntegerField()
    provider_agency = AgencyRef()
    kind = serializers.ChoiceField(choices=InterventionKind.choices)
    status = serializers.ChoiceField(choices=InterventionStatus.choices)
    planned_start = serializers.DateField(allow_null=True)
    started_on = serializers.DateField(allow_null=True)
    ended_on = serializers.DateField(allow_null=True)
    goals = serializers.CharField()
    sessions_offered = serializers.IntegerField()
    sessions_attended = serializers.IntegerField()
    outcome = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class InterventionIn(serializers.Serializer):
    provider_agency = serializers.IntegerField(help_text="The providing agency's id (any active agency)")
    kind = serializers.ChoiceField(choices=InterventionKind.choices)
    goals = serializers.CharField(max_length=20_000)
    status = serializers.ChoiceField(choices=InterventionStatus.choices, required=False)
    planned_start = serializers.DateField(required=False, allow_null=True)
    started_on = serializers.DateField(required=False, allow_null=True)
    ended_on = serializers.DateField(required=False, allow_null=True)
    sessions_offered = serializers.IntegerField(required=False, min_value=0)
    sessions_attended = serializers.IntegerField(required=False, min_value=0)
    outcome = serializers.CharField(max_length=20_000, required=False, allow_blank=True)


class InterventionChangeIn(serializers.Serializer):
    status = serializers.ChoiceField(choices=InterventionStatus.choices, required=False)
    planned_start = serializers.DateField(required=False, allow_null=True)
    started_on = serializers.DateField(required=False, allow_null=True)
    ended_on = serializers.DateField(required=False, allow_null=True)
    goals = serializers.CharField(max_length=20_000, required=False)
    sessions_offered = serializers.IntegerField(required=False, min_value=0)
    sessions_attended = serializers.IntegerField(required=False, min_value=0)
    outcome = serializers.CharField(max_length=20_000, required=False, allow_blank=True)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Give at least one field to change")
        return attrs


class ReviewOut(serializers.Serializer):
    id = serializers.IntegerField()
    due_on = serializers.DateField()
    completed_at = serializers.DateTimeField(allow_null=True)
    completed_by = serializers.SerializerMethodField()
    risk_after = serializers.CharField()
    summary = serializers.CharField()
    decision = serializers.CharField()
    next_review_due = serializers.DateField(allow_null=True)

    def get_completed_by(self, review) -> str | None:
        return _person_name(review.completed_by)


# -- young-person matching --------------------------------------------------


class MatchIn(serializers.Serializer):
    """Details to search with: every field optional, but give a name and a
    date of birth, or a unique pupil number or NHS number."""

    given_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    family_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    preferred_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    date_of_birth = serializers.DateField(required=False, allow_null=True)
    postcode = serializers.CharField(max_length=10, required=False, allow_blank=True)
    school = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=2**63 - 1, help_text="The school's agency id",
    )
    gender = serializers.ChoiceField(choices=Gender.choices, required=False, allow_blank=True)
    unique_pupil_number = serializers.CharField(max_length=13, required=False, allow_blank=True)
    nhs_number = serializers.CharField(max_length=12, required=False, allow_blank=True)

    NEED = "Give a name and a date of birth, or a unique pupil number or NHS number, to search"

    def validate(self, attrs):
        if attrs.get("unique_pupil_number") or attrs.get("nhs_number"):
            return attrs
        errors = {}
        if not any(attrs.get(name) for name in ("given_name", "family_name", "preferred_name")):
            errors["given_name"] = [self.NEED]
            errors["family_name"] = [self.NEED]
        if attrs.get("date_of_birth") is None:
            errors["date_of_birth"] = [self.NEED]
        if errors:
            raise serializers.ValidationError(errors, code="required")
        return attrs


class MatchCandidateOut(serializers.Serializer):
    id = serializers.IntegerField(source="young_person_id")
    score = serializers.FloatField(
        help_text="The weight of the evidence, in bits (a log2 likelihood ratio): higher is likelier the same "
        "person, below zero is evidence against",
    )
    likely = serializers.BooleanField(help_text="The score is at or above the match threshold")
    reasons = serializers.ListField(child=serializers.CharField(), help_text="The evidence, in words")
    given_name = serializers.CharField()
    family_name = serializers.CharField()
    preferred_name = serializers.CharField()
    date_of_birth = serializers.DateField()
    postcode = serializers.CharField()


class MatchOut(serializers.Serializer):
    possible_existing_record = serializers.BooleanField(
        help_text="A likely record exists among young people your agency may not see; the hub will link it",
    )
    message = serializers.CharField(help_text="What to tell the referrer, or empty")
    candidates = MatchCandidateOut(many=True, help_text="Likely records your agency may already see, best first")
