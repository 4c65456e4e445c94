"""Suppression cannot be undone by putting views side by side: every ward's
view, "ward not known", the whole borough's, each with and without each
concern, of the referrals, cases and interventions reports.

The attacker is written here, apart from ``monitoring``: it reads every
figure of every view as a person would, knows what each figure counts (a
row of a table, in a ward or the borough, with a concern or not, in a
quarter or the year) and that

- a figure shown in two views is one figure (and the test checks both
  views show it alike),
- the quarters add up to the year, the rows of a table whose rows exclude
  each other add up to its total, the wards and "ward not known" add up to
  the borough,
- with a concern and without it add up to all referrals (or young people):
  "without it" is never shown but is that difference, 0 or more; a row of
  a table whose rows overlap (a concern, a step-down) is part of its total,
  the rest likewise,
- "fewer than 5" is 0 to 4 (a 0 is hidden so where nothing else is left
  to hide), "withheld" is 5 or more, "not shown" is any number.

It narrows every unknown from the lines, over and over, until nothing
changes, and wins if it pins down a count of 1 to 4: a hidden one, or a
"without" it worked out. The data are facts written straight into the
reporting schema (random, skewed so that small counts abound); the truth
of every figure is counted here from them.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections import defaultdict

import pytest

from agencies.models import AgencyKind, Role
from monitoring import figures
from monitoring.models import CaseFact, InterventionFact, RefreshState, ReferralFact, ReviewFact, Ward
from monitoring.suppression import PRIMARY, SECONDARY, UNPUBLISHED
from referrals.models import ClosureReason, InterventionKind, InterventionStatus, ReferralStatus, RiskLevel
from safeguarding import access
from tests import factories as f

pytestmark = pytest.mark.django_db

T = 5
BIG = 10**9
ALL = "all"
NOT_KNOWN = figures.NOT_KNOWN
CONCERNS = ["weapon", "gang_association", "criminal_exploitation"]
# Each table: the population it counts, and whether its rows exclude each other.
TABLES = {
    "concern": ("referrals", False), "agency": ("referrals", True), "ward": ("referrals", True),
    "age": ("referrals", True), "sex": ("referrals", True), "ethnicity": ("referrals", True),
    "decision": ("referrals", True), "standard": ("referrals", True), "repeat": ("referrals", True),
    "opened": ("opened", True), "steps": ("opened", False), "reviews": ("reviews", True),
    "closed": ("closed", True), "time_open": ("closed", True),
    # Counted at each quarter's end: no year, the quarters do not add up.
    "caseload": ("open", True),
    "kind": ("interventions", True), "provider": ("interventions", True), "status": ("interventions", True),
    "risk_change": ("interventions", True),
}
RISKS = ["green", "amber", "red"]
STOCKS = {"open"}


def quarter(month: dt.date) -> int:
    return ((month.month - 4) % 12) // 3


def world(seed: int, year: int):
    """Random facts in one financial year over four wards and "not known"."""
    rng = random.Random(seed)
    partnership = f.default_partnership()
    wards = [Ward.objects.create(partnership=partnership, code=f"E0500000{i}", name=f"Ward {i}", boundary={})
             for i in range(4)]
    months = [dt.date(year + (m < 4), m, 1) for m in (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3)]
    # Skewed: most facts in the first ward and the first values, a few spread thin.
    def pick(values):
        return values[0] if rng.random() < 0.55 else rng.choice(values)

    places = [w.pk for w in wards] + [None]
    people = [uuid.uuid4() for _ in range(rng.randint(60, 160))]
    for person in people:
        ward, month = pick(places), pick(months)
        concerns = sorted({pick(CONCERNS)} | ({rng.choice(CONCERNS)} if rng.random() < 0.3 else set()))
        status = pick(["accepted", "signposted", "no_further_action", "submitted"])
        decided = status != "submitted"
        ReferralFact.objects.create(
            partnership=partnership, person_key=person, received_month=month, concerns=concerns,
            referring_agency_kind=pick(["police", "school", "youth_service", "health"]), ward_id=ward,
            age_band=pick(["14-15", "16-17", "10-13", "18-24"]), sex=pick(["male", "female", "other"]),
            ethnic_group=pick(["white", "black", "asian", "mixed", "other"]), risk_level=pick(["amber", "red", "green"]),
            status=status, decision_hours=5.0 if decided else None,
            within_standard=(rng.random() < 0.8) if decided else None, repeat_within_year=rng.random() < 0.1,
        )
        if status == "accepted":
            opened = month + dt.timedelta(days=3)
            closed = opened + dt.timedelta(days=rng.choice([20, 100, 200, 400])) if rng.random() < 0.5 else None
            closed_in_year = closed if closed and closed < dt.date(year + 1, 4, 1) else None
            CaseFact.objects.create(
                partnership=partnership, person_key=person, opened_month=month,
                closed_month=closed_in_year.replace(day=1) if closed_in_year else None,
                status="closed" if closed_in_year else "open",
                closure_reason=pick(["stepped_down", "escalated", "disengaged", "moved_away"]) if closed_in_year else "",
                risk_on_entry=pick(["amber", "red", "green"]), risk_now="amber", opened_on=opened,
                closed_on=closed_in_year, stepped_down=rng.random() < 0.3, escalated=rng.random() < 0.15,
                ward_id=ward, age_band="14-15", sex="male", ethnic_group="white",
            )
            for _ in range(rng.choice([0, 1, 1, 2])):
                InterventionFact.objects.create(
                    partnership=partnership, person_key=person, kind=pick(["mentoring", "diversion", "family_support"]),
                    provider=pick(["Youth Service", "Boxing Club", "Family Hub"]),
                    status=pick(["active", "completed", "ended_early"]), month=pick(months), sessions_offered=8,
                    sessions_attended=5, risk_before=pick(RISKS), risk_after=pick(["", *RISKS]), ward_id=ward)
            for _ in range(rng.choice([0, 1, 2])):
                ReviewFact.objects.create(partnership=partnership, person_key=person, review_month=pick(months),
                                          risk_after=pick(["amber", "red", "green"]), decision="continue",
                                          ward_id=ward)
    RefreshState.objects.update_or_create(partnership=partnership, defaults={
        "facts_version": uuid.uuid4(), "needs_full": False})
    return partnership, wards


def truth(partnership, wards, concern_labels: dict, year: int):
    """Every figure's count, by what it counts, from the facts directly:
    {(population, table, row label, ward name or ALL, concern code or ALL,
    column): count}; a population's total has table and row "*"."""
    names = {w.pk: w.name for w in wards} | {None: NOT_KNOWN}
    labels = {
        "agency": dict(AgencyKind.choices), "decision": dict(ReferralStatus.choices),
        "standard": {True: "Within one working day", False: "Longer than one working day", None: "Not decided yet"},
        "repeat": {True: "Another referral in the 12 months before", False: "No referral in the 12 months before"},
        "age": dict(figures.AgeBand.choices), "sex": dict(figures.Sex.choices),
        "ethnicity": dict(figures.EthnicGroup.choices), "risk": dict(RiskLevel.choices),
        "reason": dict(ClosureReason.choices), "kind": dict(InterventionKind.choices),
        "status": dict(InterventionStatus.choices),
    }
    counts: dict = defaultdict(int)

    def add(population, rows, ward, concerns_of, month):
        for table, row in rows:
            for w in (names[ward], ALL):
                for c in [ALL, *concerns_of]:
                    for col in (quarter(month), "year"):
                        counts[(population, table, row, w, c, col)] += 1

    person_concerns = defaultdict(set)
    for fact in ReferralFact.objects.filter(partnership=partnership):
        person_concerns[fact.person_key] |= set(fact.concerns)
    for fact in ReferralFact.objects.filter(partnership=partnership):
        rows = [("*", "*"), ("agency", labels["agency"][fact.referring_agency_kind]),
                ("age", labels["age"][fact.age_band]), ("sex", labels["sex"][fact.sex]),
                ("ethnicity", labels["ethnicity"][fact.ethnic_group]), ("decision", labels["decision"][fact.status]),
                ("standard", labels["standard"][fact.within_standard]),
                ("repeat", labels["repeat"][fact.repeat_within_year])]
        add("referrals", rows, fact.ward_id, [concern_labels[c] for c in fact.concerns], fact.received_month)
    for fact in CaseFact.objects.filter(partnership=partnership):
        concerns_of = [concern_labels[c] for c in person_concerns[fact.person_key]]
        rows = [("*", "*"), ("opened", labels["risk"][fact.risk_on_entry])]
        rows += [("steps", "Stepped down")] if fact.stepped_down else []
        rows += [("steps", "Escalated to statutory services")] if fact.escalated else []
        add("opened", rows, fact.ward_id, concerns_of, fact.opened_month)
        if fact.closed_month:
            days = (fact.closed_on - fact.opened_on).days
            time_open = ("Under 3 months" if days < 91 else "3 to 6 months" if days < 183
                         else "6 to 12 months" if days < 365 else "12 months or more")
            add("closed", [("*", "*"), ("closed", labels["reason"][fact.closure_reason]), ("time_open", time_open)],
                fact.ward_id, concerns_of, fact.closed_month)
    for fact in CaseFact.objects.filter(partnership=partnership):
        for q, end in enumerate(figures.quarter_ends(year)):
            if end is not None and fact.opened_on <= end and (fact.closed_on is None or fact.closed_on > end):
                for w in (names[fact.ward_id], ALL):
                    for c in [ALL, *(concern_labels[k] for k in person_concerns[fact.person_key])]:
                        for table, row in (("*", "*"), ("caseload", labels["risk"][fact.risk_on_entry])):
                            counts[("open", table, row, w, c, q)] += 1
    for fact in ReviewFact.objects.filter(partnership=partnership):
        add("reviews", [("*", "*"), ("reviews", labels["risk"][fact.risk_after])], fact.ward_id,
            [concern_labels[c] for c in person_concerns[fact.person_key]], fact.review_month)
    changes = dict(figures.RISK_CHANGES)
    for fact in InterventionFact.objects.filter(partnership=partnership):
        change = ("unknown" if not fact.risk_after else "lower" if RISKS.index(fact.risk_after) < RISKS.index(
            fact.risk_before) else "higher" if RISKS.index(fact.risk_after) > RISKS.index(fact.risk_before) else "same")
        add("interventions", [("*", "*"), ("kind", labels["kind"][fact.kind]), ("provider", fact.provider),
                              ("status", labels["status"][fact.status]), ("risk_change", changes[change])],
            fact.ward_id, [concern_labels[c] for c in person_concerns[fact.person_key]], fact.month)
    return counts


