"""Refreshing the reporting schema from the case data.

The refresh runs as the system actor of one partnership, under its
row-level security, and reads the casework records only through the access
policy (``access.reporting_sources``, ``access.reporting_changes``). It
works in the database: each source queryset's SQL is the inner query of an
``INSERT ... SELECT`` that turns it into facts (a random key for the
person, age bands, wards, months), so nothing identifying passes through
Python and a million cases take one pass.

Only what changed is rewritten. The change history (database triggers, so
bulk updates and raw SQL count too) says which young people's records
changed since the last run; their facts are deleted and written again, all
of them, so a figure that depends on several records (a repeat referral,
the risk after an intervention) is right. A run with nothing new reads a
short range of the history's indexes and writes nothing. Loading reference
data, or a first run, rewrites everything.

What a case's or an intervention's facts need from its referrals and
reviews (the risk on entry, the reviews in order) is, in a full run,
worked out for every case at once and joined; in an incremental run
looked up case by case through the indexes (``_case_lookups``).
Working time comes from a calendar of working days (``_CALENDAR``). The
refresh's sorts and hashes get ``WORK_MEM`` (its transaction only), so a
large partnership's do not spill to disk.

Changes are read with an overlap (``OVERLAP``) behind the last run's start:
a change recorded by a transaction that was still open when the last run
read the history carries that transaction's start time, which can be
before the last run's; recomputing a young person twice does no harm.

The partnership's places, peer groups and online spaces and its panels'
actions are few (thousands, not millions): when any of them changed since
the last run (their change history says so), or on a full run, all their
facts are deleted and written again, in Python, which places a context in
its ward (``bands.WardFinder``: a point in a boundary is no SQL of ours)
and reads when each action was first marked done from its history. A
person of concern never reaches the refresh (``access.reporting_sources``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.utils import timezone

from contexts.models import ActionStatus
from monitoring import bands
from monitoring.models import (
    CaseFact,
    ContextFact,
    InterventionFact,
    PanelActionFact,
    RefreshState,
    ReferralFact,
    ReportingKey,
    ReviewFact,
    Ward,
)
from referrals.deadlines import bank_holidays
from safeguarding import access

OVERLAP = dt.timedelta(minutes=10)
# Young people recomputed per statement in an incremental run.
CHUNK = 5000
# The one-working-day standard for a referral decision, in working hours.
STANDARD_HOURS = 24
# Memory for the refresh's sorts and hashes, set for its transaction only.
WORK_MEM = "64MB"
FACT_MODELS = (ReferralFact, CaseFact, ReviewFact, InterventionFact)
# What a full run leaves to VACUUM (ANALYZE): the facts it rewrote and the
# keys it wrote.
VACUUMED = (*FACT_MODELS, ReportingKey)


@dataclass(frozen=True)
class RefreshResult:
    full: bool
    young_people: int
    facts: dict[str, int]
    # Whether it wrote facts (so the figures worked out from them changed).
    wrote: bool = False


def _sql(queryset: QuerySet) -> tuple[str, tuple]:
    return queryset.query.sql_with_params()


def _execute(cursor, sql: str, params: list) -> int:
    cursor.execute(sql, params)
    return max(cursor.rowcount, 0)


def _ward_join(alias: str) -> str:
    """The ward of a row's postcode by the partnership's lookup (``pw.ward_id``):
    NULL (ward not known) when the postcode is not in it. Never guessed."""
    return (
        f" LEFT JOIN monitoring_postcodeward pw ON pw.partnership_id = {alias}.partnership_id"
        f" AND pw.postcode = {bands.postcode_sql(f'{alias}.postcode')}"
    )


def _local_date(column: str) -> str:
    return f"(({column}) AT TIME ZONE %s)::date"


def _month(column: str) -> str:
    return f"date_trunc('month', ({column}) AT TIME ZONE %s)::date"


def _keys(cursor, people: QuerySet) -> None:
    """A key for each of these young people who has none. Whether one has
    a key is the unique index's to say (``ON CONFLICT``), row by row, not a
    join the planner chooses: an anti-join against a key table it thought
    empty (statistics taken before the first run) read the whole table
    for each young person while the other partnerships' runs filled it,
    and one partnership's keys took over 20 minutes at 1,000,000 cases."""
    sql, params = _sql(people.values("id", "partnership_id"))
    cursor.execute(
        f"INSERT INTO monitoring_reportingkey (young_person_id, partnership_id, key)"
        f" SELECT p.id, p.partnership_id, gen_random_uuid() FROM ({sql}) p"
        f" ON CONFLICT (young_person_id) DO NOTHING",
        list(params),
    )


