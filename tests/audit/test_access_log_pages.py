"""'Who has seen this record': for the lead agency's managers and any
data-protection officer; a 404 for everyone else. Each row says why the
person could reach the record, as it stood then; reading the page is logged."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import timezone

from agencies.models import Role
from safeguarding import access
from safeguarding.models import AccessEvent, ShareGrant
from tests.audit.conftest import signed_in

ALLOWED = [("owner", Role.MANAGER), ("owner", Role.DPO), ("outsider", Role.DPO), ("sharing", Role.DPO)]
REFUSED = [
    ("owner", Role.PRACTITIONER), ("owner", Role.HUB_SCREENER), ("owner", Role.AGENCY_ADMIN),
    ("sharing", Role.MANAGER), ("sharing", Role.PRACTITIONER), ("outsider", Role.MANAGER),
    ("referrer", Role.MANAGER), ("hub", Role.MANAGER), ("hub", Role.HUB_SCREENER),
]


@pytest.mark.parametrize(("agency", "role"), ALLOWED)
def test_the_lead_managers_and_data_protection_officers_see_the_case_log(cast, shared_case, agency, role):
    response = signed_in(cast.user(agency, role)).get(reverse("case-access-log", args=[shared_case.pk]))
    assert response.status_code == 200
    assert access.may_see_access_log(cast.actor(agency, role), shared_case)


@pytest.mark.parametrize(("agency", "role"), REFUSED)
def test_everyone_else_gets_a_404(cast, shared_case, agency, role):
    response = signed_in(cast.user(agency, role)).get(reverse("case-access-log", args=[shared_case.pk]))
    assert response.status_code == 404
    assert not access.may_see_access_log(cast.actor(agency, role), shared_case)
    assert not AccessEvent.objects.filter(action="view_access_log").exists()


def test_a_superuser_and_a_partner_system_are_refused(cast, case):
    assert signed_in(cast.superuser).get(reverse("case-access-log", args=[case.pk])).status_code == 404
    machine = access.Actor(agency=cast.owner, roles=frozenset({Role.MANAGER, Role.DPO}), user=cast.superuser,
                           api_client="partner", channel="api")
    assert not access.may_see_access_log(machine, case)
    assert not access.may_export_subject_access(machine)


def test_a_missing_case_is_the_same_404(cast):
    assert signed_in(cast.user("owner", Role.DPO)).get(reverse("case-access-log", args=[999999])).status_code == 404


def test_rows_show_who_how_and_why_newest_first_and_the_viewing_is_logged(cast, shared_case):
    lead = signed_in(cast.user("owner", Role.PRACTITIONER))
    lead.get(reverse("case-detail", args=[shared_case.pk]), HTTP_X_REQUEST_ID="req-lead-view")
    signed_in(cast.user("sharing", Role.PRACTITIONER)).get(
        reverse("case-detail", args=[shared_case.pk]), HTTP_X_REQUEST_ID="req-shared-view", REMOTE_ADDR="198.51.100.9",
    )
    lead.get(reverse("home"))  # the caseload page lists the case: a list row naming it
    grant = ShareGrant.objects.get(case=shared_case)

    manager = signed_in(cast.user("owner", Role.MANAGER))
    response = manager.get(reverse("case-access-log", args=[shared_case.pk]), HTTP_X_REQUEST_ID="req-audit")

    page = response.content.decode()
    assert "req-lead-view" in page and "req-shared-view" in page and "198.51.100.9" in page
    assert "Lead agency (Owner Youth Service)" in page
    assert f"Share grant #{grant.pk} under agreement {cast.agreement.reference} until" in page
    rows = list(response.context["rows"])
    assert [r.occurred_at for r in rows] == sorted((r.occurred_at for r in rows), reverse=True)
    assert rows[0].action == "view_access_log" and rows[0].request_id == "req-audit"
    assert rows[0].basis == "Lead agency manager (Owner Youth Service)"
    listed = [r for r in rows if r.action == "list" and r.case_id is None]
    assert listed and listed[0].basis == "Caseload of Owner Youth Service: cases it leads or holds an active share of"


def test_the_basis_is_kept_as_it_was_when_the_share_later_expires(cast, shared_case):
    signed_in(cast.user("sharing", Role.PRACTITIONER)).get(reverse("case-detail", args=[shared_case.pk]))
    grant = ShareGrant.objects.get(case=shared_case)
    ShareGrant.objects.filter(pk=grant.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))

    assert signed_in(cast.user("sharing", Role.PRACTITIONER)).get(
        reverse("case-detail", args=[shared_case.pk])).status_code == 404
    response = signed_in(cast.user("owner", Role.DPO)).get(reverse("case-access-log", args=[shared_case.pk]))

    assert f"Share grant #{grant.pk} under agreement" in response.content.decode()
    row = AccessEvent.objects.get(case_id=shared_case.pk, action="view", agency=cast.sharing)
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessEvent.objects.filter(pk=row.pk).update(basis="rewritten")
    row.refresh_from_db()
    assert row.basis.startswith(f"Share grant #{grant.pk}")


def test_emergency_shares_say_so(cast, case):
    from tests.safeguarding.conftest import share

    grant = share(case, cast.sharing)  # the factory's grant rests on a recorded emergency
    access.get_case(cast.actor("sharing", Role.PRACTITIONER), case.pk)
    row = AccessEvent.objects.filter(case_id=case.pk, agency=cast.sharing).latest("id")
    assert row.basis.startswith(f"Share grant #{grant.pk} on a recorded emergency basis until")


def test_the_page_is_paginated(cast, case):
    actor = cast.actor("owner", Role.PRACTITIONER)
    for _ in range(60):
        access.log_access(actor, "view", case)
    client = signed_in(cast.user("owner", Role.MANAGER))

    first = client.get(reverse("case-access-log", args=[case.pk]))
    second = client.get(reverse("case-access-log", args=[case.pk]) + "?page=2")

    assert len(first.context["rows"]) == 50 and first.context["rows"].has_next()
    assert len(second.context["rows"]) == 12  # 60 views, 2 page views


def test_the_case_page_links_to_it_only_for_those_who_may(cast, case):
    url = reverse("case-access-log", args=[case.pk])
    assert url in signed_in(cast.user("owner", Role.MANAGER)).get(reverse("case-detail", args=[case.pk])).content.decode()
    assert url not in signed_in(cast.user("owner", Role.PRACTITIONER)).get(
        reverse("case-detail", args=[case.pk])).content.decode()


def test_the_young_person_log_for_the_dpo_and_the_lead_manager(cast, shared_case):
    person = shared_case.young_person
    access.log_access(cast.actor("hub", Role.HUB_SCREENER), "view", person)
    url = reverse("young-person-access-log", args=[person.pk])

    dpo = signed_in(cast.user("referrer", Role.DPO)).get(url)
    manager = signed_in(cast.user("owner", Role.MANAGER)).get(url)

    assert dpo.status_code == manager.status_code == 200
    assert any(r.agency_id == cast.hub.pk for r in dpo.context["rows"])
    assert "Hub screening (the young-person index)" in dpo.content.decode()
    # The lead agency's manager sees the rows of its cases, not the hub's look-up of the index.
    assert not any(r.agency_id == cast.hub.pk for r in manager.context["rows"])
    assert AccessEvent.objects.filter(action="view_access_log", young_person_id=person.pk).count() == 2
    for agency, role in [("sharing", Role.MANAGER), ("outsider", Role.MANAGER), ("owner", Role.PRACTITIONER),
                         ("hub", Role.HUB_SCREENER)]:
        assert signed_in(cast.user(agency, role)).get(url).status_code == 404, (agency, role)