def read_views(actor, wards, year: int, concern_labels: dict):
    """Every figure of every view: {key: figure}, checking that a figure
    shown in two views is shown alike; and the keys of each line."""
    shown: dict = {}
    ward_choices = [(w.pk, w.name) for w in wards] + [(figures.WARD_NOT_KNOWN, NOT_KNOWN), (None, ALL)]
    columns = [0, 1, 2, 3]
    for ward, ward_name in ward_choices:
        for concern in [None, *CONCERNS]:
            c = concern_labels[concern] if concern else ALL
            filters = figures.Filters(year=year, ward=ward, concern=concern)
            for report in (figures.referrals_report(actor, filters), figures.cases_report(actor, filters),
                           figures.interventions_report(actor, filters)):
                for table in report.tables:
                    population, exclusive = TABLES[table.key]
                    p = table.protected
                    for label, cells, total in zip(p.rows, p.cells, p.row_totals or [None] * len(p.rows)):
                        for col, figure in zip([*columns, "year"], [*cells, total]):
                            if figure is None:
                                continue
                            if table.key == "ward":
                                key = (population, "*", "*", label, c, col)
                            elif table.key == "concern":
                                key = (population, "*", "*", ward_name, label, col)
                            else:
                                key = (population, table.key, label, ward_name, c, col)
                            record(shown, key, figure)
                    if p.column_totals is not None:
                        for col, figure in zip([*columns, "year"], [*p.column_totals, p.total]):
                            if figure is not None:
                                record(shown, (population, "*", "*", ward_name, c, col), figure)
    return shown


