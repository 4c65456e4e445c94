"""Small input and output serializers, one pair per operation. Inputs only
parse and type-check; the rules live in the services, whose ``DomainError``
comes back as a 400 naming the same fields.

The contract is strict, here and only here (``StrictInput``, ``Query`` and
the fields below), and the schema says so (``ApiSchema``):

* a JSON body holds only the fields declared, each of its JSON type: a
  number is not text, a string is not a number or a boolean (DRF's fields
  would coerce them); an unknown field is refused, not ignored;
* a query string holds only the parameters the operation declares, each
  once and well formed (``page_size=null``, ``updated_since=`` are refused);
* dates are ``YYYY-MM-DD`` and date-times RFC 3339 with a time zone, from
  1900 to 2099 (``DATE_MIN``, ``DATE_MAX``); date-times are written in RFC
  3339 in UTC (``rfc3339``).

Each refusal is a ``ValidationError``, so a 400 problem naming the field or
parameter (``api.problems``).
"""

from __future__ import annotations

import datetime as dt
import re

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import extend_schema_field
from django.core.validators import RegexValidator
from django.utils import timezone
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail
from rest_framework.settings import api_settings

from agencies.models import AgencyKind
from partnerships import vocabulary
from partnerships.models import OTHER_CONCERN
from contexts.models import ContextKind, HandlingCode, IntelligenceAssessment, SourceEvaluation
from safeguarding import redaction
from referrals.models import (
    CaseStatus,
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


# -- the strict contract ----------------------------------------------------

# Nobody the partnership works with, and nothing it records, is from before
# 1900 or after 2099: a date outside is a typing slip or a broken client
# (a chronology entry "in the year 190" was one).
DATE_MIN = dt.date(1900, 1, 1)
DATE_MAX = dt.date(2099, 12, 31)
_YEAR = "(?:19|20)[0-9]{2}"
_DATE = rf"{_YEAR}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
_TIME = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?"
_OFFSET = r"(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
DATE_PATTERN = rf"^{_DATE}$"
DATE_TIME_PATTERN = rf"^{_DATE}[Tt]{_TIME}{_OFFSET}$"
_DATE_TIME_PARTS = re.compile(
    r"^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-5][0-9])(?:\.([0-9]+))?"
    r"(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))$"
)
# Text: never a NUL (DRF refuses it); with NOT_BLANK, something besides white
# space too (DRF trims text).
NO_NUL = "^[^\\u0000]*$"
NOT_BLANK = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"
_DATE_PARTS = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")


def rfc3339(value: dt.datetime) -> str:
    """A date-time as RFC 3339, always in UTC (``...Z``): never a local
    offset in seconds (London's 1847 offset was -00:01:15)."""
    text = value.astimezone(dt.timezone.utc).isoformat()
    return text.removesuffix("+00:00") + "Z"


def _in_range(day: dt.date) -> str | None:
    if not DATE_MIN <= day <= DATE_MAX:
        return f"Give a date from {DATE_MIN:%Y-%m-%d} to {DATE_MAX:%Y-%m-%d}"
    return None


class Shown(serializers.CharField):
    """Free text of a case record as the calling agency may see it: every
    chronology text, referral account and intervention's goals and outcome
    goes out through ``safeguarding.redaction.shown``, with the actor from
    the serializer's context (none: every withheld passage stays a marker).
    ``tests/architecture`` fails an output serializer that declares those
    fields any other way."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, record) -> str:
        return redaction.shown(self.context.get("actor"), record, self.field_name)


@extend_schema_field({"type": "string", "format": "date-time", "pattern": DATE_TIME_PATTERN})
class DateTime(serializers.DateTimeField):
    """An RFC 3339 date-time with its time zone (``2026-12-01T09:30:00Z``,
    ``...+01:00``), 1900 to 2099; written back in UTC."""

    default_error_messages = {
        "invalid": "Give a date and time in RFC 3339 with a time zone, e.g. 2026-12-01T09:30:00Z",
        "range": "Give a date from 1900-01-01 to 2099-12-31",
    }

    def to_internal_value(self, value):
        match = _DATE_TIME_PARTS.match(value) if isinstance(value, str) else None
        if match is None:
            self.fail("invalid")
        year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
        try:
            offset = dt.timedelta(0) if zulu else dt.timedelta(hours=int(off_h), minutes=int(off_m))
            if offset >= dt.timedelta(hours=24):
                self.fail("invalid")
            zone = dt.timezone(-offset if sign == "-" else offset)
            moment = dt.datetime(
                int(year), int(month), int(day), int(hour), int(minute), int(second),
                int((fraction or "0")[:6].ljust(6, "0")), tzinfo=zone,
            )
        except ValueError:
            self.fail("invalid")
        moment_utc = moment.astimezone(dt.timezone.utc)
        if _in_range(moment.date()) or _in_range(moment_utc.date()):
            self.fail("range")
        # In UTC from here on: RFC 3339 allows offsets to 23:59, PostgreSQL
        # only to 15:59.
        return moment_utc

    def to_representation(self, value):
        return rfc3339(value) if value is not None else None


@extend_schema_field({"type": "string", "format": "date", "pattern": DATE_PATTERN})
class Date(serializers.DateField):
    """A calendar date, ``YYYY-MM-DD``, 1900 to 2099."""

    default_error_messages = {
        "invalid": "Give a date as YYYY-MM-DD, e.g. 2026-12-01",
        "range": "Give a date from 1900-01-01 to 2099-12-31",
    }

    def to_internal_value(self, value):
        match = _DATE_PARTS.match(value) if isinstance(value, str) else None
        if match is None:
            self.fail("invalid")
        try:
            day = dt.date(*(int(part) for part in match.groups()))
        except ValueError:
            self.fail("invalid")
        if _in_range(day):
            self.fail("range")
        return day


class QueryInteger(serializers.IntegerField):
    """A whole number in a query string: digits only (DRF's own would take
    ``5.0`` or `` 5``)."""

    def to_internal_value(self, data):
        if not isinstance(data, str) or not re.fullmatch(r"-?[0-9]{1,19}", data):
            self.fail("invalid")
        return super().to_internal_value(data)


_JSON_TYPES = (
    # (field class, the JSON type it takes, what Python makes of it)
    (serializers.BaseSerializer, "an object", (dict,)),
    (serializers.ListField, "an array", (list,)),
    (serializers.BooleanField, "true or false", (bool,)),
    (serializers.IntegerField, "a whole number", (int,)),
    (serializers.FloatField, "a number", (int, float)),
    (serializers.DecimalField, "a number", (int, float)),
    (serializers.CharField, "a string", (str,)),
    (serializers.ChoiceField, "a string", (str,)),
    (serializers.DateField, "a string", (str,)),
    (serializers.DateTimeField, "a string", (str,)),
)


def _wrong_type(field, value) -> str | None:
    """What is wrong with the JSON type of ``value`` for ``field``, or None.
    No coercion: JSON ``true`` is not the number 1, ``"5"`` is not 5."""
    if value is None:
        return None  # DRF's own rule: allowed only with allow_null
    for kind, name, python_types in _JSON_TYPES:
        if isinstance(field, kind):
            if isinstance(value, bool) and bool not in python_types:
                return f"Must be {name}"
            if not isinstance(value, python_types):
                return f"Must be {name}"
            if isinstance(field, serializers.ListField):
                for item in value:
                    if item is None or _wrong_type(field.child, item):
                        return f"Each item must be {_type_name(field.child)}"
            return None
    return None


def _type_name(field) -> str:
    return next((name for kind, name, _types in _JSON_TYPES if isinstance(field, kind)), "a value")


class StrictInput(serializers.Serializer):
    """A JSON object with only the declared fields, each of its JSON type
    (the schema: ``additionalProperties: false``); with ``min_properties``,
    at least that many (``minProperties``)."""

    min_properties = 0
    # Rules between fields, in JSON Schema, added to the request's schema
    # (the same rules the services enforce, stated for clients).
    json_schema: dict = {}

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                {api_settings.NON_FIELD_ERRORS_KEY: [ErrorDetail("Give a JSON object", code="invalid")]},
            )
        errors = {}
        for name, value in data.items():
            field = self.fields.get(name)
            if field is None or field.read_only:
                errors[name] = [ErrorDetail("Unknown field: leave it out", code="unknown")]
            elif problem := _wrong_type(field, value):
                errors[name] = [ErrorDetail(problem, code="type")]
            elif isinstance(value, str) and getattr(field, "max_length", None) and len(value) > field.max_length:
                # As sent, before DRF trims it: the schema's maxLength.
                errors[name] = [ErrorDetail(f"Give at most {field.max_length:,} characters", code="max_length")]
        if errors:
            # Every field at fault at once: the others go through their own
            # checks too (missing, out of range), as if the bad ones were absent.
            try:
                super().to_internal_value({k: v for k, v in data.items() if k not in errors})
            except serializers.ValidationError as more:
                if isinstance(more.detail, dict):
                    errors.update({k: v for k, v in more.detail.items() if k not in errors})
            raise serializers.ValidationError(errors)
        if len(data) < self.min_properties:
            raise serializers.ValidationError(
                {api_settings.NON_FIELD_ERRORS_KEY: [ErrorDetail("Give at least one field to change", code="empty")]},
            )
        return super().to_internal_value(data)


class Query(serializers.Serializer):
    """The query parameters an operation takes: no others, each once
    (checked by ``ApiView`` before the handler runs)."""

    def unknown(self, params) -> dict:
        """Errors for parameters not declared, or given more than once."""
        errors = {}
        for name in params:
            if name not in self.fields:
                known = ", ".join(self.fields) or "none"
                errors[name] = [ErrorDetail(f"Unknown query parameter (this operation takes: {known})",
                                            code="unknown")]
            elif len(params.getlist(name)) > 1:
                errors[name] = [ErrorDetail("Give this parameter once", code="repeated")]
        return errors


class PageQuery(Query):
    """The parameters of every list."""

    cursor = serializers.CharField(
        required=False, max_length=1000, validators=[RegexValidator(r"^[A-Za-z0-9+/=]+$")],
        help_text="Opaque cursor from a page's `next` or `previous` link",
    )
    page_size = QueryInteger(required=False, min_value=1, max_value=200, help_text="Rows per page: 50 by default, at most 200")


class ApiSchema(AutoSchema):
    """The OpenAPI document states every rule the strict contract enforces:
    a body on every write, no unknown body fields, at least one field in a
    change, no empty list where one is needed, and text with no NUL that
    must hold something besides spaces where blank is refused."""

    def _get_request_body(self, direction="request"):
        body = super()._get_request_body(direction)
        if body:
            body["required"] = True
        return body

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "request" and isinstance(serializer, StrictInput):
            schema["additionalProperties"] = False
            if serializer.min_properties:
                schema["minProperties"] = serializer.min_properties
        return schema

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if (
            direction == "request" and type(field) is serializers.CharField and schema.get("type") == "string"
            and not any(isinstance(validator, RegexValidator) for validator in field.validators)
        ):
            schema.setdefault("pattern", NO_NUL if field.allow_blank or not field.trim_whitespace else NOT_BLANK)
        if direction == "request" and isinstance(field, serializers.ListField) and not field.allow_empty:
            schema.setdefault("minItems", 1)
        return schema


def add_rules_between_fields(result, generator, request, public):
    """drf-spectacular post-processing hook, after its enum hook (which
    would otherwise lift the rules' enums into shared components): each
    ``StrictInput``'s ``json_schema`` into its request component."""
    schemas = result.get("components", {}).get("schemas", {})
    pending = list(StrictInput.__subclasses__())
    while pending:
        cls = pending.pop()
        pending += cls.__subclasses__()
        for name in (f"{cls.__name__}Request", f"Patched{cls.__name__}Request"):
            if cls.json_schema and name in schemas:
                schemas[name].update(cls.json_schema)
    return result


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
    date_of_birth = Date()


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


class PersonIn(StrictInput):
    # An NHS number is 10 digits (spaces between them are dropped).
    NHS_NUMBER = r"^\s*$|^\s*(?:[0-9] *){9}[0-9]\s*$"
    given_name = serializers.CharField(max_length=100)
    family_name = serializers.CharField(max_length=100)
    preferred_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    date_of_birth = Date()
    gender = serializers.ChoiceField(choices=Gender.choices, required=False)
    ethnicity = serializers.ChoiceField(choices=Ethnicity.choices, required=False)
    postcode = serializers.CharField(max_length=10, required=False, allow_blank=True)
    ward = serializers.CharField(max_length=100, required=False, allow_blank=True)
    school = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=2**63 - 1, help_text="The school's agency id",
    )
    unique_pupil_number = serializers.CharField(max_length=13, required=False, allow_blank=True)
    nhs_number = serializers.CharField(
        max_length=12, required=False, allow_blank=True, validators=[RegexValidator(NHS_NUMBER)],
        help_text="10 digits",
    )
    police_reference = serializers.CharField(max_length=40, required=False, allow_blank=True)


class ReferralIn(StrictInput):
    """A referral: a new young person (``person``) or one already referred
    (``young_person``), not both; without consent, the lawful basis and the
    reason; "other" among the concerns exactly when ``concerns_other`` says
    what it is."""

    json_schema = {
        "oneOf": [{"required": ["person"]}, {"required": ["young_person"]}],
        "allOf": [
            {"anyOf": [
                {"properties": {"consent": {"enum": [Consent.YOUNG_PERSON.value, Consent.PARENT_CARER.value]}}},
                {"required": ["lawful_basis", "consent_reason"],
                 "properties": {"lawful_basis": {"minLength": 1}, "consent_reason": {"pattern": NOT_BLANK}}},
            ]},
            {"anyOf": [
                {"properties": {"concerns": {"items": {"not": {"enum": [OTHER_CONCERN]}}},
                                "concerns_other": {"pattern": r"^\s*$"}}},
                {"required": ["concerns_other"], "properties": {
                    "concerns": {"not": {"items": {"not": {"enum": [OTHER_CONCERN]}}}},
                    "concerns_other": {"pattern": NOT_BLANK}}},
            ]},
        ],
    }

    person = PersonIn(required=False, help_text="A new young person's details (or give `young_person`)")
    young_person = serializers.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, help_text="The id of a young person your agency already referred (or give `person`)",
    )
    concerns = serializers.ListField(
        child=serializers.CharField(max_length=32), allow_empty=False,
        help_text="Codes of your partnership's concern vocabulary (`weapon`, `gang_association`, ... and its own)",
    )
    concerns_other = serializers.CharField(max_length=200, required=False, allow_blank=True)
    indicators = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False,
        help_text="Ids of the signs the referrer saw, each an indicator of one of the `concerns` "
                  "(they inform the risk rating; they never set it)",
    )
    risk_level = serializers.ChoiceField(choices=RiskLevel.choices)
    account = serializers.CharField(help_text="What happened, in the referrer's words", max_length=10_000)
    consent = serializers.ChoiceField(choices=Consent.choices)
    lawful_basis = serializers.ChoiceField(choices=LawfulBasis.choices, required=False, allow_blank=True)
    consent_reason = serializers.CharField(required=False, allow_blank=True, help_text="Why consent was not sought")
    partner_reference = serializers.CharField(
        max_length=100, required=False, allow_blank=True, help_text="Your system's own reference",
    )
    received_at = DateTime(required=False, help_text="When your agency received the concern")


