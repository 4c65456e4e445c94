"""Deadlines and reminders: what is due, who is told, and telling them once.

The shape (Data Hub's reminders, healthchecks' claims, HackSoft's tasks):

* A *sweep* (``*_sweep``) selects the ids of what is due with an indexed
  query, streamed with ``.iterator()``, and hands each id to ``enqueue``
  (the tasks gather them into batches and queue one task per batch on
  commit). Its cost grows with what is due, not with the cases held.
  Sweeps write nothing.
* A *batch service* (``*_reminders_record_many``) fetches a batch of items
  by id, decides for each whether a reminder is due now and who gets it,
  and records one ``Notification`` per recipient under a key naming the
  kind, the object and the deadline (or the week, or the day): a few
  queries for the whole batch, whatever its size. The key is unique per
  recipient, so a second run, a second beat process or a retried task
  finds the rows there and writes nothing. It returns the ids of that
  batch's notifications not yet e-mailed: created now, or created by a
  run that was killed before it could send. (``*_reminders_record`` is
  the same for one item.)
* ``notifications_email_send`` e-mails a batch of notifications, each at
  most once: it takes an advisory lock per notification (one held by
  another worker means that worker is sending it: skipped), re-reads which
  are still unsent, and for each sends, then marks it e-mailed in a
  statement of its own that commits at once. A send that raises stops
  there (the task retries the rest); a worker killed mid-batch has marked
  exactly what it sent, and its locks die with its database session (the
  message is redelivered, and ``notifications_unsent_sweep`` picks up
  anything left). The one window left is a kill between the mail server
  accepting a message and its mark: at-least-once delivery, as with any
  mail queue.

Notification text carries case and referral references, never a young
person's name: e-mail leaves the partnership's systems.

The rules:

* Review due soon: an open case's next review falls due today or within the
  next three working days (weekends and England and Wales bank holidays do
  not count) → its key worker, once per due date.
* Review overdue: from the day after the due date → the key worker and the
  lead agency's managers; again every seven days while it stays overdue
  (week 0, 1, 2, ... in the key).
* Screening: an open referral (submitted or screening) past its
  ``decision_due_at`` → the screeners and managers of the hubs working
  in the referral's partnership (no other partnership's hub), once per
  deadline; or, from the referral's ``alert_at``, that long before it: the
  partnership's lead time for the risk rating under the rules in force when
  the referral was received (``partnerships.rules``; the deployment's
  default ``REFERRAL_ALERT_LEAD_MINUTES``, e.g. ``red=30``), stored with the
  referral so a later change of the rules moves no alert.
* Share expiring: an unrevoked share grant ending within seven days → the
  lead (granting) agency's managers and the person who granted it, once per
  expiry time. (Expiry itself: ``safeguarding.services.share_expire``.)
* Daily digest for each manager: the three lists of their home page, from
  the same selectors (``casework.selectors``: ``overdue_review_cases``,
  ``referrals_past_deadline``, ``quiet_case_rows``) read with the manager's
  own actor, so the digest never says more, or other, than the page: their
  agency's overdue reviews, the referrals they may see still undecided past
  the deadline, and open cases with no chronology entry (by when the
  contact happened) in 30 days. Nothing to say, no notification and no
  e-mail.

Whose eyes: the sweeps and the per-item services read case data as the
system actor (``access.system_actor``) through the policy's querysets for
scheduled work (``access.task_cases``, ``task_referrals``,
``task_share_grants``), never through the models directly; the digest reads
as the manager it is for. The tasks (``reminders.tasks``) run each sweep
once per active partnership, under that partnership's row-level security
with a system actor carrying it, and queue each item with its partnership's
id; the per-item task enters that partnership before it reads, so an item
of another partnership is simply not found.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Callable, Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.db.models import CharField, Exists, F, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.urls import get_urlconf, reverse
from django.utils import timezone

from agencies.models import Agency, AgencyKind, Membership, Role
from casework import selectors
from contextwork import selectors as context_selectors
from contextwork import services as context_services
from referrals import deadlines
from reminders.models import Notification, NotificationKind
from safeguarding import access
from safeguarding import consent as consent_services
from safeguarding import models as break_glass_models
from safeguarding.models import Channel

logger = logging.getLogger(__name__)

Enqueue = Callable[[int], None]

DUE_SOON_WORKING_DAYS = 3
SHARE_WARNING = dt.timedelta(days=7)
# Digest lists name at most this many references per heading (then "and N more").
DIGEST_LIST_LIMIT = 20
# An unsent notification older than this is picked up by the unsent sweep
# (younger ones are still in the hands of the task that made them).
UNSENT_GRACE = dt.timedelta(minutes=2)


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _reader(actor: access.Actor | None) -> access.Actor:
    """Who the sweeps and per-item services read as: the system actor unless
    told otherwise (the policy's ``task_*`` querysets give anyone else
    nothing)."""
    return actor if actor is not None else access.system_actor(label="reminders")


def _due_soon_horizon(today: dt.date) -> dt.date:
    """The last date that is "within three working days" of ``today``."""
    day = today
    for _ in range(DUE_SOON_WORKING_DAYS):
        day = deadlines.next_working_day(day)
    return day


def _alert_due(now: dt.datetime) -> Q:
    """Referrals whose alert time has come: their stored ``alert_at``, or,
    with none stored, their deadline (the indexes on (partnership, status,
    alert_at) and (partnership, status, decision_due_at))."""
    return Q(alert_at__lte=now) | Q(alert_at__isnull=True, decision_due_at__lte=now)


def _members_by_agency(agency_ids: Iterable[int], roles: Iterable[str]) -> dict[int, list]:
    """Active people holding one of ``roles`` in each of the (active)
    agencies, each agency's by id: one query for a whole batch."""
    agency_ids = set(agency_ids)
    if not agency_ids:
        return {}
    by_agency: dict[int, list] = {}
    memberships = (
        Membership.objects.filter(
            agency_id__in=agency_ids, agency__is_active=True, is_active=True, role__in=list(roles),
            user__is_active=True,
        )
        .select_related("user")
        .order_by("agency_id", "user_id")
    )
    for membership in memberships:
        people = by_agency.setdefault(membership.agency_id, [])
        if not people or people[-1].pk != membership.user_id:  # one entry for several roles
            people.append(membership.user)
    return by_agency


