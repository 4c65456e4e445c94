"""/api/v1/referrals/: make a referral, list and read the agency's own."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from referrals import models as rm
from casework import services
from safeguarding.models import AccessEvent
from tests import factories as f
from tests.api.conftest import assert_problem
from tests.api.operations import referral_body


def test_make_a_referral(cast, api_as):
    response = api_as("owner").post("/api/v1/referrals/", referral_body(), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    referral = rm.Referral.objects.get(pk=body["id"])
    assert body["status"] == "submitted" and body["partner_reference"] == "SIMS-1" and body["case"] is None
    assert body["young_person"]["family_name"] == "Ellis"
    assert referral.referring_agency == cast.owner
    assert referral.referred_by.username.startswith("api:")
    event = AccessEvent.objects.get(action="submit", object_id=str(referral.pk))
    assert event.channel == "api" and event.agency_id == cast.owner.pk and event.api_client


def test_refer_a_young_person_the_agency_referred_before(cast, api_as):
    earlier = f.ReferralFactory(referring_agency=cast.owner, young_person=f.YoungPersonFactory(recorded_by=cast.hub))
    body = {**referral_body(), "young_person": earlier.young_person_id}
    del body["person"]
    response = api_as("owner").post("/api/v1/referrals/", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["young_person"]["id"] == earlier.young_person_id


def test_a_young_person_the_agency_cannot_see_is_a_404(cast, api_as):
    stranger = f.YoungPersonFactory(recorded_by=cast.outsider)
    body = {**referral_body(), "young_person": stranger.pk}
    del body["person"]
    assert_problem(api_as("owner").post("/api/v1/referrals/", body, format="json"), 404)
    assert not rm.Referral.objects.exists()


def test_bad_input_names_each_field(cast, api_as):
    body = {**referral_body(), "concerns": [{"not": "a code"}], "risk_level": "purple"}
    del body["account"]
    problem = assert_problem(api_as("owner").post("/api/v1/referrals/", body, format="json"), 400)
    fields = {error["field"] for error in problem["errors"]}
    # A list item of the wrong JSON type is named by its list (the strict
    # contract checks types before values, and every field at once).
    assert {"concerns", "risk_level", "account"} <= fields, problem
    # A code the partnership's vocabulary does not know: the service names the field.
    problem = assert_problem(api_as("owner").post("/api/v1/referrals/", {**referral_body(), "concerns": ["knife-ish"]},
                                                  format="json"), 400)
    assert [error["field"] for error in problem["errors"]] == ["concerns"], problem


def test_a_broken_rule_is_a_400_naming_the_field(cast, api_as):
    body = {**referral_body(), "consent": "not_sought"}
    problem = assert_problem(api_as("owner").post("/api/v1/referrals/", body, format="json"), 400)
    assert problem["errors"] == [{"field": "lawful_basis", "message": problem["detail"], "code": "required"}]
    body = referral_body()
    body["person"]["date_of_birth"] = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    problem = assert_problem(api_as("owner").post("/api/v1/referrals/", body, format="json"), 400)
    assert problem["errors"][0]["field"] == "person.date_of_birth"
    assert not rm.Referral.objects.exists()


def test_a_body_that_is_not_json_is_a_400(cast, api_as):
    response = api_as("owner").post("/api/v1/referrals/", "{not json", content_type="application/json")
    assert_problem(response, 400)


def test_list_shows_only_the_agencys_own_referrals(cast, api_as):
    own = f.ReferralFactory(referring_agency=cast.owner, young_person=f.YoungPersonFactory(recorded_by=cast.owner))
    theirs = f.ReferralFactory(
        referring_agency=cast.outsider, young_person=f.YoungPersonFactory(recorded_by=cast.outsider),
    )
    response = api_as("owner").get("/api/v1/referrals/")
    ids = [row["id"] for row in response.json()["results"]]
    assert ids == [own.pk]
    assert_problem(api_as("owner").get(f"/api/v1/referrals/{theirs.pk}/"), 404)
    event = AccessEvent.objects.filter(action="list", object_type="referral").latest("id")
    assert event.detail == {"ids": [own.pk]} and event.channel == "api"


def test_list_filters_by_status_and_updated_since(cast, api_as):
    young_person = f.YoungPersonFactory(recorded_by=cast.owner)
    submitted = f.ReferralFactory(referring_agency=cast.owner, young_person=young_person)
    withdrawn = f.ReferralFactory(
        referring_agency=cast.owner, young_person=young_person, status="withdrawn", decided_at=timezone.now(),
    )
    client = api_as("owner")
    assert [r["id"] for r in client.get("/api/v1/referrals/?status=withdrawn").json()["results"]] == [withdrawn.pk]
    rm.Referral.objects.filter(pk=submitted.pk).update(updated_at=timezone.now() - dt.timedelta(days=5))
    since = (timezone.now() - dt.timedelta(days=1)).isoformat()
    got = client.get("/api/v1/referrals/", {"updated_since": since}).json()["results"]
    assert [r["id"] for r in got] == [withdrawn.pk]
    problem = assert_problem(client.get("/api/v1/referrals/?status=maybe&updated_since=yesterday"), 400)
    assert {e["field"] for e in problem["errors"]} == {"status", "updated_since"}


def test_the_partner_sees_the_decision_and_then_the_case(cast, api_as):
    client = api_as("referrer")
    referral_id = client.post("/api/v1/referrals/", referral_body(), format="json").json()["id"]
    case = services.referral_accept(
        actor=cast.actor("hub", "hub_screener"), referral=rm.Referral.objects.get(pk=referral_id),
        lead_agency=cast.owner, key_worker=cast.user("owner", "practitioner"),
    )
    body = client.get(f"/api/v1/referrals/{referral_id}/").json()
    assert body["status"] == "accepted" and body["decided_at"]
    assert body["case"] is None  # the case is the owner's, not shared with the referrer
    assert_problem(client.get(f"/api/v1/cases/{case.pk}/"), 404)

    from tests.safeguarding.conftest import share

    share(case, cast.referrer, agreement=cast.agreement, emergency_basis="")
    assert client.get(f"/api/v1/referrals/{referral_id}/").json()["case"] == case.pk
    note = client.post(f"/api/v1/cases/{case.pk}/notes/", {"kind": "information", "text": "Attendance 61%"},
                       format="json")
    assert note.status_code == 201, note.content


def test_reading_a_referral_is_logged(cast, api_as):
    own = f.ReferralFactory(referring_agency=cast.owner, young_person=f.YoungPersonFactory(recorded_by=cast.owner))
    api_as("owner").get(f"/api/v1/referrals/{own.pk}/")
    assert AccessEvent.objects.filter(action="view", object_type="referral", object_id=str(own.pk), channel="api")