# The working-day calendar (``referrals.deadlines``: weekends and bank
# holidays do not count), one row a day: whether the day is a working day
# and how many working days came before it. Working time up to a moment is
# then a lookup, ``_working_seconds``, and the time from receipt to
# decision one subtraction: a hash join against a few thousand days instead
# of a series of days walked for each of a million referrals.
_CALENDAR = (
    "cal AS MATERIALIZED (SELECT d::date AS day, w.working, coalesce(count(*) FILTER (WHERE w.working)"
    " OVER (ORDER BY d ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before"
    " FROM generate_series(%s::date, %s::date, interval '1 day') AS d,"
    " LATERAL (SELECT extract(isodow FROM d) < 6 AND NOT (d::date = ANY(%s::date[])) AS working) AS w)"
)
CALENDAR_FROM = dt.date(2000, 1, 1)


def _calendar_params() -> list:
    """The calendar's first and last day (to the end of next year) and its
    bank holidays. A moment outside it has no working time."""
    last = timezone.localdate().year + 1
    holidays = sorted(d for year in range(CALENDAR_FROM.year, last + 1) for d in bank_holidays(year))
    return [CALENDAR_FROM, dt.date(last, 12, 31), holidays]


def _working_seconds(column: str, day: str) -> str:
    """The working seconds before a moment since the calendar's start: the
    whole working days before its (local) day, and the part of its day gone
    if that is a working day. Working days are whole days at home, so the
    clock changes (always at a weekend here) never fall inside one."""
    return (
        f"({day}.before * 86400 + CASE WHEN {day}.working THEN"
        f" extract(epoch FROM ({column}) AT TIME ZONE %s - {day}.day::timestamp) ELSE 0 END)"
    )


def _referral_facts(cursor, referrals: QuerySet, tz: str) -> int:
    sql, params = _sql(referrals.values(
        "young_person_id", "partnership_id", "received_at", "decided_at", "concerns", "risk_level", "status",
        agency_kind=F("referring_agency__kind"), dob=F("young_person__date_of_birth"),
        gender=F("young_person__gender"), ethnicity=F("young_person__ethnicity"),
        postcode=F("young_person__postcode"),
    ))
    statement = (
        f"WITH r AS ({sql}), {_CALENDAR}, t AS (SELECT r.*, lag(r.received_at) OVER"
        f" (PARTITION BY r.young_person_id ORDER BY r.received_at) AS previous_at,"
        f" {_local_date('r.received_at')} AS received_on,"
        f" greatest({_working_seconds('r.decided_at', 'b')} - {_working_seconds('r.received_at', 'a')}, 0)"
        f" / 3600.0 AS hours FROM r"
        f" LEFT JOIN cal a ON a.day = {_local_date('r.received_at')}"
        f" LEFT JOIN cal b ON b.day = {_local_date('r.decided_at')})"
        f" INSERT INTO monitoring_referralfact (partnership_id, person_key, received_month, concerns,"
        f" referring_agency_kind, ward_id, age_band, sex, ethnic_group, risk_level, status, decision_hours,"
        f" within_standard, repeat_within_year)"
        f" SELECT t.partnership_id, k.key, date_trunc('month', t.received_on)::date, t.concerns, t.agency_kind,"
        f" pw.ward_id, {bands.age_band_sql('t.dob', 't.received_on')}, {bands.sex_sql('t.gender')},"
        f" {bands.ethnic_group_sql('t.ethnicity')}, t.risk_level, t.status,"
        f" CASE WHEN t.decided_at IS NULL THEN NULL ELSE coalesce(t.hours, 0) END,"
        f" CASE WHEN t.decided_at IS NULL THEN NULL ELSE coalesce(t.hours, 0) <= {STANDARD_HOURS} END,"
        f" coalesce(t.previous_at >= t.received_at - interval '12 months', false)"
        f" FROM t JOIN monitoring_reportingkey k ON k.young_person_id = t.young_person_id{_ward_join('t')}"
    )
    return _execute(cursor, statement, [*params, *_calendar_params(), tz, tz, tz, tz, tz])


