"""The monitoring's figures: what its pages and exports show, read from the
reporting schema only (never the casework records), every count passed
through ``suppression``.

Periods are fixed: a financial year (April to March) in quarters, with the
year's total. A ward (or "ward not known") and a concern narrow every
table, but for the contexts and panels, which have no concern (and panel
actions no ward): ``contexts_report`` says so. Each selector takes the actor and answers only the reporting role
(``access.may_read_monitoring``); the views write every reading and export
to the access log (``log_reading``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    ExpressionWrapper,
    F,
    Min,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.utils import timezone

from agencies.models import AgencyKind
from contexts.models import ActionStatus
from monitoring.models import (
    COUNTED_CONTEXT_KINDS,
    AgeBand,
    CaseFact,
    ContextFact,
    EthnicGroup,
    InterventionFact,
    PanelActionFact,
    ReferralFact,
    RefreshState,
    ReviewFact,
    Sex,
    Ward,
    YoungPopulation,
)
from monitoring.suppression import Figure, Protected, protect, protect_stocks, suppress
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
    "contexts": "Contexts and panels",
}
RISK_ORDER = [RiskLevel.RED, RiskLevel.AMBER, RiskLevel.GREEN]
POPULATION_BANDS = [AgeBand.TEN_TO_13, AgeBand.FOURTEEN_15, AgeBand.SIXTEEN_17, AgeBand.EIGHTEEN_24]


@dataclass(frozen=True)
class Filters:
    year: int  # the financial year starting in April of this year
    ward: int | None = None  # a ward's id, WARD_NOT_KNOWN, or None for all
    concern: str | None = None


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
    # What the columns are, what the rows' totals are headed, and what the
    # chart before the table draws (the rows' totals).
    by: str = "quarter"
    total_column: str = "Year"
    measure: str = "the year's totals"


@dataclass
class Report:
    name: str
    title: str
    filters: Filters
    threshold: int
    tables: list[Table] = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    # What the reader must know of the figures as a whole (a filter that
    # does not apply to them), on the page and in the exports.
    notes: list[str] = field(default_factory=list)


def _require(actor: access.Actor) -> None:
    if not access.may_work_out_monitoring(actor):
        raise access.NotAllowed("The monitoring is for the partnership's reporting analysts")


def financial_year(day: dt.date) -> int:
    return day.year if day.month >= 4 else day.year - 1


def quarter_labels(year: int) -> list[str]:
    return [f"Apr to Jun {year}", f"Jul to Sep {year}", f"Oct to Dec {year}", f"Jan to Mar {year + 1}"]


def _quarter(month: dt.date) -> int:
    return ((month.month - 4) % 12) // 3


def years(actor: access.Actor) -> list[int]:
    """The financial years there are figures for, newest first (always the
    current one): from the first referral received, context recorded or
    panel action due."""
    _require(actor)
    firsts = [model.objects.filter(partnership_id=actor.partnership_id).aggregate(first=Min(month))["first"]
              for model, month in ((ReferralFact, "received_month"), (ContextFact, "recorded_month"),
                                   (PanelActionFact, "due_month"))]
    current = financial_year(timezone.localdate())
    start = min([financial_year(first) for first in firsts if first] + [current])
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


# ---------------------------------------------------------------------------
# The published figures of a population, protected together
#
# Every figure any view or export shows is an entry of one set of linked
# figures per population (the referrals, the cases opened, the reviews, the
# cases closed, the interventions) and financial year: each dimension's
# rows by ward (every ward, "ward not known" and the whole borough) and by
# quarter (and the year). Each view shows a slice of it, so two views never
# show one figure differently. The suppression sees every line an attacker
# could add up: the quarters to the year, the rows to their total, the
# wards to the borough. With a concern chosen, the figures of the referrals
# (or young people) with that concern are protected together with those
# without it, which anyone can work out as the borough's less them, and
# with the borough's figures as they are already shown (``_protected``).
# ---------------------------------------------------------------------------

ALL_WARDS = "all"  # the ward layer of the whole borough
YEAR = 4  # the column of the year's total
TOTAL = ""  # the dimension of a population's total
OTHER = "~other"  # the row of values that no listed row has
NOT_RECORDED = "Not recorded or other"
OUTSIDE = "~outside"  # a sub-population's value for what is not in it
BASE, WITH, WITHOUT = "base", "with", "without"  # the layers (no concern; with the concern; without it)
CACHE_SECONDS = 24 * 3600
HERE = object()  # in a table's rows: the ward of the view


@dataclass(frozen=True)
class Dim:
    key: str
    expression: object  # the fact's field, or an expression over it
    # (value, label); a label of None is never shown, but can be worked out
    # (those not stepped down beside those stepped down).
    rows: tuple
    exclusive: bool = True  # each fact in one row: the rows add up to the total
    yearly: bool = False  # the year's figure only
    stock: bool = False  # counted at each quarter's end: the quarters do not add up to a year
    within: tuple | None = None  # (dimension, value) its rows add up to, instead of the total
    concern: bool = False  # a concern's flag: in the figures without a concern only

    @property
    def columns(self) -> tuple[int, ...]:
        return (YEAR,) if self.yearly else (0, 1, 2, 3) if self.stock else (0, 1, 2, 3, YEAR)


def _flag(key: str, field_name: str, label: str, **kwargs) -> Dim:
    return Dim(key, field_name, ((True, label), (False, None)), **kwargs)


RISK_CHANGE_SQL = (
    "CASE WHEN risk_after = '' THEN 'unknown'"
    " WHEN coalesce(array_position(ARRAY['green','amber','red'], risk_after::text), 1)"
    " < coalesce(array_position(ARRAY['green','amber','red'], risk_before::text), 1) THEN 'lower'"
    " WHEN coalesce(array_position(ARRAY['green','amber','red'], risk_after::text), 1)"
    " > coalesce(array_position(ARRAY['green','amber','red'], risk_before::text), 1) THEN 'higher'"
    " ELSE 'same' END"
)
TIME_OPEN_SQL = (
    "CASE WHEN closed_on - opened_on < 91 THEN 'under3' WHEN closed_on - opened_on < 183 THEN '3to6'"
    " WHEN closed_on - opened_on < 365 THEN '6to12' ELSE '12plus' END"
)
TIME_OPEN = (("under3", "Under 3 months"), ("3to6", "3 to 6 months"), ("6to12", "6 to 12 months"),
             ("12plus", "12 months or more"))
RISK_CHANGES = (("lower", "Lower than before"), ("same", "The same"), ("higher", "Higher than before"),
                ("unknown", "Not ended or not reviewed since"))
STANDARD = ((True, "Within one working day"), (False, "Longer than one working day"), (None, "Not decided yet"))
REPEAT = ((True, "Another referral in the 12 months before"), (False, "No referral in the 12 months before"))


def _risks() -> tuple:
    return tuple((r, RiskLevel(r).label) for r in RISK_ORDER)


def _accepted(field_name: str) -> Case:
    return Case(When(status=ReferralStatus.ACCEPTED, then=F(field_name)), default=Value(OUTSIDE))


def _facts(actor: access.Actor, name: str, year: int, concern: str | None) -> tuple[QuerySet, str]:
    """The facts of a population in a financial year (with a concern, only
    those of it: the referrals with it, the cases, reviews and
    interventions of the young people referred with it) and the field of
    their month."""
    pid = actor.partnership_id
    start, end = dt.date(year, 4, 1), dt.date(year + 1, 4, 1)
    if name == "open":
        # Open at some time in the year; ``_count`` takes each quarter's end.
        facts = CaseFact.objects.filter(Q(closed_on__isnull=True) | Q(closed_on__gte=start),
                                        partnership_id=pid, opened_on__lt=end)
        month = "opened_month"
    else:
        model, month = {"referrals": (ReferralFact, "received_month"), "opened": (CaseFact, "opened_month"),
                        "closed": (CaseFact, "closed_month"), "reviews": (ReviewFact, "review_month"),
                        "interventions": (InterventionFact, "month")}[name]
        facts = model.objects.filter(partnership_id=pid, **{f"{month}__gte": start, f"{month}__lt": end})
    if concern and name == "referrals":
        facts = facts.filter(concerns__contains=[concern])
    elif concern:
        # The young people's keys first: as a subquery, PostgreSQL misjudges
        # the array test and plans a pass per fact (minutes at 1M cases).
        keys = set(ReferralFact.objects.filter(partnership_id=pid, concerns__contains=[concern])
                   .values_list("person_key", flat=True))
        facts = facts.filter(person_key__in=keys)
    return facts, month


def _dims(actor: access.Actor, name: str, year: int) -> list[Dim]:
    """A population's dimensions."""
    if name == "referrals":
        return [
            Dim("agency", "referring_agency_kind", tuple(AgencyKind.choices)),
            Dim("age", "age_band", tuple(AgeBand.choices)),
            Dim("sex", "sex", tuple(Sex.choices)),
            Dim("ethnicity", "ethnic_group", tuple(EthnicGroup.choices)),
            Dim("decision", "status", tuple(ReferralStatus.choices)),
            Dim("standard", "within_standard", STANDARD),
            Dim("repeat", "repeat_within_year", REPEAT),
            Dim("accepted_ethnicity", _accepted("ethnic_group"), tuple(EthnicGroup.choices), yearly=True,
                within=("decision", ReferralStatus.ACCEPTED)),
            Dim("accepted_age", _accepted("age_band"), tuple(AgeBand.choices), yearly=True,
                within=("decision", ReferralStatus.ACCEPTED)),
            *(Dim(f"concern:{code}", ExpressionWrapper(Q(concerns__contains=[code]), output_field=BooleanField()),
                  ((True, label), (False, None)), concern=True)
              for code, label in concerns(actor)),
        ]
    if name == "opened":
        return [
                Dim("risk", "risk_on_entry", _risks()),
                _flag("down", "stepped_down", "Stepped down"),
                _flag("up", "escalated", "Escalated to statutory services"),
                Dim("ethnicity", "ethnic_group", tuple(EthnicGroup.choices), yearly=True),
                Dim("age", "age_band", tuple(AgeBand.choices), yearly=True),
        ]
    if name == "closed":
        return [
            Dim("reason", "closure_reason", tuple(ClosureReason.choices)),
            Dim("time_open", RawSQL(TIME_OPEN_SQL, (), output_field=CharField()), TIME_OPEN),
        ]
    if name == "reviews":
        return [Dim("risk", "risk_after", _risks())]
    if name == "open":
        return [Dim("risk", "risk_on_entry", _risks(), stock=True)]
    # The providers of the borough's interventions that year, so that every
    # view has the same rows.
    providers = sorted(set(_facts(actor, name, year, None)[0].values_list("provider", flat=True)))
    return [
        Dim("kind", "kind", tuple(InterventionKind.choices)),
        Dim("provider", "provider", tuple((p, p) for p in providers)),
        Dim("status", "status", tuple(InterventionStatus.choices)),
        Dim("risk_change", RawSQL(RISK_CHANGE_SQL, (), output_field=CharField()), RISK_CHANGES),
    ]


