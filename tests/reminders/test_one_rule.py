"""One question, one selector: the managers' daily digest says what their
home page says, and the reminder tasks read case data through the access
policy, as the system actor.

The data below is where the digest and the home page used to disagree: a
note recorded today about a contact 40 days ago (the digest went by
``recorded_at``), a review completed last week with no chronology entry (the
digest counted reviews as activity) and, for the hub's manager, late
referrals made by other agencies (the digest listed every open referral).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from casework import selectors
from referrals import models as rm
from reminders import services as reminders
from reminders.models import Notification, NotificationKind
from safeguarding import access
from safeguarding.models import AccessEvent, Channel
from tests import factories as f

pytestmark = pytest.mark.django_db

OVERDUE = "Overdue reviews"
LATE = "Referral decisions past their deadline"
QUIET = "Open cases with no activity in 30 days"


def _digest(body: str) -> dict[str, tuple[int, list[str]]]:
    """The digest's headings, each with its "(N)" and the references listed
    (a heading left out, for an empty list, is 0 and none)."""
    found = {OVERDUE: (0, []), LATE: (0, []), QUIET: (0, [])}
    for section in body.split("\n\n"):
        heading, *lines = section.splitlines()
        match = re.fullmatch(r"(.+) \((\d+)\):", heading)
        if match:
            found[match[1]] = (int(match[2]), [line.strip() for line in lines if not line.strip().startswith("...")])
    return found


def _case(agency, *, opened_days_ago: int, review_in_days: int = 20, worker=None):
    now, today = timezone.now(), timezone.localdate()
    return f.CaseFactory(
        lead_agency=agency, key_worker=worker, opened_at=now - dt.timedelta(days=opened_days_ago),
        next_review_due=today + dt.timedelta(days=review_in_days),
        young_person=f.YoungPersonFactory(recorded_by=agency),
    )


def _note(case, author, *, occurred_days_ago: int, recorded_days_ago: int = 0):
    now = timezone.now()
    return rm.CaseNote.objects.create(
        case=case, kind=rm.NoteKind.CONTACT, author=author, agency=case.lead_agency, text="Home visit.",
        occurred_at=now - dt.timedelta(days=occurred_days_ago), recorded_at=now - dt.timedelta(days=recorded_days_ago),
    )


def _late_referral(agency):
    now = timezone.now()
    return f.ReferralFactory(
        referring_agency=agency, young_person=f.YoungPersonFactory(recorded_by=agency),
        received_at=now - dt.timedelta(days=3), decision_due_at=now - dt.timedelta(days=1),
    )


@pytest.fixture
def disagreements(cast):
    """Cases and referrals on which the old digest and the home page differed."""
    worker, manager = cast.user("owner", "practitioner"), cast.user("owner", "manager")
    # Recorded today, about a contact 40 days ago: quiet by when it happened.
    backdated = _case(cast.owner, opened_days_ago=60, worker=worker)
    _note(backdated, worker, occurred_days_ago=40)
    # A review completed last week, no chronology entry: still quiet.
    reviewed = _case(cast.owner, opened_days_ago=60, worker=worker)
    rm.Review.objects.create(
        case=reviewed, due_on=timezone.localdate() - dt.timedelta(days=5),
        completed_at=timezone.now() - dt.timedelta(days=5), completed_by=manager,
        risk_after=rm.RiskLevel.AMBER, summary="Reviewed.", decision=rm.ReviewDecision.CONTINUE,
    )
    # Seen last week: not quiet anywhere.
    _note(_case(cast.owner, opened_days_ago=60, worker=worker), worker, occurred_days_ago=7)
    overdue = _case(cast.owner, opened_days_ago=10, review_in_days=-2, worker=worker)
    # Another agency's, overdue and quiet: in no figure of the owner's.
    outsider_overdue = _case(cast.outsider, opened_days_ago=90, review_in_days=-5)
    hub_overdue = _case(cast.hub, opened_days_ago=10, review_in_days=-1)
    return {
        "backdated": backdated, "reviewed": reviewed, "overdue": overdue, "hub_overdue": hub_overdue,
        "outsider_overdue": outsider_overdue,
        "owner_late": _late_referral(cast.owner),
        "referrer_late": _late_referral(cast.referrer),
        "hub_late": _late_referral(cast.hub),
    }


def _home_figures(client, user) -> dict[str, tuple[int, list[str] | None]]:
    """What the manager's home page shows, fetched as the manager."""
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    late = [r.reference for r in response.context["late_referrals"]]
    quiet = [c.reference for c in response.context["quiet_cases"]]
    return {
        # The page counts overdue reviews per key worker; their sum is the figure.
        OVERDUE: (sum(load.overdue_reviews for load in response.context["loads"]), None),
        LATE: (len(late), late),
        QUIET: (len(quiet), quiet),
    }