def _entry_risks(referrals: str) -> str:
    """``e``: each case's risk on entry, that of the first referral it
    opened on (``referrals`` selects case_id, received_at, risk_level)."""
    return (
        f"e AS MATERIALIZED (SELECT DISTINCT ON (r.case_id) r.case_id, r.risk_level FROM ({referrals}) r"
        f" ORDER BY r.case_id, r.received_at)"
    )


def _case_lookups(referrals: QuerySet, reviews: QuerySet, joined: bool) -> tuple[str, list, str, str]:
    """What a case's facts need from its referrals and reviews, as (CTEs,
    their parameters, joins, and ``entry``, ``down``, ``up``: the risk of
    the first referral it opened on, whether a review stepped it down or
    escalated it). ``joined``: worked out for every case at once and
    joined (a full run); else looked up case by case through the indexes
    (a few thousand young people: joined, the planner, misjudging their
    number under row-level security, matched each case against every
    other)."""
    ref_sql, ref_params = _sql(referrals.filter(case_id__isnull=False).values("case_id", "received_at", "risk_level"))
    rev_sql, rev_params = _sql(reviews.values("case_id", "decision"))
    params = [*ref_params, *rev_params]
    if joined:
        ctes = (
            f"{_entry_risks(ref_sql)}, d AS MATERIALIZED (SELECT v.case_id, bool_or(v.decision = 'step_down') AS down,"
            f" bool_or(v.decision = 'escalate') AS up FROM ({rev_sql}) v GROUP BY v.case_id)"
        )
        return ctes, params, " LEFT JOIN e ON e.case_id = c.id LEFT JOIN d ON d.case_id = c.id", (
            "e.risk_level", "coalesce(d.down, false)", "coalesce(d.up, false)")
    ctes = f"r AS NOT MATERIALIZED ({ref_sql}), v AS NOT MATERIALIZED ({rev_sql})"
    decided = "EXISTS (SELECT 1 FROM v WHERE v.case_id = c.id AND v.decision = '{}')"
    return ctes, params, "", (
        "(SELECT r.risk_level FROM r WHERE r.case_id = c.id ORDER BY r.received_at LIMIT 1)",
        decided.format("step_down"), decided.format("escalate"))


def _case_facts(cursor, cases: QuerySet, referrals: QuerySet, reviews: QuerySet, tz: str, *, joined: bool) -> int:
    """A case's facts: its risk on entry (that of the first referral it
    opened on, else its risk now), whether it stepped down or escalated
    (closed so, or a review decided so), its ward and bands."""
    case_sql, case_params = _sql(cases.values(
        "id", "young_person_id", "partnership_id", "opened_at", "closed_at", "status", "closure_reason",
        "risk_level", dob=F("young_person__date_of_birth"), gender=F("young_person__gender"),
        ethnicity=F("young_person__ethnicity"), postcode=F("young_person__postcode"),
    ))
    ctes, lookup_params, joins, (entry, down, up) = _case_lookups(referrals, reviews, joined)
    statement = (
        f"WITH c0 AS ({case_sql}), c AS (SELECT c0.*, {_local_date('c0.opened_at')} AS opened_on FROM c0), {ctes}"
        f" INSERT INTO monitoring_casefact (partnership_id, person_key, opened_month, closed_month, status,"
        f" closure_reason, risk_on_entry, risk_now, opened_on, closed_on, stepped_down, escalated, ward_id,"
        f" age_band, sex, ethnic_group)"
        f" SELECT c.partnership_id, k.key, date_trunc('month', c.opened_on)::date,"
        f" CASE WHEN c.closed_at IS NULL THEN NULL ELSE {_month('c.closed_at')} END, c.status, c.closure_reason,"
        f" coalesce({entry}, c.risk_level), c.risk_level, c.opened_on,"
        f" CASE WHEN c.closed_at IS NULL THEN NULL ELSE {_local_date('c.closed_at')} END,"
        f" c.closure_reason = 'stepped_down' OR {down}, c.closure_reason = 'escalated' OR {up},"
        f" pw.ward_id, {bands.age_band_sql('c.dob', 'c.opened_on')}, {bands.sex_sql('c.gender')},"
        f" {bands.ethnic_group_sql('c.ethnicity')}"
        f" FROM c JOIN monitoring_reportingkey k ON k.young_person_id = c.young_person_id{joins}{_ward_join('c')}"
    )
    return _execute(cursor, statement, [*case_params, tz, *lookup_params, tz, tz])


