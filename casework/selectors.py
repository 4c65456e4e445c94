"""Read paths for casework: one selector per question, shared by the pages,
the partner API, the reminder tasks and the daily digest.

Every selector takes the actor and starts from the access policy's
querysets (``access.visible_cases``, ``visible_referrals``,
``visible_notes``, ``visible_young_people``, ``get_case``); none filters case
data by hand. Each returns lists or querysets built so that a page costs a
fixed number of queries, however many rows it shows. A read of case data is
written to the access log by ``access.get_case`` or by ``log_page``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Case as When_
from django.db.models import (
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import TruncMonth
from django.utils import timezone

from agencies.models import Agency, Role
from casework import matching
from referrals import deadlines
from referrals.models import (
    OPEN_REFERRAL_STATUSES,
    Case,
    CaseNote,
    CaseStatus,
    CaseTransfer,
    Intervention,
    PartnershipEnquiry,
    Referral,
    ReferralStatus,
    Review,
    RiskLevel,
    YoungPerson,
)
from safeguarding import access, redaction

# ---------------------------------------------------------------------------
# Caseloads and case files
# ---------------------------------------------------------------------------


@dataclass
class Caseload:
    """A caseload as Django's ``Paginator`` takes it: a page is a slice of
    ``cases``, the total is counted from the caseload index alone."""

    cases: QuerySet[Case]
    rows: QuerySet

    def count(self) -> int:
        return self.rows.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, item):
        return self.cases[item]


def caseload(actor: access.Actor, *, status: str | None = "open") -> Caseload:
    """The cases an actor may see (``access.visible_cases``, read through the
    caseload index), soonest review first (no review date last), then by
    case. Anyone may call it; people with no case-working role get an empty
    list."""
    at = timezone.now()
    cases = (
        access.listed_cases(actor, status=status, at=at)
        .select_related("young_person", "lead_agency", "key_worker")
        .order_by("listed_review_due", "listed_id")
    )
    return Caseload(cases=cases, rows=access.caseload_rows(actor, status=status, at=at))


@dataclass
class CaseFile:
    """A case as one actor may see it, with what they may do to it."""

    case: Case
    notes: QuerySet[CaseNote]
    chronology_agencies: list[Agency]
    interventions: list[Intervention]
    reviews: list[Review]
    may_contribute: bool
    may_manage: bool
    may_allocate: bool
    may_close: bool
    may_see_access_log: bool
    may_propose_transfer: bool


def case_file(
    actor: access.Actor, case_id, *, note_agency: int | None = None, note_kind: str | None = None,
    reviews: int = 10,
) -> CaseFile:
    """One case with its chronology (newest first, narrowed to one agency's
    or one kind of entry when asked), interventions and latest reviews, as
    this actor may see them: the case page's whole read.

    Who: anyone ``access.get_case`` lets see the case; anyone else gets
    ``access.NotVisible``. The chronology is ``access.visible_notes``, so
    other agencies' agency-only entries never appear, nor in the list of
    agencies that wrote in it. The read is logged once, by ``get_case``.
    """
    case = access.get_case(actor, case_id)
    notes = access.visible_notes(actor, case)
    chronology_agencies = list(Agency.objects.filter(pk__in=notes.values("agency_id")).order_by("name", "pk"))
    if note_agency is not None:
        notes = notes.filter(agency_id=note_agency)
    if note_kind:
        notes = notes.filter(kind=note_kind)
    may_manage = access.may(actor, access.Action.MANAGE, case)
    return CaseFile(
        case=case,
        notes=redaction.with_passages(notes.select_related("author", "agency", "corrects")).order_by(
            "-occurred_at", "-pk"),
        chronology_agencies=chronology_agencies,
        interventions=list(case_interventions(actor, case).order_by("-created_at", "-pk")),
        reviews=list(case_reviews(actor, case).order_by("-due_on", "-pk")[:reviews]),
        may_contribute=access.may(actor, access.Action.CONTRIBUTE, case),
        may_manage=may_manage,
        may_allocate=access.may(actor, access.Action.ALLOCATE, case),
        may_close=access.may(actor, access.Action.CLOSE, case),
        may_see_access_log=access.may_see_access_log(actor, case),
        may_propose_transfer=access.may_propose_transfer(actor, case, may_manage=may_manage),
    )


# ---------------------------------------------------------------------------
# Referrals, cases and their parts as the partner API lists them
# ---------------------------------------------------------------------------


def agency_referrals(
    actor: access.Actor, *, status: str | None = None, updated_since: dt.datetime | None = None,
) -> QuerySet[Referral]:
    """The referrals the actor's agency made (as far as the actor may see
    them), with ``case_visible`` telling whether the case behind each one is
    visible to the agency: a referrer sees the outcome, not the case, unless
    the case is shared with it."""
    if actor.agency is None:
        return Referral.objects.none()
    referrals = (
        redaction.with_passages(access.visible_referrals(actor))
        .filter(referring_agency_id=actor.agency.pk)
        .select_related("young_person", "referring_agency")
        .annotate(case_visible=Exists(access.visible_cases(actor).filter(pk=OuterRef("case_id"))))
    )
    if status:
        referrals = referrals.filter(status=status)
    if updated_since:
        referrals = referrals.filter(updated_at__gte=updated_since)
    return referrals


def agency_referral(actor: access.Actor, referral_id) -> Referral:
    """One of the agency's referrals, logged as read; else ``NotVisible``."""
    try:
        referral = agency_referrals(actor).get(pk=referral_id)
    except (Referral.DoesNotExist, ValueError, TypeError):
        raise access.NotVisible("No such referral") from None
    access.log_access(actor, "view", referral)
    return referral


