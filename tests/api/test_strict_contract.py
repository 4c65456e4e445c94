"""The strict contract: query parameters and JSON bodies are taken exactly
as the schema states them, implausible dates are refused, date-times are
written in RFC 3339 in UTC; and the schema states each of these rules."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import yaml
from django.utils import timezone

from referrals import models as rm
from tests.api.conftest import assert_problem
from tests.api.operations import OPERATIONS

LISTS = ["/api/v1/agencies/", "/api/v1/referrals/", "/api/v1/cases/", "/api/v1/cases/{case}/notes/",
         "/api/v1/cases/{case}/interventions/", "/api/v1/cases/{case}/reviews/"]
RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def _fields(problem) -> set:
    return {error["field"] for error in problem["errors"]}


def _ids(cast, case):
    # An unknown query parameter is refused before anything is looked up,
    # so any id will do (the context's included).
    return {
        "case": case.pk, "note": rm.CaseNote.objects.filter(case=case, agency=cast.owner).first().pk,
        "intervention": rm.Intervention.objects.filter(case=case).first().pk,
        "referral": 1, "context": 1,
    }


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
def test_an_unknown_query_parameter_is_a_400_naming_it_on_every_operation(cast, case, api_as, op):
    before = rm.CaseNote.objects.count(), rm.Referral.objects.count(), rm.Intervention.objects.count()
    body = dict(op.body)
    if "provider_agency" in body:
        body["provider_agency"] = cast.owner.pk
    if "context" in body:
        body["context"] = 1
    url = op.url(**_ids(cast, case)) + "?colour=blue"
    problem = assert_problem(getattr(api_as("owner"), op.method)(url, body, format="json"), 400)
    assert _fields(problem) == {"colour"} and problem["errors"][0]["code"] == "unknown"
    assert (rm.CaseNote.objects.count(), rm.Referral.objects.count(), rm.Intervention.objects.count()) == before


def test_a_path_that_is_no_operation_is_a_404_whatever_its_query(cast, api_as):
    assert_problem(api_as("owner").get("/api/v1/nothing-here/?colour=blue"), 404)


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("query,field", [
    ("page_size=null", "page_size"), ("page_size=", "page_size"), ("page_size=0", "page_size"),
    ("page_size=201", "page_size"), ("page_size=5.0", "page_size"), ("page_size=%205", "page_size"),
    ("page_size=5&page_size=6", "page_size"), ("cursor=", "cursor"), ("cursor=not-a-cursor!", "cursor"),
    ("cursor=0", "cursor"), ("cursor=cD1hYmM%3D", "cursor"),  # base64 of "p=abc": a position of no column
])
def test_an_invalid_page_parameter_is_a_400_naming_it(cast, case, api_as, path, query, field):
    if query.startswith("cursor=cD1") and path == "/api/v1/agencies/":
        pytest.skip("the directory is ordered by name: any text is a position in it")
    problem = assert_problem(api_as("owner").get(f"{path.format(case=case.pk)}?{query}"), 400)
    assert _fields(problem) == {field}


@pytest.mark.parametrize("path,query,field", [
    ("/api/v1/referrals/", "updated_since=", "updated_since"),
    ("/api/v1/cases/", "updated_since=", "updated_since"),
    ("/api/v1/cases/", "updated_since=2026-12-01", "updated_since"),
    ("/api/v1/cases/", "updated_since=2026-12-01T10:00:00", "updated_since"),  # no time zone
    ("/api/v1/cases/", "updated_since=2026-12-01 10:00:00Z", "updated_since"),
    ("/api/v1/cases/", "updated_since=1899-12-31T23:59:59Z", "updated_since"),
    ("/api/v1/cases/", "updated_since=0190-10-08T00:21:57-00:01:15", "updated_since"),
    ("/api/v1/cases/", "review_due_before=", "review_due_before"),
    ("/api/v1/cases/", "review_due_before=20261201", "review_due_before"),
    ("/api/v1/cases/", "review_due_before=2026-W01-1", "review_due_before"),
    ("/api/v1/cases/", "status=", "status"),
    ("/api/v1/cases/", "key_worker=5.0", "key_worker"),
    ("/api/v1/cases/", "key_worker=null", "key_worker"),
])
def test_an_invalid_filter_is_a_400_naming_it(cast, case, api_as, path, query, field):
    problem = assert_problem(api_as("owner").get(f"{path}?{query}"), 400)
    assert _fields(problem) == {field}


def test_a_far_offset_is_read_as_the_moment_it_names(cast, case, api_as):
    # RFC 3339 allows offsets to 23:59 (PostgreSQL only to 15:59).
    response = api_as("owner").get("/api/v1/cases/?updated_since=2000-01-01T10:00:00-21:29")
    assert response.status_code == 200 and response.json()["count"] == 1


@pytest.mark.parametrize("body,field,code", [
    ({"kind": "contact", "text": 12345}, "text", "type"),
    ({"kind": "contact", "text": True}, "text", "type"),
    ({"kind": "contact", "text": ["a"]}, "text", "type"),
    ({"kind": 1, "text": "x"}, "kind", "type"),
    ({"kind": "contact", "text": "x", "visibility": None}, "visibility", "null"),
    ({"kind": "contact", "text": "x", "author": "someone"}, "author", "unknown"),
    ({"kind": "contact", "text": "x", "occurred_at": 1700000000}, "occurred_at", "type"),
    ({"kind": "contact", "text": "x" * 20_000 + "  "}, "text", "max_length"),  # as sent, before trimming
])
def test_a_note_body_is_not_coerced(cast, case, api_as, body, field, code):
    problem = assert_problem(api_as("owner").post(f"/api/v1/cases/{case.pk}/notes/", body, format="json"), 400)
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [(field, code)]
    assert not rm.CaseNote.objects.filter(text__in=["12345", "True", "x"]).exists()


@pytest.mark.parametrize("change,field", [
    ({"sessions_offered": "5"}, "sessions_offered"), ({"sessions_offered": 5.0}, "sessions_offered"),
    ({"sessions_offered": True}, "sessions_offered"), ({"goals": 7}, "goals"),
    ({"started_on": 20261201}, "started_on"), ({"planned_start": "2026-12-01T00:00:00Z"}, "planned_start"),
])
def test_an_intervention_change_is_not_coerced(cast, case, api_as, change, field):
    intervention = rm.Intervention.objects.get(case=case)
    url = f"/api/v1/cases/{case.pk}/interventions/{intervention.pk}/"
    problem = assert_problem(api_as("owner").patch(url, change, format="json"), 400)
    assert _fields(problem) == {field}
    intervention.refresh_from_db()
    assert intervention.sessions_offered == 0 and intervention.started_on is None


def test_a_change_needs_a_field(cast, case, api_as):
    intervention = rm.Intervention.objects.get(case=case)
    url = f"/api/v1/cases/{case.pk}/interventions/{intervention.pk}/"
    problem = assert_problem(api_as("owner").patch(url, {}, format="json"), 400)
    assert problem["errors"][0]["code"] == "empty"


def test_a_nested_body_is_strict_too(cast, api_as):
    body = {"person": {"given_name": "Jordan", "family_name": "Ellis", "date_of_birth": "2011-03-04", "school": "3",
                       "nickname": "J"},
            "concerns": ["weapon"], "risk_level": "amber", "account": "Seen with a knife.", "consent": "young_person"}
    problem = assert_problem(api_as("owner").post("/api/v1/referrals/", body, format="json"), 400)
    assert _fields(problem) == {"person.school", "person.nickname"}
    assert not rm.Referral.objects.exists()


@pytest.mark.parametrize("occurred_at,code", [
    ("0190-10-08T00:21:57-00:01:15", "invalid"),  # the fuzzer's: a seconds offset is not RFC 3339
    ("0190-10-08T00:21:57Z", "range"),
    ("1899-12-31T23:59:59Z", "range"),
    ("2026-12-01T10:00:00", "invalid"),
    ("2026-12-01", "invalid"),
])
def test_an_implausible_or_malformed_moment_is_refused(cast, case, api_as, occurred_at, code):
    body = {"kind": "contact", "text": "Met at school.", "occurred_at": occurred_at}
    problem = assert_problem(api_as("owner").post(f"/api/v1/cases/{case.pk}/notes/", body, format="json"), 400)
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [("occurred_at", code)]


def test_a_moment_before_the_young_persons_birth_or_beyond_the_clock_skew_is_refused(cast, case, api_as):
    client = api_as("owner")
    url = f"/api/v1/cases/{case.pk}/notes/"
    born = case.young_person.date_of_birth
    before_birth = dt.datetime.combine(born - dt.timedelta(days=1), dt.time(12), tzinfo=dt.timezone.utc)
    soon = timezone.now() + dt.timedelta(minutes=20)
    for moment, code in ((before_birth, "before_birth"), (soon, "future")):
        body = {"kind": "contact", "text": "Met at school.", "occurred_at": moment.isoformat()}
        problem = assert_problem(client.post(url, body, format="json"), 400)
        assert [(e["field"], e["code"]) for e in problem["errors"]] == [("occurred_at", code)]
    # A partner's clock a minute ahead of ours is fine.
    ahead = (timezone.now() + dt.timedelta(minutes=1)).isoformat()
    assert client.post(url, {"kind": "contact", "text": "Met.", "occurred_at": ahead}, format="json").status_code == 201


def test_intervention_dates_before_birth_are_refused(cast, case, api_as):
    before = (case.young_person.date_of_birth - dt.timedelta(days=1)).isoformat()
    body = {"provider_agency": cast.owner.pk, "kind": "mentoring", "goals": "Weekly", "planned_start": before}
    problem = assert_problem(api_as("owner").post(f"/api/v1/cases/{case.pk}/interventions/", body, format="json"), 400)
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [("planned_start", "before_birth")]


def test_date_times_are_written_in_rfc3339_utc(cast, case, api_as):
    client = api_as("owner")
    created = client.post(f"/api/v1/cases/{case.pk}/notes/", {
        "kind": "contact", "text": "Met.", "occurred_at": "2026-07-01T10:15:00+01:00",
    }, format="json").json()
    assert created["occurred_at"] == "2026-07-01T09:15:00Z"
    moments = [created["recorded_at"]]
    for path in (f"/api/v1/cases/{case.pk}/", "/api/v1/cases/"):
        body = client.get(path).json()
        row = body["results"][0] if "results" in body else body
        moments += [row["opened_at"], row["updated_at"]]
    moments += [n["occurred_at"] for n in client.get(f"/api/v1/cases/{case.pk}/notes/").json()["results"]]
    assert moments and all(RFC3339_UTC.match(m) for m in moments), moments


@pytest.mark.parametrize("key", ["", " ", "a b", "x" * 256, "ключ"])
def test_an_idempotency_key_outside_its_pattern_is_a_400(cast, case, api_as, key):
    response = api_as("owner").post(
        f"/api/v1/cases/{case.pk}/notes/", {"kind": "contact", "text": "Met."}, format="json",
        HTTP_IDEMPOTENCY_KEY=key.encode().decode("latin-1"),
    )
    assert _fields(assert_problem(response, 400)) == {"Idempotency-Key"}


def test_the_schema_states_the_rules(client):
    doc = yaml.safe_load(client.get("/api/schema/").content)
    schemas = doc["components"]["schemas"]
    notes = doc["paths"]["/api/v1/cases/{case_id}/notes/"]
    key = next(p for p in notes["post"]["parameters"] if p["name"] == "Idempotency-Key")["schema"]
    assert (key["minLength"], key["maxLength"], key["pattern"]) == (1, 255, "^[!-~]{1,255}$")
    assert notes["post"]["requestBody"]["required"] is True
    change = schemas["PatchedInterventionChangeInRequest"]
    assert change["minProperties"] == 1 and change["additionalProperties"] is False
    note = schemas["NoteInRequest"]
    assert note["additionalProperties"] is False and note["properties"]["text"]["maxLength"] == 20_000
    assert note["properties"]["occurred_at"]["format"] == "date-time"
    assert note["properties"]["occurred_at"]["pattern"].startswith("^(?:19|20)")
    referral = schemas["ReferralInRequest"]
    assert referral["oneOf"] == [{"required": ["person"]}, {"required": ["young_person"]}]
    assert referral["properties"]["concerns"]["minItems"] == 1
    page_size = next(p for p in notes["get"]["parameters"] if p["name"] == "page_size")["schema"]
    assert (page_size["minimum"], page_size["maximum"]) == (1, 200)
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            assert "400" in operation["responses"], (method, path)
