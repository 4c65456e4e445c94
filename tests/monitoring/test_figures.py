"""Every figure equals a count taken from the case data directly: the
referrals, cases, reviews and interventions are counted here straight from
their records (ward by the test's own reading of the lookup, working time
by ``referrals.deadlines``), and each figure shown must be that count, or
hidden as the suppression says."""

from __future__ import annotations

import datetime as dt

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone

from agencies.models import AgencyKind
from monitoring import figures
from monitoring.models import Ward
from monitoring.suppression import PRIMARY, SECONDARY, UNPUBLISHED
from referrals.deadlines import working_time_left
from referrals.models import Case, Intervention, InterventionKind, InterventionStatus, Referral, ReferralStatus, Review
from tests.monitoring.conftest import POSTCODES, refresh_as_task

pytestmark = pytest.mark.django_db


def local(moment) -> dt.date:
    return timezone.localtime(moment).date()


def fy(day: dt.date) -> int:
    return day.year if day.month >= 4 else day.year - 1


def quarter(day: dt.date) -> int:
    return ((day.month - 4) % 12) // 3


def lookup(partnership) -> dict:
    codes = dict(Ward.objects.filter(partnership=partnership).values_list("code", "pk"))
    table = {}
    for line in POSTCODES.splitlines()[1:]:
        postcode, code = line.split(",")
        if code in codes:
            table[postcode.replace(" ", "").upper()] = codes[code]
    return table


def ward_of(person, table) -> int | None:
    return table.get(person.postcode.replace(" ", "").upper())


def check(figure, direct: int, threshold: int = 5) -> None:
    if figure.count is not None:
        assert figure.count == direct
    elif figure.hidden == PRIMARY:
        assert 0 <= direct < threshold
    else:
        assert figure.hidden in (SECONDARY, UNPUBLISHED)


def check_table(table, values, records, key, when) -> int:
    """Each cell (row value x quarter), each row's year total and (for
    exclusive rows) each quarter's total against the records counted
    directly. ``key(record)`` gives the record's row values."""
    p = table.protected
    for i, value in enumerate(values):
        in_row = [r for r in records if value in key(r)]
        for q in range(4):
            check(p.cells[i][q], sum(1 for r in in_row if quarter(when(r)) == q))
        check(p.row_totals[i], len(in_row))
    if p.column_totals is not None:
        for q in range(4):
            check(p.column_totals[q], sum(1 for r in records if quarter(when(r)) == q))
        check(p.total, len(records))
    return sum(1 for row in p.cells for f in row if f.count is not None)


def age(person, on: dt.date) -> str:
    years = relativedelta(on, person.date_of_birth).years
    return next(band for floor, band in ((25, "25+"), (18, "18-24"), (16, "16-17"), (14, "14-15"), (10, "10-13"),
                                         (0, "0-9")) if years >= floor)


def test_referral_figures_equal_direct_counts(world):
    refresh_as_task(world.partnership.pk)
    table = lookup(world.partnership)
    wards = list(Ward.objects.filter(partnership=world.partnership).order_by("name"))
    shown = 0
    for year in world.years:
        report = figures.referrals_report(world.analyst_actor, figures.Filters(year=year))
        tables = {t.key: t for t in report.tables}
        refs = [r for r in Referral.objects.filter(partnership=world.partnership).select_related(
            "young_person", "referring_agency") if fy(local(r.received_at)) == year]
        when = lambda r: local(r.received_at)  # noqa: E731
        concern_codes = [code for code, _ in figures.concerns(world.analyst_actor)]
        shown += check_table(tables["concern"], concern_codes, refs, lambda r: r.concerns, when)
        shown += check_table(tables["agency"], AgencyKind.values, refs, lambda r: [r.referring_agency.kind], when)
        shown += check_table(tables["ward"], [w.pk for w in wards] + [None], refs,
                             lambda r: [ward_of(r.young_person, table)], when)
        shown += check_table(tables["age"], ["0-9", "10-13", "14-15", "16-17", "18-24", "25+"], refs,
                             lambda r: [age(r.young_person, local(r.received_at))], when)
        shown += check_table(tables["sex"], ["female", "male", "other"], refs,
                             lambda r: [r.young_person.gender if r.young_person.gender in ("female", "male")
                                        else "other"], when)
        shown += check_table(tables["ethnicity"], ["asian", "black", "mixed", "white", "other", "not_stated"], refs,
                             lambda r: ["not_stated" if r.young_person.ethnicity == "not_stated"
                                        else r.young_person.ethnicity.split("_")[0]], when)
        shown += check_table(tables["decision"], ReferralStatus.values, refs, lambda r: [r.status], when)

        def standard(r):
            if r.decided_at is None:
                return [None]
            return [working_time_left(r.received_at, r.decided_at) <= dt.timedelta(hours=24)]

        shown += check_table(tables["standard"], [True, False, None], refs, standard, when)
        everyone = list(Referral.objects.filter(partnership=world.partnership))

        def repeat(r):
            return [any(o.pk != r.pk and o.young_person_id == r.young_person_id
                        and r.received_at - relativedelta(months=12) <= o.received_at < r.received_at
                        for o in everyone)]

        shown += check_table(tables["repeat"], [True, False], refs, repeat, when)
    assert shown > 10  # the comparison compared something