def _digest_for(cast, agency_key: str) -> dict[str, tuple[int, list[str]]]:
    manager = cast.user(agency_key, "manager")
    assert reminders.manager_digest_record(user_id=manager.pk, agency_id=cast.agencies[agency_key].pk)
    notification = Notification.objects.get(recipient=manager, kind=NotificationKind.DIGEST)
    return _digest(notification.body)


def test_a_managers_digest_equals_their_home_page(client, cast, disagreements):
    d = disagreements
    digest = _digest_for(cast, "owner")
    page = _home_figures(client, cast.user("owner", "manager"))
    for title in (LATE, QUIET):
        assert digest[title] == page[title], title
    assert digest[OVERDUE][0] == page[OVERDUE][0]
    actor = cast.actor("owner", "manager")
    assert digest[OVERDUE][1] == [c.reference for c in selectors.overdue_review_cases(actor)]
    # The figures themselves: what the old digest got wrong (it said 0 quiet cases).
    assert digest[OVERDUE] == (1, [d["overdue"].reference])
    assert digest[LATE] == (1, [d["owner_late"].reference])
    assert digest[QUIET][0] == 2
    assert set(digest[QUIET][1]) == {d["backdated"].reference, d["reviewed"].reference}


def test_a_hub_managers_digest_equals_their_home_page(client, cast, disagreements):
    d = disagreements
    digest = _digest_for(cast, "hub")
    page = _home_figures(client, cast.user("hub", "manager"))
    assert digest[OVERDUE][0] == page[OVERDUE][0] == 1
    # Only what the hub's manager may see: the hub's own late referral, not
    # the owner's or the referrer's (the old digest listed all three).
    assert digest[LATE] == page[LATE] == (1, [d["hub_late"].reference])
    assert digest[QUIET] == page[QUIET] == (0, [])


def test_the_digest_never_names_what_the_manager_cannot_see(cast, disagreements):
    """Every reference in any manager's digest is one the manager's own
    actor may reach through the policy."""
    for agency_key in ("owner", "hub"):
        actor = cast.actor(agency_key, "manager")
        digest = _digest_for(cast, agency_key)
        cases = set(access.visible_cases(actor).values_list("reference", flat=True))
        referrals = set(access.visible_referrals(actor).values_list("reference", flat=True))
        assert set(digest[OVERDUE][1]) <= cases
        assert set(digest[QUIET][1]) <= cases
        assert set(digest[LATE][1]) <= referrals


def test_the_digest_reads_as_the_manager_and_is_logged_once(cast, disagreements):
    manager = cast.user("owner", "manager")
    reminders.manager_digest_record(user_id=manager.pk, agency_id=cast.owner.pk)
    event = AccessEvent.objects.get(user=manager, action="list")
    assert event.channel == Channel.TASK and event.agency_id == cast.owner.pk
    d = disagreements
    assert set(event.detail["ids"]) == {d["overdue"].pk, d["backdated"].pk, d["reviewed"].pk}
    # A second run the same day finds the digest recorded: it reads and logs nothing more.
    assert reminders.manager_digest_record(user_id=manager.pk, agency_id=cast.owner.pk) == [
        Notification.objects.get(recipient=manager).pk
    ]
    assert AccessEvent.objects.filter(user=manager).count() == 1


@pytest.mark.parametrize("role", ["practitioner", "hub_screener", "agency_admin", "dpo"])
def test_only_managers_get_a_digest(cast, disagreements, role):
    user = cast.user("owner", role)
    assert reminders.manager_digest_record(user_id=user.pk, agency_id=cast.owner.pk) == []
    # Nor for an agency the manager does not belong to.
    manager = cast.user("owner", "manager")
    assert reminders.manager_digest_record(user_id=manager.pk, agency_id=cast.outsider.pk) == []
    assert not Notification.objects.exists()


# ---------------------------------------------------------------------------
# The tasks read through the policy, as the system actor
# ---------------------------------------------------------------------------