def quarter_starts(year: int) -> list[dt.date]:
    return [dt.date(year, 4, 1), dt.date(year, 7, 1), dt.date(year, 10, 1), dt.date(year + 1, 1, 1)]


def quarter_ends(year: int) -> list[dt.date | None]:
    """The day each quarter of a financial year is counted at: its last,
    today for the quarter under way, None for one still to come."""
    today = timezone.localdate()
    starts = quarter_starts(year)
    ends = [*starts[1:], dt.date(year + 1, 4, 1)]
    return [None if start > today else min(end - dt.timedelta(days=1), today) for start, end in zip(starts, ends)]


def quarter_end_labels(year: int) -> list[str]:
    today = timezone.localdate()
    return [f"At {end.day} {end:%b %Y}" + (" (today)" if end == today else "") if end else
            f"Quarter to come ({label})" for end, label in zip(quarter_ends(year), quarter_labels(year))]


def _count(facts: QuerySet, month_field: str, dims: list[Dim], *, year: int | None = None,
           by_concern: int | None = None) -> dict:
    """{(dimension, value, ward, quarter): count} and the total's
    ((TOTAL, None, ward, quarter)), in one pass over the facts (GROUPING
    SETS). A value no row lists is counted under OTHER; a sub-population's
    OUTSIDE is left out. With ``year`` (a stock: the cases open), each fact
    is counted at every quarter's end it was open at.

    With ``by_concern`` (the partnership's id), the counts of every concern
    at once, {code: counts}: a referral under each of its concerns, any
    other fact under each concern its young person was referred with."""
    names = {f"d{i}": (F(d.expression) if isinstance(d.expression, str) else d.expression) for i, d in enumerate(dims)}
    fields = (*names, "ward_id", *(("opened_on", "closed_on") if year is not None else (month_field,)))
    if by_concern is not None:
        fields = (*fields, "concerns" if facts.model is ReferralFact else "person_key")
    sql, params = facts.order_by().annotate(**names).values(*fields).query.sql_with_params()
    if by_concern is not None and facts.model is ReferralFact:
        sql = f"SELECT s.*, c.code FROM ({sql}) s CROSS JOIN LATERAL (SELECT DISTINCT unnest(s.concerns) AS code) c"
    elif by_concern is not None:
        sql = (f"SELECT s.*, c.code FROM ({sql}) s JOIN (SELECT DISTINCT person_key, unnest(concerns) AS code"
               f" FROM monitoring_referralfact WHERE partnership_id = %s) c ON c.person_key = s.person_key")
        params = (*params, by_concern)
    if year is not None:
        pairs = [(end, start) for end, start in zip(quarter_ends(year), quarter_starts(year)) if end is not None]
        if not pairs:
            return {}
        sql = (f"SELECT s.*, q.qmonth AS {month_field} FROM ({sql}) s JOIN (VALUES "
               + ", ".join("(%s::date, %s::date)" for _ in pairs)
               + ") q(qend, qmonth) ON s.opened_on <= q.qend AND (s.closed_on IS NULL OR s.closed_on > q.qend)")
        params = (*params, *(d for pair in pairs for d in pair))
    code = "f.code, " if by_concern is not None else ""
    sets = ", ".join([*(f"({code}f.{n}, f.ward_id, f.{month_field})" for n in names),
                      f"({code}f.ward_id, f.{month_field})"])
    flags = "".join(f", GROUPING(f.{n})" for n in names)
    columns = "".join(f"f.{n}, " for n in names)
    listed = [{value for value, _ in d.rows} for d in dims]
    counts: dict = defaultdict(lambda: defaultdict(int))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {code}{columns}f.ward_id, f.{month_field}{flags}, count(*) FROM ({sql}) f"
            f" GROUP BY GROUPING SETS ({sets})", params)
        for row in cursor.fetchall():
            key, row = (row[0], row[1:]) if by_concern is not None else (None, row)
            k = len(dims)
            values, ward, month, grouped, n = row[:k], row[k], row[k + 1], row[k + 2:-1], row[-1]
            quarter = _quarter(month)
            if all(grouped):
                counts[key][(TOTAL, None, ward, quarter)] += n
                continue
            i = list(grouped).index(0)
            value = values[i]
            if value == OUTSIDE and dims[i].within:
                continue
            counts[key][(dims[i].key, value if value in listed[i] else OTHER, ward, quarter)] += n
    return dict(counts) if by_concern is not None else dict(counts[None])