# Paths reversed once per URLconf and page, then filled in: a batch names
# thousands of cases, and reversing each took longer than its query.
_PATHS: dict[tuple[str, str], str] = {}
_ID_MARKER = 987654321987


def _path(name: str, object_id: int) -> str:
    key = (str(get_urlconf() or settings.ROOT_URLCONF), name)
    if key not in _PATHS:
        _PATHS[key] = reverse(name, args=[_ID_MARKER]).replace(str(_ID_MARKER), "{}")
    return _PATHS[key].format(int(object_id))


def _case_link(case_id: int) -> str:
    return _path("case-detail", case_id)


def _referral_link(referral_id: int) -> str:
    return _path("screening", referral_id)


@dataclass(frozen=True)
class _Reminder:
    """One reminder due now: what each of its recipients is told, under one key."""

    recipients: tuple
    kind: str
    dedup_key: str
    subject: str
    body: str
    link: str = ""
    case_id: int | None = None
    referral_id: int | None = None


def _record(due: Iterable[_Reminder | None]) -> list[int]:
    """Record each reminder for each of its active recipients once, and
    return the ids of those notifications (new or not) not yet e-mailed.

    Two statements for a whole batch: one ``INSERT ... ON CONFLICT DO
    NOTHING`` on the unique (recipient, key), so a reminder already there
    (a second run, a retried or redelivered task, another worker at the
    same moment: it waits on the first's insert, then skips it) is left as
    it is; then one read of the batch's rows still unsent. Rows go in key
    order, so two workers inserting overlapping batches lock in the same
    order and cannot deadlock."""
    rows: dict[tuple[str, int], Notification] = {}
    for reminder in due:
        if reminder is None:
            continue
        for person in reminder.recipients:
            if person is None or not person.is_active:
                continue
            rows.setdefault((reminder.dedup_key, person.pk), Notification(
                recipient_id=person.pk, dedup_key=reminder.dedup_key, kind=reminder.kind,
                subject=reminder.subject, body=reminder.body, link=reminder.link,
                case_id=reminder.case_id, referral_id=reminder.referral_id,
            ))
    if not rows:
        return []
    Notification.objects.bulk_create([rows[key] for key in sorted(rows)], ignore_conflicts=True, batch_size=1000)
    unsent = Notification.objects.filter(
        dedup_key__in={key for key, _ in rows}, emailed_at__isnull=True,
    ).values_list("pk", "dedup_key", "recipient_id")
    return sorted(pk for pk, key, recipient_id in unsent if (key, recipient_id) in rows)


# ---------------------------------------------------------------------------
# Reviews
# ---------------------------------------------------------------------------


# The key ``review_reminders_record`` gives the reminder due today, in SQL,
# so a sweep can skip cases whose reminder is already recorded: a second run
# (or the next run the same week) queues nothing. Must match the Python keys.
_REVIEW_KEY_SQL = """
    CASE WHEN "referrals_case"."next_review_due" < %s::date
    THEN 'review_overdue:case:' || "referrals_case"."id" || ':due:'
         || to_char("referrals_case"."next_review_due", 'YYYY-MM-DD')
         || ':week:' || ((%s::date - "referrals_case"."next_review_due" - 1) / 7)
    ELSE 'review_due_soon:case:' || "referrals_case"."id" || ':due:'
         || to_char("referrals_case"."next_review_due", 'YYYY-MM-DD')
    END
"""


def _already_recorded() -> Exists:
    return Exists(Notification.objects.filter(dedup_key=OuterRef("reminder_key")))


def _enqueue_unrecorded(due, key_sql: str, params: list, enqueue: Enqueue) -> int:
    """Hand the id of every due row whose reminder (keyed by ``key_sql``) is
    not yet recorded to ``enqueue``, streaming; return how many."""
    return _hand_on(
        due.alias(reminder_key=RawSQL(key_sql, params, output_field=CharField())).exclude(_already_recorded()),
        enqueue,
    )


def _hand_on(rows, enqueue: Enqueue) -> int:
    """Hand the id of each of ``rows`` to ``enqueue``, streaming them in
    chunks (a sweep never holds a whole queryset); return how many."""
    count = 0
    for object_id in rows.order_by().values_list("pk", flat=True).iterator(chunk_size=2000):
        enqueue(object_id)
        count += 1
    return count


def review_sweep(*, enqueue: Enqueue, now: dt.datetime | None = None, actor: access.Actor | None = None) -> int:
    """Hand every open case whose review is due within three working days or
    overdue to ``enqueue`` (the index on (status, next_review_due)), unless
    the reminder due today is already recorded (the index on dedup_key):
    the cost grows with the reminders due, and a second run queues nothing.

    Who: the review sweep task, reading as the system actor
    (``access.task_cases``). Writes nothing; returns how many were handed on.
    """
    today = timezone.localdate(_now(now))
    horizon = _due_soon_horizon(today)
    due = access.task_cases(_reader(actor)).filter(next_review_due__lte=horizon)
    return _enqueue_unrecorded(due, _REVIEW_KEY_SQL, [today, today], enqueue)


