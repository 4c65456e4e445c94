"""/api/v1/cases/{id}/interventions/ and /reviews/."""

from __future__ import annotations

from django.utils import timezone

from referrals import models as rm
from safeguarding.models import AccessEvent
from tests.api.conftest import assert_problem


def test_record_and_update_an_intervention(cast, case, api_as):
    client = api_as("owner")
    response = client.post(
        f"/api/v1/cases/{case.pk}/interventions/",
        {"provider_agency": cast.sharing.pk, "kind": "diversion", "goals": "Diversion programme, 8 weeks",
         "sessions_offered": 8},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["provider_agency"]["id"] == cast.sharing.pk and body["status"] == "planned"
    intervention = rm.Intervention.objects.get(pk=body["id"])
    assert intervention.recorded_by.username.startswith("api:")
    today = timezone.localdate().isoformat()
    updated = client.patch(
        f"/api/v1/cases/{case.pk}/interventions/{intervention.pk}/",
        {"status": "active", "started_on": today, "sessions_attended": 1}, format="json",
    )
    assert updated.status_code == 200, updated.content
    assert updated.json()["status"] == "active" and updated.json()["sessions_attended"] == 1
    event = AccessEvent.objects.get(action="update_intervention", object_id=str(intervention.pk))
    assert event.channel == "api" and set(event.detail["fields"]) == {"status", "started_on", "sessions_attended"}


def test_intervention_rules_are_400s(cast, case, api_as):
    client = api_as("owner")
    url = f"/api/v1/cases/{case.pk}/interventions/"
    problem = assert_problem(client.post(url, {"provider_agency": cast.owner.pk, "kind": "mentoring",
                                               "goals": "x", "status": "active"}, format="json"), 400)
    assert problem["errors"][0]["field"] == "started_on"
    problem = assert_problem(client.post(url, {"provider_agency": 999_999, "kind": "mentoring", "goals": "x"},
                                         format="json"), 400)
    assert problem["errors"][0]["field"] == "provider_agency"
    intervention = rm.Intervention.objects.get(case=case)
    empty = client.patch(f"{url}{intervention.pk}/", {}, format="json")
    assert_problem(empty, 400)
    done = client.patch(f"{url}{intervention.pk}/", {"status": "completed", "ended_on": timezone.localdate().isoformat()},
                        format="json")
    assert done.status_code == 200, done.content
    reopen = client.patch(f"{url}{intervention.pk}/", {"status": "active"}, format="json")
    assert assert_problem(reopen, 400)["errors"][0]["field"] == "status"


def test_an_intervention_of_another_case_is_a_404(cast, case, api_as):
    from tests import factories as f

    other = f.CaseFactory(lead_agency=cast.owner, young_person=f.YoungPersonFactory(recorded_by=cast.owner))
    intervention = rm.Intervention.objects.get(case=case)
    assert_problem(
        api_as("owner").patch(f"/api/v1/cases/{other.pk}/interventions/{intervention.pk}/", {"goals": "y"},
                              format="json"),
        404,
    )


def test_list_interventions_and_reviews(cast, case, api_as):
    client = api_as("owner")
    interventions = client.get(f"/api/v1/cases/{case.pk}/interventions/").json()["results"]
    assert [row["kind"] for row in interventions] == ["mentoring"]
    reviews = client.get(f"/api/v1/cases/{case.pk}/reviews/").json()["results"]
    assert [row["due_on"] for row in reviews] == [case.next_review_due.isoformat()]
    assert AccessEvent.objects.filter(action="list", object_type="review", case_id=case.pk, channel="api").exists()
