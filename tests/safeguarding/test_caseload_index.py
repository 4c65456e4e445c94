"""Property: the caseload index (``CaseAccess``) lists exactly the cases of
``visible_cases`` for every agency, with each case's status and review date,
after any sequence of shares, revocations, expiries, lead changes, reviews
and closures, made through the services or by raw SQL; once the services
have synced, the guardian rows say the same; and a rebuild from scratch
writes the same rows the triggers kept."""

from __future__ import annotations

import datetime as dt
import random

import pytest
import time_machine
from django.utils import timezone

from agencies.models import Role
from casework import services as casework
from reminders import services as reminders
from referrals.models import Case, CaseStatus, ClosureReason, LawfulBasis, ReviewDecision, RiskLevel
from casework.selectors import caseload
from safeguarding import access, services as sharing
from safeguarding.caseload_index import rebuild_case_access_index
from safeguarding.models import CaseAccess, CaseloadSize, ShareGrant
from tests import factories as f

SEEDS = range(6)


def _expected(case: Case, at) -> set[int]:
    """From the policy's words, not from access.py: the lead agency and every
    agency with an unrevoked grant that has not expired."""
    grants = ShareGrant.objects.filter(case=case, revoked_at__isnull=True, expires_at__gt=at)
    return {case.lead_agency_id} | set(grants.values_list("agency_id", flat=True))


def _check(cast, cases, at) -> None:
    by_case = {case.pk: _expected(case, at) for case in Case.objects.filter(pk__in=[c.pk for c in cases])}
    for key in cast.agencies:
        actor = cast.actor(key, Role.PRACTITIONER)
        visible = set(access.visible_cases(actor).values_list("pk", flat=True))
        indexed = list(access.caseload_rows(actor, at=at).values_list("case_id", flat=True))
        listed = list(access.listed_cases(actor, at=at).values_list("listed_id", flat=True))
        assert len(indexed) == len(set(indexed)) and len(listed) == len(set(listed)), "one row per case"
        assert set(indexed) == set(listed) == visible, key
        assert visible == {pk for pk, agencies in by_case.items() if actor.agency.pk in agencies}, key
        # The web caseload: open cases only, soonest review first, and its count.
        page = caseload(actor)
        open_cases = list(
            access.visible_cases(actor).filter(status=CaseStatus.OPEN).order_by("next_review_due", "pk")
        )
        assert page.count() == len(open_cases)
        assert [c.pk for c in page[0:len(open_cases)]] == [c.pk for c in open_cases]
    # The per-agency sizes the triggers keep, and the total read from them.
    sizes = dict(CaseloadSize.objects.values_list("agency_id", "rows"))
    for key, agency in cast.agencies.items():
        assert sizes.get(agency.pk, 0) == CaseAccess.objects.filter(agency=agency).count(), key
        actor = cast.actor(key, Role.PRACTITIONER)
        assert access.caseload_count(actor, at=at) == access.caseload_rows(actor, at=at).count(), key
    for row in CaseAccess.objects.select_related("case"):
        assert (row.status, row.next_review_due) == (row.case.status, row.case.next_review_due)
        assert row.relation == ("lead" if row.agency_id == row.case.lead_agency_id else "shared")


def _manager(cast, key_of, case):
    return cast.actor(key_of[case.lead_agency_id], Role.MANAGER)


