"""Defence in depth: PostgreSQL's row-level security keeps each partnership's
case data apart under the policy's own filters.

The app serves every actor as the role ``crossroads_app`` with the actor's
partnership set (``access.enter_partnership``). Raw SQL under that role sees
nothing at all without a partnership and only that partnership's rows with
one, and cannot write a row into another partnership."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.db import DatabaseError, connection, transaction
from django.http import JsonResponse
from django.urls import include, path, reverse
from django.utils import timezone

from referrals.models import Case, CaseNote, NoteKind, YoungPersonMerge
from safeguarding import access
from tests import factories as f

policy = importlib.import_module("safeguarding.migrations.0008_partnership_row_security")
TABLES = [*policy.OWN, *policy.BY_CASE, *policy.BY_YOUNG_PERSON]


def count_as_app(table: str, partnership_id: int | None) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SET ROLE crossroads_app")
        try:
            if partnership_id is not None:
                cursor.execute("SELECT set_config('crossroads.partnership', %s, false)", [str(partnership_id)])
            cursor.execute(f"SELECT count(*) FROM {table}")
            return cursor.fetchone()[0]
        finally:
            cursor.execute("RESET ROLE")
            cursor.execute("RESET crossroads.partnership")


def count_as_owner(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        return cursor.fetchone()[0]


@pytest.fixture
def case_data(boroughs, cast):
    """Rows in every protected table, in both boroughs."""
    from casework import services as casework
    from safeguarding import services as sharing

    for case in (boroughs.case_a, boroughs.case_b):
        manager = f.make_member(boroughs.police, "manager", username=f"police-manager-{case.pk}")
        actor = access.actor_for_user(manager, partnership=case.partnership_id)
        casework.case_note_add(actor=actor, case=case, kind=NoteKind.CONTACT, text="Seen at the station")
        casework.intervention_record(
            actor=actor, case=case, provider_agency=boroughs.police, kind="mentoring", goals="Weekly sessions",
            status="planned", planned_start=None, started_on=None, sessions_offered=0,
        )
        casework.review_complete(actor=actor, case=case, risk_after=case.risk_level, summary="Stable",
                                 decision="continue")
        other = cast.owner if case.partnership_id == boroughs.a.pk else boroughs.youth_b
        sharing.decline_to_share(
            actor=actor, case=case, agency=other, purpose="Asked", reason="Not needed", lawful_basis="",
            consent_sought=False, consent_reason="Not needed for this purpose",
        )
    f.YoungPersonFactory(recorded_by=boroughs.youth_b, partnership=boroughs.b)
    f.ReferralFactory(young_person=boroughs.case_a.young_person, referring_agency=cast.owner)
    # A share inside each borough, and a subject-access request in each.
    from safeguarding.models import SubjectAccessRequest, subject_access_due_on

    f.AgreementFactory(parties=[boroughs.police, boroughs.youth_b])
    for case, agency in ((boroughs.case_a, cast.owner), (boroughs.case_b, boroughs.youth_b)):
        manager = access.actor_for_user(
            f.make_member(boroughs.police, "manager", username=f"police-sharer-{case.pk}"), partnership=case.partnership_id,
        )
        sharing.share_case(
            actor=manager, case=case, agency=agency, purpose="Joint safety plan", lawful_basis="safeguarding_children",
            consent_sought=False, consent_reason="Would place the young person at risk",
            expires_at=timezone.now() + dt.timedelta(days=30), agreement=None, emergency_basis="",
        )
        SubjectAccessRequest.objects.create(
            young_person=case.young_person, received_on=timezone.localdate(),
            due_on=subject_access_due_on(timezone.localdate()), recorded_by=manager.user,
        )
        # Two records of one young person, linked by the hub.
        YoungPersonMerge.objects.create(
            kept=case.young_person, merged=f.YoungPersonFactory(recorded_by=boroughs.police, partnership=case.partnership),
            merged_by=manager.user, agency=boroughs.police, reason="The same young person",
        )
    return boroughs


@pytest.mark.parametrize("table", TABLES)
def test_raw_sql_with_no_partnership_set_sees_no_rows(case_data, table):
    if count_as_owner(table) == 0:
        pytest.skip(f"no rows were made in {table}")
    assert count_as_app(table, None) == 0


@pytest.mark.parametrize("table", ["referrals_youngperson", "referrals_referral", "referrals_case",
                                   "referrals_casenote", "referrals_intervention", "referrals_review",
                                   "safeguarding_sharingdecision", "referrals_caseevent"])
def test_raw_sql_sees_only_the_partnership_set(case_data, table):
    in_a, in_b, everything = count_as_app(table, case_data.a.pk), count_as_app(table, case_data.b.pk), count_as_owner(
        table)
    assert in_a > 0 and in_b > 0
    assert in_a + in_b == everything


def test_a_row_cannot_be_written_into_another_partnership(case_data, cast):
    with connection.cursor() as cursor:
        cursor.execute("SET ROLE crossroads_app")
        cursor.execute("SELECT set_config('crossroads.partnership', %s, false)", [str(case_data.a.pk)])
        try:
            with pytest.raises(DatabaseError), transaction.atomic():
                cursor.execute(
                    "UPDATE referrals_case SET partnership_id = %s WHERE id = %s", [case_data.b.pk, case_data.case_a.pk],
                )
            with pytest.raises(DatabaseError), transaction.atomic():
                CaseNote.objects.create(
                    case_id=case_data.case_b.pk, kind=NoteKind.CONTACT, author=cast.user("sharing", "manager"),
                    agency=case_data.police, text="Written across the border",
                )
        finally:
            cursor.execute("RESET ROLE")
            cursor.execute("RESET crossroads.partnership")
    assert not CaseNote.objects.filter(text="Written across the border").exists()


def test_the_app_connection_is_back_to_its_own_role_after_every_request(client, case_data, cast):
    client.force_login(cast.user("sharing", "manager"))  # the police unit works in Northbank first, by name
    assert client.get(reverse("case-detail", args=[case_data.case_b.pk])).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user = session_user, current_setting('crossroads.partnership', true)")
        same_role, partnership = cursor.fetchone()
    assert same_role and partnership in ("", None)


# -- a view that forgot its filter -----------------------------------------------

def _every_case_reference(request):
    # Planted: no access policy, no filter. Only the row-level security
    # stands between it and every partnership's cases.
    return JsonResponse({"references": sorted(Case.objects.values_list("reference", flat=True))})


def _planted(view):
    from web.kit import page

    return page(view)


urlpatterns = [
    path("planted/every-case/", _planted(_every_case_reference), name="planted-every-case"),
    path("", include("config.urls")),
]


@pytest.mark.urls(__name__)
def test_a_view_that_forgot_its_filter_still_sees_only_its_partnership(client, case_data, cast):
    police = cast.user("sharing", "practitioner")
    client.force_login(police)
    from web.kit import PARTNERSHIP_SESSION_KEY

    seen = {}
    for borough in (case_data.a, case_data.b):
        session = client.session
        session[PARTNERSHIP_SESSION_KEY] = borough.pk
        session.save()
        seen[borough.slug] = set(client.get("/planted/every-case/").json()["references"])
    every = set(Case.objects.values_list("reference", flat=True))
    a_refs = set(Case.objects.filter(partnership=case_data.a).values_list("reference", flat=True))
    b_refs = every - a_refs
    assert seen[case_data.a.slug] == a_refs and seen[case_data.b.slug] == b_refs
    assert a_refs and b_refs


@pytest.mark.urls(__name__)
def test_the_planted_view_sees_nothing_for_someone_in_no_partnership(client, case_data):
    stray_agency = f.AgencyFactory(name="Stray Agency", slug="stray-agency", partnerships=[])
    client.force_login(f.make_member(stray_agency, "practitioner"))
    assert client.get("/planted/every-case/").json()["references"] == []