def test_figures_with_a_ward_and_a_concern_chosen(world):
    refresh_as_task(world.partnership.pk)
    table = lookup(world.partnership)
    north = Ward.objects.get(partnership=world.partnership, name="North Ward")
    for year in world.years:
        for ward, wanted in ((north.pk, north.pk), (figures.WARD_NOT_KNOWN, None)):
            report = figures.referrals_report(
                world.analyst_actor, figures.Filters(year=year, ward=ward, concern="weapon"))
            refs = [r for r in Referral.objects.filter(partnership=world.partnership).select_related("young_person")
                    if fy(local(r.received_at)) == year and ward_of(r.young_person, table) == wanted
                    and "weapon" in r.concerns]
            decision = next(t for t in report.tables if t.key == "decision")
            check_table(decision, ReferralStatus.values, refs, lambda r: [r.status], lambda r: local(r.received_at))


def test_case_and_intervention_figures_equal_direct_counts(world):
    refresh_as_task(world.partnership.pk)
    for year in world.years:
        filters = figures.Filters(year=year)
        cases = {t.key: t for t in figures.cases_report(world.analyst_actor, filters).tables}
        opened = [c for c in Case.objects.filter(partnership=world.partnership) if fy(local(c.opened_at)) == year]

        def entry(c):
            first = c.referrals.order_by("received_at").first()
            return [first.risk_level if first else c.risk_level]

        check_table(cases["opened"], ["red", "amber", "green"], opened, entry, lambda c: local(c.opened_at))
        reviews = [r for r in Review.objects.filter(case__partnership=world.partnership, completed_at__isnull=False)
                   if fy(local(r.completed_at)) == year]
        check_table(cases["reviews"], ["red", "amber", "green"], reviews, lambda r: [r.risk_after],
                    lambda r: local(r.completed_at))
        steps = cases["steps"]
        check_table(steps, ["down", "up"], opened, lambda c: (
            ["down"] if c.reviews.filter(decision="step_down").exists() or c.closure_reason == "stepped_down" else [])
            + (["up"] if c.reviews.filter(decision="escalate").exists() or c.closure_reason == "escalated" else []),
            lambda c: local(c.opened_at))
        interventions = {t.key: t for t in figures.interventions_report(world.analyst_actor, filters).tables}
        done = [i for i in Intervention.objects.filter(case__partnership=world.partnership)
                if fy(i.started_on or local(i.created_at)) == year]
        check_table(interventions["kind"], InterventionKind.values, done, lambda i: [i.kind],
                    lambda i: i.started_on or local(i.created_at))
        check_table(interventions["status"], InterventionStatus.values, done, lambda i: [i.status],
                    lambda i: i.started_on or local(i.created_at))