def cases(
    actor: access.Actor,
    *,
    status: str | None = None,
    risk_level: str | None = None,
    key_worker: int | None = None,
    review_due_before: dt.date | None = None,
    updated_since: dt.datetime | None = None,
    at: dt.datetime | None = None,
) -> tuple[QuerySet[Case], Callable[[list], int]]:
    """The cases the actor may see, filtered, and how to tell how many there
    are once a page of them has been read.

    The cases are ``access.listed_cases`` (``visible_cases`` read through the
    caseload index), to be ordered by ``-listed_id``, newest first, so a page
    is read from the index. Unless a filter on another column of the case
    narrows the list, each row also carries ``caseload_total``
    (``access.caseload_total``), read in the page's own query; the total
    function takes the page's rows and counts apart only for a narrowed list
    or an empty page.
    """
    at = at or timezone.now()
    queryset = access.listed_cases(actor, status=status, at=at)
    narrowed = False
    if risk_level:
        queryset, narrowed = queryset.filter(risk_level=risk_level), True
    if key_worker is not None:
        queryset, narrowed = queryset.filter(key_worker_id=key_worker), True
    if review_due_before is not None:
        queryset, narrowed = queryset.filter(next_review_due__lt=review_due_before), True
    if updated_since is not None:
        queryset, narrowed = queryset.filter(updated_at__gte=updated_since), True
    if narrowed:
        return queryset, lambda page: queryset.count()
    queryset = queryset.annotate(caseload_total=access.caseload_total(actor, status=status, at=at))

    def total(page) -> int:
        return page[0]["caseload_total"] if page else access.caseload_count(actor, status=status, at=at)

    return queryset, total


def the_case(actor: access.Actor, case: Case) -> QuerySet[Case]:
    """A case already reached through ``access.get_case``, as a one-row
    queryset of ``access.visible_cases`` (to read its columns as values)."""
    return access.visible_cases(actor).filter(pk=case.pk)


def case_notes(actor: access.Actor, case: Case) -> QuerySet[CaseNote]:
    """The chronology the actor may see (``access.visible_notes``): other
    agencies' agency-only entries never appear."""
    return redaction.with_passages(access.visible_notes(actor, case).select_related("author", "agency"))


def case_note(actor: access.Actor, case: Case, note_id) -> CaseNote:
    note = case_notes(actor, case).filter(pk=note_id).first() if str(note_id).isdigit() else None
    if note is None:
        raise access.NotVisible("No such chronology entry")
    return note


def case_transfers(actor: access.Actor, case: Case) -> QuerySet[CaseTransfer]:
    """The transfers proposed out of a case the actor may see
    (``access.case_transfers``), with who proposed and decided each."""
    return access.case_transfers(actor, case).select_related(
        "to_partnership", "proposed_by", "proposed_by_agency", "decided_by",
    )


def case_transfer(actor: access.Actor, case: Case, transfer_id) -> CaseTransfer:
    """One transfer of the case, or ``access.NotVisible``."""
    transfer = case_transfers(actor, case).filter(pk=transfer_id).first() if str(transfer_id).isdigit() else None
    if transfer is None:
        raise access.NotVisible("No such transfer")
    return transfer


def referral_transfer(actor: access.Actor, referral: Referral) -> CaseTransfer | None:
    """The transfer a referral arrived as (``access.referral_transfer``), for
    its hub: what the sending partnership sent."""
    return access.referral_transfer(actor, referral)


