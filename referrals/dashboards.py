"""Read paths for the web pages: home pages per role, the screening queue,
possible matches and the manager's figures.

Every function takes the actor and starts from the access policy's
querysets (``access.visible_cases``, ``visible_referrals``,
``visible_young_people``); none filters case data by hand. Each returns
lists or querysets built so that a page makes a fixed number of queries,
however many rows it shows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case as When_, Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import TruncMonth
from django.utils import timezone

from agencies.models import Agency, Role
from referrals import deadlines
from referrals.models import (
    OPEN_REFERRAL_STATUSES,
    Case,
    CaseNote,
    CaseStatus,
    Referral,
    ReferralStatus,
    RiskLevel,
    YoungPerson,
)
from safeguarding import access

DUE_SOON_DAYS = 7
QUIET_DAYS = 30

_RISK_ORDER = When_(
    When(risk_level=RiskLevel.RED, then=Value(0)),
    When(risk_level=RiskLevel.AMBER, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


def my_cases(actor: access.Actor) -> QuerySet[Case]:
    """Open cases the actor holds as key worker, soonest review first."""
    if actor.user is None:
        return Case.objects.none()
    # A key worker's own cases are few: the case table's (key_worker, status)
    # index finds them faster than reading the agency's whole caseload.
    return (
        access.visible_cases(actor)
        .filter(key_worker=actor.user, status=CaseStatus.OPEN)
        .select_related("young_person", "lead_agency", "key_worker")
        .order_by("next_review_due", "pk")
    )


def my_referrals(actor: access.Actor, *, limit: int = 10) -> list[Referral]:
    """The referrals this person made, newest first, with status and decision."""
    if actor.user is None:
        return []
    return list(
        access.visible_referrals(actor)
        .filter(referred_by=actor.user)
        .select_related("young_person", "referring_agency", "case")
        .order_by("-received_at")[:limit]
    )


def screening_queue(actor: access.Actor) -> QuerySet[Referral]:
    """Referrals awaiting the hub's decision: highest risk first, then the
    earliest deadline. Only the hub's screeners have a queue."""
    if not access.may_screen(actor):
        return Referral.objects.none()
    return (
        access.visible_referrals(actor)
        .filter(status__in=OPEN_REFERRAL_STATUSES)
        .select_related("young_person", "referring_agency", "screener")
        .annotate(risk_order=_RISK_ORDER)
        .order_by("risk_order", "decision_due_at", "pk")
    )


def with_time_left(referrals, now: dt.datetime | None = None):
    """Attach ``time_left`` (working time to the decision deadline) to each."""
    now = now or timezone.now()
    for referral in referrals:
        referral.time_left = deadlines.working_time_left(now, referral.decision_due_at)
    return referrals


def young_person_candidates(actor: access.Actor, *, given_name: str = "", family_name: str = "",
                            date_of_birth: dt.date | None = None, exclude: tuple[int, ...] = (),
                            limit: int = 10) -> tuple[list[YoungPerson], str]:
    """Records the actor may see that could be this young person, best match
    first, and the message to show when a likely record exists beyond what the
    actor may see (empty otherwise).

    The matching and the privacy rule are ``referrals.matching``'s; this only
    turns its candidates into records for the pages, each with ``match`` (the
    candidate: score, likely, reasons). The records come through
    ``access.visible_young_people``, so nothing outside the actor's reach can
    appear even if the matcher changed.
    """
    from referrals import matching

    if date_of_birth is None and not (given_name.strip() and family_name.strip()):
        return [], ""
    result = matching.young_person_candidates(
        actor,
        details={"given_name": given_name, "family_name": family_name, "date_of_birth": date_of_birth},
        exclude=exclude,
    )
    ranked = {c.young_person_id: c for c in result.candidates[:limit]}
    people = {p.pk: p for p in access.visible_young_people(actor).filter(pk__in=ranked)}
    found = []
    for person_id, candidate in ranked.items():
        if person_id in people:
            people[person_id].match = candidate
            found.append(people[person_id])
    return found, (result.message if result.possible_existing_record else "")


@dataclass
class KeyWorkerLoad:
    key_worker_id: int | None
    name: str
    open_cases: int
    high_risk: int
    overdue_reviews: int


def agency_cases(actor: access.Actor) -> QuerySet[Case]:
    """Open cases the actor's agency leads (for its managers)."""
    if not actor.has_role(Role.MANAGER):
        return Case.objects.none()
    return access.visible_cases(actor).filter(lead_agency=actor.agency, status=CaseStatus.OPEN)


def caseload_by_key_worker(actor: access.Actor, today: dt.date | None = None) -> list[KeyWorkerLoad]:
    today = today or timezone.localdate()
    rows = (
        agency_cases(actor)
        .values("key_worker_id", "key_worker__first_name", "key_worker__last_name", "key_worker__username")
        .annotate(
            open_cases=Count("pk"),
            high_risk=Count("pk", filter=Q(risk_level=RiskLevel.RED)),
            overdue_reviews=Count("pk", filter=Q(next_review_due__lt=today)),
        )
        .order_by("key_worker__last_name", "key_worker__first_name", "key_worker_id")
    )
    loads = []
    for row in rows:
        if row["key_worker_id"] is None:
            name = "Not allocated"
        else:
            name = f"{row['key_worker__first_name']} {row['key_worker__last_name']}".strip() or row["key_worker__username"]
        loads.append(KeyWorkerLoad(row["key_worker_id"], name, row["open_cases"], row["high_risk"], row["overdue_reviews"]))
    return loads