def test_disproportionality_counts_equal_direct_counts(world):
    refresh_as_task(world.partnership.pk)
    for year in world.years:
        report = figures.disproportionality_report(world.analyst_actor, figures.Filters(year=year))
        by_group = next(t for t in report.tables if t.key == "ethnicity").protected
        refs = [r for r in Referral.objects.filter(partnership=world.partnership).select_related("young_person")
                if fy(local(r.received_at)) == year]
        for i, group in enumerate(["asian", "black", "mixed", "white", "other", "not_stated"]):
            def in_group(r):
                code = r.young_person.ethnicity
                return ("not_stated" if code == "not_stated" else code.split("_")[0]) == group
            check(by_group.cells[i][0], sum(1 for r in refs if in_group(r)))
            check(by_group.cells[i][1], sum(1 for r in refs if in_group(r) and r.status == "accepted"))
        shares = report.extra["comparisons"][0]["rows"]
        white = next(row for row in shares if row["group"] == "White")
        assert white["population"] == "50.0%"  # 500 of 1,000 a ward in the loaded population


def test_open_caseload_at_each_quarters_end_equals_direct_counts(world):
    refresh_as_task(world.partnership.pk)
    # One case closed, so that it leaves the caseload at a quarter's end.
    closing = world.cases[0]
    Case.objects.filter(pk=closing.pk).update(status="closed", closure_reason="outcomes_met",
                                              closed_at=closing.opened_at + dt.timedelta(days=1))
    refresh_as_task(world.partnership.pk)
    compared = 0
    for year in world.years:
        table = next(t for t in figures.cases_report(world.analyst_actor, figures.Filters(year=year)).tables
                     if t.key == "caseload").protected
        assert table.row_totals is None and table.total is None  # a stock: the quarters do not add up
        cases = list(Case.objects.filter(partnership=world.partnership))
        for q, end in enumerate(figures.quarter_ends(year)):
            def open_then(c):
                # A quarter still to come counts nothing.
                return end is not None and local(c.opened_at) <= end and (
                    c.closed_at is None or local(c.closed_at) > end)

            def entry(c):
                first = c.referrals.order_by("received_at").first()
                return first.risk_level if first else c.risk_level

            for i, risk in enumerate(["red", "amber", "green"]):
                check(table.cells[i][q], sum(1 for c in cases if open_then(c) and entry(c) == risk))
            check(table.column_totals[q], sum(1 for c in cases if open_then(c)))
            compared += table.column_totals[q].count is not None
    assert compared


def test_median_time_to_decision_equals_the_direct_median(world):
    import statistics

    from django.db.models import F

    from tests import factories as f

    # Enough decisions within the day and after it for the year's median
    # to be shown: signposted 2 hours and 3 days after receipt, in the
    # first referral's quarter and in the last's.
    for i, person in enumerate(world.people[:24]):
        received = world.referrals[0 if i < 12 else -3].received_at
        f.ReferralFactory(
            young_person=person, partnership=world.partnership, referring_agency=world.police, concerns=["weapon"],
            received_at=received, decision_due_at=received + dt.timedelta(days=1), status="signposted",
            decided_at=received + dt.timedelta(hours=2 if i % 2 else 72))
    # And none left undecided (a few of them would hide the rest).
    Referral.objects.filter(partnership=world.partnership, decided_at__isnull=True).update(
        status="signposted", decided_at=F("received_at") + dt.timedelta(hours=1))
    refresh_as_task(world.partnership.pk)
    shown = 0
    for year in world.years:
        report = figures.referrals_report(world.analyst_actor, figures.Filters(year=year))
        rows = {row["period"]: row["median"] for row in report.extra["median_decision"]}
        hours = [working_time_left(r.received_at, r.decided_at).total_seconds() / 3600
                 for r in Referral.objects.filter(partnership=world.partnership, decided_at__isnull=False)
                 if fy(local(r.received_at)) == year]
        standard = next(t for t in report.tables if t.key == "standard").protected
        decided = standard.row_totals[:2]
        if all(f.count is not None for f in decided) and sum(f.count for f in decided) >= 5:
            assert rows["Year"] == f"{statistics.median(hours):.1f} working hours"
            shown += 1
        else:
            assert rows["Year"] == "not shown"
        # A quarter whose decided referrals are hidden shows no median.
        for q, label in enumerate(figures.quarter_labels(year)):
            if any(standard.cells[i][q].count is None for i in range(2)):
                assert rows[label] == "not shown"
    assert shown