def _review_facts(cursor, reviews: QuerySet, tz: str) -> int:
    sql, params = _sql(reviews.values(
        "completed_at", "risk_after", "decision", young_person_id=F("case__young_person_id"),
        partnership_id=F("case__partnership_id"), postcode=F("case__young_person__postcode"),
    ))
    statement = (
        f"WITH v AS ({sql}) INSERT INTO monitoring_reviewfact (partnership_id, person_key, review_month, risk_after,"
        f" decision, ward_id) SELECT v.partnership_id, k.key, {_month('v.completed_at')}, v.risk_after, v.decision,"
        f" pw.ward_id FROM v JOIN monitoring_reportingkey k ON k.young_person_id = v.young_person_id{_ward_join('v')}"
    )
    return _execute(cursor, statement, [*params, tz])


def _intervention_facts(cursor, interventions: QuerySet, referrals: QuerySet, reviews: QuerySet, tz: str, *,
                        joined: bool) -> int:
    """An intervention's facts. The risk before it is the one found by the
    case's last review before it started (else the case's risk on entry,
    else its risk now); the risk after it, the one found by the first
    review on or after it ended. ``joined`` as for ``_case_lookups``: each
    case's reviews gathered once, in order (``vc``), and each intervention
    picking from its case's; else looked up intervention by intervention."""
    sql, params = _sql(interventions.values(
        "case_id", "kind", "status", "started_on", "ended_on", "created_at", "sessions_offered",
        "sessions_attended", provider=F("provider_agency__name"), young_person_id=F("case__young_person_id"),
        partnership_id=F("case__partnership_id"), postcode=F("case__young_person__postcode"),
        case_risk=F("case__risk_level"),
    ))
    ref_sql, ref_params = _sql(referrals.filter(case_id__isnull=False).values("case_id", "received_at", "risk_level"))
    rev_sql, rev_params = _sql(reviews.values("case_id", "completed_at", "risk_after"))
    start = f"coalesce(i.started_on, {_local_date('i.created_at')})"
    if joined:
        reviewed = "FROM unnest(vc.days, vc.risks) WITH ORDINALITY AS x(day, risk, n)"
        ctes = (
            f"{_entry_risks(ref_sql)}, vc AS MATERIALIZED (SELECT v.case_id, array_agg({_local_date('v.completed_at')}"
            f" ORDER BY v.completed_at) AS days, array_agg(v.risk_after ORDER BY v.completed_at) AS risks"
            f" FROM ({rev_sql}) v GROUP BY v.case_id)"
        )
        ctes_params = [*ref_params, tz, *rev_params]
        before = f"(SELECT x.risk {reviewed} WHERE x.day < {start} ORDER BY x.n DESC LIMIT 1), e.risk_level"
        after = f"(SELECT x.risk {reviewed} WHERE i.ended_on IS NOT NULL AND x.day >= i.ended_on ORDER BY x.n LIMIT 1)"
        joins, picks_params = " LEFT JOIN e ON e.case_id = i.case_id LEFT JOIN vc ON vc.case_id = i.case_id", [tz]
    else:
        ctes = f"r AS NOT MATERIALIZED ({ref_sql}), v AS NOT MATERIALIZED ({rev_sql})"
        ctes_params = [*ref_params, *rev_params]
        before = (
            f"(SELECT v.risk_after FROM v WHERE v.case_id = i.case_id AND {_local_date('v.completed_at')} < {start}"
            f" ORDER BY v.completed_at DESC LIMIT 1),"
            f" (SELECT r.risk_level FROM r WHERE r.case_id = i.case_id ORDER BY r.received_at LIMIT 1)"
        )
        after = (
            f"(SELECT v.risk_after FROM v WHERE v.case_id = i.case_id AND i.ended_on IS NOT NULL"
            f" AND {_local_date('v.completed_at')} >= i.ended_on ORDER BY v.completed_at LIMIT 1)"
        )
        joins, picks_params = "", [tz, tz, tz]
    statement = (
        f"WITH i AS ({sql}), {ctes}"
        f" INSERT INTO monitoring_interventionfact (partnership_id, person_key, kind, provider, status, month,"
        f" sessions_offered, sessions_attended, risk_before, risk_after, ward_id)"
        f" SELECT i.partnership_id, k.key, i.kind, i.provider, i.status, date_trunc('month', {start})::date,"
        f" i.sessions_offered, i.sessions_attended, coalesce({before}, i.case_risk), coalesce({after}, ''),"
        f" pw.ward_id"
        f" FROM i JOIN monitoring_reportingkey k ON k.young_person_id = i.young_person_id{joins}{_ward_join('i')}"
    )
    return _execute(cursor, statement, [*params, *ctes_params, tz, *picks_params])