@dataclass
class _Linked:
    """Linked figures being put together for ``suppression.suppress``."""
    values: list[int] = field(default_factory=list)
    index: dict = field(default_factory=dict)
    lines: list = field(default_factory=list)
    unpublished: set = field(default_factory=set)

    def layer(self, tag: str, dims: list[Dim], places: list, counts: dict, *, unpublished: bool = False,
              alias: dict | None = None, stock: bool = False) -> None:
        """Add a layer's entries ((tag, dimension, value, ward, column)) and
        its lines: quarters to the year, rows to their total, wards to the
        borough. ``alias`` makes some of its entries those of another layer."""
        alias = alias or {}
        wards_and_all = [*places, ALL_WARDS]
        table = [(TOTAL, ((None, TOTAL),), (0, 1, 2, 3) if stock else (0, 1, 2, 3, YEAR), None)] + [
            (d.key, (*d.rows, (OTHER, NOT_RECORDED)), d.columns,
             None if not d.exclusive else (d.within or (TOTAL, None))) for d in dims]

        def count(d, v, w, c):
            if w == ALL_WARDS:
                return sum(count(d, v, p, c) for p in places)
            if c == YEAR:
                return sum(counts.get((d, v, w, q), 0) for q in range(4))
            return counts.get((d, v, w, c), 0)

        for d, rows, columns, _ in table:
            for v, label in rows:
                for w in wards_and_all:
                    for c in columns:
                        key = (tag, d, v, w, c)
                        if (d, v, w, c) in alias:
                            self.index[key] = self.index[alias[(d, v, w, c)]]
                            continue
                        self.index[key] = len(self.values)
                        self.values.append(count(d, v, w, c))
                        if unpublished or label is None:
                            self.unpublished.add(self.index[key])

        def line(parts, total):
            self.lines.append(([self.index[p] for p in parts], self.index[total]))

        for d, rows, columns, parent in table:
            for v, _ in rows:
                for c in columns:
                    line([(tag, d, v, w, c) for w in places], (tag, d, v, ALL_WARDS, c))
                if YEAR in columns and len(columns) > 1:
                    for w in wards_and_all:
                        line([(tag, d, v, w, q) for q in range(4)], (tag, d, v, w, YEAR))
            if parent is not None:
                for w in wards_and_all:
                    for c in columns:
                        line([(tag, d, v, w, c) for v, _ in rows], (tag, *parent, w, c))


