"""Who may reach what across two partnerships with a shared police unit.

The police unit leads a case in each borough. Its people see each case only
while working in that case's borough; the other borough's hub, youth service
and cases stay out of sight of the cast's borough, and the other way round.
Pages, the partner API and the policy's own answers agree."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django.urls import reverse

from agencies.models import Role
from api.services import api_client_issue
from casework import selectors
from safeguarding import access
from web.kit import PARTNERSHIP_SESSION_KEY


def working_in(client, user, partnership):
    client.force_login(user)
    session = client.session
    session[PARTNERSHIP_SESSION_KEY] = partnership.pk
    session.save()
    return client


def test_the_police_unit_sees_each_case_only_in_its_own_borough(client, boroughs, cast):
    for role in (Role.PRACTITIONER, Role.MANAGER):
        user = cast.user("sharing", role)
        for borough, seen, unseen in ((boroughs.a, boroughs.case_a, boroughs.case_b),
                                      (boroughs.b, boroughs.case_b, boroughs.case_a)):
            working_in(client, user, borough)
            assert client.get(reverse("case-detail", args=[seen.pk])).status_code == 200, (role, borough)
            assert client.get(reverse("case-detail", args=[unseen.pk])).status_code == 404, (role, borough)
            actor = access.actor_for_user(user, partnership=borough.pk)
            listed = set(selectors.caseload(actor).cases.values_list("pk", flat=True))
            assert seen.pk in listed and unseen.pk not in listed
            assert selectors.caseload(actor).count() == len(listed)


@pytest.mark.parametrize(("agency_key", "role"), [
    ("owner", Role.PRACTITIONER), ("owner", Role.MANAGER), ("hub", Role.HUB_SCREENER), ("hub", Role.MANAGER),
    ("outsider", Role.DPO), ("referrer", Role.PRACTITIONER),
])
def test_the_cast_borough_reaches_nothing_of_the_other(client, boroughs, cast, agency_key, role):
    user = cast.user(agency_key, role)
    client.force_login(user)
    for case in (boroughs.case_b, boroughs.youth_case_b):
        assert client.get(reverse("case-detail", args=[case.pk])).status_code == 404
        assert client.get(reverse("case-history", args=[case.pk])).status_code == 404
        assert client.get(reverse("case-access-log", args=[case.pk])).status_code == 404
    assert client.get(reverse("referral-detail", args=[boroughs.referral_b.pk])).status_code == 404
    assert client.get(reverse("screening", args=[boroughs.referral_b.pk])).status_code == 404
    # Choosing the other borough does not help someone whose agency is not in it.
    working_in(client, user, boroughs.b)
    assert client.get(reverse("case-detail", args=[boroughs.case_b.pk])).status_code == 404
    actor = access.actor_for_user(user, partnership=boroughs.b.pk)
    assert actor.partnership is None and not access.visible_cases(actor).exists()


@pytest.mark.parametrize(("key", "role"), [
    ("hub_b", Role.HUB_SCREENER), ("hub_b", Role.MANAGER), ("youth_b", Role.PRACTITIONER), ("youth_b", Role.MANAGER),
])
def test_the_other_borough_reaches_nothing_of_the_cast_borough(client, boroughs, cast, key, role):
    user = boroughs.people[(key, role)]
    client.force_login(user)
    for case in (boroughs.case_a,):
        assert client.get(reverse("case-detail", args=[case.pk])).status_code == 404
    actor = access.actor_for_user(user)
    assert actor.partnership == boroughs.b
    assert not access.visible_cases(actor).filter(partnership=boroughs.a).exists()
    assert not access.visible_young_people(actor).filter(partnership=boroughs.a).exists()
    assert not access.visible_referrals(actor).filter(partnership=boroughs.a).exists()


def test_each_hub_screens_only_its_own_borough(client, boroughs, cast):
    client.force_login(boroughs.people[("hub_b", Role.HUB_SCREENER)])
    assert client.get(reverse("screening", args=[boroughs.referral_b.pk])).status_code == 200
    client.force_login(cast.user("hub", Role.HUB_SCREENER))
    assert client.get(reverse("screening", args=[boroughs.referral_b.pk])).status_code == 404
    screener_a = access.actor_for_user(cast.user("hub", Role.HUB_SCREENER))
    assert not access.visible_young_people(screener_a).filter(partnership=boroughs.b).exists()


def test_a_lead_agency_or_a_share_must_work_in_the_case_borough(boroughs, cast):
    from casework import services as casework
    from lib.errors import DomainError
    from safeguarding import services as sharing

    manager = access.actor_for_user(cast.user("sharing", Role.MANAGER), partnership=boroughs.b.pk)
    with pytest.raises(DomainError, match="does not work in"):
        casework.case_transfer_lead(actor=manager, case=boroughs.case_b, lead_agency=cast.owner)
    # A share across the border needs a cross-border agreement (see
    # test_cross_border.py); the agreement all the cast's agencies signed is
    # not one. A decision not to share with a neighbour needs none.
    with pytest.raises(DomainError, match="cross-border information-sharing agreement"):
        sharing.share_case(
            actor=manager, case=boroughs.case_b, agency=cast.owner, purpose="Asked",
            lawful_basis="safeguarding_children", consent_sought=False, consent_reason="Not needed",
            expires_at=timezone.now() + dt.timedelta(days=7),
        )
    sharing.decline_to_share(
        actor=manager, case=boroughs.case_b, agency=cast.owner, purpose="Asked", reason="No",
        lawful_basis="", consent_sought=False, consent_reason="Not needed",
    )
    assert not access.visible_cases(cast.actor("owner", Role.MANAGER)).filter(pk=boroughs.case_b.pk).exists()


def test_a_partner_system_sees_only_its_borough_through_the_api(client, boroughs, cast):
    _client, secret = api_client_issue(actor=cast.actor("owner", Role.AGENCY_ADMIN), name="Owner MIS",
                                       scopes=["cases:read", "referrals:read"])
    token = client.post("/o/token/", {"grant_type": "client_credentials", "client_id": _client.application.client_id,
                                       "client_secret": secret}).json()["access_token"]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert client.get(f"/api/v1/cases/{boroughs.case_b.pk}/", **auth).status_code == 404
    assert client.get(f"/api/v1/referrals/{boroughs.referral_b.pk}/", **auth).status_code == 404
    agencies = {row["name"] for row in client.get("/api/v1/agencies/", **auth).json()["results"]}
    assert "Northbank Hub" not in agencies and cast.owner.name in agencies


def test_an_agency_in_several_boroughs_counts_its_caseload_per_borough(boroughs, cast):
    user = cast.user("sharing", Role.MANAGER)
    counts = {b.slug: selectors.caseload(access.actor_for_user(user, partnership=b.pk)).count()
              for b in (boroughs.a, boroughs.b)}
    assert counts == {boroughs.a.slug: 1, boroughs.b.slug: 1}


def test_a_young_person_who_moved_is_recorded_afresh_in_the_new_borough(boroughs, cast):
    """Identifiers are unique within a partnership: the new borough records
    the young person with their pupil number, and learns nothing of the old
    borough's record."""
    from casework import services as casework
    from referrals.models import YoungPerson

    details = {"given_name": "Jo", "family_name": "Moved", "date_of_birth": "2011-05-04",
               "unique_pupil_number": "A123456789012"}
    common = {"concerns": ["weapon"], "risk_level": "amber", "account": "Seen carrying a blade",
              "consent": "young_person"}
    old = casework.referral_submit(actor=cast.actor("owner", Role.PRACTITIONER), person=details, **common)
    new = casework.referral_submit(
        actor=access.actor_for_user(boroughs.people[("youth_b", Role.PRACTITIONER)]), person=details, **common,
    )
    assert old.young_person_id != new.young_person_id
    records = YoungPerson.objects.filter(unique_pupil_number="A123456789012")
    assert {p.partnership_id for p in records} == {boroughs.a.pk, boroughs.b.pk}
    assert new.young_person.unique_pupil_number == "A123456789012"
