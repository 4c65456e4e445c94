"""seed_demo: a demo borough with every state the app shows, loaded once.

The seed runs twice in this module (about half a minute), inside one
transaction that is rolled back at the end, so the rest of the suite sees an
empty database.
"""

from __future__ import annotations

import re
from io import StringIO
from types import SimpleNamespace

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from agencies import two_factor
from agencies.models import Agency, InformationSharingAgreement, Membership, Role
from referrals import deadlines
from referrals.models import (
    Case,
    CaseNote,
    Intervention,
    InterventionStatus,
    NoteKind,
    NoteVisibility,
    Referral,
    ReferralStatus,
    Review,
    YoungPerson,
)
from safeguarding import access
from safeguarding.models import (
    AccessEvent,
    CaseGroupObjectPermission,
    Channel,
    ShareGrant,
    SharingDecision,
    SharingOutcome,
)
from tests.signing_in import a_request

COUNTED = [
    get_user_model(), Group, Agency, Membership, InformationSharingAgreement, YoungPerson, Referral, Case,
    Intervention, Review, CaseNote, ShareGrant, SharingDecision, CaseGroupObjectPermission, AccessEvent,
]
DEMO_USERNAMES = {"youthworker", "screener", "manager", "police", "teacher", "dpo", "agencyadmin", "sysadmin"}


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            first = seed()
            after_first = counts()
            second = seed()
            after_second = counts()
            yield SimpleNamespace(first=first, second=second, after_first=after_first, after_second=after_second)
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def demo(seeded, db):
    return seeded


def sign_ins(output: str) -> dict[str, tuple[str, str]]:
    """username -> (role, password), read from the printed table."""
    rows = {}
    for line in output.splitlines():
        match = re.match(r"^\s+(\w+)\s{2,}(.+?)\s{2,}(.+?)\s{2,}(\S+)\s*$", line)
        if match and match.group(1) in DEMO_USERNAMES:
            rows[match.group(1)] = (match.group(2), match.group(4))
    return rows


def test_the_second_run_changes_nothing_and_prints_the_sign_ins_again(demo):
    assert demo.after_first["Case"] > 0
    assert demo.after_second == demo.after_first
    assert "already loaded" in demo.second
    assert sign_ins(demo.second) == sign_ins(demo.first)


def test_every_demo_sign_in_has_one_authenticator_app_and_the_output_says_how_to_get_a_code(demo):
    for username in DEMO_USERNAMES:
        user = get_user_model().objects.get(username=username)
        assert TOTPDevice.objects.filter(user=user).count() == 1, username  # the second run made no other
        assert two_factor.confirmed_app(user) is not None, username
    for output in (demo.first, demo.second):
        assert ".venv/bin/python manage.py demo_otp_code youthworker" in output


def test_the_borough_has_about_150_young_people_and_80_cases(demo):
    assert 140 <= YoungPerson.objects.count() <= 160
    assert 75 <= Case.objects.count() <= 85
    assert Case.objects.filter(status="closed").count() >= 3
    assert Agency.objects.filter(kind="school").count() == 4
    assert {a.kind for a in Agency.objects.all()} >= {
        "police", "school", "youth_service", "childrens_social_care", "youth_justice", "voluntary", "hub",
    }
    for agency in Agency.objects.all():
        assert agency.group.name == f"agency:{agency.slug}"
        roles = set(Membership.objects.filter(agency=agency).values_list("role", flat=True))
        assert {Role.MANAGER, Role.AGENCY_ADMIN} <= roles, agency
    agreement = InformationSharingAgreement.objects.get()
    assert agreement.parties.count() == Agency.objects.count()
    assert agreement.in_force_on(timezone.localdate())


def test_every_referral_status_is_present_and_some_are_past_their_deadline(demo):
    present = set(Referral.objects.values_list("status", flat=True))
    assert present == set(ReferralStatus.values)
    now = timezone.now()
    open_referrals = Referral.objects.filter(status__in=["submitted", "screening"])
    assert open_referrals.filter(decision_due_at__lt=now).exists()
    assert open_referrals.filter(decision_due_at__gte=now).exists()
    assert not Referral.objects.filter(received_at__gt=now).exists()
    assert Referral.objects.filter(consent="not_sought").exclude(lawful_basis="").exists()


