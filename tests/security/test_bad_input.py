"""Bad input on every web form and every writing API operation.

The cases are generated from the forms and the serializers themselves, so a
new field is covered as soon as it exists: text beyond its ``max_length``,
codes outside its vocabulary, impossible and invalid dates (30 February, a
31st month, year 0, a five-digit year, letters), dates in the future where
the service forbids them, numbers that are negative, not numbers or beyond a
database integer. Each must come back as a field-level error (the form again
with the error on that field; a 400 problem naming the field) with nothing
written. Besides: a body beyond the upload limit, wrong content types and
malformed JSON on the API, and HTML and SQL injection strings in free text,
which must be stored exactly as typed and rendered escaped.

Which form serves which URL is listed in ``WEB_FORMS``; a page in the URL
table that takes a POST and is in neither ``WEB_FORMS`` nor ``NO_FORM``
fails ``test_every_writing_url_is_covered``.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django import forms as django_forms
from rest_framework import serializers as drf

from partnerships.models import AgreementTemplate, Concern, Indicator, PartnershipRules
from web import forms
from contexts import models as cm
from referrals import models as rm
from api import serializers as s
from safeguarding.models import WithheldPassage
from web.forms import SubjectAccessRequestForm
from tests.security import url_table as t
from tests.security.conftest import BAD_INPUTS
from tests.security.helpers import SERVED, new_client, state, web_client

pytestmark = pytest.mark.django_db

XSS = "<script>alert(1)</script>"
SQL = "'; DROP TABLE referrals_case; --"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'
INJECTIONS = {"html": XSS, "sql": SQL, "attribute": ATTRIBUTE}
HUGE_BODY = 3 * 1024 * 1024  # beyond DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB)
LONG_FREE_TEXT = 100_001  # for text with no declared limit: an error or stored whole

# Which form each page that takes a POST parses.
WEB_FORMS = {
    "note-add": forms.NoteForm, "note-correct": forms.CorrectNoteForm, "intervention-add": forms.InterventionForm,
    "intervention-update": forms.InterventionUpdateForm, "review-complete": forms.ReviewForm,
    "share-add": forms.ShareForm, "share-decline": forms.DeclineShareForm, "share-revoke": forms.RevokeForm,
    "case-close": forms.CloseForm, "case-reassign": forms.ReassignForm, "screening": forms.DecisionForm,
    "referral-person": forms.FindPersonForm, "referral-person-new": forms.NewPersonForm,
    "referral-concerns": forms.ConcernsForm, "referral-risk": forms.RiskForm, "referral-account": forms.AccountForm,
    "referral-consent": forms.ConsentForm, "api-clients": forms.ApiClientIssueForm,
    "subject-access-new": SubjectAccessRequestForm, "partnership-choose": forms.PartnershipChoiceForm,
    "transfer-propose": forms.TransferForm, "transfer-withdraw": forms.WithdrawTransferForm,
    "screening-ask": forms.EnquiryForm, "enquiry-detail": forms.EnquiryAnswerForm,
    "referral-indicators": forms.IndicatorsForm, "partnership-rules-new": forms.RulesForm,
    "partnership-concern-new": forms.ConcernForm, "partnership-concern-edit": forms.ConcernEditForm,
    "partnership-concern-move": forms.MoveForm, "partnership-indicator-new": forms.IndicatorForm,
    "partnership-indicator-edit": forms.IndicatorEditForm, "partnership-template-new": forms.AgreementTemplateForm,
    "partnership-template-edit": forms.AgreementTemplateForm,
    "context-create": forms.ContextForm, "context-share": forms.ContextShareForm,
    "case-context-link-add": forms.ContextLinkForm, "peer-link-add": forms.PeerLinkForm,
    "context-intervention-add": forms.ContextInterventionForm,
    "context-intervention-update": forms.ContextInterventionUpdateForm, "context-note-add": forms.ContextNoteForm,
    "context-note-correct": forms.CorrectNoteForm, "panel-create": forms.PanelForm,
    "panel-attendee-add": forms.PanelAttendeeForm, "panel-agenda-add": forms.PanelAgendaForm,
    "panel-minute-add": forms.PanelMinuteForm, "panel-minute-correct": forms.PanelMinuteCorrectForm,
    "panel-action-add": forms.PanelActionForm, "panel-action-update": forms.PanelActionUpdateForm,
    "note-withhold": forms.WithholdForm, "intervention-withhold": forms.WithholdForm,
    "referral-withhold": forms.WithholdForm, "passage-release": forms.ReleaseForm,
    "consent-record": forms.CaseConsentForm, "consent-withdraw": forms.ConsentWithdrawForm,
    "break-glass-open": forms.BreakGlassForm, "break-glass-queue-item": forms.BreakGlassReviewForm,
}
# Pages that take a POST with no form of their own, and why.
NO_FORM = {
    "referral-person-choose": "one radio, checked in the view: see test_choose_rejects_an_unknown_record",
    "referral-check": "sends the session's answers, each checked on its own page and again by the service",
    "notification-read": "no input but a `next` checked by url_has_allowed_host_and_scheme",
    "api-client-revoke": "no input", "logout": "Django's", "password_reset": "Django's",
    "two-factor-recovery-codes-new": "no input: one button that issues new codes",
    "oauth2-token": "django-oauth-toolkit's", "oauth2-revoke-token": "django-oauth-toolkit's",
    "panel-confidentiality": "one button: accept the statement in force",
    "panel-hold": "one button (ConfirmForm has no field): the service checks the meeting time has come",
}
# Dates the services refuse in the future.
NO_FUTURE = {
    ("referral-person", "date_of_birth"), ("referral-person-new", "date_of_birth"),
    ("intervention-add", "started_on"), ("intervention-update", "started_on"), ("intervention-update", "ended_on"),
    ("share-add", "expires_on"),  # at most 12 months ahead
    ("partnership-rules-new", "effective_from"),  # at most a year ahead
    ("case-context-link-add", "information_date"), ("peer-link-add", "information_date"),
    ("context-intervention-add", "started_on"), ("context-intervention-update", "started_on"),
    ("context-intervention-update", "ended_on"),
}
API_WRITES = {
    ("api-v1:referrals", "POST"): s.ReferralIn, ("api-v1:young-person-matches", "POST"): s.MatchIn,
    ("api-v1:notes", "POST"): s.NoteIn, ("api-v1:note-correct", "POST"): s.NoteCorrectionIn,
    ("api-v1:interventions", "POST"): s.InterventionIn, ("api-v1:intervention", "PATCH"): s.InterventionChangeIn,
    ("api-v1:contexts", "POST"): s.ContextIn, ("api-v1:case-context-links", "POST"): s.ContextLinkIn,
}
API_NO_FUTURE = {
    ("api-v1:referrals", "person.date_of_birth"), ("api-v1:referrals", "received_at"),
    ("api-v1:notes", "occurred_at"), ("api-v1:interventions", "started_on"), ("api-v1:interventions", "ended_on"),
    ("api-v1:intervention", "started_on"), ("api-v1:intervention", "ended_on"),
    ("api-v1:case-context-links", "information_date"),
}
DATE_PARTS = {
    "impossible (30 February)": ("30", "2", "2026"), "invalid (31/31/2026)": ("31", "31", "2026"),
    "year 0": ("1", "1", "0"), "five-digit year": ("1", "1", "20260"), "letters": ("a", "b", "c"),
}
API_DATES = {"impossible (2026-02-30)": "2026-02-30", "invalid (31/31/2026)": "31/31/2026",
             "year 0": "0000-01-01", "five-digit year": "20260-01-01", "letters": "soon"}
API_DATETIMES = {"impossible (2026-02-30)": "2026-02-30T10:00:00Z", "invalid (31/31/2026)": "31/31/2026 10:00",
                 "year 0": "0000-01-01T00:00:00Z", "letters": "yesterday"}
BEYOND_BIGINT = 2**70


# -- generating the cases ----------------------------------------------------------


def web_cases(key: str, form_class) -> list[tuple[str, str, dict]]:
    """(field, kind of bad input, the fields to overwrite in a valid body)."""
    cases = []
    for name, field in form_class.base_fields.items():
        if isinstance(field, forms.GovDateField):
            for kind, (day, month, year) in DATE_PARTS.items():
                cases.append((name, f"date {kind}", {f"{name}-day": day, f"{name}-month": month, f"{name}-year": year}))
            if (key, name) in NO_FUTURE:
                cases.append((name, "date far in the future", t.date_parts(name, dt.date(2999, 1, 1))))
        elif isinstance(field, django_forms.MultipleChoiceField):
            cases.append((name, "unknown code", {name: ["not-a-code"]}))
        elif isinstance(field, django_forms.ChoiceField):
            cases.append((name, "unknown code", {name: "not-a-code"}))
        elif isinstance(field, django_forms.IntegerField):
            cases += [(name, "not a number", {name: "lots"}), (name, "beyond a database integer", {name: str(BEYOND_BIGINT)})]
            if field.min_value is not None:
                cases.append((name, "below its minimum", {name: str(field.min_value - 1)}))
        elif isinstance(field, django_forms.CharField) and field.max_length:
            cases.append((name, f"text over max_length {field.max_length}", {name: "x" * (field.max_length + 1)}))
    return cases


def free_text_fields(form_class) -> list[str]:
    return [
        name for name, field in form_class.base_fields.items()
        if type(field) is django_forms.CharField and (field.max_length or 10_000) >= len(ATTRIBUTE)
    ]


def api_fields(serializer, prefix: str = ""):
    for name, field in serializer.fields.items():
        path = f"{prefix}{name}"
        if isinstance(field, drf.Serializer):
            yield from api_fields(field, f"{path}.")
        else:
            yield path, field


# Lists of free text (a peer group's street names), not of codes.
API_FREE_TEXT_LISTS = {("api-v1:contexts", "street_names")}


def api_cases(key: str, serializer_class) -> list[tuple[str, str, object]]:
    cases = []
    for path, field in api_fields(serializer_class()):
        if isinstance(field, drf.ChoiceField):
            cases.append((path, "unknown code", "not-a-code"))
        elif isinstance(field, drf.ListField) and (key, path) in API_FREE_TEXT_LISTS:
            cases.append((path, "not a list", "Boys from the estate"))
            if field.child.max_length:
                cases.append((path, f"text over max_length {field.child.max_length}",
                              ["x" * (field.child.max_length + 1)]))
        elif isinstance(field, drf.ListField) and isinstance(field.child, (drf.ChoiceField, drf.CharField)):
            # Codes of a fixed vocabulary, or of the partnership's own.
            cases += [(path, "unknown code", ["not-a-code"]), (path, "not a list", "weapon")]
        elif isinstance(field, drf.ListField) and isinstance(field.child, drf.IntegerField):
            cases += [(path, "unknown id", [BEYOND_BIGINT]), (path, "not a number", ["lots"]),
                      (path, "not a list", "7")]
        elif isinstance(field, drf.DateTimeField):
            cases += [(path, f"date-time {kind}", value) for kind, value in API_DATETIMES.items()]
            if (key, path) in API_NO_FUTURE:
                cases.append((path, "date-time far in the future", "2999-01-01T00:00:00Z"))
        elif isinstance(field, drf.DateField):
            cases += [(path, f"date {kind}", value) for kind, value in API_DATES.items()]
            if (key, path) in API_NO_FUTURE:
                cases.append((path, "date far in the future", "2999-01-01"))
        elif isinstance(field, drf.IntegerField):
            cases += [(path, "not a number", "lots"), (path, "beyond a database integer", BEYOND_BIGINT),
                      (path, "a number as text", "5"), (path, "a fraction", 5.5), (path, "a boolean", True)]
            if field.min_value is not None:
                cases.append((path, "below its minimum", field.min_value - 1))
        elif isinstance(field, drf.CharField) and field.max_length:
            cases.append((path, f"text over max_length {field.max_length}", "x" * (field.max_length + 1)))
            cases.append((path, "a number for text", 12345))
        elif isinstance(field, drf.CharField):
            cases.append((path, "not text", {"an": "object"}))
    return cases


def subject_for(key: str) -> str:
    ok = t.WEB[key].post_ok or t.WEB[key].ok
    return "own/manager" if "own/manager" in ok else sorted(ok)[0]


WEB_CASES = [
    pytest.param(key, field, kind, values, id=f"{key}|{field}|{kind}")
    for key, form_class in WEB_FORMS.items() for field, kind, values in web_cases(key, form_class)
]
API_CASES = [
    pytest.param(key, method, path, kind, value, id=f"{key}|{method}|{path}|{kind}")
    for (key, method), serializer_class in API_WRITES.items() for path, kind, value in api_cases(key, serializer_class)
]
INJECTION_CASES = [
    pytest.param(key, field, name, id=f"{key}|{field}|{name}")
    for key, form_class in WEB_FORMS.items() for field in free_text_fields(form_class) for name in INJECTIONS
]
for param in WEB_CASES:
    BAD_INPUTS.setdefault(f"web {param.values[0]}", []).append(param.values[2])
for param in API_CASES:
    BAD_INPUTS.setdefault(f"api {param.values[0]} {param.values[1]}", []).append(param.values[3])
for param in INJECTION_CASES:
    BAD_INPUTS.setdefault(f"web {param.values[0]}", []).append(f"{param.values[2]} injection")


# -- web forms ---------------------------------------------------------------------


def page_path(w, key: str) -> str:
    return t.build_path(SERVED[key].route, t.WEB[key].kwargs(w))


# Where a free-text field only counts with another answer.
INJECTION_BASE = {"screening": {"decision": "signpost", "signposted_to": "Local youth club", "reason": "Needs it"},
                  # Conditions on sharing are kept only with handling code C.
                  "case-context-link-add": {"handling_code": "C", "handling_conditions": "Panel only"},
                  "peer-link-add": {"handling_code": "C", "handling_conditions": "Panel only"}}


def post_form(w, key: str, changes: dict, subject: str | None = None, base: dict | None = None):
    page = t.WEB[key]
    client = web_client(w, subject or subject_for(key), page.session(w) if page.session else None)
    return client.post(page_path(w, key), {**page.post(w), **(base or {}), **changes})


def test_every_writing_url_is_covered():
    writing = {key for key, page in t.WEB.items() if "POST" in page.methods}
    assert writing == set(WEB_FORMS) | set(NO_FORM), (
        "A page takes a POST but its bad input is not tried: add its form to WEB_FORMS in "
        f"tests/security/test_bad_input.py (or say why it has none in NO_FORM): {sorted(writing ^ (set(WEB_FORMS) | set(NO_FORM)))}"
    )
    api_writes = {(key, m) for key, e in t.API.items() for m in e.methods if m != "GET" and key != "api-v1:not-found"}
    assert api_writes == set(API_WRITES)


@pytest.mark.parametrize("key", sorted(WEB_FORMS))
def test_the_valid_body_is_accepted(world, key):
    """The bodies the bad values are put into are themselves good."""
    response = post_form(world, key, {})
    assert response.status_code in (200, 302), response.status_code
    if response.status_code == 200 and response.context and "form" in response.context:
        assert not response.context["form"].errors, response.context["form"].errors


@pytest.mark.parametrize("key,field,kind,values", WEB_CASES)
def test_bad_value_is_a_field_error(world, key, field, kind, values):
    before = state()
    response = post_form(world, key, values)
    assert response.status_code == 200, f"got {response.status_code}"
    errors = response.context["form"].errors
    assert field in errors, f"no error on {field}: {errors.as_data() if errors else 'none'}"
    assert b"govuk-error-summary" in response.content
    assert state() == before


@pytest.mark.parametrize("key", sorted(WEB_FORMS))
def test_a_body_beyond_the_upload_limit_is_refused(world, key):
    field = next(iter(free_text_fields(WEB_FORMS[key])), None) or next(iter(WEB_FORMS[key].base_fields))
    before = state()
    response = post_form(world, key, {field: "x" * HUGE_BODY})
    assert response.status_code == 400
    assert state() == before


def unlimited_text_field(form_class) -> str | None:
    return next((n for n in free_text_fields(form_class) if not form_class.base_fields[n].max_length), None)


@pytest.mark.parametrize("key", sorted(k for k, f in WEB_FORMS.items() if unlimited_text_field(f)))
def test_long_free_text_is_refused_on_its_field_or_kept_whole(world, key):
    """Text with no declared limit: an error on its field, or kept whole."""
    field, text = unlimited_text_field(WEB_FORMS[key]), "y" * LONG_FREE_TEXT
    response = post_form(world, key, {field: text})
    if response.status_code == 200:
        assert field in response.context["form"].errors, "neither refused on its field nor accepted"
        return
    assert response.status_code == 302, response.status_code
    if not key.startswith("referral-"):  # the question pages keep answers in the session only
        assert stored_exactly(text), "long text was cut or lost"


def test_choose_rejects_an_unknown_record(world):
    before = state()
    response = post_form(world, "referral-person-choose", {"young_person": "not-a-record"})
    assert response.status_code == 200 and b"govuk-error-summary" in response.content
    assert state() == before


TEXT_MODELS = [rm.CaseNote, rm.Intervention, rm.Review, rm.Case, rm.Referral, rm.YoungPerson, rm.CaseTransfer,
               rm.PartnershipEnquiry, cm.Context, cm.ContextLink, cm.PeerLink, cm.ContextIntervention,
               cm.ContextNote, cm.Panel, cm.PanelAgendaItem, cm.PanelAction, cm.PanelMinute, WithheldPassage]
SETTINGS_MODELS = [Concern, Indicator, AgreementTemplate, PartnershipRules]


def stored_exactly(value: str) -> bool:
    """Is ``value`` in some text column of the casework, exactly as typed?"""
    from agencies.models import ApiClient
    from safeguarding.models import (
        BreakGlassAccess,
        BreakGlassReview,
        ConsentRecord,
        ConsentWithdrawal,
        ShareGrant,
        SharingDecision,
        SubjectAccessRequest,
    )

    for model in (*TEXT_MODELS, ShareGrant, SharingDecision, ApiClient, SubjectAccessRequest, *SETTINGS_MODELS,
                  ConsentRecord, ConsentWithdrawal, BreakGlassAccess, BreakGlassReview):
        for f in model._meta.concrete_fields:
            if f.get_internal_type() in ("CharField", "TextField") and model.objects.filter(**{f.name: value}).exists():
                return True
            if (f.get_internal_type() == "ArrayField"
                    and f.base_field.get_internal_type() in ("CharField", "TextField")
                    and model.objects.filter(**{f"{f.name}__contains": [value]}).exists()):
                return True
    return False


def rendered_pages(w, subject: str) -> str:
    client = web_client(w, subject)
    from safeguarding.models import SubjectAccessRequest

    paths = ["/", f"/cases/{w.case.pk}/", f"/referrals/{w.open_referral.pk}/", f"/screening/{w.open_referral.pk}/",
             "/agency/api-clients/", "/subject-access/", "/partnership/settings/", "/partnership/settings/history/",
             "/what-to-look-for/", "/what-to-look-for/print/", f"/partnership/settings/concerns/{w.concern.pk}/",
             "/contexts/", f"/contexts/{w.place.pk}/", "/panels/",
             f"/panels/{w.panel.pk}/", "/break-glass/", "/break-glass/reviews/",
             f"/break-glass/reviews/{w.glass_opening.pk}/", *(f"/contexts/{pk}/" for pk in cm.Context.objects.values_list("pk", flat=True)),
             *(f"/panels/{pk}/" for pk in cm.Panel.objects.values_list("pk", flat=True)),
             *(f"/subject-access/{pk}/" for pk in SubjectAccessRequest.objects.values_list("pk", flat=True))]
    return "".join(client.get(p).content.decode() for p in paths)


@pytest.mark.parametrize("key,field,name", INJECTION_CASES)
def test_injection_is_stored_as_typed_and_rendered_escaped(world, key, field, name):
    value = INJECTIONS[name]
    subject = subject_for(key)
    response = post_form(world, key, {field: value}, subject, INJECTION_BASE.get(key))
    assert response.status_code in (200, 302), response.status_code
    if response.status_code == 200:
        # Re-shown on its form (a rule refused the rest, or a page that renders
        # on success): escaped there too, never raw.
        assert value not in response.content.decode()
        return
    assert "/login/" not in response.get("Location", "")
    pages = rendered_pages(world, subject)
    assert value not in pages, "rendered raw"
    if not key.startswith("referral-"):  # the question pages keep answers in the session only
        assert stored_exactly(value), "not stored as typed"


@pytest.mark.parametrize("name", sorted(INJECTIONS))
def test_injection_through_the_referral_form_is_stored_as_typed_and_rendered_escaped(world, name):
    value = INJECTIONS[name]
    draft = t.referral_draft(world)
    draft["referral_draft"]["account"] = value
    draft["referral_draft"]["person"]["new"]["given_name"] = value[:100]
    client = web_client(world, "referrer/practitioner", draft)
    response = client.post("/referrals/new/check/")
    assert response.status_code == 302, response.status_code
    referral = rm.Referral.objects.get(account=value)
    assert referral.young_person.given_name == value
    assert value not in client.get(f"/referrals/{referral.pk}/sent/").content.decode()
    body = client.get(f"/referrals/{referral.pk}/").content.decode()
    assert value not in body and _escaped(value) in body
    body = web_client(world, "hub/hub_screener").get(f"/screening/{referral.pk}/").content.decode()
    assert value not in body and _escaped(value) in body


def _escaped(value: str) -> str:
    from django.utils.html import escape

    return escape(value)


# -- the API -----------------------------------------------------------------------


def api_call(w, key: str, method: str, body, *, content_type: str = "application/json", raw: bytes | None = None):
    endpoint = t.API[key]
    client = new_client()
    path = t.build_path(SERVED[key].route, endpoint.kwargs(w))
    data = raw if raw is not None else json.dumps(body)
    return client.generic(method, path, data, content_type=content_type, HTTP_AUTHORIZATION=f"Bearer {w.tokens['own']}")


def valid_api_body(w, key: str, method: str) -> dict:
    return t.API[key].methods[method].body(w)


def set_path(body: dict, path: str, value) -> dict:
    target = body
    *parents, leaf = path.split(".")
    for part in parents:
        target = target.setdefault(part, {})
    target[leaf] = value
    return body


def assert_problem(response, status: int, field: str | None = None) -> None:
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["detail"]
    if field is not None:
        fields = [e["field"] or "" for e in body.get("errors", [])]
        assert any(f == field or f.startswith(f"{field}.") for f in fields), f"no error on {field}: {body}"


@pytest.mark.parametrize("key,method", sorted(API_WRITES))
def test_the_valid_api_body_is_accepted(world, key, method):
    response = api_call(world, key, method, valid_api_body(world, key, method))
    assert response.status_code == t.API[key].methods[method].success, response.content[:300]


@pytest.mark.parametrize("key,method,path,kind,value", API_CASES)
def test_bad_api_value_is_a_400_naming_the_field(world, key, method, path, kind, value):
    before = state()
    body = set_path(valid_api_body(world, key, method), path, value)
    assert_problem(api_call(world, key, method, body), 400, path)
    assert state() == before


WRONG_BODIES = {
    "text/plain": ("text/plain", b'{"kind": "contact"}', 415),
    "form-encoded": ("application/x-www-form-urlencoded", b"kind=contact&text=hello", 415),
    "multipart": ("multipart/form-data; boundary=xyz", b"--xyz--", 415),
    "malformed JSON": ("application/json", b'{"kind": "contact", "text": ', 400),
    "JSON array": ("application/json", b"[]", 400),
    "JSON string": ("application/json", b'"hello"', 400),
    "not UTF-8": ("application/json", b'{"text": "\xff\xfe"}', 400),
    "empty body": ("application/json", b"", 400),
    "huge body": ("application/json", b'{"text": "' + b"x" * HUGE_BODY + b'"}', 413),
}
for key, method in API_WRITES:
    BAD_INPUTS.setdefault(f"api {key} {method}", []).extend(WRONG_BODIES)


@pytest.mark.parametrize("kind", sorted(WRONG_BODIES))
@pytest.mark.parametrize("key,method", sorted(API_WRITES))
def test_wrong_content_type_or_malformed_json(world, key, method, kind):
    content_type, raw, status = WRONG_BODIES[kind]
    before = state()
    response = api_call(world, key, method, None, content_type=content_type, raw=raw)
    assert_problem(response, status)
    assert state() == before


@pytest.mark.parametrize("name", sorted(INJECTIONS))
def test_api_injection_is_stored_as_typed_and_rendered_escaped(world, name):
    value = INJECTIONS[name]
    response = api_call(world, "api-v1:notes", "POST", {"kind": "contact", "text": value})
    assert response.status_code == 201
    assert response.json()["text"] == value  # JSON carries it as typed
    assert rm.CaseNote.objects.filter(text=value).exists()
    body = web_client(world, "own/practitioner").get(f"/cases/{world.case.pk}/").content.decode()
    assert value not in body and _escaped(value) in body
    body = {**valid_api_body(world, "api-v1:referrals", "POST"), "account": value}
    body["person"]["given_name"] = value
    response = api_call(world, "api-v1:referrals", "POST", body)
    assert response.status_code == 201, response.content[:300]
    referral = rm.Referral.objects.get(pk=response.json()["id"])
    assert referral.account == value and referral.young_person.given_name == value
    body = web_client(world, "hub/hub_screener").get(f"/screening/{referral.pk}/").content.decode()
    assert value not in body and _escaped(value) in body