def review_reminders_record(
    *, case_id: int, now: dt.datetime | None = None, actor: access.Actor | None = None,
) -> list[int]:
    """``review_reminders_record_many`` for one case."""
    return review_reminders_record_many(case_ids=[case_id], now=now, actor=actor)


@transaction.atomic
def review_reminders_record_many(
    *, case_ids: Iterable[int], now: dt.datetime | None = None, actor: access.Actor | None = None,
) -> list[int]:
    """Record the review reminder that is due now for each of these cases, if any.

    Who: the review task (with a batch of ids from ``review_sweep``), as the
    system actor (``access.task_cases``: a case it may not read, such as
    another partnership's, is skipped). Guarantees: at most one "due soon"
    notification per recipient and due date, and one "overdue" per
    recipient, due date and week overdue; nothing for a closed or
    anonymised case, a case with no review date, or a review not yet due
    within three working days. A few queries for the whole batch, in one
    transaction. Returns the ids of these reminders' notifications not yet
    e-mailed.
    """
    now = _now(now)
    today = timezone.localdate(now)
    horizon = _due_soon_horizon(today)
    cases = list(
        access.task_cases(_reader(actor)).select_related("key_worker", "lead_agency")
        .filter(pk__in=list(case_ids), next_review_due__isnull=False, next_review_due__lte=horizon)
        .order_by("pk")
    )
    managers = _members_by_agency({case.lead_agency_id for case in cases if case.next_review_due < today},
                                  [Role.MANAGER])
    return _record(_review_reminder(case, today, managers.get(case.lead_agency_id, [])) for case in cases)


def _review_reminder(case, today: dt.date, managers: list) -> _Reminder:
    """The reminder due today for a case whose review falls due within three
    working days or is overdue."""
    due = case.next_review_due
    link = _case_link(case.pk)
    if due >= today:
        when = "today" if due == today else f"on {due:%A %-d %B %Y}"
        return _Reminder(
            recipients=(case.key_worker,),
            kind=NotificationKind.REVIEW_DUE_SOON,
            dedup_key=f"review_due_soon:case:{case.pk}:due:{due.isoformat()}",
            subject=f"Review of case {case.reference} due {when}",
            body=(
                f"The review of case {case.reference} ({case.lead_agency.name}) is due {when}.\n"
                "Complete it in Crossroads before the due date."
            ),
            link=link, case_id=case.pk,
        )
    days_overdue = (today - due).days
    week = (days_overdue - 1) // 7
    return _Reminder(
        recipients=(case.key_worker, *managers),
        kind=NotificationKind.REVIEW_OVERDUE,
        dedup_key=f"review_overdue:case:{case.pk}:due:{due.isoformat()}:week:{week}",
        subject=f"Review of case {case.reference} is overdue ({days_overdue} day{'s' if days_overdue != 1 else ''})",
        body=(
            f"The review of case {case.reference} ({case.lead_agency.name}) was due on "
            f"{due:%A %-d %B %Y} and has not been completed.\n"
            "The key worker and the lead agency's managers are reminded each week until it is."
        ),
        link=link, case_id=case.pk,
    )


# ---------------------------------------------------------------------------
# Screening deadlines
# ---------------------------------------------------------------------------


def screening_sweep(*, enqueue: Enqueue, now: dt.datetime | None = None, actor: access.Actor | None = None) -> int:
    """Hand every open referral at or past its alert time, not yet alerted,
    to ``enqueue`` (the index on (status, decision_due_at)). Who: the
    screening sweep task, as the system actor (``access.task_referrals``)."""
    now = _now(now)
    due = access.task_referrals(_reader(actor)).filter(_alert_due(now))
    key_sql = """'screening_overdue:referral:' || "referrals_referral"."id" || ':due:'
               || floor(extract(epoch from "referrals_referral"."decision_due_at"))::bigint"""
    return _enqueue_unrecorded(due, key_sql, [], enqueue)


def screening_reminders_record(
    *, referral_id: int, now: dt.datetime | None = None, actor: access.Actor | None = None,
) -> list[int]:
    """``screening_reminders_record_many`` for one referral."""
    return screening_reminders_record_many(referral_ids=[referral_id], now=now, actor=actor)


@transaction.atomic
def screening_reminders_record_many(
    *, referral_ids: Iterable[int], now: dt.datetime | None = None, actor: access.Actor | None = None,
) -> list[int]:
    """Alert the hub when an open referral's decision is late (or, from the
    alert time stored with it, ``alert_at``, about to be), for each of a
    batch of referrals.

    Who: the screening task (with a batch of ids from ``screening_sweep``),
    as the system actor (``access.task_referrals``). Guarantees: one
    notification per screener or manager of each active hub agency working
    in the referral's partnership, and deadline (a deadline moved later is
    a new deadline); no other partnership's hub hears of it; nothing for a
    referral already decided or not yet at its alert time. A few queries
    for the whole batch, in one transaction.
    """
    now = _now(now)
    referrals = [
        referral
        for referral in access.task_referrals(_reader(actor)).filter(pk__in=list(referral_ids)).order_by("pk")
        if now >= (referral.alert_at or referral.decision_due_at)
    ]
    hubs_of: dict[int, set[int]] = {}
    for hub_id, partnership_id in Agency.objects.filter(
        kind=AgencyKind.HUB, is_active=True, partnerships__in={r.partnership_id for r in referrals},
    ).values_list("pk", "partnerships"):
        hubs_of.setdefault(partnership_id, set()).add(hub_id)
    hub_people = _members_by_agency(set().union(*hubs_of.values()), [Role.HUB_SCREENER, Role.MANAGER])
    return _record(
        _screening_reminder(
            referral, now,
            [person for hub_id in sorted(hubs_of.get(referral.partnership_id, ())) for person in hub_people.get(hub_id, [])],
        )
        for referral in referrals
    )