class IndicatorOut(serializers.Serializer):
    id = serializers.IntegerField()
    concern = serializers.CharField(help_text="The code of the concern it is a sign of")
    text = serializers.CharField()


class ReferralOut(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    partner_reference = serializers.CharField()
    status = serializers.ChoiceField(choices=ReferralStatus.choices)
    young_person = YoungPersonOut()
    concerns = serializers.ListField(
        child=serializers.CharField(), help_text="Codes of the partnership's concern vocabulary",
    )
    concerns_other = serializers.CharField()
    indicators = serializers.SerializerMethodField(
        help_text="The signs the referrer ticked, with the concern each is a sign of",
    )
    risk_level = serializers.ChoiceField(choices=RiskLevel.choices)
    account = Shown()
    consent = serializers.ChoiceField(choices=Consent.choices)
    lawful_basis = serializers.CharField()
    consent_reason = serializers.CharField()
    received_at = DateTime()
    decision_due_at = DateTime()
    decided_at = DateTime(allow_null=True)
    decision_reason = serializers.CharField()
    signposted_to = serializers.CharField()
    case = serializers.SerializerMethodField(
        help_text="The case the referral became, when your agency may see it (else null)",
    )
    updated_at = DateTime()

    def get_case(self, referral) -> int | None:
        return referral.case_id if getattr(referral, "case_visible", False) else None

    @extend_schema_field(IndicatorOut(many=True))
    def get_indicators(self, referral) -> list[dict]:
        found = vocabulary.indicators_by_id(referral.indicators)
        return [
            {"id": i, "concern": found[i].concern.code, "text": found[i].text}
            for i in referral.indicators if i in found
        ]


class ReferralFilter(PageQuery):
    status = serializers.ChoiceField(choices=ReferralStatus.choices, required=False)
    updated_since = DateTime(required=False)


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
    opened_at = DateTime()
    closed_at = DateTime(allow_null=True)
    review_interval_days = serializers.IntegerField()
    next_review_due = Date(allow_null=True)
    closure_reason = serializers.CharField()
    outcome = serializers.CharField()
    updated_at = DateTime()


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
        moment = rfc3339  # as ``DateTime`` writes it

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


class CaseFilter(PageQuery):
    status = serializers.ChoiceField(choices=CaseStatus.choices, required=False)
    risk = serializers.ChoiceField(choices=RiskLevel.choices, required=False)
    key_worker = QueryInteger(required=False, min_value=1, max_value=2**63 - 1)
    review_due_before = Date(required=False)
    updated_since = DateTime(required=False)


# -- chronology -------------------------------------------------------------


class NoteOut(serializers.Serializer):
    id = serializers.IntegerField()
    occurred_at = DateTime()
    recorded_at = DateTime()
    kind = serializers.ChoiceField(choices=NoteKind.choices)
    text = Shown()
    visibility = serializers.ChoiceField(choices=NoteVisibility.choices)
    agency = AgencyRef()
    author = serializers.SerializerMethodField()
    corrects = serializers.IntegerField(source="corrects_id", allow_null=True)

    def get_author(self, note) -> str:
        return _person_name(note.author)


class NoteIn(StrictInput):
    kind = serializers.ChoiceField(choices=NoteKind.choices)
    text = serializers.CharField(max_length=20_000)
    occurred_at = DateTime(required=False, help_text="When it happened (default: now)")
    visibility = serializers.ChoiceField(choices=NoteVisibility.choices, required=False)


class NoteCorrectionIn(StrictInput):
    text = serializers.CharField(max_length=20_000, help_text="The corrected entry")


# -- interventions and reviews ----------------------------------------------


class InterventionOut(serializers.Serializer):
    id = serializers.IntegerField()
    provider_agency = AgencyRef()
    kind = serializers.ChoiceField(choices=InterventionKind.choices)
    status = serializers.ChoiceField(choices=InterventionStatus.choices)
    planned_start = Date(allow_null=True)
    started_on = Date(allow_null=True)
    ended_on = Date(allow_null=True)
    goals = Shown()
    sessions_offered = serializers.IntegerField()
    sessions_attended = serializers.IntegerField()
    outcome = Shown()
    created_at = DateTime()
    updated_at = DateTime()


class InterventionIn(StrictInput):
    """A completed or ended-early intervention has ``ended_on``, a planned
    or active one has none; an active one has ``started_on``."""

    json_schema = {"allOf": [
        {"anyOf": [
            {"required": ["status", "ended_on"], "properties": {
                "status": {"enum": [InterventionStatus.COMPLETED.value, InterventionStatus.ENDED_EARLY.value]},
                "ended_on": {"type": "string"}}},
            {"properties": {
                "status": {"enum": [InterventionStatus.PLANNED.value, InterventionStatus.ACTIVE.value]},
                "ended_on": {"not": {"type": "string"}}}},
        ]},
        {"anyOf": [
            {"properties": {"status": {"not": {"enum": [InterventionStatus.ACTIVE.value]}}}},
            {"required": ["started_on"], "properties": {"started_on": {"type": "string"}}},
        ]},
    ]}

    provider_agency = serializers.IntegerField(min_value=1, max_value=2**63 - 1, help_text="The providing agency's id (any active agency)")
    kind = serializers.ChoiceField(choices=InterventionKind.choices)
    goals = serializers.CharField(max_length=20_000)
    status = serializers.ChoiceField(choices=InterventionStatus.choices, required=False)
    planned_start = Date(required=False, allow_null=True)
    started_on = Date(required=False, allow_null=True)
    ended_on = Date(required=False, allow_null=True)
    sessions_offered = serializers.IntegerField(required=False, min_value=0, max_value=10_000)
    sessions_attended = serializers.IntegerField(required=False, min_value=0, max_value=10_000)
    outcome = serializers.CharField(max_length=20_000, required=False, allow_blank=True)


class InterventionChangeIn(StrictInput):
    status = serializers.ChoiceField(choices=InterventionStatus.choices, required=False)
    planned_start = Date(required=False, allow_null=True)
    started_on = Date(required=False, allow_null=True)
    ended_on = Date(required=False, allow_null=True)
    goals = serializers.CharField(max_length=20_000, required=False)
    sessions_offered = serializers.IntegerField(required=False, min_value=0, max_value=10_000)
    sessions_attended = serializers.IntegerField(required=False, min_value=0, max_value=10_000)
    outcome = serializers.CharField(max_length=20_000, required=False, allow_blank=True)

    min_properties = 1


class ReviewOut(serializers.Serializer):
    id = serializers.IntegerField()
    due_on = Date()
    completed_at = DateTime(allow_null=True)
    completed_by = serializers.SerializerMethodField()
    risk_after = serializers.CharField()
    summary = serializers.CharField()
    decision = serializers.CharField()
    next_review_due = Date(allow_null=True)

    def get_completed_by(self, review) -> str | None:
        return _person_name(review.completed_by)


# -- young-person matching --------------------------------------------------


class MatchIn(StrictInput):
    """Details to search with: every field optional, but give a name and a
    date of birth, or a unique pupil number or NHS number."""

    given_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    family_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    preferred_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    date_of_birth = Date(required=False, allow_null=True)
    postcode = serializers.CharField(max_length=10, required=False, allow_blank=True)
    school = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=2**63 - 1, help_text="The school's agency id",
    )
    gender = serializers.ChoiceField(choices=Gender.choices, required=False, allow_blank=True)
    unique_pupil_number = serializers.CharField(max_length=13, required=False, allow_blank=True)
    nhs_number = serializers.CharField(max_length=12, required=False, allow_blank=True)

    NEED = "Give a name and a date of birth, or a unique pupil number or NHS number, to search"
    json_schema = {"anyOf": [
        {"required": ["unique_pupil_number"], "properties": {"unique_pupil_number": {"pattern": NOT_BLANK}}},
        {"required": ["nhs_number"], "properties": {"nhs_number": {"pattern": NOT_BLANK}}},
        *({"required": [name, "date_of_birth"],
           "properties": {name: {"pattern": NOT_BLANK}, "date_of_birth": {"type": "string"}}}
          for name in ("given_name", "family_name", "preferred_name")),
    ]}

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
    date_of_birth = Date()
    postcode = serializers.CharField()