@dataclass(frozen=True)
class Published:
    """A population's protected figures for a year (and a concern): each
    entry's figure, by (layer, dimension, value, ward, column)."""
    places: list
    rows: dict  # each dimension's rows
    others: frozenset  # the dimensions with an OTHER row that is not empty
    figures: dict
    threshold: int

    def figure(self, tag: str, dim: str, value, ward, column: int) -> Figure:
        count, kind = self.figures[(tag, dim, value, ward, column)]
        return Figure(count, kind, self.threshold)


def _protected(actor: access.Actor, name: str, year: int) -> Published:
    """A population's figures protected as one, for the borough and with
    each concern: from the cache while the facts are unchanged
    (``RefreshState.facts_version``), else counted and protected again.

    The borough's figures are protected first, by themselves. Then, with
    them fixed as shown, the figures with each concern and without it (the
    borough's less those with it, never shown but there to be worked out)
    are protected all together, so that no views taken side by side (a
    concern's beside the borough's, or beside another concern's) pin a
    small count down."""
    limit = threshold(actor)
    return _cached(actor, f"{name}:{year}:{limit}", lambda: _work_out(actor, name, year, limit))


def _cached(actor: access.Actor, key: str, compute):
    """``compute()``, kept in the cache for the facts' version (a new one
    whenever a refresh writes a fact), so worked out once per change."""
    version = RefreshState.objects.filter(partnership_id=actor.partnership_id).values_list(
        "facts_version", flat=True).first()
    if version is None:
        return compute()
    return _kept(f"monitoring:{actor.partnership_id}:{key}", str(version), compute)


def _kept(cache_key: str, worked_out_for: str, compute):
    """``compute()``, from the cache if it was worked out for the same
    ``worked_out_for`` (the facts' version, the digest of the counts).
    One entry per key, replaced when that changes: no figures of an older
    version linger in the cache to fill it."""
    kept = cache.get(cache_key)
    if kept is not None and kept[0] == worked_out_for:
        return kept[1]
    value = compute()
    cache.set(cache_key, (worked_out_for, value), CACHE_SECONDS)
    return value


def _suppressed(actor: access.Actor, slot: str, values: list[int], lines: list, limit: int, *,
                fixed: dict | None = None, unpublished=(), last_resort=()) -> dict[int, str]:
    """``suppress``, kept in the cache (``slot``: which population, year
    and stage) for a digest of everything it is given: the same counts
    and links give the same hidden figures, so a year whose counts a
    refresh did not change (the last one, mostly) is not protected again,
    which takes seconds in a sparse borough."""
    given = (values, lines, limit, sorted((fixed or {}).items()), sorted(unpublished), sorted(last_resort))
    digest = hashlib.sha256(repr(given).encode()).hexdigest()
    return _kept(f"monitoring:{actor.partnership_id}:suppressed:{slot}", digest, lambda: suppress(
        values, lines, limit, fixed=fixed, unpublished=unpublished, last_resort=last_resort))


