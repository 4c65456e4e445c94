"""The relation "withheld from this agency", checked by channel (issue 18).

In the world (``tests/security/conftest.py``) the lead (owner) agency writes
a chronology entry naming a witness and holding a health detail, and an
intervention whose goals name the witness; it withholds the witness (third
party: from every other agency) and the health detail from the sharing
agency by name. Every channel the sharing agency reads the case through
(the case page, the chronology export, the partner API, panel papers) shows
a marker where the words were and never the words; the lead agency reads
them; the subject-access export leaves the witness out and says so, and
keeps the young person's own health detail; a transfer to another
partnership carries markers only. Agencies with no access (expired or
revoked share, outsider, other partnership) are refused by the URL matrix.
"""

from __future__ import annotations

import html

import pytest

from casework import services as casework
from referrals import models as rm
from safeguarding import access, redaction
from tests.security.helpers import new_client, web_client

pytestmark = pytest.mark.django_db

WITNESS = "Priya Witness-Sample"
HEALTH = "takes sertraline daily"
TEXT = f"Stabbing by the canal seen by {WITNESS}. Jordan {HEALTH}."
THIRD_PARTY_MARKER = "[withheld by Owner Youth Service — ask the case's lead]"


@pytest.fixture
def withheld(world):
    owner = access.actor_for_user(world.users[("own", "practitioner")])
    note = casework.case_note_add(actor=owner, case=world.case, kind="incident", text=TEXT, visibility="case")
    intervention = casework.intervention_record(
        actor=owner, case=world.case, provider_agency=world.agencies["own"], kind="mentoring",
        goals=f"Keep Jordan apart from {WITNESS}", status="planned", planned_start=None, started_on=None,
        sessions_offered=0,
    )
    common = {"reason": "", "ask": "the case's lead"}
    redaction.passage_withhold(actor=owner, record=note, field="text", passage=WITNESS, category="witness",
                               withheld_from="named", agencies=[world.agencies["other"]], **common)
    redaction.passage_withhold(actor=owner, record=note, field="text", passage=HEALTH, category="health",
                               withheld_from="named", agencies=[world.agencies["shared"]], **common)
    redaction.passage_withhold(actor=owner, record=intervention, field="goals", passage=WITNESS,
                               category="witness", withheld_from="all_but_author", **common)
    return note


def text_of(response) -> str:
    """The body, with HTML's escapes undone (the marker's apostrophe)."""
    assert response.status_code == 200, response.status_code
    body = b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()
    return html.unescape(body)


def page_channels(w, subject: str) -> dict[str, str]:
    client = web_client(w, subject)
    return {
        "page": text_of(client.get(f"/cases/{w.case.pk}/")),
        "export": text_of(client.get(f"/cases/{w.case.pk}/chronology.csv")),
        "history": text_of(client.get(f"/cases/{w.case.pk}/history/")),
    }


def api_channel(w, relation: str) -> str:
    client = new_client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {w.tokens[relation]}"}
    notes = text_of(client.get(f"/api/v1/cases/{w.case.pk}/notes/", **auth))
    interventions = text_of(client.get(f"/api/v1/cases/{w.case.pk}/interventions/", **auth))
    return notes + interventions


def papers_channel(w, subject: str) -> str:
    from contextwork.services import panel_confidentiality_accept

    panel_confidentiality_accept(actor=access.actor_for_user(w.users[tuple(subject.split("/"))]), panel=w.panel)
    return text_of(web_client(w, subject).get(f"/panels/{w.panel.pk}/papers/"))


@pytest.mark.parametrize("subject", ["shared/practitioner", "shared/manager", "shared/hub_screener"])
def test_the_sharing_agency_sees_markers_in_every_channel(world, withheld, subject):
    channels = {**page_channels(world, subject), "api": api_channel(world, "shared")}
    if subject == "shared/practitioner":  # the world's panel attendee for the sharing agency
        channels["papers"] = papers_channel(world, subject)
    for channel, body in channels.items():
        assert WITNESS not in body and HEALTH not in body, f"{channel} leaked withheld words"
        assert THIRD_PARTY_MARKER in body, f"{channel} shows no marker"


@pytest.mark.parametrize("subject", ["own/practitioner", "own/manager", "key_worker/practitioner"])
def test_the_authors_agency_reads_the_words_in_every_channel(world, withheld, subject):
    channels = {**page_channels(world, subject), "api": api_channel(world, "own")}
    if subject == "own/manager":
        channels["papers"] = papers_channel(world, subject)
    for channel, body in channels.items():
        assert WITNESS in body, f"{channel} lost the author's own words"
        if channel != "history":  # the chronology has no change history
            assert HEALTH in body, f"{channel} lost the author's own words"


def test_a_health_detail_withheld_from_one_agency_reaches_the_others(world, withheld):
    """Third-party words are for the author's agency alone; a health detail
    withheld from the sharing agency by name is not withheld from the rest."""
    note = redaction.with_passages(rm.CaseNote.objects.filter(pk=withheld.pk)).get()
    assert HEALTH in redaction.shown(world.agencies["referrer"], note, "text")
    assert WITNESS not in redaction.shown(world.agencies["referrer"], note, "text")


def test_the_raw_field_holds_neither(world, withheld):
    """Nothing to leak for a read that forgets redaction: a template, a
    serializer, a raw query."""
    raw = rm.CaseNote.objects.get(pk=withheld.pk).text
    assert WITNESS not in raw and HEALTH not in raw
    assert not rm.Intervention.objects.filter(goals__contains=WITNESS).exists()
    assert not rm.Intervention.pgh_event_model.objects.filter(goals__contains=WITNESS).exists()


def test_subject_access_leaves_third_parties_out_and_says_so(world, withheld):
    dpo = web_client(world, "own/dpo")
    document = text_of(dpo.get(f"/subject-access/{world.subject_access.pk}/export.html"))
    export = text_of(dpo.get(f"/subject-access/{world.subject_access.pk}/export.json"))
    for body in (document, export):
        assert WITNESS not in body
        assert "information about another person withheld (third party: witness)" in body
        assert HEALTH in body  # the young person's own information is theirs
    assert "Information about other people left out" in document and "paragraph 16" in document


def test_a_transfer_carries_markers_only(world, withheld):
    from casework.transfers import transfer_propose

    manager = access.actor_for_user(world.users[("own", "manager")])
    transfer = transfer_propose(
        actor=manager, case=world.case, to_partnership=world.neighbour, reason="Moved", summary="New school",
        arrangement="close", consent="parent_carer", note_ids=[withheld.pk],
    )
    sent = transfer.chronology[0]["text"]
    assert WITNESS not in sent and HEALTH not in sent and THIRD_PARTY_MARKER in sent


def test_reminders_and_notifications_carry_no_free_text(world, withheld):
    """Monitoring does not exist yet; reminders and the digest name cases by
    reference only. Nothing of the entry reaches a notification."""
    from reminders.models import Notification

    for notification in Notification.objects.all():
        assert WITNESS not in notification.subject + notification.body
        assert HEALTH not in notification.subject + notification.body
