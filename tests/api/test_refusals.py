"""Every operation against every refusal: a missing scope (403), an agency
relation that must not reach the case (404, the same as a case that does not
exist), no token (401). Errors are problem+json and write nothing."""

from __future__ import annotations

import pytest

from agencies.models import ApiScope
from contexts.models import Context
from referrals import models as rm
from tests import factories as f
from tests.api.conftest import ALL_SCOPES, REFUSED, assert_problem, http, set_relation
from tests.api.operations import OPERATIONS
from tests.referrals.conftest import count_rows


def _ids(cast, case):
    note = rm.CaseNote.objects.filter(case=case, agency=cast.owner, visibility="case").first()
    intervention = rm.Intervention.objects.filter(case=case).first()
    referral = f.ReferralFactory(referring_agency=cast.owner, young_person=case.young_person)
    context = Context.objects.create(
        partnership=case.partnership, kind="place", name="Canal towpath", known="Young people gather here",
        lead_agency=cast.owner, risk_level="amber", recorded_by=cast.user("owner", "practitioner"),
        recording_agency=cast.owner,
    )
    return {"case": case.pk, "note": note.pk, "intervention": intervention.pk, "referral": referral.pk,
            "context": context.pk}


def _body(op, cast, ids):
    body = dict(op.body)
    if "provider_agency" in body:
        body["provider_agency"] = cast.owner.pk
    if "context" in body:
        body["context"] = ids["context"]
    return body


def _call(client, op, ids, cast, **extra):
    return getattr(client, op.method)(op.url(**ids), _body(op, cast, ids), format="json", **extra)


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
def test_happy_path(cast, case, api_as, op):
    ids = _ids(cast, case)
    response = _call(api_as("owner"), op, ids, cast)
    assert response.status_code in (200, 201), response.content
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("op", [op for op in OPERATIONS if op.scope], ids=lambda op: op.name)
def test_each_missing_scope_is_a_403(cast, case, api_as, op):
    ids = _ids(cast, case)
    others = [scope for scope in ALL_SCOPES if scope != op.scope]
    if op.scope == "cases:read":
        others.remove("cases:write")  # cases:write comes only with cases:read
    before = count_rows()
    body = assert_problem(_call(api_as("owner", others), op, ids, cast), 403)
    assert body["type"].endswith("missing-scope") and op.scope in body["detail"]
    after = count_rows()
    assert {k: v for k, v in after.items() if k != "AccessEvent"} == {
        k: v for k, v in before.items() if k != "AccessEvent"
    }


@pytest.mark.parametrize("relation", list(REFUSED))
@pytest.mark.parametrize("op", [op for op in OPERATIONS if op.case_scoped], ids=lambda op: op.name)
def test_each_refused_relation_is_a_404(cast, case, api_as, op, relation):
    agency_key, sharing_relation = REFUSED[relation]
    set_relation(cast, case, sharing_relation)
    ids = _ids(cast, case)
    before = count_rows()
    body = assert_problem(_call(api_as(agency_key), op, ids, cast), 404)
    assert body["detail"] == "No such resource."
    assert count_rows()["CaseNote"] == before["CaseNote"]
    assert count_rows()["Intervention"] == before["Intervention"]


@pytest.mark.parametrize("op", [op for op in OPERATIONS if op.case_scoped], ids=lambda op: op.name)
def test_a_case_that_does_not_exist_looks_the_same(cast, case, api_as, op):
    ids = _ids(cast, case)
    ids["case"] = case.pk + 10_000
    missing = assert_problem(_call(api_as("owner"), op, ids, cast), 404)
    set_relation(cast, case, "none")
    other = assert_problem(_call(api_as("outsider"), op, _ids(cast, case), cast), 404)
    assert {k: v for k, v in missing.items() if k != "instance"} == {
        k: v for k, v in other.items() if k != "instance"
    }


@pytest.mark.parametrize("op", [op for op in OPERATIONS if op.case_scoped], ids=lambda op: op.name)
def test_a_shared_agencys_client_is_let_in(cast, case, api_as, op):
    set_relation(cast, case, "shared")
    ids = _ids(cast, case)
    if op.name == "case_notes_correct":
        ids["note"] = rm.CaseNote.objects.get(case=case, agency=cast.sharing, visibility="case").pk
    response = _call(api_as("sharing"), op, ids, cast)
    assert response.status_code in (200, 201), response.content


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
def test_no_token_is_a_401(cast, case, op):
    ids = _ids(cast, case)
    before = count_rows()
    assert_problem(_call(http(), op, ids, cast), 401)
    assert count_rows() == before


def test_the_scope_vocabulary_is_the_policys():
    from safeguarding.access import API_SCOPES

    assert set(ApiScope.values) == API_SCOPES
    assert {op.scope for op in OPERATIONS if op.scope} == API_SCOPES