def _screening_reminder(referral, now: dt.datetime, hub_people: list) -> _Reminder:
    """The alert for a referral at or past its alert time."""
    due_local = timezone.localtime(referral.decision_due_at)
    late = now >= referral.decision_due_at
    risk = referral.get_risk_level_display()
    state = "is late" if late else "is due soon"
    return _Reminder(
        recipients=tuple(hub_people),
        kind=NotificationKind.SCREENING_OVERDUE,
        dedup_key=f"screening_overdue:referral:{referral.pk}:due:{int(referral.decision_due_at.timestamp())}",
        subject=f"Screening decision on referral {referral.reference} {state}",
        body=(
            f"The hub's decision on referral {referral.reference} (risk: {risk}) was due by "
            f"{due_local:%H:%M on %A %-d %B %Y}.\n" if late else
            f"The hub's decision on referral {referral.reference} (risk: {risk}) is due by "
            f"{due_local:%H:%M on %A %-d %B %Y}.\n"
        ) + "Screen it in Crossroads now.",
        link=_referral_link(referral.pk), referral_id=referral.pk,
    )


# ---------------------------------------------------------------------------
# Share grants about to expire
# ---------------------------------------------------------------------------


def share_expiring_sweep(*, enqueue: Enqueue, now: dt.datetime | None = None, actor: access.Actor | None = None) -> int:
    """Hand every unrevoked grant ending within seven days to ``enqueue``
    (the partial index on expires_at of unrevoked grants). Who: the sweep
    task, as the system actor (``access.task_share_grants``)."""
    now = _now(now)
    due = access.task_share_grants(_reader(actor)).filter(
        revoked_at__isnull=True, expires_at__gt=now, expires_at__lte=now + SHARE_WARNING,
    )
    key_sql = """'share_expiring:grant:' || "safeguarding_sharegrant"."id" || ':expires:'
               || floor(extract(epoch from "safeguarding_sharegrant"."expires_at"))::bigint"""
    return _enqueue_unrecorded(due, key_sql, [], enqueue)


def share_expiring_reminders_record(
    *, grant_id: int, now: dt.datetime | None = None, actor: access.Actor | None = None,
) -> list[int]:
    """``share_expiring_reminders_record_many`` for one grant."""
    return share_expiring_reminders_record_many(grant_ids=[grant_id], now=now, actor=actor)


@transaction.atomic
def share_expiring_reminders_record_many(
    *, grant_ids: Iterable[int], now: dt.datetime | None = None, actor: access.Actor | None = None,
) -> list[int]:
    """Tell the granting (lead) agency's managers and the granter that a share
    ends within seven days, so they can renew it or let it go, for each of
    a batch of grants.

    Who: the share-expiring task (with a batch of ids from
    ``share_expiring_sweep``), as the system actor
    (``access.task_share_grants``). Guarantees: once per recipient and
    expiry time; nothing for a revoked or expired grant, or one ending
    later than seven days from now. A few queries for the whole batch, in
    one transaction.
    """
    now = _now(now)
    grants = list(
        access.task_share_grants(_reader(actor)).select_related("case", "case__lead_agency", "agency", "granted_by")
        .filter(pk__in=list(grant_ids), revoked_at__isnull=True, expires_at__gt=now, expires_at__lte=now + SHARE_WARNING)
        .order_by("pk")
    )
    managers = _members_by_agency({grant.case.lead_agency_id for grant in grants}, [Role.MANAGER])
    return _record(_share_expiring_reminder(grant, managers.get(grant.case.lead_agency_id, [])) for grant in grants)


def _share_expiring_reminder(grant, managers: list) -> _Reminder:
    case = grant.case
    ends = timezone.localtime(grant.expires_at)
    return _Reminder(
        recipients=(*managers, grant.granted_by),
        kind=NotificationKind.SHARE_EXPIRING,
        dedup_key=f"share_expiring:grant:{grant.pk}:expires:{int(grant.expires_at.timestamp())}",
        subject=f"Share of case {case.reference} with {grant.agency.name} ends {ends:%-d %B %Y}",
        body=(
            f"{grant.agency.name}'s access to case {case.reference} ends at {ends:%H:%M on %A %-d %B %Y}.\n"
            "If the sharing is still needed, record a new sharing decision before then; "
            "otherwise access ends automatically."
        ),
        link=_case_link(case.pk), case_id=case.pk,
    )


def share_expiry_sweep(*, enqueue: Enqueue, now: dt.datetime | None = None, actor: access.Actor | None = None) -> int:
    """Hand every grant whose permission rows are still there after expiry
    (or revocation) to ``enqueue``, for ``share_expire`` (the partial index
    on expires_at of grants not yet tidied). Who: the sweep task, as the
    system actor (``access.task_share_grants``)."""
    now = _now(now)
    return _hand_on(
        access.task_share_grants(_reader(actor)).filter(permissions_removed_at__isnull=True)
        .filter(Q(expires_at__lte=now) | Q(revoked_at__isnull=False)),
        enqueue,
    )


def transfer_joint_sweep(*, enqueue: Enqueue, now: dt.datetime | None = None, actor: access.Actor | None = None) -> int:
    """Hand every accepted transfer whose joint period is over, its sending
    case still open, to ``enqueue`` for ``transfers.transfer_end_joint_period``
    (the partial index on (sending partnership, joint_until)). Who: the sweep
    task, as the system actor (``access.task_transfers_joint_ended``)."""
    return _hand_on(access.task_transfers_joint_ended(_reader(actor), timezone.localdate(_now(now))), enqueue)