class MatchOut(serializers.Serializer):
    possible_existing_record = serializers.BooleanField(
        help_text="A likely record exists among young people your agency may not see; the hub will link it",
    )
    message = serializers.CharField(help_text="What to tell the referrer, or empty")
    candidates = MatchCandidateOut(many=True, help_text="Likely records your agency may already see, best first")


# -- contexts (places, peer groups, online spaces, persons of concern) --------


class ContextIn(StrictInput):
    kind = serializers.ChoiceField(choices=ContextKind.choices)
    name = serializers.CharField(max_length=200)
    known = serializers.CharField(max_length=20_000, help_text="What is known")
    risk_level = serializers.ChoiceField(choices=RiskLevel.choices)
    lead_agency = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**63 - 1,
                                           help_text="The lead agency's id; your agency by default")
    ward = serializers.CharField(max_length=100, required=False, allow_blank=True)
    latitude = serializers.FloatField(required=False, allow_null=True, min_value=-90, max_value=90,
                                      help_text="A place's map point (WGS84), with `longitude`; kept to 5 decimals")
    longitude = serializers.FloatField(required=False, allow_null=True, min_value=-180, max_value=180)
    street_names = serializers.ListField(child=serializers.CharField(max_length=100), required=False,
                                         max_length=30, help_text="A peer group's members' street names")
    restricted_to = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1), required=False, max_length=50,
        help_text="A person of concern only: the other agencies (ids) that may see it; yours always can",
    )


class ContextOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=ContextKind.choices)
    name = serializers.CharField()
    known = serializers.CharField()
    risk_level = serializers.ChoiceField(choices=RiskLevel.choices)
    ward = serializers.CharField()
    latitude = serializers.DecimalField(max_digits=8, decimal_places=5, allow_null=True, coerce_to_string=False)
    longitude = serializers.DecimalField(max_digits=8, decimal_places=5, allow_null=True, coerce_to_string=False)
    street_names = serializers.ListField(child=serializers.CharField())
    lead_agency = AgencyRef()
    recording_agency = AgencyRef()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ContextDetailOut(ContextOut):
    linked_cases_visible = serializers.IntegerField(help_text="Linked cases your agency may see (see `links/`)")
    linked_cases_not_visible = serializers.IntegerField(
        help_text="Linked cases your agency may not see: counted, never named")


class _Grading(StrictInput):
    source = serializers.CharField(max_length=300, help_text="Where the information came from")
    information_date = serializers.DateField()
    source_evaluation = serializers.ChoiceField(choices=SourceEvaluation.choices, help_text="3x5x2: 1, 2 or 3")
    intelligence_assessment = serializers.ChoiceField(choices=IntelligenceAssessment.choices,
                                                      help_text="3x5x2: A to E")
    handling_code = serializers.ChoiceField(choices=HandlingCode.choices, required=False, help_text="3x5x2: P or C")
    handling_conditions = serializers.CharField(max_length=300, required=False, allow_blank=True,
                                                help_text="Conditions on sharing (handling code C)")


class ContextLinkIn(_Grading):
    context = serializers.IntegerField(min_value=1, max_value=2**63 - 1, help_text="The context's id")


class ContextLinkOut(serializers.Serializer):
    class CaseRef(serializers.Serializer):
        id = serializers.IntegerField()
        reference = serializers.CharField()

    class ContextRef(serializers.Serializer):
        id = serializers.IntegerField()
        name = serializers.CharField()
        kind = serializers.ChoiceField(choices=ContextKind.choices)

    id = serializers.IntegerField()
    context = ContextRef()
    case = CaseRef()
    source = serializers.CharField()
    information_date = serializers.DateField()
    source_evaluation = serializers.CharField()
    intelligence_assessment = serializers.CharField()
    handling_code = serializers.CharField()
    handling_conditions = serializers.CharField()
    recording_agency = AgencyRef()
    recorded_at = serializers.DateTimeField()
