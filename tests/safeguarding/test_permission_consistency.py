"""Property: the live relation (``visible_cases``) and the guardian permission
rows agree once ``sync_case_permissions`` has run, whatever mix of lead
agencies, grants, expiries, revocations and lead changes led there; and
before a sync, rows left behind by an ended grant open nothing."""

from __future__ import annotations

import datetime as dt
import random

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone
from guardian.core import ObjectPermissionChecker

from agencies.models import Role
from referrals.models import Case
from safeguarding import access
from safeguarding.access import Action
from safeguarding.models import ShareGrant
from tests import factories as f
from tests.safeguarding.conftest import ShareGrantFactory, share, sync

SEEDS = range(8)


def _expected(case: Case, at=None) -> set[int]:
    """Written from the policy, independently of access.py: the lead agency
    plus every agency with an unrevoked grant that has not expired."""
    at = at or timezone.now()
    grants = ShareGrant.objects.filter(case=case)
    return {case.lead_agency_id} | {g.agency_id for g in grants if g.revoked_at is None and g.expires_at > at}


def _admitted(actors: dict[int, access.Actor]) -> dict[int, set[int]]:
    """case id → the agencies whose practitioner finds it in visible_cases."""
    seen: dict[int, set[int]] = {}
    for agency_id, actor in actors.items():
        for case_id in access.visible_cases(actor).values_list("pk", flat=True):
            seen.setdefault(case_id, set()).add(agency_id)
    return seen


def _random_grant(rng, case, agency, cast, now):
    state = rng.choice(["active", "active", "expired", "revoked"])
    kwargs = {"agreement": cast.agreement, "emergency_basis": "", "granted_by": cast.user("owner", Role.MANAGER)}
    if state == "expired":
        kwargs.update(granted_at=now - dt.timedelta(days=40), expires_at=now - dt.timedelta(days=rng.randint(1, 9)))
    elif state == "revoked":
        kwargs.update(revoked_at=now - dt.timedelta(hours=1), revoked_by=cast.user("owner", Role.MANAGER))
    else:
        kwargs.update(expires_at=now + dt.timedelta(days=rng.choice([1, 2, 5, 10])))
    return ShareGrantFactory(case=case, agency=agency, **kwargs)


@pytest.fixture
def practitioners(cast):
    return {agency.pk: cast.actor(key, Role.PRACTITIONER) for key, agency in cast.agencies.items()}


@pytest.mark.parametrize("seed", SEEDS)
def test_visible_cases_agree_with_permission_rows(cast, practitioners, seed):
    rng = random.Random(seed)
    agencies = list(cast.agencies.values())
    now = timezone.now()
    cases = [f.CaseFactory(lead_agency=rng.choice(agencies)) for _ in range(6)]

    for _round in range(3):
        for case in cases:
            case.refresh_from_db()
            for agency in rng.sample(agencies, rng.randint(0, 3)):
                if agency.pk != case.lead_agency_id:
                    _random_grant(rng, case, agency, cast, now)
            live = list(ShareGrant.objects.filter(case=case, revoked_at__isnull=True))
            if live and rng.random() < 0.3:
                ShareGrant.objects.filter(pk=rng.choice(live).pk).update(
                    revoked_at=now, revoked_by=cast.user("owner", Role.MANAGER),
                )
            with transaction.atomic():
                if rng.random() < 0.4:
                    case.lead_agency = rng.choice(agencies)
                    case.save(update_fields=["lead_agency"])
                access.sync_case_permissions(case)

        admitted = _admitted(practitioners)
        for case in cases:
            expected = _expected(case)
            assert admitted.get(case.pk, set()) == expected
            assert access.agencies_with_permission(case, "view_case") == expected
            assert access.agencies_with_permission(case, "contribute_case") == expected
            assert access.agencies_with_permission(case, "manage_case") == {case.lead_agency_id}
            for agency_id, actor in practitioners.items():
                assert access.may(actor, Action.VIEW, case) is (agency_id in expected)