# ---------------------------------------------------------------------------
# Panel actions: reminded once per due date; overdue ones carried forward
# ---------------------------------------------------------------------------

_PANEL_ACTION_KEY_SQL = """'panel_action_due:action:' || "contexts_panelaction"."id" || ':due:'
                           || to_char("contexts_panelaction"."due_on", 'YYYY-MM-DD')"""


def panel_action_sweep(*, enqueue: Enqueue, now: dt.datetime | None = None,
                       actor: access.Actor | None = None) -> int:
    """Hand every outstanding panel action due within three working days,
    or overdue, whose reminder for its due date is not yet recorded, to
    ``enqueue`` (the partial index of outstanding actions). Who: the sweep
    task, as the system actor (``access.task_panel_actions``)."""
    horizon = _due_soon_horizon(timezone.localdate(_now(now)))
    due = context_selectors.outstanding_actions_due(_reader(actor), horizon=horizon)
    return _enqueue_unrecorded(due, _PANEL_ACTION_KEY_SQL, [], enqueue)


@transaction.atomic
def panel_action_reminders_record(
    *, action_id: int, now: dt.datetime | None = None, actor: access.Actor | None = None,
) -> list[int]:
    """Remind an action's owner that it is due (or overdue): exactly once
    per action and due date (a due date moved is reminded again). Nothing
    for an action done or cancelled, or not yet within three working days.
    The text names the panel and the date, never the action's words (they
    may name a young person, and e-mail leaves the partnership's systems).
    Who: the per-action task, as the system actor."""
    today = timezone.localdate(_now(now))
    action = (
        context_selectors.outstanding_actions_due(_reader(actor), horizon=_due_soon_horizon(today))
        .select_related("panel", "owner", "owner_agency").filter(pk=action_id).first()
    )
    if action is None:
        return []
    due = action.due_on
    state = "is overdue" if due < today else ("is due today" if due == today else f"is due on {due:%A %-d %B %Y}")
    return _record([_Reminder(
        recipients=(action.owner,),
        kind=NotificationKind.PANEL_ACTION_DUE,
        dedup_key=f"panel_action_due:action:{action.pk}:due:{due.isoformat()}",
        subject=f"Your action from the panel of {timezone.localtime(action.panel.meets_at):%-d %B %Y} {state}",
        body=(
            f"An action the panel of {timezone.localtime(action.panel.meets_at):%-d %B %Y} gave "
            f"{action.owner_agency.name} {state} (due {due:%-d %B %Y}).\n"
            "Open it in Crossroads to say how it stands. Overdue actions go onto the next panel's agenda."
        ),
        link=reverse("panel-action-update", kwargs={"panel_id": action.panel_id, "action_id": action.pk}),
    )])


def panel_carry_sweep(*, enqueue: Enqueue, now: dt.datetime | None = None,
                      actor: access.Actor | None = None) -> int:
    """Hand the partnership's next panel (the earliest not yet held, still
    to meet) to ``enqueue`` when some outstanding action of an earlier panel
    is past its due date and not yet on that panel's agenda. Who: the sweep
    task, as the system actor (``access.task_upcoming_panels``)."""
    now = _now(now)
    reader = _reader(actor)
    overdue = access.task_panel_actions(reader).filter(due_on__lt=timezone.localdate(now))
    count = 0
    for panel in access.task_upcoming_panels(reader).filter(meets_at__gte=now).order_by(
            "partnership_id", "meets_at", "pk").distinct("partnership_id"):
        pending = overdue.filter(panel__partnership_id=panel.partnership_id, panel__meets_at__lt=panel.meets_at)
        pending = pending.exclude(carried_to__panel=panel)
        if pending.exists():
            enqueue(panel.pk)
            count += 1
    return count


def panel_carry(*, panel_id: int, now: dt.datetime | None = None, actor: access.Actor | None = None) -> int:
    """Carry the overdue actions onto the panel's agenda (idempotent: each
    action once per panel). Who: the per-panel task, as the system actor."""
    return context_services.overdue_actions_carry(panel_id=panel_id, actor=_reader(actor),
                                                  today=timezone.localdate(_now(now)))


# ---------------------------------------------------------------------------
# The daily digest for managers
# ---------------------------------------------------------------------------


def digest_sweep(*, enqueue: Callable[[int, int], None], partnership_id: int | None = None) -> int:
    """Hand every (manager, agency) pair of an active membership to
    ``enqueue``: of the agencies working in one partnership, if given (the
    digest task runs once per partnership, so an agency in several gets a
    digest for each)."""
    memberships = Membership.objects.filter(
        role=Role.MANAGER, is_active=True, agency__is_active=True, user__is_active=True,
    )
    if partnership_id is not None:
        memberships = memberships.filter(agency__partnerships=partnership_id)
    pairs = (
        memberships
        .order_by()
        .values_list("user_id", "agency_id")
    )
    count = 0
    for user_id, agency_id in pairs.iterator(chunk_size=2000):
        enqueue(user_id, agency_id)
        count += 1
    return count


def _listed(title: str, references: list[str], total: int) -> str:
    more = f"\n  ... and {total - len(references)} more" if total > len(references) else ""
    return f"{title} ({total}):\n" + "\n".join(f"  {r}" for r in references) + more