def test_some_reviews_are_overdue_some_due_within_three_working_days_and_some_later(demo):
    today = timezone.localdate()
    soon = today
    for _ in range(3):
        soon = deadlines.next_working_day(soon)
    open_cases = Case.objects.filter(status="open")
    assert open_cases.filter(next_review_due__lt=today).count() >= 3
    assert open_cases.filter(next_review_due__gte=today, next_review_due__lte=soon).count() >= 3
    assert open_cases.filter(next_review_due__gt=soon).count() >= 10
    assert not open_cases.filter(next_review_due__isnull=True).exists()
    # The open review row agrees with the case.
    for case in open_cases:
        pending = Review.objects.filter(case=case, completed_at__isnull=True).order_by("due_on").first()
        assert pending is not None and pending.due_on == case.next_review_due, case
    assert Review.objects.filter(completed_at__isnull=False).count() >= 40
    assert not Review.objects.filter(completed_at__gt=timezone.now()).exists()


def test_the_casework_has_every_kind_of_record(demo):
    assert set(Intervention.objects.values_list("status", flat=True)) == set(InterventionStatus.values)
    assert Intervention.objects.values("kind").distinct().count() >= 6
    assert set(CaseNote.objects.values_list("kind", flat=True)) == set(NoteKind.values)
    assert CaseNote.objects.filter(visibility=NoteVisibility.AGENCY).exists()
    assert CaseNote.objects.filter(corrects__isnull=False).exists()
    assert not CaseNote.objects.filter(occurred_at__gt=timezone.now()).exists()
    closed = Case.objects.filter(status="closed")
    assert not Intervention.objects.filter(case__in=closed, status__in=["planned", "active"]).exists()
    assert all(c.closed_at < timezone.now() - timezone.timedelta(days=1) for c in closed)


def test_shares_are_active_expired_revoked_and_one_was_declined(demo):
    now = timezone.now()
    assert access.active_grants(now).exists()
    expired = ShareGrant.objects.filter(revoked_at__isnull=True, expires_at__lte=now)
    assert expired.exists()
    assert ShareGrant.objects.filter(revoked_at__isnull=False).exists()
    assert SharingDecision.objects.filter(outcome=SharingOutcome.NOT_SHARED).exists()
    for grant in [*expired, *ShareGrant.objects.filter(revoked_at__isnull=False)]:
        assert grant.permissions_removed_at is not None


def test_the_permission_rows_agree_with_leads_and_active_shares(demo):
    active = {}
    for case_id, agency_id in access.active_grants().values_list("case_id", "agency_id"):
        active.setdefault(case_id, set()).add(agency_id)
    for case in Case.objects.all():
        expected = {case.lead_agency_id} | active.get(case.pk, set())
        assert access.agencies_with_permission(case) == expected, case


def test_demo_users_sign_in_with_the_printed_password_and_see_what_their_role_allows(demo):
    printed = sign_ins(demo.first)
    assert set(printed) == DEMO_USERNAMES
    passwords = {password for _, password in printed.values()}
    assert len(passwords) == 1 and len(passwords.pop()) >= 12
    for username, (_, password) in printed.items():
        user = authenticate(a_request(), username=username, password=password)
        assert user is not None, username
        assert authenticate(a_request(), username=username, password=password + "x") is None

    def actor(username):
        return access.actor_for_user(get_user_model().objects.get(username=username), channel=Channel.COMMAND)

    assert access.visible_cases(actor("youthworker")).exists()
    manager = actor("manager")
    led = Case.objects.filter(lead_agency=manager.agency)
    assert led.exists()
    assert access.visible_cases(manager).filter(lead_agency=manager.agency).count() == led.count()
    police = actor("police")
    assert access.visible_cases(police).exclude(lead_agency=police.agency).exists(), "police see shared cases"
    assert access.visible_referrals(actor("teacher")).exists()
    assert access.visible_referrals(actor("screener")).filter(status="submitted").exists()
    for nobody in ("dpo", "agencyadmin", "sysadmin"):
        assert not access.visible_cases(actor(nobody)).exists(), nobody
    sysadmin = get_user_model().objects.get(username="sysadmin")
    assert sysadmin.is_superuser and sysadmin.is_staff and not sysadmin.memberships.exists()
    assert printed["screener"][0] == Role.HUB_SCREENER.label
    assert printed["dpo"][0] == Role.DPO.label
