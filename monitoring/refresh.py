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

The referrals and reviews a case's or an intervention's facts look up are
inlined (``NOT MATERIALIZED``), so each lookup is an index scan by case,
not a pass over every review.

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
FACT_MODELS = (ReferralFact, CaseFact, ReviewFact, InterventionFact)


@dataclass(frozen=True)
class RefreshResult:
    full: bool
    young_people: int
    facts: dict[str, int]


def _sql(queryset: QuerySet) -> tuple[str, tuple]:
    return queryset.query.sql_with_params()


def _execute(cursor, sql: str, params: list) -> int:
    cursor.execute(sql, params)
    return max(cursor.rowcount, 0)


def _holidays() -> list[dt.date]:
    today = timezone.localdate()
    return sorted(d for year in range(2000, today.year + 2) for d in bank_holidays(year))


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
    sql, params = _sql(people.values("id", "partnership_id"))
    cursor.execute(
        f"INSERT INTO monitoring_reportingkey (young_person_id, partnership_id, key)"
        f" SELECT p.id, p.partnership_id, gen_random_uuid() FROM ({sql}) p"
        f" ON CONFLICT (young_person_id) DO NOTHING",
        list(params),
    )


def _referral_facts(cursor, referrals: QuerySet, tz: str) -> int:
    sql, params = _sql(referrals.values(
        "young_person_id", "partnership_id", "received_at", "decided_at", "concerns", "risk_level", "status",
        agency_kind=F("referring_agency__kind"), dob=F("young_person__date_of_birth"),
        gender=F("young_person__gender"), ethnicity=F("young_person__ethnicity"),
        postcode=F("young_person__postcode"),
    ))
    hours = (
        "(SELECT extract(epoch FROM sum(least(r.decided_at, (d + interval '1 day') AT TIME ZONE %s)"
        " - greatest(r.received_at, d AT TIME ZONE %s))) / 3600.0"
        " FROM generate_series(date_trunc('day', r.received_at AT TIME ZONE %s), r.decided_at AT TIME ZONE %s,"
        " interval '1 day') AS d"
        " WHERE extract(isodow FROM d) < 6 AND NOT (d::date = ANY(%s::date[]))"
        " AND least(r.decided_at, (d + interval '1 day') AT TIME ZONE %s) > greatest(r.received_at, d AT TIME ZONE %s))"
    )
    statement = (
        f"WITH r AS ({sql}), t AS (SELECT r.*, lag(r.received_at) OVER"
        f" (PARTITION BY r.young_person_id ORDER BY r.received_at) AS previous_at,"
        f" {_local_date('r.received_at')} AS received_on, {hours} AS hours FROM r)"
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
    holidays = _holidays()
    return _execute(cursor, statement, [*params, tz, tz, tz, tz, tz, holidays, tz, tz])


def _entry_risk(cases: str, referrals: str) -> str:
    """The risk of the first referral a case opened on (else its risk now)."""
    return (
        f"coalesce((SELECT r.risk_level FROM ({referrals}) r WHERE r.case_id = {cases}.id"
        f" ORDER BY r.received_at LIMIT 1), {cases}.risk_level)"
    )


def _case_facts(cursor, cases: QuerySet, referrals: QuerySet, reviews: QuerySet, tz: str) -> int:
    case_sql, case_params = _sql(cases.values(
        "id", "young_person_id", "partnership_id", "opened_at", "closed_at", "status", "closure_reason",
        "risk_level", dob=F("young_person__date_of_birth"), gender=F("young_person__gender"),
        ethnicity=F("young_person__ethnicity"), postcode=F("young_person__postcode"),
    ))
    ref_sql, ref_params = _sql(referrals.values("case_id", "received_at", "risk_level"))
    rev_sql, rev_params = _sql(reviews.values("case_id", "decision"))
    statement = (
        f"WITH c0 AS ({case_sql}), c AS (SELECT c0.*, {_local_date('c0.opened_at')} AS opened_on FROM c0),"
        f" r AS NOT MATERIALIZED ({ref_sql}), v AS NOT MATERIALIZED ({rev_sql})"
        f" INSERT INTO monitoring_casefact (partnership_id, person_key, opened_month, closed_month, status,"
        f" closure_reason, risk_on_entry, risk_now, opened_on, closed_on, stepped_down, escalated, ward_id,"
        f" age_band, sex, ethnic_group)"
        f" SELECT c.partnership_id, k.key, date_trunc('month', c.opened_on)::date,"
        f" CASE WHEN c.closed_at IS NULL THEN NULL ELSE {_month('c.closed_at')} END, c.status, c.closure_reason,"
        f" {_entry_risk('c', 'SELECT * FROM r')}, c.risk_level, c.opened_on,"
        f" CASE WHEN c.closed_at IS NULL THEN NULL ELSE {_local_date('c.closed_at')} END,"
        f" c.closure_reason = 'stepped_down' OR EXISTS (SELECT 1 FROM v WHERE v.case_id = c.id AND v.decision = 'step_down'),"
        f" c.closure_reason = 'escalated' OR EXISTS (SELECT 1 FROM v WHERE v.case_id = c.id AND v.decision = 'escalate'),"
        f" pw.ward_id, {bands.age_band_sql('c.dob', 'c.opened_on')}, {bands.sex_sql('c.gender')},"
        f" {bands.ethnic_group_sql('c.ethnicity')}"
        f" FROM c JOIN monitoring_reportingkey k ON k.young_person_id = c.young_person_id{_ward_join('c')}"
    )
    params = [*case_params, tz, *ref_params, *rev_params, tz, tz]
    return _execute(cursor, statement, params)


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


def _intervention_facts(cursor, interventions: QuerySet, referrals: QuerySet, reviews: QuerySet, tz: str) -> int:
    sql, params = _sql(interventions.values(
        "case_id", "kind", "status", "started_on", "ended_on", "created_at", "sessions_offered",
        "sessions_attended", provider=F("provider_agency__name"), young_person_id=F("case__young_person_id"),
        partnership_id=F("case__partnership_id"), postcode=F("case__young_person__postcode"),
        case_risk=F("case__risk_level"),
    ))
    ref_sql, ref_params = _sql(referrals.values("case_id", "received_at", "risk_level"))
    rev_sql, rev_params = _sql(reviews.values("case_id", "completed_at", "risk_after"))
    start = f"coalesce(i.started_on, {_local_date('i.created_at')})"
    statement = (
        f"WITH i AS ({sql}), r AS NOT MATERIALIZED ({ref_sql}), v AS NOT MATERIALIZED ({rev_sql})"
        f" INSERT INTO monitoring_interventionfact (partnership_id, person_key, kind, provider, status, month,"
        f" sessions_offered, sessions_attended, risk_before, risk_after, ward_id)"
        f" SELECT i.partnership_id, k.key, i.kind, i.provider, i.status, date_trunc('month', {start})::date,"
        f" i.sessions_offered, i.sessions_attended,"
        f" coalesce((SELECT v.risk_after FROM v WHERE v.case_id = i.case_id AND {_local_date('v.completed_at')} < {start}"
        f" ORDER BY v.completed_at DESC LIMIT 1),"
        f" (SELECT r.risk_level FROM r WHERE r.case_id = i.case_id ORDER BY r.received_at LIMIT 1), i.case_risk),"
        f" coalesce((SELECT v.risk_after FROM v WHERE v.case_id = i.case_id AND i.ended_on IS NOT NULL"
        f" AND {_local_date('v.completed_at')} >= i.ended_on ORDER BY v.completed_at LIMIT 1), ''),"
        f" pw.ward_id"
        f" FROM i JOIN monitoring_reportingkey k ON k.young_person_id = i.young_person_id{_ward_join('i')}"
    )
    params = [*params, *ref_params, *rev_params, tz, tz, tz, tz]
    return _execute(cursor, statement, params)


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
        "cases": _case_facts(cursor, cases, referrals, reviews, tz),
        "reviews": _review_facts(cursor, reviews, tz),
        "interventions": _intervention_facts(cursor, interventions, referrals, reviews, tz),
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
                        model.objects.filter(person_key__in=keys).delete()
                    for name, count in _write_facts(cursor, sources, chunk, tz).items():
                        totals[name] += count
        contexts_changed = full or access.reporting_contexts_changed(actor, state.changes_until - OVERLAP)
        if contexts_changed:
            totals.update(_write_context_facts(sources, actor.partnership_id))
        state.changes_until, state.refreshed_at, state.needs_full = started, timezone.now(), False
        if full or people or contexts_changed:
            state.facts_version = uuid.uuid4()
        state.save()
        access.log_access(
            actor, "refresh", object_type="reporting schema", basis="Scheduled refresh of the monitoring",
            detail={"full": full, "young_people": people, "facts": totals},
        )
    return RefreshResult(full=full, young_people=people, facts=totals)


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
        return {pid: _refresh_partnership(pid, full) for pid in ids}
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="monitoring-refresh") as pool:
        return dict(zip(ids, pool.map(lambda pid: _on_own_connection(pid, full), ids)))


def _refresh_partnership(partnership_id: int, full: bool) -> RefreshResult:
    actor = access.system_actor(label="monitoring", partnership=partnership_id)
    with access.within_partnership(actor):
        return refresh(actor, full=full)


def _on_own_connection(partnership_id: int, full: bool) -> RefreshResult:
    """One partnership's refresh in a worker thread, which has a database
    connection of its own (Django's are per thread), closed when done."""
    try:
        return _refresh_partnership(partnership_id, full)
    finally:
        connections.close_all()