def _work_out(actor: access.Actor, name: str, year: int, limit: int) -> Published:
    places = [w.pk for w in wards(actor)] + [None]
    dims = _dims(actor, name, year)
    facts, month = _facts(actor, name, year, None)
    stock = name == "open"
    counts = _count(facts, month, dims, year=year if stock else None)
    linked = _Linked()
    linked.layer(BASE, dims, places, counts, stock=stock)
    slot = f"{name}:{year}:{limit}"
    base = _suppressed(actor, f"{slot}:borough", linked.values, linked.lines, limit,
                       unpublished=linked.unpublished, last_resort=list(linked.index.values()))
    fixed = {i: base.get(i, "") for i in range(len(linked.values))}
    concern_dims = [d for d in dims if not d.concern]
    listed = concerns(actor)
    by_code = _count(facts, month, concern_dims, year=year if stock else None,
                     by_concern=actor.partnership_id) if listed else {}
    for code, _ in listed:
        with_counts = by_code.get(code, {})
        without = {k: n - with_counts.get(k, 0) for k, n in counts.items()}
        alias = {}
        if name == "referrals":
            # The referrals with the concern are the borough's concern row.
            alias = {(TOTAL, None, w, c): (BASE, f"concern:{code}", True, w, c)
                     for w in [*places, ALL_WARDS] for c in (0, 1, 2, 3, YEAR)}
        linked.layer(_with(code), concern_dims, places, with_counts, alias=alias, stock=stock)
        alias = {k: (*v[:2], False, *v[3:]) for k, v in alias.items()}
        linked.layer(_without(code), concern_dims, places, without, unpublished=True, alias=alias, stock=stock)
        for key in [k for k in linked.index if k[0] == _with(code)]:
            linked.lines.append(([linked.index[key], linked.index[(_without(code), *key[1:])]],
                                 linked.index[(BASE, *key[1:])]))
    # Where nothing else helps, the figures with the concerns are not shown.
    last_resort = [i for key, i in linked.index.items() if key[0].startswith(WITH)]
    hidden = _suppressed(actor, f"{slot}:concerns", linked.values, linked.lines, limit, fixed=fixed,
                         unpublished=linked.unpublished, last_resort=last_resort) if last_resort else base
    figures_by_key = {key: (None if i in hidden else linked.values[i], hidden.get(i, ""))
                      for key, i in linked.index.items()}
    others = frozenset(key[1] for key, i in linked.index.items()
                       if key[0] == BASE and key[2] == OTHER and key[3] == ALL_WARDS and key[4] == YEAR
                       and linked.values[i])
    return Published(places, {d.key: d.rows for d in dims}, others, figures_by_key, limit)


def _with(code: str) -> str:
    return f"{WITH}:{code}"


def _without(code: str) -> str:
    return f"{WITHOUT}:{code}"


def _slice(filters: Filters) -> tuple[str, object]:
    """The layer and the ward of a view's figures."""
    ward = ALL_WARDS if filters.ward is None else None if filters.ward == WARD_NOT_KNOWN else filters.ward
    return (_with(filters.concern) if filters.concern else BASE), ward


def _rows(published: Published, dim: str, rows) -> list[tuple]:
    shown = [(v, label) for v, label in rows if label is not None]
    return shown + ([(OTHER, NOT_RECORDED)] if dim in published.others else [])


def _table(published: Published, filters: Filters, key: str, title: str, dimension: str, rows: list[tuple], *,
           exclusive: bool = True, note: str = "", tag: str | None = None, stock: bool = False) -> Table:
    """A table by quarter of ``rows`` ((dimension, value, label, ward or
    HERE for the view's)), with the year's totals (not for a stock, counted
    at each quarter's end) and, for exclusive rows, the population's
    totals."""
    layer, ward = _slice(filters)
    tag = tag or layer

    def fig(dim, value, column, where=HERE):
        return published.figure(tag, dim, value, ward if where is HERE else where, column)

    cells = [[fig(d, v, q, w) for q in range(4)] for d, v, _, w in rows]
    row_totals = None if stock else [fig(d, v, YEAR, w) for d, v, _, w in rows]
    column_totals = [fig(TOTAL, None, q) for q in range(4)] if exclusive else None
    total = fig(TOTAL, None, YEAR) if exclusive and not stock else None
    columns = quarter_end_labels(filters.year) if stock else quarter_labels(filters.year)
    protected = Protected([label for *_, label, _ in rows], columns, cells, row_totals, column_totals, total)
    return Table(key, title, dimension, protected, note=note, exclusive=exclusive)


def _dim_table(published: Published, filters: Filters, key: str, title: str, dimension: str, dim: str, rows, **kw):
    return _table(published, filters, key, title, dimension,
                  [(dim, v, label, HERE) for v, label in _rows(published, dim, rows)], **kw)


def _ward_rows(actor: access.Actor, filters: Filters) -> list[tuple]:
    rows = [(w.pk, w.name) for w in wards(actor)] + [(None, NOT_KNOWN)]
    if filters.ward == WARD_NOT_KNOWN:
        return [(None, NOT_KNOWN)]
    return [r for r in rows if r[0] == filters.ward] if filters.ward is not None else rows


def referrals_report(actor: access.Actor, filters: Filters) -> Report:
    """Referrals received by concern, referring agency kind, ward, age
    band, sex and ethnic group; their decisions; time to decision against
    the one-working-day standard; repeat referrals within 12 months."""
    _require(actor)
    limit = threshold(actor)
    published = _protected(actor, "referrals", filters.year)
    report = Report("referrals", REPORTS["referrals"], filters, limit)
    concern_rows = [(f"concern:{code}", True, label, HERE) for code, label in concerns(actor)
                    if not filters.concern or code == filters.concern]
    report.tables = [
        _table(published, filters, "concern", "Referrals by concern", "Concern", concern_rows, exclusive=False,
               tag=BASE, note="A referral with several concerns is counted under each, so the concerns add up to "
                              "more than the referrals."),
        _dim_table(published, filters, "agency", "Referrals by referring agency", "Referring agency", "agency",
                   AgencyKind.choices),
        _table(published, filters, "ward", "Referrals by ward", "Ward",
               [(TOTAL, None, name, pk) for pk, name in _ward_rows(actor, filters)],
               note="The ward of the young person's postcode by the partnership's postcode lookup; a postcode "
                    "not in it is counted as ward not known."),
        _dim_table(published, filters, "age", "Referrals by age band", "Age at referral", "age", AgeBand.choices),
        _dim_table(published, filters, "sex", "Referrals by sex", "Sex", "sex", Sex.choices),
        _dim_table(published, filters, "ethnicity", "Referrals by ethnic group", "Ethnic group (ONS 2021)",
                   "ethnicity", EthnicGroup.choices),
        _dim_table(published, filters, "decision", "Referrals by decision", "Decision", "decision",
                   ReferralStatus.choices),
        _dim_table(published, filters, "standard", "Time to decision against the one-working-day standard",
                   "Time to decision", "standard", STANDARD,
                   note="Working time from receipt to decision: weekends and bank holidays do not count."),
        _dim_table(published, filters, "repeat", "Repeat referrals", "Referral", "repeat", REPEAT),
    ]
    report.extra["median_decision"] = _median_decision(actor, filters, published)
    return report