def enquiries_received(actor: access.Actor) -> QuerySet[PartnershipEnquiry]:
    """Enquiries from other partnerships' hubs to the actor's, open ones
    first (``access.enquiries_received``)."""
    return access.enquiries_received(actor).select_related("from_partnership", "asked_by", "asked_by_agency",
                                                            "answered_by").order_by("-status", "-asked_at", "-pk")


def enquiry_received(actor: access.Actor, enquiry_id) -> PartnershipEnquiry:
    """One enquiry to the actor's hub, or ``access.NotVisible``."""
    enquiry = enquiries_received(actor).filter(pk=enquiry_id).first() if str(enquiry_id).isdigit() else None
    if enquiry is None:
        raise access.NotVisible("No such enquiry")
    return enquiry


def referral_enquiries(actor: access.Actor, referral: Referral) -> QuerySet[PartnershipEnquiry]:
    """What the actor's hub asked other partnerships about a referral."""
    return access.enquiries_sent(actor, referral).select_related("to_partnership", "answered_by").order_by("-asked_at")


def case_interventions(actor: access.Actor, case: Case) -> QuerySet[Intervention]:
    """Interventions on a case the actor may see (the case came from
    ``access.get_case``; anyone else gets none)."""
    if not access.may(actor, access.Action.VIEW, case):
        return Intervention.objects.none()
    return redaction.with_passages(Intervention.objects.filter(case=case).select_related("provider_agency"))


def case_intervention(actor: access.Actor, case: Case, intervention_id) -> Intervention:
    found = (
        case_interventions(actor, case).filter(pk=intervention_id).first() if str(intervention_id).isdigit() else None
    )
    if found is None:
        raise access.NotVisible("No such intervention")
    return found


def case_reviews(actor: access.Actor, case: Case) -> QuerySet[Review]:
    if not access.may(actor, access.Action.VIEW, case):
        return Review.objects.none()
    return Review.objects.filter(case=case).select_related("completed_by")


def log_page(actor: access.Actor, object_type: str, items, *, case: Case | None = None) -> None:
    """Record that a page of a list was read (ids only; the items are model
    instances or rows of values with an ``id``)."""
    ids = [item["id"] if isinstance(item, dict) else item.pk for item in items]
    access.log_access(actor, "list", case, object_type=object_type, detail={"ids": ids})


# ---------------------------------------------------------------------------
# Home pages, the screening queue and the manager's figures
# ---------------------------------------------------------------------------


DUE_SOON_DAYS = 7
QUIET_DAYS = 30
# The manager's home page lists at most this many late referrals and quiet cases.
HOME_LIST_LIMIT = 50

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

    The matching and the privacy rule are ``casework.matching``'s; this only
    turns its candidates into records for the pages, each with ``match`` (the
    candidate: score, likely, reasons). The records come through
    ``access.visible_young_people``, so nothing outside the actor's reach can
    appear even if the matcher changed.
    """
    if date_of_birth is None and not (given_name.strip() and family_name.strip()):
        return [], ""
    result = matching.young_person_candidates(
        actor,
        details={"given_name": given_name, "family_name": family_name, "date_of_birth": date_of_birth},
        exclude=exclude,
    )
    found = _candidate_records(actor, result.candidates[:limit])
    return found, (result.message if result.possible_existing_record else "")


def referral_candidate_records(actor: access.Actor, referral) -> list[YoungPerson]:
    """Existing records that may be the referral's young person, best first,
    each with ``match`` (score, likely, reasons): the screening page's list.
    Who: the hub's screeners (``matching.referral_candidates`` refuses others)."""
    return _candidate_records(actor, matching.referral_candidates(actor, referral=referral).candidates)


def _candidate_records(actor: access.Actor, candidates) -> list[YoungPerson]:
    """The matcher's candidates as records read through
    ``access.visible_young_people``, in the matcher's order, each with its
    candidate as ``match``: nothing outside the actor's reach can appear
    even if the matcher changed."""
    ranked = {c.young_person_id: c for c in candidates}
    people = {p.pk: p for p in access.visible_young_people(actor).filter(pk__in=ranked)}
    found = []
    for person_id, candidate in ranked.items():
        if person_id in people:
            people[person_id].match = candidate
            found.append(people[person_id])
    return found


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


# The manager's figures, each one question answered once: the home page, the
# daily digest (``reminders.services.manager_digest_record``) and anything
# else that shows "overdue reviews", "late referrals" or "quiet cases" call
# these, with the manager's own actor, so the numbers cannot disagree
# (tests/reminders/test_one_rule.py holds them equal).


def _review_overdue(today: dt.date) -> Q:
    # Overdue from the day after the due date (the reminders' rule too).
    return Q(next_review_due__lt=today)