@transaction.atomic
def manager_digest_record(
    *, user_id: int, agency_id: int, now: dt.datetime | None = None, partnership_id: int | None = None,
) -> list[int]:
    """Record today's digest for a manager of an agency, if there is anything
    to say: the three lists of the manager's home page, counted and named by
    the same selectors (``casework.selectors.overdue_review_cases``,
    ``referrals_past_deadline``, ``quiet_case_rows``) read with the
    manager's own actor on the task channel. So the figures are the page's,
    and nothing appears that the manager could not see there. The cases
    named are written to the access log as the page writes those it shows.

    Who: the per-manager digest task. Guarantees: only for an active
    manager of an active agency; at most one digest per manager, agency and
    day (a second run reads nothing and logs nothing); none at all when
    every list is empty. In one partnership (``partnership_id``; by
    default the agency's first, as for the manager's home page): an agency
    working in several gets one digest a day for each, keyed by it.
    """
    now = _now(now)
    today = timezone.localdate(now)
    user = get_user_model().objects.filter(pk=user_id).first()
    actor = access.actor_for_user(user, agency=agency_id, partnership=partnership_id, channel=Channel.TASK)
    if not actor.has_role(Role.MANAGER) or actor.partnership is None:
        return []
    agency = actor.agency
    dedup_key = f"digest:agency:{agency.pk}:day:{today.isoformat()}"
    if actor.spans_partnerships:
        dedup_key += f":partnership:{actor.partnership_id}"
    recorded = Notification.objects.filter(recipient=user, dedup_key=dedup_key).first()
    if recorded is not None:
        return [] if recorded.emailed_at is not None else [recorded.pk]
    sections, named_cases = [], {}
    for title, queryset, cases in (
        ("Overdue reviews", selectors.overdue_review_cases(actor, today), True),
        ("Referral decisions past their deadline", selectors.referrals_past_deadline(actor, now), False),
        ("Open cases with no activity in 30 days", selectors.quiet_case_rows(actor, now), True),
    ):
        total = queryset.count()
        if total:
            named = list(queryset.values("id", "reference")[:DIGEST_LIST_LIMIT])
            sections.append(_listed(title, [row["reference"] for row in named], total))
            if cases:
                named_cases.update((row["id"], row) for row in named)
    if not sections:
        return []
    pending = _record([_Reminder(
        recipients=(user,),
        kind=NotificationKind.DIGEST,
        dedup_key=dedup_key,
        subject=f"Crossroads daily digest for {agency.name}, {today:%-d %B %Y}",
        body="\n\n".join(sections) + "\n\nOpen Crossroads to act on them.",
        link=reverse("home"),
    )])
    if named_cases:
        selectors.log_page(actor, "case", list(named_cases.values()))
    return pending


# ---------------------------------------------------------------------------
# E-mail, once
# ---------------------------------------------------------------------------


def notifications_unsent_sweep(*, enqueue: Enqueue, now: dt.datetime | None = None) -> int:
    """Hand notifications still not e-mailed a while after they were made
    (their task died or gave up) to ``enqueue`` (the partial index of unsent
    notifications)."""
    cutoff = _now(now) - UNSENT_GRACE
    ids = (
        Notification.objects.filter(emailed_at__isnull=True, created_at__lt=cutoff)
        .order_by()
        .values_list("pk", flat=True)
    )
    count = 0
    for notification_id in ids.iterator(chunk_size=2000):
        enqueue(notification_id)
        count += 1
    return count


def _absolute(link: str) -> str:
    if not link:
        return ""
    return getattr(settings, "SITE_URL", "").rstrip("/") + link


def notification_email_send(*, notification_id: int) -> bool:
    """``notifications_email_send`` for one notification: True if this call
    handled it."""
    return notifications_email_send(notification_ids=[notification_id]) == 1


def notifications_email_send(*, notification_ids: Iterable[int]) -> int:
    """E-mail each of these notifications to its recipient, at most once.

    Who: the reminder tasks, after the notifications' own transaction has
    committed, and outside any transaction (each e-mail's mark commits on
    its own). Returns how many this call handled: e-mailed, or marked
    handled without mail for a recipient with no address (the notification
    is in the app).

    How each is sent once, with a handful of queries per batch and one per
    message (a commit per message, each waiting for the disk, would cost
    more than everything else the reminders do):

    1. Lock: a session advisory lock per notification
       (``pg_try_advisory_lock``), taken in one statement. One that another
       worker holds is skipped: that worker is sending it. The locks die
       with this database session, so a killed worker leaves none behind.
    2. Read, under the locks, the batch's rows still unsent (one query): a
       notification another worker sent a moment ago is marked by now.
    3. For each: send, then mark it e-mailed in its own statement
       (``UPDATE ... WHERE emailed_at IS NULL``, committing at once), so a
       worker killed at any point has marked exactly what it sent. These
       commits do not wait for the disk (``synchronous_commit = off``): a
       worker dying loses none of them, and only a crash of the database
       server itself within a fraction of a second could lose the last
       marks, which would send those e-mails again (at-least-once, as with
       any mail queue). A send that raises is noted on the notification
       (``email_failed_at``) and the batch goes on with the others (but
       not that address again this time), unless several fail in a row:
       then the mail service looks down and the batch stops. The first
       error is raised at the end, for the task's retry; what is left
       unsent goes to the retry and the unsent sweep, which try those that
       never failed first. So an address the mail server refuses holds
       back no other e-mail.
    4. Unlock (in any case).

    The one window left is a worker killed between the mail server
    accepting a message and the mark: that e-mail is sent again.
    """
    ids = sorted(set(notification_ids))
    if not ids:
        return 0
    handled = 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM unnest(%s::bigint[]) AS id WHERE pg_try_advisory_lock(%s, (id %% 2147483647)::int)",
            [ids, _EMAIL_LOCKS],
        )
        locked = [row[0] for row in cursor.fetchall()]
        try:
            cursor.execute("SET synchronous_commit TO off")
            handled = _send_locked(locked)
        finally:
            _unlock(cursor, locked)
    return handled