def late_referrals(actor: access.Actor, now: dt.datetime | None = None) -> list[Referral]:
    """The agency's referrals still undecided after their decision deadline."""
    if not actor.has_role(Role.MANAGER):
        return []
    now = now or timezone.now()
    return list(
        access.visible_referrals(actor)
        .filter(status__in=OPEN_REFERRAL_STATUSES, decision_due_at__lt=now)
        .select_related("young_person", "referring_agency")
        .order_by("decision_due_at")[:50]
    )


def quiet_cases(actor: access.Actor, now: dt.datetime | None = None) -> list[Case]:
    """Open cases the agency leads with no chronology entry in 30 days."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=QUIET_DAYS)
    cases = agency_cases(actor)
    quiet = (
        cases.filter(opened_at__lt=cutoff)
        .annotate(last_entry=Subquery(
            # Another agency's agency-only entries are not the lead agency's to
            # see, nor their dates: they neither quieten a case nor date it.
            CaseNote.objects.filter(access.notes_readable_by(OuterRef("lead_agency_id")), case=OuterRef("pk"))
            .order_by("-occurred_at").values("occurred_at")[:1]
        ))
        # No entry at all: quiet since it opened, which is before the cutoff.
        .filter(Q(last_entry__lt=cutoff) | Q(last_entry__isnull=True))
        .order_by("last_entry", "pk")
        .values_list("pk", "last_entry")[:50]
    )
    # The 50 first, then their people: joining before the sort would read
    # the young person and key worker of every quiet case of the agency.
    last_entries = dict(quiet)
    found = cases.filter(pk__in=list(last_entries)).select_related("young_person", "key_worker").in_bulk()
    for pk, case in found.items():
        case.last_entry = last_entries[pk]
    return [found[pk] for pk in last_entries if pk in found]


@dataclass
class MonthFigures:
    month: dt.date
    received: int
    accepted: int
    signposted: int
    no_further_action: int
    open: int


def referral_outcomes_by_month(actor: access.Actor, today: dt.date | None = None) -> list[MonthFigures]:
    """The agency's referrals received per month over the last 12 months,
    with their outcomes so far (one query)."""
    if not actor.has_role(Role.MANAGER):
        return []
    today = today or timezone.localdate()
    months = []
    year, month = today.year, today.month
    for _ in range(12):
        months.append(dt.date(year, month, 1))
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    months.reverse()
    start = timezone.make_aware(dt.datetime.combine(months[0], dt.time.min))
    rows = (
        access.visible_referrals(actor)
        .filter(referring_agency=actor.agency, received_at__gte=start)
        .annotate(month=TruncMonth("received_at"))
        .values("month", "status")
        .annotate(n=Count("pk"))
    )
    table = {m: MonthFigures(m, 0, 0, 0, 0, 0) for m in months}
    for row in rows:
        key = timezone.localtime(row["month"]).date().replace(day=1) if isinstance(row["month"], dt.datetime) else row["month"]
        figures = table.get(key)
        if figures is None:
            continue
        figures.received += row["n"]
        status = row["status"]
        if status == ReferralStatus.ACCEPTED:
            figures.accepted += row["n"]
        elif status == ReferralStatus.SIGNPOSTED:
            figures.signposted += row["n"]
        elif status == ReferralStatus.NO_FURTHER_ACTION:
            figures.no_further_action += row["n"]
        elif status in OPEN_REFERRAL_STATUSES:
            figures.open += row["n"]
    return [table[m] for m in months]


def chart_bars(figures: list[MonthFigures], *, width: int = 640, height: int = 240) -> dict:
    """Coordinates for a server-drawn SVG bar chart: received and accepted per month."""
    top = max([f.received for f in figures] + [1])
    left, bottom, plot_h = 30, height - 30, height - 50
    slot = (width - left - 10) / max(len(figures), 1)
    bars = []
    for i, f in enumerate(figures):
        x = left + i * slot
        for j, (kind, value) in enumerate((("received", f.received), ("accepted", f.accepted))):
            h = round(plot_h * value / top, 1)
            bars.append({"kind": kind, "x": round(x + 4 + j * (slot - 8) / 2, 1), "y": round(bottom - h, 1),
                         "w": round((slot - 8) / 2 - 1, 1), "h": h, "value": value})
    labels = [{"x": round(left + i * slot + slot / 2, 1), "text": f.month.strftime("%b")} for i, f in enumerate(figures)]
    return {"width": width, "height": height, "bars": bars, "labels": labels, "top": top,
            "left": left, "bottom": bottom, "label_y": bottom + 16}


def key_worker_choices(agency: Agency) -> list[tuple[str, str]]:
    return [(str(u.pk), u.get_full_name() or u.get_username()) for u in access.assignable_key_workers(agency)]