def overdue_review_cases(actor: access.Actor, today: dt.date | None = None) -> QuerySet[Case]:
    """Open cases the manager's agency leads whose review is past its due
    date, longest overdue first: case by case, what ``caseload_by_key_worker``
    counts as each key worker's overdue reviews. Managers only; anyone else
    gets none."""
    today = today or timezone.localdate()
    return agency_cases(actor).filter(_review_overdue(today)).order_by("next_review_due", "pk")


def referrals_past_deadline(actor: access.Actor, now: dt.datetime | None = None) -> QuerySet[Referral]:
    """Referrals the manager may see (``access.visible_referrals``: their
    agency's, and those behind cases it can see) still awaiting the hub's
    decision after its deadline, the latest first. Managers only. A hub
    manager sees the hub's own referrals here, not every referral: the
    screening queue is the screeners'."""
    if not actor.has_role(Role.MANAGER):
        return Referral.objects.none()
    now = now or timezone.now()
    return (
        access.visible_referrals(actor)
        .filter(status__in=OPEN_REFERRAL_STATUSES, decision_due_at__lt=now)
        .order_by("decision_due_at", "pk")
    )


def quiet_case_rows(actor: access.Actor, now: dt.datetime | None = None) -> QuerySet[Case]:
    """Open cases the manager's agency leads, opened more than 30 days ago,
    with no chronology entry about a contact in the last 30 days (by
    ``occurred_at``, when it happened, not when it was typed in; entries
    another agency kept to itself do not count), the quietest first, each
    with ``last_entry`` (None: no entries at all). A completed review is not
    a chronology entry and does not make a case less quiet. Managers only."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=QUIET_DAYS)
    return (
        agency_cases(actor)
        .filter(opened_at__lt=cutoff)
        .annotate(last_entry=Subquery(
            # Another agency's agency-only entries are not the lead agency's to
            # see, nor their dates: they neither quieten a case nor date it.
            CaseNote.objects.filter(access.notes_readable_by(OuterRef("lead_agency_id")), case=OuterRef("pk"))
            .order_by("-occurred_at").values("occurred_at")[:1]
        ))
        # No entry at all: quiet since it opened, which is before the cutoff.
        .filter(Q(last_entry__lt=cutoff) | Q(last_entry__isnull=True))
        .order_by("last_entry", "pk")
    )


def caseload_by_key_worker(actor: access.Actor, today: dt.date | None = None) -> list[KeyWorkerLoad]:
    today = today or timezone.localdate()
    rows = (
        agency_cases(actor)
        .values("key_worker_id", "key_worker__first_name", "key_worker__last_name", "key_worker__username")
        .annotate(
            open_cases=Count("pk"),
            high_risk=Count("pk", filter=Q(risk_level=RiskLevel.RED)),
            overdue_reviews=Count("pk", filter=_review_overdue(today)),
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
    """The first 50 of ``referrals_past_deadline``, with their young people,
    for the manager's home page."""
    return list(
        referrals_past_deadline(actor, now).select_related("young_person", "referring_agency")[:HOME_LIST_LIMIT]
    )


def quiet_cases(actor: access.Actor, now: dt.datetime | None = None) -> list[Case]:
    """The first 50 of ``quiet_case_rows``, with their young people and key
    workers (``last_entry`` kept), for the manager's home page."""
    quiet = quiet_case_rows(actor, now).values_list("pk", "last_entry")[:HOME_LIST_LIMIT]
    # The 50 first, then their people: joining before the sort would read
    # the young person and key worker of every quiet case of the agency.
    last_entries = dict(quiet)
    found = (
        agency_cases(actor).filter(pk__in=list(last_entries)).select_related("young_person", "key_worker").in_bulk()
    )
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


def key_worker_choices(agency: Agency | None = None, *, partnership: int | None = None) -> list[tuple[str, str]]:
    """Who may hold cases (``access.key_worker_memberships``) as choices: for
    one agency, by name; for a whole partnership, each with their agency, by
    agency, in one query."""
    if agency is not None:
        return [(str(u.pk), u.get_full_name() or u.get_username()) for u in access.assignable_key_workers(agency)]
    memberships = (
        access.key_worker_memberships(partnership=partnership)
        .select_related("user", "agency")
        .order_by("agency__name", "user__last_name", "user__first_name", "user_id")
    )
    seen, choices = set(), []
    for membership in memberships:
        if (membership.user_id, membership.agency_id) in seen:
            continue
        seen.add((membership.user_id, membership.agency_id))
        user = membership.user
        choices.append((str(user.pk), f"{user.get_full_name() or user.get_username()} ({membership.agency.name})"))
    return choices
