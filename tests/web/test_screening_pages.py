"""Screening: the hub decides; nobody else can."""

import pytest
from django.urls import reverse

from referrals.models import Case, ReferralStatus
from tests import factories as f


@pytest.fixture
def referral(cast):
    return f.ReferralFactory(referring_agency=cast.referrer, referred_by=cast.user("referrer", "practitioner"),
                             young_person__recorded_by=cast.referrer, young_person__family_name="Mensah")


def test_screener_sees_referral_and_possible_matches(client, cast, referral):
    person = referral.young_person
    # The same young person recorded by another agency with a double-barrelled
    # surname; and an unrelated namesake-free record with the same birthday.
    same = f.YoungPersonFactory(given_name=person.given_name, family_name="Mensah-Boateng",
                                date_of_birth=person.date_of_birth, postcode=person.postcode,
                                recorded_by=cast.outsider)
    f.YoungPersonFactory(given_name="Zebedee", family_name="Smith", date_of_birth=person.date_of_birth)
    client.force_login(cast.user("hub", "hub_screener"))
    response = client.get(reverse("screening", args=[referral.pk]))
    assert response.status_code == 200
    assert [c.pk for c in response.context["candidates"]] == [same.pk]
    body = response.content.decode()
    assert "Mensah-Boateng" in body and "recorded by Outsider School" in body
    assert response.context["candidates"][0].match.reasons, "the screener sees why it may match"


def test_accept_opens_a_case_with_lead_agency_and_key_worker(client, cast, referral):
    client.force_login(cast.user("hub", "hub_screener"))
    worker = cast.user("owner", "practitioner")
    response = client.post(reverse("screening", args=[referral.pk]), {
        "decision": "accept", "lead_agency": str(cast.owner.pk), "key_worker": str(worker.pk), "reason": "",
    })
    assert response.status_code == 302
    case = Case.objects.get(young_person=referral.young_person)
    assert (case.lead_agency, case.key_worker) == (cast.owner, worker)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.ACCEPTED
    # The referrer sees the decision, not the case.
    client.force_login(cast.user("referrer", "practitioner"))
    assert "Accepted" in client.get(reverse("home")).content.decode()
    assert client.get(reverse("case-detail", args=[case.pk])).status_code == 404


def test_key_worker_from_another_agency_is_an_error_on_its_field(client, cast, referral):
    client.force_login(cast.user("hub", "hub_screener"))
    body = client.post(reverse("screening", args=[referral.pk]), {
        "decision": "accept", "lead_agency": str(cast.owner.pk), "key_worker": str(cast.user("outsider", "practitioner").pk),
    }).content.decode()
    assert "govuk-error-summary" in body and "must be a practitioner or manager in Owner Youth Service" in body
    assert not Case.objects.exists()


def test_signpost_and_no_further_action_need_their_details(client, cast, referral):
    client.force_login(cast.user("hub", "hub_screener"))
    url = reverse("screening", args=[referral.pk])
    assert "Enter where they were signposted" in client.post(url, {"decision": "signpost", "reason": "x"}).content.decode()
    assert "Enter reason" in client.post(url, {"decision": "no_further_action"}).content.decode()
    assert client.post(url, {"decision": "signpost", "signposted_to": "Youth club", "reason": "Low level"}).status_code == 302
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SIGNPOSTED
    assert client.post(url, {"decision": "no_further_action", "reason": "x"}).status_code == 200  # already decided


@pytest.mark.parametrize("agency_key,role,status", [
    ("referrer", "practitioner", 403),  # sees their referral, may not screen it
    ("referrer", "manager", 403),
    ("outsider", "hub_screener", 404),  # a "screener" outside the hub is nobody here
    ("owner", "practitioner", 404),
    ("hub", "agency_admin", 404),
])
def test_only_the_hubs_screeners_screen(client, cast, referral, agency_key, role, status):
    client.force_login(cast.user(agency_key, role))
    url = reverse("screening", args=[referral.pk])
    assert client.get(url).status_code == status
    assert client.post(url, {"decision": "no_further_action", "reason": "x"}).status_code == status
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SUBMITTED