def _median_decision(actor: access.Actor, filters: Filters, published: Published) -> list[dict]:
    """The median working time from receipt to decision, each quarter and
    the year. Shown only where the decided referrals behind it are shown in
    the standard's table and are at least the threshold (so the median
    says nothing of a hidden count, and is never one child's time)."""
    facts, _ = _facts(actor, "referrals", filters.year, filters.concern)
    tag, ward = _slice(filters)
    if ward != ALL_WARDS:
        facts = facts.filter(ward_id=ward) if ward is not None else facts.filter(ward__isnull=True)
    sql, params = facts.filter(decision_hours__isnull=False).values("received_month", "decision_hours").query \
        .sql_with_params()
    with connection.cursor() as cursor:
        # The financial year's quarters are calendar quarters (April to June is the second).
        cursor.execute(
            "SELECT date_trunc('quarter', f.received_month)::date, percentile_cont(0.5) WITHIN GROUP"
            f" (ORDER BY f.decision_hours) FROM ({sql}) f GROUP BY ROLLUP (1)", params)
        medians = {(YEAR if month is None else _quarter(month)): hours for month, hours in cursor.fetchall()}
    rows = []
    for column, label in [*enumerate(quarter_labels(filters.year)), (YEAR, "Year")]:
        decided = [published.figure(tag, "standard", flag, ward, column) for flag in (True, False)]
        shown = all(f.count is not None for f in decided) and sum(f.count for f in decided) >= published.threshold
        hours = medians.get(column)
        rows.append({"period": label, "median": f"{hours:.1f} working hours" if shown and hours is not None
                     else "no referral decided" if shown else "not shown"})
    return rows


def cases_report(actor: access.Actor, filters: Filters) -> Report:
    """Cases opened by risk on entry, reviews by the risk they found, cases
    closed by reason and by time open, step-downs and escalations."""
    _require(actor)
    limit = threshold(actor)
    opened, reviews, closed, still_open = (_protected(actor, name, filters.year)
                                           for name in ("opened", "reviews", "closed", "open"))
    report = Report("cases", REPORTS["cases"], filters, limit)
    report.tables = [
        _dim_table(still_open, filters, "caseload", "Open caseload at the end of each quarter, by risk on entry",
                   "Risk on entry", "risk", _risks(), stock=True,
                   note="Cases open at the end of the quarter (today, for the quarter under way); a case open "
                        "at several quarters' ends is counted at each, so the quarters do not add up."),
        _dim_table(opened, filters, "opened", "Cases opened, by risk on entry", "Risk on entry", "risk", _risks()),
        _dim_table(reviews, filters, "reviews", "Reviews completed, by the risk they found", "Risk at review",
                   "risk", _risks()),
        _dim_table(closed, filters, "closed", "Cases closed, by reason", "Reason", "reason", ClosureReason.choices),
        _dim_table(closed, filters, "time_open", "Cases closed, by time open", "Time open", "time_open", TIME_OPEN),
        _table(opened, filters, "steps", "Step-downs and escalations of the cases opened", "Outcome",
               [("down", True, "Stepped down", HERE), ("up", True, "Escalated to statutory services", HERE)],
               exclusive=False,
               note="A case may be both stepped down and escalated; counted by the quarter it opened."),
    ]
    return report


def interventions_report(actor: access.Actor, filters: Filters) -> Report:
    """Interventions by kind and provider (uptake), their status
    (completion), attendance, and the change in risk after them."""
    _require(actor)
    limit = threshold(actor)
    published = _protected(actor, "interventions", filters.year)
    providers = published.rows["provider"]
    report = Report("interventions", REPORTS["interventions"], filters, limit)
    report.tables = [
        _dim_table(published, filters, "kind", "Interventions, by kind", "Kind", "kind", InterventionKind.choices),
        _dim_table(published, filters, "provider", "Interventions, by provider", "Provider", "provider", providers),
        _dim_table(published, filters, "status", "Interventions, by status", "Status", "status",
                   InterventionStatus.choices),
        _dim_table(published, filters, "risk_change", "Risk at the first review after an intervention ended",
                   "Risk after", "risk_change", RISK_CHANGES,
                   note="Against the risk found by the last review before it started (or the risk on entry)."),
    ]
    # Attendance is a rate over sessions, shown only for kinds with at
    # least the threshold of interventions (else it is one child's record).
    attendance = _cached(actor, f"attendance:{filters.year}:{filters.ward}:{filters.concern}",
                         lambda: _attendance(actor, filters))
    report.extra["attendance"] = [
        {"kind": label, "rate": (f"{round(100 * attended / offered)}%" if offered else "no sessions offered")
         if n >= limit else f"fewer than {limit} interventions"}
        for value, label in InterventionKind.choices
        for n, offered, attended in [attendance.get(value, (0, 0, 0))] if n
    ]
    return report


