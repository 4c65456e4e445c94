"""Share grants: the granting agency is told seven days before expiry; at
expiry the task removes the permission rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from reminders.models import Notification
from safeguarding import access, services
from reminders import tasks as safeguarding_tasks
from safeguarding.models import ShareGrant
from tests.reminders.conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def grant(cast, make_case, frozen):
    frozen(at(2026, 11, 2, 10))
    case = make_case(due=dt.date(2027, 1, 4))
    return services.share_case(
        actor=cast.actor("owner", "manager"), case=case, agency=cast.sharing, purpose="Joint safety plan",
        lawful_basis="safeguarding_children", consent_sought=True, consent_reason="Agreed with the young person",
        expires_at=at(2026, 11, 20, 17),
    )


def test_the_granting_agency_is_told_seven_days_before(cast, grant, frozen, run):
    frozen(at(2026, 11, 13, 16))  # 7 days and 1 hour before
    run(safeguarding_tasks.share_expiring_sweep)
    assert Notification.objects.count() == 0
    frozen(at(2026, 11, 13, 18))
    run(safeguarding_tasks.share_expiring_sweep)
    run(safeguarding_tasks.share_expiring_sweep)
    # The lead agency's managers (the granter is one of them): one each.
    assert sorted(Notification.objects.values_list("recipient__username", flat=True)) == [
        "owner-youth-service-manager"
    ]
    assert len(mail.outbox) == 1
    assert "Sharing Police" in mail.outbox[0].subject and grant.case.reference in mail.outbox[0].subject


def test_a_granter_who_is_not_a_manager_is_told_too(cast, make_case, frozen, run):
    frozen(at(2026, 11, 2, 10))
    case = make_case(due=dt.date(2027, 1, 4))
    services.share_case(
        actor=cast.actor("owner", "practitioner"), case=case, agency=cast.sharing, purpose="Joint plan",
        lawful_basis="safeguarding_children", consent_sought=False, consent_reason="Would increase risk",
        expires_at=at(2026, 11, 6, 17),
    )
    run(safeguarding_tasks.share_expiring_sweep)
    assert sorted(Notification.objects.values_list("recipient__username", flat=True)) == [
        "owner-youth-service-manager", "owner-youth-service-practitioner",
    ]


def test_a_revoked_grant_is_not_announced(cast, grant, frozen, run):
    services.revoke_share(actor=cast.actor("owner", "manager"), grant=grant, reason="No longer needed")
    frozen(at(2026, 11, 15))
    run(safeguarding_tasks.share_expiring_sweep)
    assert Notification.objects.count() == 0


def test_expiry_removes_the_permission_rows(cast, grant, frozen, run):
    case = grant.case
    assert cast.sharing.pk in access.agencies_with_permission(case)
    frozen(at(2026, 11, 20, 16, 59))
    run(safeguarding_tasks.share_expiry_sweep)
    assert cast.sharing.pk in access.agencies_with_permission(case)
    frozen(at(2026, 11, 20, 17, 1))
    run(safeguarding_tasks.share_expiry_sweep)
    assert access.agencies_with_permission(case) == {cast.owner.pk}
    assert access.agencies_with_permission(case, "contribute_case") == {cast.owner.pk}
    assert ShareGrant.objects.get(pk=grant.pk).permissions_removed_at is not None
    # A second sweep finds nothing left to do.
    seen = []
    from reminders import services as reminders

    assert reminders.share_expiry_sweep(enqueue=seen.append) == 0
    assert not access.may(cast.actor("sharing", "practitioner"), access.Action.VIEW, case)


def test_a_second_expiring_sweep_queues_nothing(cast, grant, frozen, run):
    from reminders import services as reminders

    frozen(at(2026, 11, 14))
    assert reminders.share_expiring_sweep(enqueue=lambda _id: None) == 1
    run(safeguarding_tasks.share_expiring_sweep)
    assert reminders.share_expiring_sweep(enqueue=lambda _id: None) == 0
