"""Cross-border shares: a case of one partnership shared with an agency that
works only in a neighbouring one, under a cross-border agreement, exactly
like a share inside the partnership: purpose, lawful basis, expiry, the
sharing decision, access that ends at once. The agency sees that case (and
nothing else of the other partnership) through the policy, the pages, the
partner API and row-level security alike."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from agencies.models import Role
from api.services import api_client_issue
from casework import selectors
from casework import services as casework
from lib.errors import DomainError
from referrals.models import CaseNote, NoteKind
from safeguarding import access
from safeguarding import services as sharing
from safeguarding.access import Action
from tests import factories as f
from tests.partnerships.test_matrix import working_in


def share(actor, case, agency, **overrides):
    values = dict(
        purpose="Joint plan after the family moved across the border", lawful_basis="safeguarding_children",
        consent_sought=True, consent_reason="The young person and their mother agreed",
        expires_at=timezone.now() + dt.timedelta(days=30),
    )
    values.update(overrides)
    return sharing.share_case(actor=actor, case=case, agency=agency, **values)


@pytest.fixture
def across(boroughs, cast):
    """The cast's owner agency (borough A) leads a case; Northbank Youth (B
    only) is the neighbour it may share it with once a cross-border
    agreement binds the two."""
    case = f.CaseFactory(lead_agency=cast.owner, young_person=f.YoungPersonFactory(recorded_by=cast.owner))
    other_case = f.CaseFactory(lead_agency=cast.owner, young_person=f.YoungPersonFactory(recorded_by=cast.owner))
    manager = cast.actor("owner", Role.MANAGER)
    return SimpleNamespace(case=case, other_case=other_case, manager=manager, neighbour=boroughs.youth_b)


def neighbour_actor(boroughs, role=Role.PRACTITIONER):
    return access.actor_for_user(boroughs.people[("youth_b", role)], partnership=boroughs.b.pk)


def test_a_share_across_the_border_needs_a_cross_border_agreement(across, boroughs, cast):
    with pytest.raises(DomainError) as refused:
        share(across.manager, across.case, across.neighbour)
    assert refused.value.code == "no_cross_border_agreement"
    # An ordinary agreement between the two does not carry a case across.
    f.AgreementFactory(parties=[cast.owner, boroughs.youth_b])
    with pytest.raises(DomainError):
        share(across.manager, across.case, across.neighbour)
    # Nor does an emergency basis alone.
    with pytest.raises(DomainError):
        share(across.manager, across.case, across.neighbour, emergency_basis="Immediate risk of harm tonight")
    # A cross-border agreement that has ended does not either.
    f.AgreementFactory(parties=[cast.owner, boroughs.youth_b], cross_border=True,
                       ends_on=timezone.localdate() - dt.timedelta(days=1))
    with pytest.raises(DomainError):
        share(across.manager, across.case, across.neighbour)
    assert not across.case.share_grants.exists()
    assert set(access.visible_cases(neighbour_actor(boroughs))) == {boroughs.youth_case_b}


def test_the_neighbour_sees_the_shared_case_and_nothing_else_of_the_partnership(across, boroughs, cast):
    agreement = f.AgreementFactory(parties=[cast.owner, boroughs.youth_b], cross_border=True)
    grant = share(across.manager, across.case, across.neighbour)
    assert grant.cross_border and grant.agreement == agreement
    assert grant.decision.recipient == boroughs.youth_b and grant.decision.outcome == "shared"

    for role in (Role.PRACTITIONER, Role.MANAGER):
        actor = neighbour_actor(boroughs, role)
        assert set(access.visible_cases(actor)) == {across.case, boroughs.youth_case_b}, role
        assert access.may(actor, Action.VIEW, across.case) and access.may(actor, Action.CONTRIBUTE, across.case)
        assert not access.may(actor, Action.MANAGE, across.case)
        assert not access.may(actor, Action.CLOSE, across.case)
        assert not access.may(actor, Action.VIEW, across.other_case)
        listed = set(selectors.caseload(actor).cases.values_list("pk", flat=True))
        assert listed == {across.case.pk, boroughs.youth_case_b.pk}
        assert selectors.caseload(actor).count() == 2
        # Young people and referrals of the other partnership stay out of its searches.
        assert not access.visible_young_people(actor).filter(partnership=boroughs.a).exists()
        assert "Cross-border share grant" in access.access_basis(actor, across.case)
    # Nobody else in the neighbouring partnership sees it.
    hub = access.actor_for_user(boroughs.people[("hub_b", Role.HUB_SCREENER)], partnership=boroughs.b.pk)
    assert not access.visible_cases(hub).filter(pk=across.case.pk).exists()


def test_the_neighbour_contributes_under_row_level_security_but_cannot_change_the_case(across, boroughs, cast):
    f.AgreementFactory(parties=[cast.owner, boroughs.youth_b], cross_border=True)
    share(across.manager, across.case, across.neighbour)
    actor = neighbour_actor(boroughs)
    access.enter_partnership(actor)
    try:
        case = access.get_case(actor, across.case.pk)
        assert case.young_person.family_name
        note = casework.case_note_add(actor=actor, case=case, kind=NoteKind.CONTACT, text="Met at the new school")
        casework.intervention_record(actor=actor, case=case, provider_agency=boroughs.youth_b, kind="mentoring",
                                     goals="Weekly mentoring near the new home")
        assert CaseNote.objects.filter(pk=note.pk).exists()
        with connection.cursor() as cursor:
            # Of the other partnership, the one case shared across (not the other it holds).
            cursor.execute("SELECT id FROM referrals_case WHERE partnership_id = %s", [boroughs.a.pk])
            assert cursor.fetchall() == [(across.case.pk,)]
            cursor.execute("SELECT count(*) FROM referrals_youngperson WHERE partnership_id = %s", [boroughs.a.pk])
            assert cursor.fetchone()[0] == 1
        # Row-level security refuses a write to the case row itself.
        with pytest.raises(DatabaseError), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("UPDATE referrals_case SET risk_level = 'red' WHERE id = %s", [across.case.pk])
        with pytest.raises(DatabaseError), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("UPDATE referrals_case SET partnership_id = %s WHERE id = %s",
                               [boroughs.b.pk, across.case.pk])
    finally:
        access.leave_partnership()
    # The same session settings without the agency: nothing of the other side.
    with connection.cursor() as cursor:
        cursor.execute("SET ROLE crossroads_app")
        try:
            cursor.execute("SELECT set_config('crossroads.partnership', %s, false)", [str(boroughs.b.pk)])
            cursor.execute("SELECT count(*) FROM referrals_case WHERE id = %s", [across.case.pk])
            assert cursor.fetchone()[0] == 0
            cursor.execute("SELECT set_config('crossroads.agency', %s, false)", [str(boroughs.hub_b.pk)])
            cursor.execute("SELECT count(*) FROM referrals_case WHERE id = %s", [across.case.pk])
            assert cursor.fetchone()[0] == 0
        finally:
            cursor.execute("RESET ROLE")
            cursor.execute("RESET crossroads.partnership")
            cursor.execute("RESET crossroads.agency")


def test_revocation_and_expiry_end_access_across_the_border_at_once(across, boroughs, cast):
    f.AgreementFactory(parties=[cast.owner, boroughs.youth_b], cross_border=True)
    grant = share(across.manager, across.case, across.neighbour)
    actor = neighbour_actor(boroughs)
    sharing.revoke_share(actor=across.manager, grant=grant, reason="The family moved back")
    assert not access.visible_cases(actor).filter(pk=across.case.pk).exists()
    assert selectors.caseload(actor).count() == 1
    grant = share(across.manager, across.case, across.neighbour)
    assert access.may(actor, Action.VIEW, across.case)
    type(grant).objects.filter(pk=grant.pk).update(
        granted_at=timezone.now() - dt.timedelta(days=2), expires_at=timezone.now() - dt.timedelta(seconds=1),
    )
    assert not access.may(actor, Action.VIEW, across.case)
    assert not access.visible_cases(actor).filter(pk=across.case.pk).exists()
    access.enter_partnership(actor)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM referrals_case WHERE id = %s", [across.case.pk])
            assert cursor.fetchone()[0] == 0
    finally:
        access.leave_partnership()


def test_pages_and_api_across_the_border(client, across, boroughs, cast):
    f.AgreementFactory(parties=[cast.owner, boroughs.youth_b], cross_border=True)
    # The share form offers the neighbour, named with its partnership.
    client.force_login(cast.user("owner", Role.MANAGER))
    page = client.get(reverse("share-add", args=[across.case.pk]))
    assert "Northbank Youth (Northbank: cross-border)" in page.content.decode()
    grant = share(across.manager, across.case, across.neighbour)

    neighbour = boroughs.people[("youth_b", Role.PRACTITIONER)]
    working_in(client, neighbour, boroughs.b)
    page = client.get(reverse("case-detail", args=[across.case.pk]))
    assert page.status_code == 200
    assert "sees it under a cross-border share" in page.content.decode()
    assert client.get(reverse("case-detail", args=[across.other_case.pk])).status_code == 404
    assert client.get(reverse("share-add", args=[across.case.pk])).status_code == 403
    added = client.post(reverse("note-add", args=[across.case.pk]), {
        "kind": NoteKind.CONTACT, "text": "Home visit at the new address", "visibility": "case",
    })
    assert added.status_code == 302
    assert CaseNote.objects.filter(case=across.case, agency=boroughs.youth_b, text__startswith="Home visit").exists()
    # Someone else in Northbank: a 404, as for any case out of reach.
    working_in(client, boroughs.people[("hub_b", Role.HUB_SCREENER)], boroughs.b)
    assert client.get(reverse("case-detail", args=[across.case.pk])).status_code == 404

    # The neighbour's partner system, working in Northbank, reads it through the API.
    admin = f.make_member(boroughs.youth_b, Role.AGENCY_ADMIN, username="northbank-admin")
    api_client, secret = api_client_issue(
        actor=access.actor_for_user(admin, partnership=boroughs.b.pk), name="Northbank CMS",
        scopes=["cases:read"], partnership=boroughs.b,
    )
    token = client.post("/o/token/", {
        "grant_type": "client_credentials", "client_id": api_client.application.client_id,
        "client_secret": secret,
    }).json()["access_token"]
    client.logout()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert client.get(f"/api/v1/cases/{across.case.pk}/", **auth).status_code == 200
    assert client.get(f"/api/v1/cases/{across.other_case.pk}/", **auth).status_code == 404
    sharing.revoke_share(actor=across.manager, grant=grant, reason="No longer needed")
    assert client.get(f"/api/v1/cases/{across.case.pk}/", **auth).status_code == 404