def _attendance(actor: access.Actor, filters: Filters) -> dict:
    """{kind: (interventions, sessions offered, sessions attended)} in a view."""
    facts, _ = _facts(actor, "interventions", filters.year, filters.concern)
    _, ward = _slice(filters)
    if ward != ALL_WARDS:
        facts = facts.filter(ward_id=ward)
    return {kind: (n, offered or 0, attended or 0) for kind, n, offered, attended in
            facts.values_list("kind").annotate(n=Count("id"), offered=Sum("sessions_offered"),
                                               attended=Sum("sessions_attended")).order_by()}


def disproportionality_report(actor: access.Actor, filters: Filters) -> Report:
    """Each ethnic group's and age band's share of referrals, of accepted
    referrals and of cases opened, against its share of the young
    population (10 to 24) the partnership loaded. A share is shown only
    where the count behind it and its total are shown."""
    _require(actor)
    limit = threshold(actor)
    referrals = _protected(actor, "referrals", filters.year)
    opened = _protected(actor, "opened", filters.year)
    tag, ward = _slice(filters)
    population = YoungPopulation.objects.filter(partnership_id=actor.partnership_id)
    if filters.ward == WARD_NOT_KNOWN:
        population = population.none()
    elif filters.ward is not None:
        population = population.filter(ward_id=filters.ward)
    report = Report("disproportionality", REPORTS["disproportionality"], filters, limit)
    columns = ["Referrals", "Accepted referrals", "Cases opened"]
    totals = [referrals.figure(tag, TOTAL, None, ward, YEAR),
              referrals.figure(tag, "decision", ReferralStatus.ACCEPTED, ward, YEAR),
              opened.figure(tag, TOTAL, None, ward, YEAR)]
    comparisons = []
    for key, title, field_name, groups in (
        ("ethnicity", "By ethnic group", "ethnic_group", list(EthnicGroup.choices)),
        ("age", "By age band", "age_band", list(AgeBand.choices)),
    ):
        rows = _rows(referrals, key, groups)
        cells = [[referrals.figure(tag, key, v, ward, YEAR), referrals.figure(tag, f"accepted_{key}", v, ward, YEAR),
                  opened.figure(tag, key, v, ward, YEAR)] for v, _ in rows]
        protected = Protected([label for _, label in rows], columns, cells, None, totals, None)
        people = dict(population.values_list(field_name).annotate(n=Sum("people")).order_by())
        report.tables.append(Table(key, title, "Group", protected))
        comparisons.append({"key": key, "title": title, "rows": _shares(rows, protected, people)})
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


# ---------------------------------------------------------------------------
# Contexts and panels
# ---------------------------------------------------------------------------

ACTION_OUTCOMES = (("on_time", "Completed on time"), ("late", "Completed late"),
                   ("overdue", "Overdue and not done"), ("not_due", "Not yet due"), ("cancelled", "Cancelled"))
# The outcomes of the actions due by now, cancelled ones aside: what the
# share completed on time is a share of.
JUDGED = ("on_time", "late", "overdue")


def contexts_report(actor: access.Actor, filters: Filters) -> Report:
    """The partnership's places, peer groups and online spaces known by the
    end of the year, by ward and kind (a person of concern is never
    counted), and its panels' actions due in the year by quarter of their
    due date: completed on time or late, overdue, not yet due or
    cancelled, with the share completed on time. A ward chosen narrows the
    contexts to its row of the borough's protected table; the actions
    belong to no ward. Neither has a concern: a concern chosen narrows
    nothing, and the report says so."""
    _require(actor)
    limit = threshold(actor)
    report = Report("contexts", REPORTS["contexts"], filters, limit)
    actions = _action_table(actor, filters.year, limit)
    report.tables = [_context_table(actor, filters, limit), actions]
    report.extra["on_time"] = _on_time(actions.protected)
    concern = dict(concerns(actor)).get(filters.concern) if filters.concern else None
    report.notes.append(
        f"The concern chosen ({concern}) does not narrow these figures: contexts and panel actions are not "
        "recorded by concern, so these are the figures of every concern." if concern else
        "The concern filter does not apply to contexts and panels: they are not recorded by concern.")
    return report


def _context_table(actor: access.Actor, filters: Filters, limit: int) -> Table:
    """The contexts known at the year's end (today, for the year under way)
    by ward and kind: the view's slice (a ward's row) of the borough's
    table, protected with every other year's (``_context_stocks``)."""
    places = wards(actor)
    labels = [w.name for w in places] + [NOT_KNOWN]
    # Every year from the first with figures (or the one asked for, if
    # earlier: its stocks are all 0) to the latest, so each year's table
    # is protected beside the one before it.
    known = years(actor)
    shown = list(range(min(*known, filters.year), max(*known, filters.year) + 1))
    cells, row_totals, column_totals, total = _cached(
        actor, f"contexts:{shown[0]}:{shown[-1]}:{limit}", lambda: _context_stocks(actor, shown, limit),
    )[filters.year]
    kinds = [label for _, label in COUNTED_CONTEXT_KINDS]
    if filters.ward is None:
        protected = Protected(labels, kinds, cells, row_totals, column_totals, total)
    else:
        i = len(places) if filters.ward == WARD_NOT_KNOWN else [w.pk for w in places].index(filters.ward)
        protected = Protected([labels[i]], kinds, [cells[i]], [row_totals[i]], None, None)
    end = min(dt.date(filters.year + 1, 3, 31), timezone.localdate())
    return Table(
        "context_wards", f"Places, peer groups and online spaces known on {end.day} {end:%B %Y}", "Ward",
        protected, by="ward and kind", total_column="All kinds", measure="the contexts known, all kinds",
        note="Contexts recorded by the end of the financial year (by today, for the year under way), in the ward "
             "their recorder wrote or, for a place with a map point, the ward it lies in; otherwise counted as "
             "ward not known. A person of concern is never counted.",
    )


