"""The monitoring's figures: what its pages and exports show, read from the
reporting schema only (never the casework records), every count passed
through ``suppression``.

Periods are fixed: a financial year (April to March) in quarters, with the
year's total. A ward (or "ward not known") and a concern narrow every
table. Each selector takes the actor and answers only the reporting role
(``access.may_read_monitoring``); the views write every reading and export
to the access log (``log_reading``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from agencies.models import AgencyKind
from monitoring.models import (
    AgeBand,
    CaseFact,
    EthnicGroup,
    InterventionFact,
    ReferralFact,
    ReviewFact,
    Sex,
    Ward,
    YoungPopulation,
)
from monitoring.suppression import Figure, Protected, protected_columns, protected_table
from partnerships.models import Concern
from partnerships.rules import rules_in_force
from referrals.models import ClosureReason, InterventionKind, InterventionStatus, ReferralStatus, RiskLevel
from safeguarding import access

WARD_NOT_KNOWN = 0  # the ward filter's value for "ward not known"
NOT_KNOWN = "Ward not known"
REPORTS = {
    "referrals": "Referrals",
    "cases": "Cases",
    "interventions": "Interventions",
    "disproportionality": "Disproportionality",
}
RISK_ORDER = [RiskLevel.RED, RiskLevel.AMBER, RiskLevel.GREEN]
POPULATION_BANDS = [AgeBand.TEN_TO_13, AgeBand.FOURTEEN_15, AgeBand.SIXTEEN_17, AgeBand.EIGHTEEN_24]


@dataclass(frozen=True)
class Filters:
    year: int  # the financial year starting in April of this year
    ward: int | None = None  # a ward's id, WARD_NOT_KNOWN, or None for all
    concern: str | None = None

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, 4, 1)

    @property
    def end(self) -> dt.date:
        return dt.date(self.year + 1, 4, 1)

    def as_detail(self) -> dict:
        return {"year": self.year, "ward": self.ward, "concern": self.concern}


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    dimension: str
    protected: Protected
    note: str = ""
    # Rows not exclusive (a referral with several concerns is in several):
    # no column totals are shown.
    exclusive: bool = True


@dataclass
class Report:
    name: str
    title: str
    filters: Filters
    threshold: int
    tables: list[Table] = field(default_factory=list)
    extra: dict = field(default_factory=dict)


def _require(actor: access.Actor) -> None:
    if not access.may_read_monitoring(actor):
        raise access.NotAllowed("The monitoring is for the partnership's reporting analysts")


def financial_year(day: dt.date) -> int:
    return day.year if day.month >= 4 else day.year - 1


def quarter_labels(year: int) -> list[str]:
    return [f"Apr to Jun {year}", f"Jul to Sep {year}", f"Oct to Dec {year}", f"Jan to Mar {year + 1}"]


def _quarter(month: dt.date) -> int:
    return ((month.month - 4) % 12) // 3


def years(actor: access.Actor) -> list[int]:
    """The financial years there are figures for, newest first (always the
    current one)."""
    _require(actor)
    months = ReferralFact.objects.filter(partnership_id=actor.partnership_id).values_list("received_month", flat=True)
    first = months.order_by("received_month").first()
    current = financial_year(timezone.localdate())
    start = financial_year(first) if first else current
    return list(range(current, start - 1, -1))


def wards(actor: access.Actor) -> list[Ward]:
    _require(actor)
    return list(Ward.objects.filter(partnership_id=actor.partnership_id).order_by("name"))


def concerns(actor: access.Actor) -> list[tuple[str, str]]:
    _require(actor)
    return list(
        Concern.objects.filter(partnership_id=actor.partnership_id).order_by("position", "label")
        .values_list("code", "label")
    )


def threshold(actor: access.Actor) -> int:
    return rules_in_force(actor.partnership_id).small_number_threshold


def _where(filters: Filters, month_field: str, *, concern: bool = True) -> Q:
    q = Q(**{f"{month_field}__gte": filters.start, f"{month_field}__lt": filters.end})
    if filters.ward == WARD_NOT_KNOWN:
        q &= Q(ward__isnull=True)
    elif filters.ward is not None:
        q &= Q(ward_id=filters.ward)
    if concern and filters.concern:
        q &= Q(concerns__contains=[filters.concern])
    return q


def _table(key: str, title: str, dimension: str, rows: list[tuple], counts: dict, limit: int, filters: Filters,
           *, exclusive: bool = True, note: str = "") -> Table:
    """A table of ``rows`` ((value, label) pairs) by quarter, from counts
    keyed (value, quarter)."""
    matrix = [[counts.get((value, q), 0) for q in range(4)] for value, _ in rows]
    protected = protected_table([label for _, label in rows], quarter_labels(filters.year), matrix, limit,
                                column_totals=exclusive)
    return Table(key, title, dimension, protected, note=note, exclusive=exclusive)


def _by_quarter(queryset: QuerySet, dimension: str, month_field: str) -> dict:
    counts: dict = defaultdict(int)
    for value, month, n in queryset.values_list(dimension, month_field).annotate(n=Count("id")).order_by():
        counts[(value, _quarter(month))] += n
    return counts


def _by_quarter_many(queryset: QuerySet, dimensions: list[str], month_field: str) -> dict[str, dict]:
    """``_by_quarter`` for several dimensions in one pass over the facts
    (GROUPING SETS): {dimension: {(value, quarter): count}}."""
    sql, params = queryset.values("id", month_field, *dimensions).query.sql_with_params()
    sets = ", ".join(f"(f.{d}, f.{month_field})" for d in dimensions)
    flags = ", ".join(f"GROUPING(f.{d})" for d in dimensions)
    columns = ", ".join(f"f.{d}" for d in dimensions)
    counts: dict[str, dict] = {d: defaultdict(int) for d in dimensions}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns}, f.{month_field}, {flags}, count(*) FROM ({sql}) f GROUP BY GROUPING SETS ({sets})",
            params,
        )
        for row in cursor.fetchall():
            values, month, grouped, n = row[:len(dimensions)], row[len(dimensions)], row[len(dimensions) + 1:-1], row[-1]
            # GROUPING() is 0 for the dimension this row is grouped by.
            index = list(grouped).index(0)
            counts[dimensions[index]][(values[index], _quarter(month))] += n
    return counts


def _ward_rows(actor: access.Actor, filters: Filters) -> list[tuple]:
    rows = [(w.pk, w.name) for w in wards(actor)] + [(None, NOT_KNOWN)]
    if filters.ward == WARD_NOT_KNOWN:
        return [(None, NOT_KNOWN)]
    return [r for r in rows if r[0] == filters.ward] if filters.ward is not None else rows


def _concern_counts(actor: access.Actor, filters: Filters) -> dict:
    """Referrals by concern and quarter: a referral counts once under each
    of its concerns."""
    sql = (
        "SELECT c.code, f.received_month, count(*) FROM monitoring_referralfact f, unnest(f.concerns) AS c(code)"
        " WHERE f.partnership_id = %s AND f.received_month >= %s AND f.received_month < %s"
    )
    params: list = [actor.partnership_id, filters.start, filters.end]
    if filters.ward == WARD_NOT_KNOWN:
        sql += " AND f.ward_id IS NULL"
    elif filters.ward is not None:
        sql += " AND f.ward_id = %s"
        params.append(filters.ward)
    if filters.concern:
        sql += " AND c.code = %s"
        params.append(filters.concern)
    counts: dict = defaultdict(int)
    with connection.cursor() as cursor:
        cursor.execute(sql + " GROUP BY 1, 2", params)
        for code, month, n in cursor.fetchall():
            counts[(code, _quarter(month))] += n
    return counts


def referrals_report(actor: access.Actor, filters: Filters) -> Report:
    """Referrals received by concern, referring agency kind, ward, age
    band, sex and ethnic group; their decisions; time to decision against
    the one-working-day standard; repeat referrals within 12 months."""
    _require(actor)
    limit = threshold(actor)
    facts = ReferralFact.objects.filter(partnership_id=actor.partnership_id).filter(_where(filters, "received_month"))
    report = Report("referrals", REPORTS["referrals"], filters, limit)
    by = _by_quarter_many(facts, ["referring_agency_kind", "ward_id", "age_band", "sex", "ethnic_group", "status",
                                  "within_standard", "repeat_within_year"], "received_month")
    concern_rows = [c for c in concerns(actor) if not filters.concern or c[0] == filters.concern]
    report.tables = [
        _table("concern", "Referrals by concern", "Concern", concern_rows, _concern_counts(actor, filters), limit,
               filters, exclusive=False,
               note="A referral with several concerns is counted under each, so the concerns add up to more "
                    "than the referrals."),
        _table("agency", "Referrals by referring agency", "Referring agency", list(AgencyKind.choices),
               by["referring_agency_kind"], limit, filters),
        _table("ward", "Referrals by ward", "Ward", _ward_rows(actor, filters),
               by["ward_id"], limit, filters,
               note="The ward of the young person's postcode by the partnership's postcode lookup; a postcode "
                    "not in it is counted as ward not known."),
        _table("age", "Referrals by age band", "Age at referral", list(AgeBand.choices),
               by["age_band"], limit, filters),
        _table("sex", "Referrals by sex", "Sex", list(Sex.choices),
               by["sex"], limit, filters),
        _table("ethnicity", "Referrals by ethnic group", "Ethnic group (ONS 2021)", list(EthnicGroup.choices),
               by["ethnic_group"], limit, filters),
        _table("decision", "Referrals by decision", "Decision", list(ReferralStatus.choices),
               by["status"], limit, filters),
        _table("standard", "Time to decision against the one-working-day standard", "Time to decision",
               [(True, "Within one working day"), (False, "Longer than one working day"), (None, "Not decided yet")],
               by["within_standard"], limit, filters,
               note="Working time from receipt to decision: weekends and bank holidays do not count."),
        _table("repeat", "Repeat referrals", "Referral",
               [(True, "Another referral in the 12 months before"), (False, "No referral in the 12 months before")],
               by["repeat_within_year"], limit, filters),
    ]
    return report


def _time_open(opened: dt.date, closed: dt.date) -> str:
    days = (closed - opened).days
    return "under3" if days < 91 else "3to6" if days < 183 else "6to12" if days < 365 else "12plus"


def cases_report(actor: access.Actor, filters: Filters) -> Report:
    """Cases opened by risk on entry, reviews by the risk they found, cases
    closed by reason and by time open, step-downs and escalations."""
    _require(actor)
    limit = threshold(actor)
    pid = actor.partnership_id
    scope = Q(person_key__in=ReferralFact.objects.filter(
        partnership_id=pid, concerns__contains=[filters.concern]).values("person_key")) if filters.concern else Q()
    opened = CaseFact.objects.filter(partnership_id=pid).filter(_where(filters, "opened_month", concern=False), scope)
    closed = CaseFact.objects.filter(partnership_id=pid, closed_month__isnull=False).filter(
        _where(filters, "closed_month", concern=False), scope)
    reviews = ReviewFact.objects.filter(partnership_id=pid, review_month__gte=filters.start,
                                        review_month__lt=filters.end).filter(scope)
    if filters.ward is not None:
        ward_cases = CaseFact.objects.filter(partnership_id=pid).filter(
            Q(ward__isnull=True) if filters.ward == WARD_NOT_KNOWN else Q(ward_id=filters.ward))
        reviews = reviews.filter(person_key__in=ward_cases.values("person_key"))
    time_open: dict = defaultdict(int)
    for opened_on, closed_on, month in closed.values_list("opened_on", "closed_on", "closed_month"):
        time_open[(_time_open(opened_on, closed_on), _quarter(month))] += 1
    steps: dict = defaultdict(int)
    for month, down, up in opened.values_list("opened_month", "stepped_down", "escalated"):
        steps[("down", _quarter(month))] += down
        steps[("up", _quarter(month))] += up
    risks = [(r, RiskLevel(r).label) for r in RISK_ORDER]
    report = Report("cases", REPORTS["cases"], filters, limit)
    report.tables = [
        _table("opened", "Cases opened, by risk on entry", "Risk on entry", risks,
               _by_quarter(opened, "risk_on_entry", "opened_month"), limit, filters),
        _table("reviews", "Reviews completed, by the risk they found", "Risk at review", risks,
               _by_quarter(reviews, "risk_after", "review_month"), limit, filters),
        _table("closed", "Cases closed, by reason", "Reason", list(ClosureReason.choices),
               _by_quarter(closed, "closure_reason", "closed_month"), limit, filters),
        _table("time_open", "Cases closed, by time open", "Time open",
               [("under3", "Under 3 months"), ("3to6", "3 to 6 months"), ("6to12", "6 to 12 months"),
                ("12plus", "12 months or more")], time_open, limit, filters),
        _table("steps", "Step-downs and escalations of the cases opened", "Outcome",
               [("down", "Stepped down"), ("up", "Escalated to statutory services")], steps, limit, filters,
               exclusive=False, note="A case may be both stepped down and escalated; counted by the quarter it opened."),
    ]
    return report


def _risk_change(before: str, after: str) -> str:
    if not after:
        return "unknown"
    order = {RiskLevel.GREEN: 0, RiskLevel.AMBER: 1, RiskLevel.RED: 2}
    delta = order.get(after, 0) - order.get(before, 0)
    return "lower" if delta < 0 else "higher" if delta > 0 else "same"


def interventions_report(actor: access.Actor, filters: Filters) -> Report:
    """Interventions by kind and provider (uptake), their status
    (completion), attendance, and the change in risk after them."""
    _require(actor)
    limit = threshold(actor)
    pid = actor.partnership_id
    facts = InterventionFact.objects.filter(partnership_id=pid).filter(_where(filters, "month", concern=False))
    if filters.concern:
        facts = facts.filter(person_key__in=ReferralFact.objects.filter(
            partnership_id=pid, concerns__contains=[filters.concern]).values("person_key"))
    providers = sorted(set(facts.values_list("provider", flat=True)))
    change: dict = defaultdict(int)
    attendance: dict = defaultdict(lambda: [0, 0, 0])
    for kind, month, before, after, offered, attended in facts.values_list(
            "kind", "month", "risk_before", "risk_after", "sessions_offered", "sessions_attended"):
        change[(_risk_change(before, after), _quarter(month))] += 1
        attendance[kind][0] += 1
        attendance[kind][1] += offered
        attendance[kind][2] += attended
    report = Report("interventions", REPORTS["interventions"], filters, limit)
    report.tables = [
        _table("kind", "Interventions, by kind", "Kind", list(InterventionKind.choices),
               _by_quarter(facts, "kind", "month"), limit, filters),
        _table("provider", "Interventions, by provider", "Provider", [(p, p) for p in providers],
               _by_quarter(facts, "provider", "month"), limit, filters),
        _table("status", "Interventions, by status", "Status", list(InterventionStatus.choices),
               _by_quarter(facts, "status", "month"), limit, filters),
        _table("risk_change", "Risk at the first review after an intervention ended", "Risk after",
               [("lower", "Lower than before"), ("same", "The same"), ("higher", "Higher than before"),
                ("unknown", "Not ended or not reviewed since")], change, limit, filters,
               note="Against the risk found by the last review before it started (or the risk on entry)."),
    ]
    # Attendance is a rate over sessions, shown only for kinds with at
    # least the threshold of interventions (else it is one child's record).
    report.extra["attendance"] = [
        {"kind": label, "rate": (f"{round(100 * attended / offered)}%" if offered else "no sessions offered")
         if n >= limit else f"fewer than {limit} interventions"}
        for value, label in InterventionKind.choices
        for n, offered, attended in [attendance.get(value, (0, 0, 0))] if n
    ]
    return report


def disproportionality_report(actor: access.Actor, filters: Filters) -> Report:
    """Each ethnic group's and age band's share of referrals, of accepted
    referrals and of cases opened, against its share of the young
    population (10 to 24) the partnership loaded. A share is shown only
    where the count behind it and its total are shown."""
    _require(actor)
    limit = threshold(actor)
    pid = actor.partnership_id
    referrals = ReferralFact.objects.filter(partnership_id=pid).filter(_where(filters, "received_month"))
    scope = Q(person_key__in=referrals.values("person_key")) if filters.concern else Q()
    cases = CaseFact.objects.filter(partnership_id=pid).filter(_where(filters, "opened_month", concern=False), scope)
    population = YoungPopulation.objects.filter(partnership_id=pid)
    if filters.ward == WARD_NOT_KNOWN:
        population = population.none()
    elif filters.ward is not None:
        population = population.filter(ward_id=filters.ward)
    report = Report("disproportionality", REPORTS["disproportionality"], filters, limit)
    columns = ["Referrals", "Accepted referrals", "Cases opened"]
    comparisons = []
    for key, title, field_name, groups in (
        ("ethnicity", "By ethnic group", "ethnic_group", list(EthnicGroup.choices)),
        ("age", "By age band", "age_band", list(AgeBand.choices)),
    ):
        counted = [
            dict(referrals.values_list(field_name).annotate(n=Count("id")).order_by()),
            dict(referrals.filter(status=ReferralStatus.ACCEPTED).values_list(field_name).annotate(n=Count("id"))
                 .order_by()),
            dict(cases.values_list(field_name).annotate(n=Count("id")).order_by()),
        ]
        people = dict(population.values_list(field_name).annotate(n=Sum("people")).order_by())
        matrix = [[c.get(value, 0) for c in counted] for value, _ in groups]
        protected = protected_columns([label for _, label in groups], columns, matrix, limit)
        table = Table(key, title, "Group", protected)
        report.tables.append(table)
        comparisons.append({"key": key, "title": title, "rows": _shares(groups, protected, people)})
    report.extra["comparisons"] = comparisons
    return report


def _share(figure: Figure, total: Figure | None) -> float | None:
    if figure.count is None or total is None or not total.count:
        return None
    return figure.count / total.count


def _shares(groups: list[tuple], protected: Protected, people: dict) -> list[dict]:
    population_total = sum(people.values())
    rows = []
    for i, (value, label) in enumerate(groups):
        population_share = people.get(value, 0) / population_total if population_total else None
        shares = [_share(protected.cells[i][j], protected.column_totals[j]) for j in range(3)]
        rows.append({
            "group": label,
            "population": f"{100 * population_share:.1f}%" if population_share else "no population figure",
            "population_share": population_share,
            "shares": [
                {
                    "share": f"{100 * s:.1f}%" if s is not None else protected.cells[i][j].text,
                    "ratio": f"{s / population_share:.2f}" if s is not None and population_share else "",
                    "value": s,
                }
                for j, s in enumerate(shares)
            ],
        })
    return rows


def ward_map(actor: access.Actor, report: Report) -> list[dict]:
    """For the map: each ward's referrals in the period (the figures of the
    report's ward table, suppressed as there) per 1,000 young people."""
    table = next(t for t in report.tables if t.key == "ward")
    people = dict(
        YoungPopulation.objects.filter(partnership_id=actor.partnership_id).values_list("ward_id")
        .annotate(n=Sum("people")).order_by()
    )
    by_name = {w.name: w for w in wards(actor)}
    shown = []
    for i, name in enumerate(table.protected.rows):
        ward = by_name.get(name)
        if ward is None:
            continue
        figure = table.protected.row_totals[i]
        population = people.get(ward.pk, 0)
        rate = 1000 * figure.count / population if figure.count is not None and population else None
        shown.append({"ward": ward, "figure": figure, "rate": rate})
    return shown


def build(actor: access.Actor, name: str, filters: Filters) -> Report:
    return {
        "referrals": referrals_report, "cases": cases_report, "interventions": interventions_report,
        "disproportionality": disproportionality_report,
    }[name](actor, filters)


def log_reading(actor: access.Actor, name: str, filters: Filters, *, export: str | None = None) -> None:
    """Every page and export of the monitoring in the access log: which
    report, with which filters (no case, no person: there is none in it)."""
    access.log_access(
        actor, "export" if export else "view", object_type="monitoring report",
        basis=f"Reporting analyst ({actor.agency.name})" if actor.agency else "",
        detail={"report": name, "format": export or "page", **filters.as_detail()},
    )