def record(shown: dict, key, figure) -> None:
    seen = shown.setdefault(key, figure)
    assert (seen.count, seen.hidden) == (figure.count, figure.hidden), f"{key} shown as {seen} and as {figure}"


def lines(keys, ward_names, concern_names):
    """Every line the attacker adds up, over the keys it has seen and the
    "without" unknowns ("~" + concern) it works out."""
    out = []
    rows = defaultdict(set)  # (population, table) -> labels
    for population, table, row, *_ in keys:
        rows[(population, table)].add(row)
    for (population, table), labels in rows.items():
        exclusive = table == "*" or TABLES[table][1]
        for row in labels:
            for c in [ALL, *concern_names, *("~" + n for n in concern_names)]:
                for w in [*ward_names, ALL]:
                    if population not in STOCKS:
                        out.append(([(population, table, row, w, c, q) for q in range(4)],
                                    (population, table, row, w, c, "year")))
                for col in [0, 1, 2, 3, "year"]:
                    out.append(([(population, table, row, w, c, col) for w in ward_names],
                                (population, table, row, ALL, c, col)))
            for w in [*ward_names, ALL]:
                for col in [0, 1, 2, 3, "year"]:
                    for n in concern_names:
                        out.append(([(population, table, row, w, n, col), (population, table, row, w, "~" + n, col)],
                                    (population, table, row, w, ALL, col)))
                    if not exclusive:
                        for c in [ALL, *concern_names]:
                            out.append(([(population, table, row, w, c, col),
                                         (population, table, "~" + row, w, c, col)],
                                        (population, "*", "*", w, c, col)))
        if exclusive and table != "*":
            for c in [ALL, *concern_names, *("~" + n for n in concern_names)]:
                for w in [*ward_names, ALL]:
                    for col in [0, 1, 2, 3, "year"]:
                        out.append(([(population, table, row, w, c, col) for row in labels],
                                    (population, "*", "*", w, c, col)))
    return out