@pytest.mark.parametrize("seed", SEEDS)
def test_index_agrees_with_the_policy_through_every_kind_of_change(cast, seed):
    rng = random.Random(seed)
    key_of = {agency.pk: key for key, agency in cast.agencies.items()}
    agencies = list(cast.agencies.values())
    start = timezone.now()
    done = set()
    with time_machine.travel(start, tick=False) as clock:
        cases = [
            f.CaseFactory(
                lead_agency=rng.choice(agencies),
                next_review_due=timezone.localdate() + dt.timedelta(days=rng.randint(1, 60)),
            )
            for _ in range(6)
        ]
        for _step in range(14):
            case = rng.choice(cases)
            case.refresh_from_db()
            op = rng.choice(["share", "share", "revoke", "expire", "transfer", "review", "close", "raw_revoke"])
            now = timezone.now()
            live = list(ShareGrant.objects.filter(case=case, revoked_at__isnull=True, expires_at__gt=now))
            if op == "share":
                others = [a for a in agencies if a.pk != case.lead_agency_id and a.pk not in {g.agency_id for g in live}]
                if not others:
                    continue
                sharing.share_case(
                    actor=_manager(cast, key_of, case), case=case, agency=rng.choice(others),
                    purpose="Joint safety plan", lawful_basis=LawfulBasis.SAFEGUARDING_CHILDREN,
                    consent_sought=False, consent_reason="Would increase the risk",
                    expires_at=now + dt.timedelta(days=rng.choice([1, 3, 30])), agreement=cast.agreement,
                )
            elif op == "revoke" and live:
                sharing.revoke_share(actor=_manager(cast, key_of, case), grant=rng.choice(live), reason="No longer needed")
            elif op == "raw_revoke" and live:
                # A data fix in psql: no service, no sync; the triggers still see it.
                ShareGrant.objects.filter(pk=rng.choice(live).pk).update(revoked_at=now, revoked_by=cast.superuser)
            elif op == "expire":
                clock.shift(dt.timedelta(days=2))
                _check(cast, cases, timezone.now())  # expired, not yet tidied: gone from the caseload already
                # The expiry task's sweep, each grant handed straight to share_expire.
                reminders.share_expiry_sweep(enqueue=lambda grant_id: sharing.share_expire(grant_id=grant_id))
            elif op == "transfer" and case.is_open:
                new_lead = rng.choice([a for a in agencies if a.pk != case.lead_agency_id])
                casework.case_transfer_lead(actor=_manager(cast, key_of, case), case=case, lead_agency=new_lead)
            elif op == "review" and case.is_open:
                casework.review_complete(
                    actor=_manager(cast, key_of, case), case=case, risk_after=rng.choice(RiskLevel.values),
                    summary="Reviewed with the family", decision=ReviewDecision.CONTINUE,
                )
            elif op == "close" and case.is_open:
                casework.case_close(
                    actor=_manager(cast, key_of, case), case=case, reason=ClosureReason.OUTCOMES_MET,
                    outcome="Engaged with mentoring",
                )
            else:
                continue
            done.add(op)
            now = timezone.now()
            _check(cast, cases, now)
            # The sharing services and the lead transfer sync the guardian rows
            # of the case they changed; the expiry task, of every case whose
            # grants ended. Reviews, closures and a raw UPDATE sync none (the
            # index needs no sync; ``may`` checks the live relation).
            synced = cases if op == "expire" else [case] if op in ("share", "revoke", "transfer") else []
            for c in synced:
                c.refresh_from_db()
                assert access.agencies_with_permission(c) == _expected(c, now), op
        assert len(done) >= 4, f"seed {seed} exercised only {done}"

        kept = set(CaseAccess.objects.values_list("agency_id", "case_id", "relation", "valid_until", "status",
                                                  "next_review_due"))
        sizes = set(CaseloadSize.objects.filter(rows__gt=0).values_list("agency_id", "rows"))
        assert rebuild_case_access_index() == len(kept)
        assert set(CaseAccess.objects.values_list("agency_id", "case_id", "relation", "valid_until", "status",
                                                  "next_review_due")) == kept
        assert set(CaseloadSize.objects.values_list("agency_id", "rows")) == sizes


def test_bulk_statements_resync_every_case_they_touch(cast):
    cases = [f.CaseFactory(lead_agency=cast.owner) for _ in range(4)]
    for case in cases:
        f_grant = ShareGrant.objects.create(
            case=case, agency=cast.sharing, purpose="p", lawful_basis=LawfulBasis.SAFEGUARDING_CHILDREN,
            agreement=cast.agreement, granted_by=cast.superuser, expires_at=timezone.now() + dt.timedelta(days=5),
        )
        assert f_grant.pk
    sharing_actor = cast.actor("sharing", Role.PRACTITIONER)
    assert access.caseload_rows(sharing_actor).count() == 4
    # One UPDATE of many grants, one of many cases: each statement resyncs them all.
    ShareGrant.objects.filter(case__in=cases[:3]).update(revoked_at=timezone.now(), revoked_by=cast.superuser)
    assert set(access.caseload_rows(sharing_actor).values_list("case_id", flat=True)) == {cases[3].pk}
    Case.objects.filter(pk__in=[c.pk for c in cases[:2]]).update(lead_agency=cast.sharing)
    assert set(access.caseload_rows(sharing_actor).values_list("case_id", flat=True)) == {
        cases[0].pk, cases[1].pk, cases[3].pk,
    }
    owner = cast.actor("owner", Role.PRACTITIONER)
    assert set(access.caseload_rows(owner).values_list("case_id", flat=True)) == {cases[2].pk, cases[3].pk}
    ShareGrant.objects.filter(case=cases[3]).delete()
    assert set(access.caseload_rows(sharing_actor).values_list("case_id", flat=True)) == {cases[0].pk, cases[1].pk}


def test_no_rows_for_roles_that_see_no_cases(cast):
    f.CaseFactory(lead_agency=cast.owner)
    for role in (Role.AGENCY_ADMIN, Role.DPO):
        actor = cast.actor("owner", role)
        assert not access.caseload_rows(actor).exists()
        assert not access.listed_cases(actor).exists()
        assert caseload(actor).count() == 0
    assert access.caseload_rows(cast.actor("outsider", Role.MANAGER)).count() == 0
