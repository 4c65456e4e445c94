"""The pages that withhold words (issue 18): a GOV.UK form on a chronology
entry, an intervention and a referral, for the author's agency; errors on
their fields; the result in the chronology and the access log."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse

from casework import services as casework
from referrals import models as rm
from safeguarding.models import AccessEvent, WithheldPassage
from tests import factories as f
from tests.web.conftest import share

pytestmark = pytest.mark.django_db

WITNESS = "Kofi Mensah"


@pytest.fixture
def scene(cast, owned_case):
    share(cast, owned_case, cast.sharing)
    share(cast, owned_case, cast.referrer)
    police = cast.actor("sharing", "practitioner")
    note = casework.case_note_add(actor=police, case=owned_case, kind="incident", visibility="case",
                                  text=f"{WITNESS} saw the fight and called us.")
    return owned_case, note


def url(case, note):
    return reverse("note-withhold", args=[case.pk, note.pk])


def body(cast, **changes):
    return {"field": "text", "passage": WITNESS, "category": "witness", "withheld_from": "named",
            "agencies": [str(cast.referrer.pk)], "ask": "PC 123 Jones, Riverside Police", **changes}


def test_the_author_withholds_a_witness_from_the_school(client, cast, scene):
    case, note = scene
    client.force_login(cast.user("sharing", "practitioner"))
    page = client.get(reverse("case-detail", args=[case.pk])).content.decode()
    assert url(case, note) in page
    form = client.get(url(case, note)).content.decode()
    assert "Words to withhold" in form and "Third party: witness" in form and WITNESS in form
    response = client.post(url(case, note), body(cast))
    assert response.status_code == 302
    passage = WithheldPassage.objects.get()
    assert passage.withheld_by == cast.user("sharing", "practitioner") and passage.ask == "PC 123 Jones, Riverside Police"
    assert AccessEvent.objects.filter(action="withhold", case_id=case.pk).exists()
    client.force_login(cast.user("referrer", "practitioner"))
    page = html.unescape(client.get(reverse("case-detail", args=[case.pk])).content.decode())
    assert WITNESS not in page
    assert "[withheld by Sharing Police — ask PC 123 Jones, Riverside Police] saw the fight" in page
    assert "were withheld from every agency but Sharing Police" in page  # the chronology says so, never what
    assert url(case, note) not in page


@pytest.mark.parametrize("changes,field,message", [
    ({"passage": "Not there"}, "passage", "Copy the words exactly as they are written"),
    ({"passage": ""}, "passage", "Enter the words to withhold"),
    ({"agencies": []}, "agencies", "Choose the agencies to withhold it from"),
    ({"ask": ""}, "ask", "Enter whom they should ask"),
    ({"category": ""}, "category", "Select what kind of information it is"),
    ({"agencies": [str(10**9)]}, "agencies", "Select agencies from the list"),
])
def test_errors_are_shown_on_their_fields(client, cast, scene, changes, field, message):
    case, note = scene
    client.force_login(cast.user("sharing", "practitioner"))
    response = client.post(url(case, note), body(cast, **changes))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert message in html.unescape(response.content.decode())
    assert not WithheldPassage.objects.exists()
    assert rm.CaseNote.objects.get(pk=note.pk).text.startswith(WITNESS)


def test_the_lead_agency_may_not_withhold_the_polices_words(client, cast, scene):
    case, note = scene
    client.force_login(cast.user("owner", "manager"))
    assert client.get(url(case, note)).status_code == 403
    assert client.post(url(case, note), body(cast)).status_code == 403
    assert not WithheldPassage.objects.exists()


def test_a_referrer_withholds_words_of_its_referral(client, cast):
    referral = f.ReferralFactory(referring_agency=cast.referrer, referred_by=cast.user("referrer", "practitioner"),
                                 account=f"Told by {WITNESS} that he carries a knife.")
    client.force_login(cast.user("referrer", "practitioner"))
    assert reverse("referral-withhold", args=[referral.pk]) in client.get(
        reverse("referral-detail", args=[referral.pk])).content.decode()
    response = client.post(reverse("referral-withhold", args=[referral.pk]),
                           body(cast, field="account", withheld_from="all_but_author", agencies=[]))
    assert response.status_code == 302
    client.force_login(cast.user("hub", "hub_screener"))
    screening = html.unescape(client.get(reverse("screening", args=[referral.pk])).content.decode())
    assert WITNESS not in screening and "[withheld by Referrer School" in screening


def test_a_whole_field_withheld(client, cast, scene):
    """A named field withheld: all of an intervention's outcome."""
    case, _note = scene
    police = cast.actor("sharing", "practitioner")
    intervention = casework.intervention_record(
        actor=police, case=case, provider_agency=cast.sharing, kind="diversion", goals="Diversion scheme",
        status="planned", planned_start=None, started_on=None, sessions_offered=0,
    )
    client.force_login(cast.user("sharing", "practitioner"))
    target = reverse("intervention-withhold", args=[case.pk, intervention.pk])
    response = client.post(target, body(cast, field="goals", passage="", whole="on", category="intelligence"))
    assert response.status_code == 302, response.context["form"].errors
    assert rm.Intervention.objects.get(pk=intervention.pk).goals.startswith("⟦withheld:")
    client.force_login(cast.user("referrer", "practitioner"))
    page = html.unescape(client.get(reverse("case-detail", args=[case.pk])).content.decode())
    assert "Diversion scheme" not in page and "[withheld by Sharing Police" in page
    client.force_login(cast.user("sharing", "practitioner"))
    response = client.post(target, body(cast, field="goals", passage="", whole="on"))
    assert response.status_code == 200 and "whole" in response.context["form"].errors


def test_a_third_party_passage_released_later_to_the_lead(client, cast, scene):
    case, note = scene
    client.force_login(cast.user("sharing", "practitioner"))
    client.post(url(case, note), body(cast, withheld_from="all_but_author", agencies=[]))
    passage = WithheldPassage.objects.get()
    release = reverse("passage-release", args=[passage.pk])
    assert release in client.get(url(case, note)).content.decode()
    response = client.post(release, {"agencies": [], "reason": ""})
    assert response.status_code == 200
    assert {"agencies", "reason"} <= set(response.context["form"].errors)
    response = client.post(release, {"agencies": [str(cast.owner.pk)], "reason": "Agreed at the strategy meeting"})
    assert response.status_code == 302
    assert AccessEvent.objects.filter(action="release_withheld", case_id=case.pk).exists()
    client.force_login(cast.user("owner", "manager"))
    assert client.get(release).status_code == 403  # sees the case, but did not write the words
    page = html.unescape(client.get(reverse("case-detail", args=[case.pk])).content.decode())
    assert f"{WITNESS} saw the fight" in page and "were released to Owner Youth Service" in page
    client.force_login(cast.user("referrer", "practitioner"))
    page = html.unescape(client.get(reverse("case-detail", args=[case.pk])).content.decode())
    assert WITNESS not in page
    client.force_login(cast.user("outsider", "manager"))
    assert client.get(release).status_code == 404