@pytest.mark.parametrize("seed", SEEDS)
def test_rows_of_ended_grants_open_nothing_before_sync(cast, practitioners, seed):
    rng = random.Random(seed)
    agencies = list(cast.agencies.values())
    cases = []
    for _ in range(5):
        case = f.CaseFactory(lead_agency=rng.choice(agencies))
        for agency in agencies:
            if agency.pk != case.lead_agency_id and rng.random() < 0.6:
                ShareGrantFactory(
                    case=case, agency=agency, agreement=cast.agreement, emergency_basis="",
                    expires_at=timezone.now() + dt.timedelta(days=rng.choice([1, 2, 5, 10])),
                )
        sync(case)
        cases.append(case)
    rows_before = {case.pk: access.agencies_with_permission(case) for case in cases}
    for case in cases:
        assert rows_before[case.pk] == _expected(case)

    # Some grants are revoked without a sync; then three days pass, so grants
    # of one and two days expire, and the expiry task has not run.
    live = list(ShareGrant.objects.filter(case__in=cases))
    for grant in rng.sample(live, len(live) // 4):
        ShareGrant.objects.filter(pk=grant.pk).update(revoked_at=timezone.now(), revoked_by=cast.superuser)

    with time_machine.travel(timezone.now() + dt.timedelta(days=3), tick=False):
        admitted = _admitted(practitioners)
        ended_somewhere = False
        for case in cases:
            expected = _expected(case)
            stale = access.agencies_with_permission(case) - expected
            ended_somewhere |= bool(stale)
            assert access.agencies_with_permission(case) == rows_before[case.pk], "nothing has synced yet"
            assert admitted.get(case.pk, set()) == expected
            for agency_id in stale:
                actor = practitioners[agency_id]
                assert not access.may(actor, Action.VIEW, case)
                assert not access.may(actor, Action.CONTRIBUTE, case)
                with pytest.raises(access.NotVisible):
                    access.get_case(actor, case.pk, log=False)
        # Once synced, the rows match the live relation again.
        for case in cases:
            sync(case)
            assert access.agencies_with_permission(case) == _expected(case) == admitted.get(case.pk, set())
    assert ended_somewhere, f"seed {seed} ended no grant, so it proved nothing"


def test_superuser_gets_nothing_from_guardians_shortcut(cast):
    case = f.CaseFactory(lead_agency=cast.owner)
    share(case, cast.sharing, agreement=cast.agreement, emergency_basis="")
    # guardian on its own would say yes to a superuser, for any object...
    assert ObjectPermissionChecker(cast.superuser).has_perm("view_case", case)
    assert cast.superuser.has_perm("referrals.view_case", case)

    # ...the access policy does not ask it that way.
    actor = access.actor_for_user(cast.superuser)
    assert list(access.visible_cases(actor)) == []
    for action in Action:
        assert not access.may(actor, action, case)
    with pytest.raises(access.NotVisible):
        access.get_case(actor, case.pk)
    assert not access.visible_notes(actor, case).exists()
    assert not access.visible_referrals(actor).exists()
    assert not access.visible_young_people(actor).exists()

    # Even an Actor built by hand around the superuser, with case-working roles
    # but no agency, reaches nothing.
    forged = access.Actor(agency=None, roles=frozenset({Role.MANAGER, Role.PRACTITIONER}), user=cast.superuser)
    assert list(access.visible_cases(forged)) == []
    assert not access.may(forged, Action.VIEW, case)


def test_relation_without_permission_rows_opens_nothing(cast):
    """Neither the live relation nor the permission rows open a case alone:
    a grant (or a lead change) whose sync has not happened gives no access."""
    case = f.CaseFactory(lead_agency=cast.owner)
    ShareGrantFactory(case=case, agency=cast.sharing, agreement=cast.agreement, emergency_basis="")  # no sync
    assert access.relation(cast.sharing, case) == "shared"
    assert cast.sharing.pk not in access.agencies_with_permission(case)

    for role in (Role.PRACTITIONER, Role.MANAGER, Role.HUB_SCREENER):
        actor = cast.actor("sharing", role)
        for action in Action:
            assert not access.may(actor, action, case), (role, action)
        with pytest.raises(access.NotVisible):  # a 404, never "you may not"
            access.get_case(actor, case.pk, log=False)
        assert not access.visible_notes(actor, case).exists()


def test_former_lead_with_a_share_cannot_manage_before_sync(cast):
    """The lead moves to another agency and the old lead keeps a share; until
    the sync runs, its old manage_case row must not let it manage."""
    case = f.CaseFactory(lead_agency=cast.owner)
    ShareGrantFactory(case=case, agency=cast.owner, agreement=cast.agreement, emergency_basis="")
    Case.objects.filter(pk=case.pk).update(lead_agency=cast.sharing)
    case.refresh_from_db()
    assert access.agencies_with_permission(case, "manage_case") == {cast.owner.pk}  # stale

    manager = cast.actor("owner", Role.MANAGER)
    assert access.may(manager, Action.VIEW, case)
    assert access.may(manager, Action.CONTRIBUTE, case)
    for action in (Action.MANAGE, Action.ALLOCATE, Action.CLOSE):
        assert not access.may(manager, action, case), action
        with pytest.raises(access.NotAllowed):
            access.get_case(manager, case.pk, action, log=False)

    sync(case)
    assert access.agencies_with_permission(case, "manage_case") == {cast.sharing.pk}
    assert access.agencies_with_permission(case, "view_case") == {cast.owner.pk, cast.sharing.pk}
    assert access.may(cast.actor("sharing", Role.MANAGER), Action.MANAGE, case)
    assert not access.may(manager, Action.MANAGE, case)