# The advisory-lock space of e-mail sends (the two-key form: this and the
# notification id, folded into 31 bits: two ids that share a key only make
# one wait for a later attempt).
_EMAIL_LOCKS = 0x4D41494C  # "MAIL"


# A batch stops after this many sends in a row fail, each to another
# address: the mail service looks down, and the task's retry (with its
# back-off) is the better way to wait for it.
EMAIL_FAILURES_IN_A_ROW = 3


def _send_locked(ids: list[int]) -> int:
    """Send the locked notifications still unsent, marking each as it goes
    (see ``notifications_email_send``). A send that fails is noted and the
    batch goes on with the others, leaving out the rest to that address
    this time; after ``EMAIL_FAILURES_IN_A_ROW`` failures in a row it
    stops. The first error is raised at the end, so the task retries."""
    if not ids:
        return 0
    unsent = list(
        Notification.objects.filter(pk__in=ids, emailed_at__isnull=True)
        .values("pk", "subject", "body", "link", "recipient__email")
        # Those whose last attempt failed go last, after every other.
        .order_by(F("email_failed_at").asc(nulls_first=True), "pk")
    )
    nowhere = [row["pk"] for row in unsent if not row["recipient__email"]]
    handled = 0
    if nowhere:
        logger.info("notifications %s: recipient has no e-mail address; in the app only", nowhere)
        handled += Notification.objects.filter(pk__in=nowhere, emailed_at__isnull=True).update(
            emailed_at=timezone.now()
        )
    mail, first_error, refused, in_a_row = None, None, set(), 0
    # The mark after each e-mail, as plain SQL: built by the ORM it cost
    # more than the round trip to the database (a batch marks thousands).
    mark = (f"UPDATE {Notification._meta.db_table} SET emailed_at = %s"
            " WHERE id = %s AND emailed_at IS NULL")
    cursor = connection.cursor()
    try:
        for row in unsent:
            address = row["recipient__email"]
            if not address or address in refused:
                continue
            if mail is None:
                mail = get_connection(fail_silently=False)
                mail.open()  # one connection to the mail server for the batch
            link = _absolute(row["link"])
            message = EmailMultiAlternatives(  # what send_mail sends
                subject=row["subject"], body=row["body"] + (f"\n\n{link}" if link else ""),
                from_email=settings.DEFAULT_FROM_EMAIL, to=[address], connection=mail,
            )
            try:
                if mail.send_messages([message]) != 1:
                    raise OSError("the mail backend did not send the message")
            except Exception as error:
                _email_failed(row["pk"])
                first_error = first_error or error
                refused.add(address)
                in_a_row += 1
                if in_a_row >= EMAIL_FAILURES_IN_A_ROW:
                    break
                continue
            in_a_row = 0
            marked, reconnected = _mark_sent(cursor, mark, row["pk"])
            handled += marked
            if reconnected:
                # A new connection holds none of the batch's locks: the
                # rest goes to the task's retry, which takes them again.
                raise OperationalError("the database connection was lost during a batch of e-mails")
    finally:
        cursor.close()
        if mail is not None:
            mail.close()
    if first_error is not None:
        raise first_error
    return handled


# How long a worker keeps trying to record an e-mail it has sent while the
# database is away (a restart, a failover): given up sooner, the e-mail
# would be sent again by the retry.
MARK_SENT_PATIENCE = dt.timedelta(minutes=5)


def _mark_sent(cursor, mark: str, notification_id: int) -> tuple[int, bool]:
    """Mark one sent e-mail; returns (rows marked, whether the connection
    had to be opened again). The e-mail has gone, so a database that is
    unreachable at this moment is waited for (up to ``MARK_SENT_PATIENCE``)
    rather than left to the task's retry, which would send it again."""
    import time

    deadline, pause, reconnected = time.monotonic() + MARK_SENT_PATIENCE.total_seconds(), 0.5, False
    while True:
        try:
            cursor.execute(mark, [timezone.now(), notification_id])
            return cursor.rowcount, reconnected
        except (OperationalError, InterfaceError):
            if time.monotonic() > deadline:
                raise
            logger.warning("notification %s e-mailed; the database is away, retrying its mark", notification_id)
            connection.close()
            time.sleep(pause)
            pause = min(pause * 2, 10.0)
            try:
                cursor = connection.cursor()
                reconnected = True
            except (OperationalError, InterfaceError):
                pass


def _email_failed(notification_id: int) -> None:
    """Note a failed attempt (it goes last in the next); if the database is
    what failed, the send's own error is the one that matters."""
    try:
        Notification.objects.filter(pk=notification_id).update(email_failed_at=timezone.now())
    except DatabaseError:
        logger.warning("notification %s: could not note the failed e-mail attempt", notification_id)


def _unlock(cursor, ids: list[int]) -> None:
    """Release the batch's advisory locks and restore durable commits; a
    connection that cannot (it broke) is closed, which releases them too."""
    try:
        cursor.execute("RESET synchronous_commit")
        if ids:
            cursor.execute(
                "SELECT pg_advisory_unlock(%s, (id %% 2147483647)::int) FROM unnest(%s::bigint[]) AS id",
                [_EMAIL_LOCKS, ids],
            )
    except DatabaseError:
        connection.close()


# ---------------------------------------------------------------------------
# In the app (for the web pages)
# ---------------------------------------------------------------------------


