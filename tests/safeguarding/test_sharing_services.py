"""The sharing services: share, decline, revoke, expire. Every decision is
recorded; access follows the grant at once; the wrong actors are refused;
a refused call writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from agencies.models import AgencyKind
from referrals import models as rm
from lib.errors import DomainError
from safeguarding import access, services
from safeguarding.models import (
    AccessEvent,
    CaseGroupObjectPermission,
    ShareGrant,
    SharingDecision,
)
from tests import factories as f

NotVisible, NotAllowed = access.NotVisible, access.NotAllowed
COUNTED = [ShareGrant, SharingDecision, AccessEvent, CaseGroupObjectPermission, rm.Case]


def count_rows():
    return {model.__name__: model.objects.count() for model in COUNTED}


def refused(exc, call):
    before = count_rows()
    with pytest.raises(exc) as info:
        call()
    assert count_rows() == before
    return info.value


@pytest.fixture
def case(cast):
    return f.CaseFactory(
        lead_agency=cast.owner, key_worker=cast.user("owner", "practitioner"),
        young_person=f.YoungPersonFactory(recorded_by=cast.owner),
    )


def share_kwargs(cast, **overrides):
    values = {
        "agency": cast.sharing,
        "purpose": "Joint safety planning after a stabbing near the estate",
        "lawful_basis": rm.LawfulBasis.SAFEGUARDING_CHILDREN,
        "consent_sought": False,
        "consent_reason": "Seeking consent would put the young person at greater risk",
        "expires_at": timezone.now() + dt.timedelta(days=90),
    }
    values.update(overrides)
    return values


def share(cast, case, actor=None, **overrides):
    return services.share_case(actor=actor or cast.actor("owner", "manager"), case=case, **share_kwargs(cast, **overrides))


def sharing_sees(cast, case) -> bool:
    return case in access.visible_cases(cast.actor("sharing", "practitioner"))


# ---------------------------------------------------------------------------
# share_case
# ---------------------------------------------------------------------------


def test_share_under_an_agreement(cast, case):
    assert not sharing_sees(cast, case)
    grant = share(cast, case, special_category_condition="safeguarding")
    assert grant.agreement == cast.agreement  # the one agreement in force, found for the decider
    assert grant.granted_by == cast.user("owner", "manager")
    assert grant.is_active()
    decision = grant.decision
    assert (decision.outcome, decision.recipient, decision.consent_sought) == ("shared", cast.sharing, False)
    assert decision.lawful_basis == "safeguarding_children"
    assert decision.special_category_condition == "safeguarding"
    assert decision.consent_reason.startswith("Seeking consent")
    assert decision.decided_by == cast.user("owner", "manager")
    assert sharing_sees(cast, case)
    assert access.may(cast.actor("sharing", "practitioner"), access.Action.CONTRIBUTE, case)
    assert not access.may(cast.actor("sharing", "manager"), access.Action.MANAGE, case)
    assert access.agencies_with_permission(case) == {cast.owner.pk, cast.sharing.pk}
    event = AccessEvent.objects.get(action="share")
    assert (event.case_id, event.detail["agency"]) == (case.pk, cast.sharing.pk)


def test_the_key_worker_may_share(cast, case):
    grant = share(cast, case, actor=cast.actor("owner", "practitioner"))
    assert grant.granted_by == cast.user("owner", "practitioner")


def test_share_naming_the_agreement(cast, case):
    other = f.AgreementFactory(parties=[cast.owner, cast.sharing])
    grant = share(cast, case, agreement=other)
    assert grant.agreement == other


def test_several_agreements_in_force_and_none_named(cast, case):
    f.AgreementFactory(parties=[cast.owner, cast.sharing])
    assert refused(DomainError, lambda: share(cast, case)).field == "agreement"


def test_share_with_no_agreement_needs_an_emergency_basis(cast, case):
    housing = f.make_agency("Housing Association", AgencyKind.HOUSING)
    error = refused(DomainError, lambda: share(cast, case, agency=housing))
    assert (error.field, error.code) == ("agreement", "no_agreement")
    grant = share(cast, case, agency=housing, emergency_basis="Credible threat to life; housing must move the family")
    assert grant.agreement is None and grant.emergency_basis.startswith("Credible")
    assert grant.decision.emergency_basis == grant.emergency_basis


@pytest.mark.parametrize("which", ["not_a_party", "expired", "not_started"])
def test_a_named_agreement_must_be_in_force_between_both(cast, case, which):
    today = timezone.localdate()
    agreement = {
        "not_a_party": lambda: f.AgreementFactory(parties=[cast.owner, cast.outsider]),
        "expired": lambda: f.AgreementFactory(
            parties=[cast.owner, cast.sharing], starts_on=today - dt.timedelta(days=400),
            ends_on=today - dt.timedelta(days=1),
        ),
        "not_started": lambda: f.AgreementFactory(
            parties=[cast.owner, cast.sharing], starts_on=today + dt.timedelta(days=1),
        ),
    }[which]()
    error = refused(DomainError, lambda: share(cast, case, agreement=agreement))
    assert error.field == "agreement"
    # Naming an agreement that does not hold is an error even with an emergency basis.
    refused(DomainError, lambda: share(cast, case, agreement=agreement, emergency_basis="Urgent"))


def test_an_agreement_that_has_ended_does_not_count(cast, case):
    cast.agreement.ends_on = timezone.localdate() - dt.timedelta(days=1)
    cast.agreement.save()
    assert refused(DomainError, lambda: share(cast, case)).code == "no_agreement"


@pytest.mark.parametrize("overrides, field", [
    ({"purpose": ""}, "purpose"),
    ({"purpose": "   "}, "purpose"),
    ({"consent_reason": ""}, "consent_reason"),
    ({"lawful_basis": ""}, "lawful_basis"),
    ({"lawful_basis": "legitimate_interests"}, "lawful_basis"),
    ({"special_category_condition": "ethnicity"}, "special_category_condition"),
    ({"consent_sought": None}, "consent_sought"),
    ({"expires_at": timezone.now() - dt.timedelta(minutes=1)}, "expires_at"),
    ({"expires_at": timezone.now() + dt.timedelta(days=370)}, "expires_at"),
    ({"expires_at": dt.datetime(2027, 1, 1, 12, 0)}, "expires_at"),
    ({"expires_at": dt.date(2027, 1, 1)}, "expires_at"),
])
def test_share_rules(cast, case, overrides, field):
    assert refused(DomainError, lambda: share(cast, case, **overrides)).field == field


def test_a_share_may_last_twelve_months(cast, case):
    with time_machine.travel(dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.timezone.utc), tick=False):
        grant = share(cast, case, expires_at=dt.datetime(2027, 12, 2, 12, 0, tzinfo=dt.timezone.utc))
        assert grant.expires_at.year == 2027
        with pytest.raises(DomainError):
            share(cast, case, agency=cast.referrer, expires_at=dt.datetime(2027, 12, 2, 12, 1, tzinfo=dt.timezone.utc))


def test_recipient_must_not_lead_nor_already_hold_a_share(cast, case):
    assert refused(DomainError, lambda: share(cast, case, agency=cast.owner)).field == "agency"
    share(cast, case)
    assert refused(DomainError, lambda: share(cast, case)).code == "already_shared"
    cast.outsider.is_active = False
    cast.outsider.save()
    assert refused(DomainError, lambda: share(cast, case, agency=cast.outsider)).field == "agency"


def test_share_again_after_expiry(cast, case):
    share(cast, case, expires_at=timezone.now() + dt.timedelta(days=1))
    with time_machine.travel(timezone.now() + dt.timedelta(days=2)):
        assert not sharing_sees(cast, case)
        grant = share(cast, case)
        assert sharing_sees(cast, case)
    assert ShareGrant.objects.filter(case=case, agency=cast.sharing).count() == 2
    assert grant.decision.outcome == "shared"


def manage_refusals(cast):
    return [
        (cast.actor("sharing", "manager"), NotAllowed),  # holds a share, does not lead
        (cast.actor("outsider", "manager"), NotVisible),
        (cast.actor("referrer", "manager"), NotVisible),
        (cast.actor("hub", "hub_screener"), NotVisible),
        (cast.actor("owner", "dpo"), NotVisible),
        (cast.actor("owner", "agency_admin"), NotVisible),
        (access.actor_for_user(cast.superuser), NotVisible),
        (access.system_actor(), NotVisible),
    ]


def test_share_refuses_the_wrong_actors(cast, case):
    share(cast, case)  # so that the sharing agency's manager can see the case
    colleague = f.make_member(cast.owner, "practitioner", username="owner-colleague")
    for actor, exc in [(access.actor_for_user(colleague), NotAllowed), *manage_refusals(cast)]:
        refused(exc, lambda: share(cast, case, actor=actor, agency=cast.referrer))


# ---------------------------------------------------------------------------
# decline_to_share
# ---------------------------------------------------------------------------


def decline(cast, case, actor=None, **overrides):
    values = {
        "agency": cast.referrer,
        "purpose": "School asked for the full chronology",
        "reason": "Not necessary: the school needs only the safety plan, shared separately",
        "consent_sought": True,
        "consent_reason": "Young person asked; said no",
    }
    values.update(overrides)
    return services.decline_to_share(actor=actor or cast.actor("owner", "manager"), case=case, **values)


def test_decline_to_share(cast, case):
    decision = decline(cast, case, lawful_basis="public_task", agreement=cast.agreement)
    assert (decision.outcome, decision.recipient, decision.grant) == ("not_shared", cast.referrer, None)
    assert decision.reason.startswith("Not necessary")
    assert (decision.lawful_basis, decision.agreement) == ("public_task", cast.agreement)
    assert decision.decided_by == cast.user("owner", "manager")
    assert case not in access.visible_cases(cast.actor("referrer", "manager"))
    assert AccessEvent.objects.get(action="decline_to_share").case_id == case.pk
    assert ShareGrant.objects.count() == 0


@pytest.mark.parametrize("overrides, field", [
    ({"purpose": ""}, "purpose"),
    ({"reason": ""}, "reason"),
    ({"consent_reason": " "}, "consent_reason"),
    ({"consent_sought": "yes"}, "consent_sought"),
    ({"lawful_basis": "whim"}, "lawful_basis"),
    ({"agency": None}, "agency"),
])
def test_decline_rules(cast, case, overrides, field):
    assert refused(DomainError, lambda: decline(cast, case, **overrides)).field == field


def test_decline_agreement_must_cover_both(cast, case):
    agreement = f.AgreementFactory(parties=[cast.owner, cast.outsider])
    assert refused(DomainError, lambda: decline(cast, case, agreement=agreement)).field == "agreement"
    assert refused(DomainError, lambda: decline(cast, case, agency=cast.owner)).field == "agency"


def test_decline_refuses_the_wrong_actors(cast, case):
    share(cast, case)
    for actor, exc in manage_refusals(cast):
        refused(exc, lambda: decline(cast, case, actor=actor))


# ---------------------------------------------------------------------------
# revoke_share
# ---------------------------------------------------------------------------


def test_revoke_takes_access_away_at_once(cast, case):
    grant = share(cast, case)
    assert sharing_sees(cast, case)
    revoked = services.revoke_share(actor=cast.actor("owner", "manager"), grant=grant, reason="Purpose met")
    assert (revoked.revoked_by, revoked.revoke_reason) == (cast.user("owner", "manager"), "Purpose met")
    assert revoked.revoked_at is not None and revoked.permissions_removed_at is not None
    assert not sharing_sees(cast, case)
    assert access.agencies_with_permission(case) == {cast.owner.pk}
    assert AccessEvent.objects.get(action="revoke_share").case_id == case.pk
    # The decision that made the grant stays on record.
    assert SharingDecision.objects.get(grant=grant).outcome == "shared"


def test_revoke_rules(cast, case):
    grant = share(cast, case, expires_at=timezone.now() + dt.timedelta(days=1))
    manager = cast.actor("owner", "manager")
    assert refused(DomainError, lambda: services.revoke_share(actor=manager, grant=grant, reason="")).field == "reason"
    services.revoke_share(actor=manager, grant=grant, reason="Done")
    assert refused(DomainError, lambda: services.revoke_share(
        actor=manager, grant=grant, reason="Again",
    )).code == "already_revoked"
    expiring = share(cast, case, agency=cast.referrer, expires_at=timezone.now() + dt.timedelta(days=1))
    with time_machine.travel(timezone.now() + dt.timedelta(days=2)):
        assert refused(DomainError, lambda: services.revoke_share(
            actor=manager, grant=expiring, reason="Late",
        )).code == "expired"


def test_revoke_refuses_the_wrong_actors(cast, case):
    grant = share(cast, case)
    colleague = f.make_member(cast.owner, "practitioner", username="owner-colleague")
    for actor, exc in [(access.actor_for_user(colleague), NotAllowed), *manage_refusals(cast)]:
        refused(exc, lambda: services.revoke_share(actor=actor, grant=grant, reason="x"))
    assert sharing_sees(cast, case)


# ---------------------------------------------------------------------------
# share_expire (the expiry task's service)
# ---------------------------------------------------------------------------


def test_share_expire_removes_the_rows_once(cast, case):
    grant = share(cast, case, expires_at=timezone.now() + dt.timedelta(days=1))
    before = count_rows()
    assert services.share_expire(grant_id=grant.pk) is False  # still active: nothing to do
    assert count_rows() == before
    with time_machine.travel(timezone.now() + dt.timedelta(days=2)):
        # Access ended at expiry, before any task ran...
        assert not sharing_sees(cast, case)
        assert cast.sharing.pk in access.agencies_with_permission(case)
        # ...and the task tidies the permission rows, once.
        assert services.share_expire(grant_id=grant.pk) is True
        assert access.agencies_with_permission(case) == {cast.owner.pk}
        grant.refresh_from_db()
        assert grant.permissions_removed_at is not None
        event = AccessEvent.objects.get(action="share_expired")
        assert (event.user_id, event.agency_id, event.api_client, event.channel) == (None, None, "system", "task")
        after = count_rows()
        assert services.share_expire(grant_id=grant.pk) is False
        assert count_rows() == after


def test_share_expire_keeps_a_newer_grant(cast, case):
    old = share(cast, case, expires_at=timezone.now() + dt.timedelta(days=1))
    with time_machine.travel(timezone.now() + dt.timedelta(days=2)):
        share(cast, case)  # shared again before the tidy-up ran
        assert services.share_expire(grant_id=old.pk) is True
        assert sharing_sees(cast, case)
        assert cast.sharing.pk in access.agencies_with_permission(case)


def test_share_expire_of_a_missing_grant(db):
    assert services.share_expire(grant_id=999_999) is False


def test_share_expire_claims_with_a_conditional_update(cast, case):
    """A second worker that already holds the grant in memory still cannot
    claim it: the claim is decided by the database row."""
    grant = share(cast, case, expires_at=timezone.now() + dt.timedelta(days=1))
    with time_machine.travel(timezone.now() + dt.timedelta(days=2)):
        with transaction.atomic():
            assert services.share_expire(grant_id=grant.pk) is True
            assert services.share_expire(grant_id=grant.pk) is False
    assert AccessEvent.objects.filter(action="share_expired").count() == 1
