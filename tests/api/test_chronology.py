"""/api/v1/cases/{id}/notes/: the chronology through the API."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from referrals import models as rm
from safeguarding.models import AccessEvent
from tests.api.conftest import assert_problem, set_relation


def test_other_agencies_private_notes_never_appear(cast, case, api_as):
    set_relation(cast, case, "shared")
    texts = {row["text"] for row in api_as("sharing").get(f"/api/v1/cases/{case.pk}/notes/").json()["results"]}
    assert texts == {"owner case note", "sharing case note", "sharing agency note"}
    event = AccessEvent.objects.filter(action="list", object_type="case_note").latest("id")
    assert event.case_id == case.pk and len(event.detail["ids"]) == 3 and event.channel == "api"


def test_add_a_note_written_by_the_clients_service_user(cast, case, api_as):
    occurred = (timezone.now() - dt.timedelta(hours=3)).isoformat()
    response = api_as("owner").post(
        f"/api/v1/cases/{case.pk}/notes/",
        {"kind": "meeting", "text": "Strategy meeting held.", "occurred_at": occurred, "visibility": "agency"},
        format="json",
    )
    assert response.status_code == 201, response.content
    note = rm.CaseNote.objects.get(pk=response.json()["id"])
    assert note.author.username.startswith("api:") and note.agency == cast.owner and note.visibility == "agency"
    assert response.json()["author"].startswith("System")
    assert AccessEvent.objects.filter(action="add_note", object_id=str(note.pk), channel="api").exists()


def test_bad_notes_are_400s(cast, case, api_as):
    client = api_as("owner")
    url = f"/api/v1/cases/{case.pk}/notes/"
    problem = assert_problem(client.post(url, {"kind": "gossip"}, format="json"), 400)
    assert {e["field"] for e in problem["errors"]} == {"kind", "text"}
    future = (timezone.now() + dt.timedelta(days=1)).isoformat()
    problem = assert_problem(client.post(url, {"kind": "contact", "text": "x", "occurred_at": future}, format="json"), 400)
    assert problem["errors"][0]["field"] == "occurred_at" and problem["errors"][0]["code"] == "future"
    rm.Case.objects.filter(pk=case.pk).update(status="closed", closed_at=timezone.now(), closure_reason="other")
    problem = assert_problem(client.post(url, {"kind": "contact", "text": "x"}, format="json"), 400)
    assert problem["errors"][0]["code"] == "case_closed"


def test_correct_a_note(cast, case, api_as):
    client = api_as("owner")
    created = client.post(f"/api/v1/cases/{case.pk}/notes/", {"kind": "contact", "text": "Met J."}, format="json")
    note_id = created.json()["id"]
    response = client.post(f"/api/v1/cases/{case.pk}/notes/{note_id}/correct/", {"text": "Met J and mum."},
                           format="json")
    assert response.status_code == 201, response.content
    assert response.json()["corrects"] == note_id
    assert rm.CaseNote.objects.get(pk=note_id).text == "Met J."  # the original stands
    same = client.post(f"/api/v1/cases/{case.pk}/notes/{note_id}/correct/", {"text": "Met J."}, format="json")
    assert assert_problem(same, 400)["errors"][0]["code"] == "unchanged"


def test_only_the_authors_agency_corrects(cast, case, api_as):
    set_relation(cast, case, "shared")
    owners = rm.CaseNote.objects.get(case=case, agency=cast.owner, visibility="case")
    assert_problem(
        api_as("sharing").post(f"/api/v1/cases/{case.pk}/notes/{owners.pk}/correct/", {"text": "No"}, format="json"),
        403,
    )
    private = rm.CaseNote.objects.get(case=case, agency=cast.owner, visibility="agency")
    assert_problem(
        api_as("sharing").post(f"/api/v1/cases/{case.pk}/notes/{private.pk}/correct/", {"text": "No"}, format="json"),
        404,
    )