def test_the_system_actor_sees_nothing_through_the_pages_querysets(cast, disagreements):
    system = access.system_actor()
    assert not access.visible_cases(system).exists()
    assert not access.listed_cases(system).exists()
    assert not access.caseload_rows(system).exists()
    assert access.caseload_count(system) == 0
    assert not access.visible_referrals(system).exists()
    assert not access.visible_young_people(system).exists()
    with pytest.raises(access.NotVisible):
        access.get_case(system, disagreements["overdue"].pk)
    for selector in (selectors.overdue_review_cases, selectors.referrals_past_deadline, selectors.quiet_case_rows):
        assert not selector(system).exists()


def test_only_the_system_actor_on_the_task_channel_reads_for_the_tasks(cast, disagreements):
    system = access.system_actor()
    assert access.is_system_actor(system)
    assert set(access.task_cases(system)) == set(rm.Case.objects.filter(status=rm.CaseStatus.OPEN))
    assert access.task_referrals(system).count() == 3
    others = [
        access.NOBODY,
        cast.actor("owner", "manager"),
        cast.actor("owner", "manager", channel=Channel.TASK),
        cast.actor("hub", "hub_screener", channel=Channel.TASK),
        access.system_actor(channel=Channel.WEB),
        access.system_actor(channel=Channel.API),
        access.Actor(agency=cast.owner, api_client="system", channel=Channel.TASK),
    ]
    for actor in others:
        assert not access.is_system_actor(actor)
        assert not access.task_cases(actor).exists()
        assert not access.task_referrals(actor).exists()
        assert not access.task_share_grants(actor).exists()


def test_the_sweeps_read_through_the_policy(cast, disagreements, monkeypatch):
    """Each sweep's and each reminder's case data comes from the policy's
    querysets for scheduled work: another actor, or a policy that grants
    nothing, and there is nothing to remind anyone of."""
    d = disagreements
    grant_case = d["backdated"]
    from safeguarding import services as sharing

    grant = sharing.share_case(
        actor=cast.actor("owner", "manager"), case=grant_case, agency=cast.sharing, purpose="Joint safety plan",
        lawful_basis="safeguarding_children", consent_sought=True, consent_reason="Agreed with the young person",
        expires_at=timezone.now() + dt.timedelta(days=3),
    )
    sweeps = (reminders.review_sweep, reminders.screening_sweep, reminders.share_expiring_sweep)
    handed = {sweep.__name__: [] for sweep in sweeps}
    for sweep in sweeps:
        assert sweep(enqueue=handed[sweep.__name__].append) > 0
    assert set(handed["review_sweep"]) == {d["overdue"].pk, d["hub_overdue"].pk, d["outsider_overdue"].pk}
    assert handed["share_expiring_sweep"] == [grant.pk]
    # A person's actor, even on the task channel, reaches nothing here.
    manager = cast.actor("owner", "manager", channel=Channel.TASK)
    for sweep in (*sweeps, reminders.share_expiry_sweep):
        assert sweep(enqueue=pytest.fail, actor=manager) == 0
    assert reminders.review_reminders_record(case_id=d["overdue"].pk, actor=manager) == []
    assert reminders.screening_reminders_record(referral_id=d["owner_late"].pk, actor=manager) == []
    assert reminders.share_expiring_reminders_record(grant_id=grant.pk, actor=manager) == []
    # A policy that gives scheduled work nothing leaves the tasks nothing.
    monkeypatch.setattr(access, "task_cases", lambda actor: rm.Case.objects.none())
    monkeypatch.setattr(access, "task_referrals", lambda actor: rm.Referral.objects.none())
    monkeypatch.setattr(access, "task_share_grants", lambda actor: grant.__class__.objects.none())
    for sweep in (*sweeps, reminders.share_expiry_sweep):
        assert sweep(enqueue=pytest.fail) == 0
    assert reminders.review_reminders_record(case_id=d["overdue"].pk) == []
    assert reminders.screening_reminders_record(referral_id=d["owner_late"].pk) == []
    assert reminders.share_expiring_reminders_record(grant_id=grant.pk) == []
    assert not Notification.objects.exists()


def test_an_anonymised_case_is_out_of_the_tasks_reach(cast, disagreements):
    case = disagreements["overdue"]
    rm.Case.objects.filter(pk=case.pk).update(anonymised_at=timezone.now())
    assert not access.task_cases(access.system_actor()).filter(pk=case.pk).exists()
    seen = []
    reminders.review_sweep(enqueue=seen.append)
    assert case.pk not in seen
    assert reminders.review_reminders_record(case_id=case.pk) == []