def _context_stocks(actor: access.Actor, shown: list[int], limit: int) -> dict:
    """Every year's table of the contexts known at its end, protected
    together (``suppression.protect_stocks``): a year's table less the one
    before it is the contexts recorded that year, which must not be read
    off two years side by side either. {year: (cells, row totals, column
    totals, total)}; rows the wards then "ward not known", columns the
    kinds."""
    places = [w.pk for w in wards(actor)] + [None]
    kinds = [kind for kind, _ in COUNTED_CONTEXT_KINDS]
    recorded: dict = defaultdict(int)
    for ward, kind, month, n in (ContextFact.objects.filter(partnership_id=actor.partnership_id)
                                 .values_list("ward_id", "kind", "recorded_month").annotate(n=Count("id")).order_by()):
        recorded[(ward, kind, financial_year(month))] += n
    stocks = [[[sum(n for (w, k, y), n in recorded.items() if w == place and k == kind and y <= year)
                for kind in kinds] for place in places] for year in shown]
    return dict(zip(shown, protect_stocks(stocks, limit)))


def _action_table(actor: access.Actor, year: int, limit: int) -> Table:
    """The panel actions due in the year, by outcome and quarter of their
    due date, protected as one table. Counted as of today (an action not
    done turns overdue the day after it is due), so cached under the day
    as well as the facts' version."""
    today = timezone.localdate()

    def counts() -> list[list[int]]:
        outcome = Case(
            When(status=ActionStatus.DONE, completed_on__lte=F("due_on"), then=Value("on_time")),
            When(status=ActionStatus.DONE, then=Value("late")),
            When(status=ActionStatus.CANCELLED, then=Value("cancelled")),
            When(due_on__lt=today, then=Value("overdue")),
            default=Value("not_due"),
        )
        found = dict.fromkeys(((o, q) for o, _ in ACTION_OUTCOMES for q in range(4)), 0)
        for month, name, n in (PanelActionFact.objects.filter(
                partnership_id=actor.partnership_id, due_month__gte=dt.date(year, 4, 1),
                due_month__lt=dt.date(year + 1, 4, 1)).annotate(outcome=outcome)
                .values_list("due_month", "outcome").annotate(n=Count("id")).order_by()):
            found[(name, _quarter(month))] += n
        return [[found[(o, q)] for q in range(4)] for o, _ in ACTION_OUTCOMES]

    cells, row_totals, column_totals, total = _cached(
        actor, f"actions:{year}:{limit}:{today}", lambda: protect(counts(), limit))
    protected = Protected([label for _, label in ACTION_OUTCOMES], quarter_labels(year), cells, row_totals,
                          column_totals, total)
    return Table(
        "panel_actions", "Panel actions due in the year", "Outcome", protected, by="quarter of the due date",
        note="Completed on time: marked done on or before its due date (the day its history first shows it done, "
             "not its last change). Overdue: not done, and its due date has passed. Panel actions belong to the "
             "partnership, not to a ward: a ward chosen does not narrow them.",
    )


def _on_time(protected: Protected) -> list[dict]:
    """The share of the actions due by now (cancelled ones aside) that were
    completed on time, each quarter and the year: shown only where every
    count behind it is shown, so it says nothing of a hidden one."""
    outcomes = [outcome for outcome, _ in ACTION_OUTCOMES]
    rows = []
    for column, label in [*enumerate(protected.columns), (YEAR, "Year")]:
        figure = {o: protected.row_totals[i] if column == YEAR else protected.cells[i][column]
                  for i, o in enumerate(outcomes)}
        behind = [figure[o] for o in JUDGED]
        hidden = any(f.count is None for f in behind)
        due = 0 if hidden else sum(f.count for f in behind)
        share = figure["on_time"].count / due if due else None
        rows.append({"period": label, "value": share,
                     "share": f"{100 * share:.0f}%" if share is not None
                     else "not shown" if hidden else "no action due by now"})
    return rows


def warm(actor: access.Actor) -> None:
    """Work out and cache every report's figures for the year under way
    and the one before it (the last whole year, which the partnership
    reports on), as the first reader of them would: for the system actor,
    straight after a refresh that wrote facts
    (``reminders.monitoring_refresh``), so that with a cache shared
    between processes (``CACHE_URL``) readers find them worked out. Inside
    the partnership's row-level security."""
    current = financial_year(timezone.localdate())
    for year in (current, current - 1):
        for name in REPORTS:
            build(actor, name, Filters(year=year))


def build(actor: access.Actor, name: str, filters: Filters) -> Report:
    return {
        "referrals": referrals_report, "cases": cases_report, "interventions": interventions_report,
        "disproportionality": disproportionality_report, "contexts": contexts_report,
    }[name](actor, filters)


def log_reading(actor: access.Actor, name: str, filters: Filters, *, export: str | None = None) -> None:
    """Every page and export of the monitoring in the access log: which
    report, with which filters (no case, no person: there is none in it)."""
    access.log_access(
        actor, "export" if export else "view", object_type="monitoring report",
        basis=f"Reporting analyst ({actor.agency.name})" if actor.agency else "",
        detail={"report": name, "format": export or "page", **filters.as_detail()},
    )