def notifications_for(user, unread_only: bool = False) -> QuerySet[Notification]:
    """The signed-in person's own notifications, newest first.

    Who: any page, for ``request.user``. Guarantees: only notifications
    addressed to that user (none for an anonymous user); their text holds
    references, not names, and each link opens through the access policy
    as usual, so a notification never grants access to anything.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    queryset = Notification.objects.filter(recipient_id=user.pk)
    if unread_only:
        queryset = queryset.filter(read_at__isnull=True)
    return queryset.order_by("-created_at", "-id")


@transaction.atomic
def notification_mark_read(*, user, notification_id: int) -> Notification:
    """Mark one of the person's own notifications read (idempotent).

    Who: the person it is addressed to. Guarantees: someone else's
    notification, or one that does not exist, is ``Notification.DoesNotExist``
    (show a 404); reading twice keeps the first ``read_at``.
    """
    notification = notifications_for(user).select_for_update().get(pk=notification_id)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


# ---------------------------------------------------------------------------
# Consent withdrawn, break-glass opened or escalated (issue 18)
# ---------------------------------------------------------------------------
# Told at once: recorded in the same transaction as the withdrawal or the
# opening (in the app when it commits), under a key naming the event, so
# each person is told once however often this runs; e-mailed after commit by
# ``notifications_email_send`` (once each) through the tasks.


def _managers_and_dpos(agency_ids: Iterable[int]) -> dict[int, list]:
    return _members_by_agency(agency_ids, [Role.MANAGER, Role.DPO])


@transaction.atomic
def consent_withdrawn_record(*, withdrawal_id: int) -> list[int]:
    """Tell each agency whose share of the case ended with a withdrawal of
    consent: its managers and data-protection officers, once each. Returns
    the notifications still to e-mail. Who: the page that recorded the
    withdrawal, in its transaction (access has already ended)."""
    withdrawal, grants = consent_services.withdrawal_told(withdrawal_id)
    if withdrawal is None:
        return []
    people = _managers_and_dpos({grant.agency_id for grant in grants})
    reference = withdrawal.case.reference if withdrawal.case is not None else ""
    due = [
        _Reminder(
            recipients=tuple(people.get(grant.agency_id, ())), kind=NotificationKind.CONSENT_WITHDRAWN,
            dedup_key=f"consent_withdrawn:{withdrawal.pk}:agency:{grant.agency_id}",
            subject=f"Consent withdrawn: {grant.agency.name} no longer has case {reference}",
            body=(
                f"Consent for sharing case {reference} has been withdrawn. The share with {grant.agency.name} "
                "rested on that consent and has ended: your agency can no longer see the case in Crossroads or "
                "through its partner system. Do not use information from it further without another lawful basis."
            ),
            case_id=withdrawal.case_id,
        )
        for grant in grants
    ]
    return _record(due)


@transaction.atomic
def break_glass_opened_record(*, opening_id: int) -> list[int]:
    """Tell the case's lead agency's managers and the data-protection
    officers of the lead agency and of the opener's agency that someone
    opened the case by break-glass, once each. Returns the notifications
    still to e-mail."""
    opening = break_glass_models.BreakGlassAccess.objects.select_related("case", "agency", "user").filter(
        pk=opening_id).first()
    if opening is None:
        return []
    lead_id = opening.case.lead_agency_id
    managers = tuple(_members_by_agency([lead_id], [Role.MANAGER]).get(lead_id, []))
    dpos = _members_by_agency([lead_id, opening.agency_id], [Role.DPO])
    dpos = tuple(p for p in dict.fromkeys([*dpos.get(lead_id, []), *dpos.get(opening.agency_id, [])])
                 if p not in managers)
    until = timezone.localtime(opening.expires_at).strftime("%-d %B %Y at %H:%M")
    subject = f"Break-glass: case {opening.case.reference} opened by {opening.agency.name}"
    body = (
        f"{opening.user.get_full_name() or opening.user.get_username()} of {opening.agency.name} opened case "
        f"{opening.case.reference} by break-glass, until {until}. The reason they gave is on the review page "
        "(not in this e-mail: it may name people). A manager of their agency reviews the opening; every page "
        "they read is marked in the access log."
    )
    # The lead agency's managers go to their case; the DPOs to the review queue.
    return _record([
        _Reminder(recipients=managers, kind=NotificationKind.BREAK_GLASS_OPENED,
                  dedup_key=f"break_glass_opened:{opening.pk}:lead", subject=subject, body=body,
                  link=_case_link(opening.case_id), case_id=opening.case_id),
        _Reminder(recipients=dpos, kind=NotificationKind.BREAK_GLASS_OPENED,
                  dedup_key=f"break_glass_opened:{opening.pk}:dpo", subject=subject, body=body,
                  link=_path("break-glass-queue-item", opening.pk), case_id=opening.case_id),
    ])


@transaction.atomic
def break_glass_escalated_record(*, opening_id: int) -> list[int]:
    """Tell the data-protection officers of the opener's agency and of the
    lead agency that a manager escalated a break-glass opening, once
    each."""
    opening = break_glass_models.BreakGlassAccess.objects.select_related("case", "agency", "review").filter(
        pk=opening_id, review__outcome=break_glass_models.BreakGlassOutcome.ESCALATED).first()
    if opening is None:
        return []
    lead_id = opening.case.lead_agency_id
    dpos = _members_by_agency([lead_id, opening.agency_id], [Role.DPO])
    recipients = tuple(dict.fromkeys([*dpos.get(opening.agency_id, []), *dpos.get(lead_id, [])]))
    return _record([_Reminder(
        recipients=recipients, kind=NotificationKind.BREAK_GLASS_ESCALATED,
        dedup_key=f"break_glass_escalated:{opening.pk}",
        subject=f"Break-glass escalated: case {opening.case.reference}, {opening.agency.name}",
        body=f"A manager of {opening.agency.name} escalated a break-glass opening of case "
             f"{opening.case.reference} to you. Their note is on the review page.",
        link=_path("break-glass-queue-item", opening.pk), case_id=opening.case_id,
    )])