def _write_facts(cursor, sources: access.ReportingSources, people: list[int] | None, tz: str) -> dict[str, int]:
    """Write the facts of these young people (None: all the partnership's)."""
    def of(queryset: QuerySet, field: str) -> QuerySet:
        # No ordering: the models' default ones would sort every inner query.
        queryset = queryset.order_by()
        return queryset if people is None else queryset.filter(**{f"{field}__in": people})

    referrals = of(sources.referrals, "young_person_id")
    cases = of(sources.cases, "young_person_id")
    reviews = of(sources.reviews, "case__young_person_id")
    interventions = of(sources.interventions, "case__young_person_id")
    _keys(cursor, of(sources.young_people, "id"))
    return {
        "referrals": _referral_facts(cursor, referrals, tz),
        "cases": _case_facts(cursor, cases, referrals, reviews, tz, joined=people is None),
        "reviews": _review_facts(cursor, reviews, tz),
        "interventions": _intervention_facts(cursor, interventions, referrals, reviews, tz, joined=people is None),
    }


def _write_context_facts(sources: access.ReportingSources, partnership_id: int) -> dict[str, int]:
    """Rewrite all the partnership's context and panel action facts. A
    context's month and an action's day done are local dates; an action is
    completed on the day its history first shows it done (not its last
    change, which may be a later word on it), if it is done now."""
    ContextFact.objects.filter(partnership_id=partnership_id).delete()
    PanelActionFact.objects.filter(partnership_id=partnership_id).delete()
    finder = bands.WardFinder(Ward.objects.filter(partnership_id=partnership_id))
    contexts = [
        ContextFact(partnership_id=partnership_id, kind=kind, ward_id=finder.ward_of(ward, latitude, longitude),
                    recorded_month=timezone.localdate(created_at).replace(day=1), risk_level=risk_level)
        for kind, ward, latitude, longitude, created_at, risk_level in sources.contexts.order_by().values_list(
            "kind", "ward", "latitude", "longitude", "created_at", "risk_level").iterator()
    ]
    first_done = sources.panel_action_history.filter(pgh_obj_id=OuterRef("pk"), status=ActionStatus.DONE).order_by(
        "pgh_created_at").values("pgh_created_at")[:1]
    actions = [
        PanelActionFact(partnership_id=partnership_id, due_month=due_on.replace(day=1), due_on=due_on, status=status,
                        completed_on=timezone.localdate(done_at) if status == ActionStatus.DONE and done_at else None,
                        owner_agency_kind=agency_kind)
        for due_on, status, agency_kind, done_at in sources.panel_actions.order_by().annotate(
            done_at=Subquery(first_done)).values_list("due_on", "status", "owner_agency__kind", "done_at").iterator()
    ]
    return {"contexts": len(ContextFact.objects.bulk_create(contexts, batch_size=CHUNK)),
            "panel_actions": len(PanelActionFact.objects.bulk_create(actions, batch_size=CHUNK))}