def attack(shown: dict, all_lines) -> dict:
    bounds: dict = {}

    def b(key):
        if key not in bounds:
            figure = shown.get(key)
            if figure is None or figure.hidden == UNPUBLISHED:
                bounds[key] = [0, BIG]
            elif figure.hidden == PRIMARY:
                bounds[key] = [0, T - 1]
            elif figure.hidden == SECONDARY:
                bounds[key] = [T, BIG]
            else:
                bounds[key] = [figure.count, figure.count]
        return bounds[key]

    for _ in range(100):
        changed = False
        for parts, whole in all_lines:
            pb = [b(p) for p in parts]
            wb = b(whole)
            lo, hi = sum(x[0] for x in pb), sum(x[1] for x in pb)
            new = [max(wb[0], lo), min(wb[1], hi)]
            if new != wb:
                wb[:] = new
                changed = True
            for x in pb:
                new = [max(x[0], wb[0] - (hi - x[1])), min(x[1], wb[1] - (lo - x[0]))]
                if new != x:
                    x[:] = new
                    changed = True
        if not changed:
            break
    return bounds


def true_count(counts, key) -> int:
    """The truth of any key, a "without" one included."""
    population, table, row, w, c, col = key
    if c.startswith("~"):
        return true_count(counts, (population, table, row, w, ALL, col)) - true_count(
            counts, (population, table, row, w, c[1:], col))
    if row.startswith("~"):
        return true_count(counts, (population, "*", "*", w, c, col)) - true_count(
            counts, (population, table, row[1:], w, c, col))
    return counts.get(key, 0)


@pytest.mark.parametrize("seed", range(4))
def test_no_view_beside_another_gives_a_small_count_away(cast, seed):
    year = figures.financial_year(dt.date.today()) - 1
    partnership, wards = world(seed, year)
    actor = access.actor_for_user(cast.user("hub", Role.REPORTING), partnership=partnership.pk)
    concern_labels = dict(figures.concerns(actor))
    shown = read_views(actor, wards, year, concern_labels)
    counts = truth(partnership, wards, concern_labels, year)
    # Every figure shown is its count; every count of 1 to 4 is hidden as such.
    for key, figure in shown.items():
        real = counts.get(key, 0)
        assert figure.count in (None, real), key
        assert figure.hidden != PRIMARY or real < T, (key, real, figure)
        assert figure.hidden in (PRIMARY, UNPUBLISHED) or not 0 < real < T, (key, real, figure)
    ward_names = [w.name for w in wards] + [NOT_KNOWN]
    bounds = attack(shown, lines(shown.keys(), ward_names, [concern_labels[c] for c in CONCERNS]))
    pinned = {key: lo for key, (lo, hi) in bounds.items() if lo == hi and (key not in shown or shown[key].hidden)}
    for key, value in pinned.items():
        assert value == true_count(counts, key), key  # the attacker reasons soundly
    small = {key: value for key, value in pinned.items() if 0 < value < T}
    assert small == {}, f"{len(small)} small counts pinned down, e.g. {sorted(small.items(), key=str)[:5]}"
    # Something was shown and something hidden: the test tested.
    assert sum(1 for fig in shown.values() if fig.count) > 50
    assert sum(1 for fig in shown.values() if fig.hidden == PRIMARY) > 10
    for population in ("referrals", "opened", "interventions"):
        assert any(key[0] == population and fig.count for key, fig in shown.items()), population
        assert any(key[0] == population and fig.hidden for key, fig in shown.items()), population