def refresh(actor: access.Actor, *, full: bool = False) -> RefreshResult:
    """Bring the actor's partnership's reporting schema up to date: only
    the young people whose records changed since the last run, or all of
    them on the first run, after reference data was loaded, or when
    ``full``; the contexts and panel actions, all of them, when any
    changed or on a full run. One transaction; a second refresh at the
    same time waits for the first. Written to the access log. For the system actor of a
    partnership (``access.reporting_sources`` gives anyone else nothing)."""
    sources = access.reporting_sources(actor)
    tz = settings.TIME_ZONE
    with transaction.atomic():
        state, _ = RefreshState.objects.select_for_update().get_or_create(partnership_id=actor.partnership_id)
        started = timezone.now()
        full = full or state.needs_full or state.changes_until is None
        totals = dict.fromkeys(("referrals", "cases", "reviews", "interventions", "contexts", "panel_actions"), 0)
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('work_mem', %s, true)", [WORK_MEM])
            if full:
                for model in FACT_MODELS:
                    model.objects.filter(partnership_id=actor.partnership_id).delete()
                totals.update(_write_facts(cursor, sources, None, tz))
                people = sources.young_people.count()
            else:
                changed = sorted(access.reporting_changes(actor, state.changes_until - OVERLAP))
                people = len(changed)
                for start in range(0, len(changed), CHUNK):
                    chunk = changed[start:start + CHUNK]
                    keys = list(ReportingKey.objects.filter(young_person_id__in=chunk).values_list("key", flat=True))
                    for model in FACT_MODELS:
                        # Within the partnership's range of its one index.
                        model.objects.filter(partnership_id=actor.partnership_id, person_key__in=keys).delete()
                    for name, count in _write_facts(cursor, sources, chunk, tz).items():
                        totals[name] += count
        contexts_changed = full or access.reporting_contexts_changed(actor, state.changes_until - OVERLAP)
        if contexts_changed:
            totals.update(_write_context_facts(sources, actor.partnership_id))
        state.changes_until, state.refreshed_at, state.needs_full = started, timezone.now(), False
        wrote = bool(full or people or contexts_changed)
        if wrote:
            state.facts_version = uuid.uuid4()
        state.save()
        access.log_access(
            actor, "refresh", object_type="reporting schema", basis="Scheduled refresh of the monitoring",
            detail={"full": full, "young_people": people, "facts": totals},
        )
    return RefreshResult(full=full, young_people=people, facts=totals, wrote=wrote)


def refresh_all(*, full: bool = False, workers: int | None = None) -> dict[int, RefreshResult]:
    """Refresh every active partnership's reporting schema, each inside its
    own row-level security and its own transaction.

    The work is PostgreSQL's, so partnerships are refreshed side by side on
    ``workers`` connections (``MONITORING_REFRESH_WORKERS``, one per core by
    default). Inside a caller's open transaction they run one after another
    on its connection: another connection could not see what it wrote."""
    ids = access.task_partnership_ids()
    workers = settings.MONITORING_REFRESH_WORKERS if workers is None else workers
    if workers <= 1 or len(ids) <= 1 or connection.in_atomic_block:
        results = {pid: _refresh_partnership(pid, full) for pid in ids}
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="monitoring-refresh") as pool:
            results = dict(zip(ids, pool.map(lambda pid: _on_own_connection(pid, full), ids)))
    if any(result.full for result in results.values()) and not connection.in_atomic_block:
        _vacuum()
    return results


def _vacuum() -> None:
    """After a full run, which deleted and wrote again every fact of a
    partnership: reclaim the old facts' space for the next run's, and
    give the planner the new facts' statistics. Not left to autovacuum,
    which may come late or (as on this project's CI machine) not at all:
    there, every full run made the tables and their index larger and the
    next run slower (90 s, then 135 s, then 141 s at 1,000,000 cases).
    The reporting keys too: a first run writes one for every young person.
    Outside a transaction, as VACUUM must be."""
    tables = ", ".join(model._meta.db_table for model in VACUUMED)
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {tables}")


def as_partnership(partnership_id: int) -> access.within_partnership:
    """``with as_partnership(pid) as actor:`` the monitoring's work as the
    partnership's system actor, inside its row-level security: the
    refresh, and working the figures out after it (the scheduled task)."""
    return access.within_partnership(access.system_actor(label="monitoring", partnership=partnership_id))


def _refresh_partnership(partnership_id: int, full: bool) -> RefreshResult:
    with as_partnership(partnership_id) as actor:
        return refresh(actor, full=full)


def _on_own_connection(partnership_id: int, full: bool) -> RefreshResult:
    """One partnership's refresh in a worker thread, which has a database
    connection of its own (Django's are per thread), closed when done."""
    try:
        return _refresh_partnership(partnership_id, full)
    finally:
        connections.close_all()

