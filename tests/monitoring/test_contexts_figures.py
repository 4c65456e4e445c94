"""The "Contexts and panels" figures: every one equals a count taken here
straight from the contexts' records (the ward each must be counted in is
the fixture's own, written beside it; when an action was first marked done
is read here from its change history), or is hidden as the suppression
says. A person of concern is never counted; a ward's view is a slice of
the borough's table; two years side by side give away no small number of
contexts recorded between them; the concern filter is said not to apply."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from agencies.models import Role
from contexts.models import ActionStatus, Context, ContextKind, PanelAction
from monitoring import figures
from monitoring.bands import WardFinder, point_in_boundary
from monitoring.models import ContextFact, PanelActionFact, Ward
from safeguarding import access
from tests.monitoring.conftest import IN_NORTH, IN_SOUTH, OUTSIDE, refresh_as_task, square
from tests.monitoring.test_figures import check, fy, local, quarter

pytestmark = pytest.mark.django_db
KINDS = [ContextKind.PLACE, ContextKind.PEER_GROUP, ContextKind.ONLINE_SPACE]


def report(world, **filters) -> figures.Report:
    return figures.contexts_report(world.analyst_actor, figures.Filters(**filters))


def tables(world, **filters) -> dict:
    return {t.key: t.protected for t in report(world, **filters).tables}


def year_end(year: int) -> dt.date:
    return dt.date(year + 1, 3, 31)


# -- a context's ward --------------------------------------------------------


def test_a_point_in_a_polygon_with_a_hole_and_in_a_multipolygon():
    outer = [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]
    hole = [[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]]
    donut = {"type": "Polygon", "coordinates": [outer, hole]}
    assert point_in_boundary(1, 1, donut) and point_in_boundary(9, 5, donut)
    assert not point_in_boundary(5, 5, donut)  # in the hole
    assert not point_in_boundary(11, 5, donut) and not point_in_boundary(5, -1, donut)
    islands = {"type": "MultiPolygon", "coordinates": [[outer, hole], [[[20, 20], [30, 20], [25, 30], [20, 20]]]]}
    assert point_in_boundary(25, 22, islands) and point_in_boundary(2, 8, islands)
    assert not point_in_boundary(5, 5, islands) and not point_in_boundary(15, 15, islands)
    # A ring that does not repeat its first point is still closed.
    assert point_in_boundary(1, 1, {"type": "Polygon", "coordinates": [outer[:-1]]})
    assert not point_in_boundary(1, 1, {"type": "Point", "coordinates": [1, 1]})


def test_the_ward_written_then_the_map_point_else_not_known():
    north = Ward(pk=1, code="E05000001", name="North Ward", boundary=square(-0.1, 51.5))
    south = Ward(pk=2, code="E05000002", name="South Ward", boundary=square(-0.1, 51.49))
    finder = WardFinder([north, south])
    assert finder.ward_of("North Ward", None, None) == 1
    assert finder.ward_of("  nORTH ward ", None, None) == 1  # whatever the case and the spaces
    assert finder.ward_of("e05000002", None, None) == 2  # the ONS code
    assert finder.ward_of("", *IN_SOUTH) == 2  # a place's map point
    assert finder.ward_of("Lock Street", *IN_NORTH) == 1  # not a ward: the point says
    assert finder.ward_of("South Ward", *IN_NORTH) == 2  # the ward written comes first
    assert finder.ward_of("Riverside", None, None) is None  # never guessed
    assert finder.ward_of("", *OUTSIDE) is None
    # A point in two wards' boundaries (they overlap) is not known either.
    assert WardFinder([north, Ward(pk=3, code="E05000003", name="Overlap", boundary=north.boundary)]).ward_of(
        "", *IN_NORTH) is None
    # A text that names two wards (one's name, another's code) is no answer.
    assert WardFinder([north, Ward(pk=4, code="North Ward", name="Other", boundary={})]).ward_of(
        "north ward", None, None) is None


# -- the figures against the records ------------------------------------------


def test_places_and_groups_by_ward_equal_direct_counts(world, panels):
    refresh_as_task(world.partnership.pk)
    wards = [panels.north.pk, panels.south.pk, None]  # the table's rows: by name, then "not known"
    shown = 0
    for year in figures.years(world.analyst_actor):
        table = tables(world, year=year)["context_wards"]
        assert table.rows == ["North Ward", "South Ward", figures.NOT_KNOWN]
        assert table.columns == ["Place", "Peer group or gang", "Online space"]
        known = [(c, ward) for c, ward in panels.contexts.items() if local(c.created_at) <= year_end(year)]
        for i, ward in enumerate(wards):
            for j, kind in enumerate(KINDS):
                check(table.cells[i][j], sum(1 for c, w in known if w == ward and c.kind == kind))
            check(table.row_totals[i], sum(1 for _, w in known if w == ward))
        for j, kind in enumerate(KINDS):
            check(table.column_totals[j], sum(1 for c, _ in known if c.kind == kind))
        check(table.total, len(known))
        shown += sum(1 for row in table.cells for f in row if f.count is not None)
    assert shown  # the comparison compared something
    # A year before the first with figures (asked for by the scheduled
    # refresh's working out, or by hand): nothing known then.
    before = min(figures.years(world.analyst_actor)) - 2
    table = tables(world, year=before)["context_wards"]
    assert table.total.count == 0 and all(f.count == 0 for row in table.cells for f in row)


def test_a_person_of_concern_is_never_counted(world, panels):
    refresh_as_task(world.partnership.pk)
    counted = Context.objects.filter(partnership=world.partnership).exclude(kind=ContextKind.PERSON_OF_CONCERN)
    assert ContextFact.objects.filter(partnership=world.partnership).count() == counted.count() == len(panels.contexts)
    assert Context.objects.filter(partnership=world.partnership, kind=ContextKind.PERSON_OF_CONCERN).count() == 2
    # Not even by the table itself.
    with pytest.raises(IntegrityError), transaction.atomic():
        ContextFact.objects.create(partnership=world.partnership, kind=ContextKind.PERSON_OF_CONCERN,
                                   recorded_month=timezone.localdate().replace(day=1), risk_level="red")
    # A place that becomes a person of concern leaves the figures.
    place = next(c for c, ward in panels.contexts.items() if ward == panels.north.pk)
    Context.objects.filter(pk=place.pk).update(kind=ContextKind.PERSON_OF_CONCERN, latitude=None, longitude=None)
    refresh_as_task(world.partnership.pk, full=True)
    assert ContextFact.objects.filter(partnership=world.partnership).count() == len(panels.contexts) - 1


def outcome(action: PanelAction, today: dt.date) -> str:
    """An action's outcome, read from its change history as a person
    reading it would: done on time if the first time it was marked done was
    on or before its due date."""
    if action.status == ActionStatus.DONE:
        first = PanelAction.pgh_event_model.objects.filter(pgh_obj_id=action.pk, status="done").order_by(
            "pgh_created_at").first()
        return "on_time" if local(first.pgh_created_at) <= action.due_on else "late"
    if action.status == ActionStatus.CANCELLED:
        return "cancelled"
    return "overdue" if action.due_on < today else "not_due"


def test_panel_actions_by_outcome_equal_direct_counts(world, panels):
    refresh_as_task(world.partnership.pk)
    today = timezone.localdate()
    outcomes = [key for key, _ in figures.ACTION_OUTCOMES]
    shown = 0
    for year in figures.years(world.analyst_actor):
        built = report(world, year=year)
        table = {t.key: t.protected for t in built.tables}["panel_actions"]
        assert table.columns == figures.quarter_labels(year)
        due = [a for a in PanelAction.objects.filter(panel__partnership=world.partnership) if fy(a.due_on) == year]
        for i, name in enumerate(outcomes):
            for q in range(4):
                check(table.cells[i][q], sum(1 for a in due if outcome(a, today) == name and quarter(a.due_on) == q))
            check(table.row_totals[i], sum(1 for a in due if outcome(a, today) == name))
        for q in range(4):
            check(table.column_totals[q], sum(1 for a in due if quarter(a.due_on) == q))
        check(table.total, len(due))
        shown += sum(1 for f in table.row_totals if f.count is not None)
        # The share completed on time, where every count behind it is shown.
        share = built.extra["on_time"][-1]
        judged = [a for a in due if outcome(a, today) in ("on_time", "late", "overdue")]
        if all(table.row_totals[outcomes.index(o)].count is not None for o in ("on_time", "late", "overdue")):
            on_time = sum(1 for a in judged if outcome(a, today) == "on_time")
            assert share["share"] == (f"{100 * on_time / len(judged):.0f}%" if judged else "no action due by now")
        else:
            assert share["share"] == "not shown" and share["value"] is None
    assert shown


def test_the_share_completed_on_time(world, panels):
    """Of the actions due by now, cancelled ones aside: here 10 on time,
    5 late and 5 overdue, all due ten days ago, and nothing else."""
    PanelAction.objects.filter(panel=panels.panel).delete()
    for changes in [[("done", 11)]] * 10 + [[("done", 2)]] * 5 + [[]] * 5:
        panels.action(-10, *changes)
    refresh_as_task(world.partnership.pk)
    due = timezone.localdate() - dt.timedelta(days=10)
    built = report(world, year=fy(due))
    shares = {row["period"]: row for row in built.extra["on_time"]}
    for period in (figures.quarter_labels(fy(due))[quarter(due)], "Year"):
        assert shares[period]["share"] == "50%" and shares[period]["value"] == 0.5
    assert [row["share"] for row in built.extra["on_time"]].count("no action due by now") == 3


def test_completed_on_time_is_when_it_first_became_done_not_its_last_change(world, panels):
    refresh_as_task(world.partnership.pk)
    today = timezone.localdate()
    facts = {(f.due_on, f.status, f.completed_on) for f in PanelActionFact.objects.filter(partnership=world.partnership)}
    for action in panels.actions:
        done = PanelAction.pgh_event_model.objects.filter(pgh_obj_id=action.pk, status="done").order_by(
            "pgh_created_at").first()
        completed = local(done.pgh_created_at) if action.status == "done" else None
        assert (action.due_on, action.status, completed) in facts
        if action.status == "done":
            # Every action here was last changed today, after its due date
            # for most: the history, not ``updated_at``, says when.
            assert local(action.updated_at) == today
    on_time_by_history = [a for a in panels.actions if a.status == "done" and outcome(a, today) == "on_time"]
    assert any(local(a.updated_at) > a.due_on for a in on_time_by_history)
    # Done, reopened, done again: the first time counts.
    again = next(a for a in panels.actions if PanelAction.pgh_event_model.objects.filter(
        pgh_obj_id=a.pk, status="done").count() == 2)
    assert outcome(again, today) == "on_time"
    # Done then reopened: not completed.
    reopened = next(a for a in panels.actions if a.status == "in_progress" and PanelAction.pgh_event_model.objects
                    .filter(pgh_obj_id=a.pk, status="done").exists())
    assert (reopened.due_on, "in_progress", None) in facts


# -- suppression ---------------------------------------------------------------


def test_small_counts_are_hidden_and_a_wards_view_is_a_slice_of_the_boroughs(world, panels):
    refresh_as_task(world.partnership.pk)
    year = figures.financial_year(timezone.localdate())
    borough = tables(world, year=year)
    contexts = borough["context_wards"]
    every = [f for row in contexts.cells for f in row] + contexts.row_totals + contexts.column_totals
    assert all(f.count is None or f.count == 0 or f.count >= 5 for f in every)
    assert any(f.count is None for f in every) and any(f.count for f in every)
    for i, ward in enumerate([panels.north.pk, panels.south.pk, figures.WARD_NOT_KNOWN]):
        view = tables(world, year=year, ward=ward)
        row = view["context_wards"]
        assert row.rows == [contexts.rows[i]] and row.column_totals is None and row.total is None
        assert [f.text for f in row.cells[0]] == [f.text for f in contexts.cells[i]]
        assert row.row_totals[0].text == contexts.row_totals[i].text
        # The panel actions belong to no ward: the borough's, as they are.
        assert view["panel_actions"] == borough["panel_actions"]


def test_two_years_side_by_side_give_away_no_small_number_recorded_between(world, panels):
    refresh_as_task(world.partnership.pk)
    years = sorted(figures.years(world.analyst_actor))
    assert len(years) >= 2
    compared = 0
    for earlier, later in zip(years, years[1:]):
        a, b = (tables(world, year=y)["context_wards"] for y in (earlier, later))
        pairs = [(x, y) for row_a, row_b in zip(a.cells, b.cells) for x, y in zip(row_a, row_b)]
        pairs += list(zip(a.row_totals, b.row_totals)) + list(zip(a.column_totals, b.column_totals))
        pairs.append((a.total, b.total))
        for x, y in pairs:
            if x.count is not None and y.count is not None:
                assert not 0 < y.count - x.count < 5
                compared += 1
    assert compared


def test_the_concern_filter_is_said_not_to_apply(world, panels):
    refresh_as_task(world.partnership.pk)
    year = figures.financial_year(timezone.localdate())
    plain, weapon = report(world, year=year), report(world, year=year, concern="weapon")
    assert "concern filter does not apply" in plain.notes[0]
    assert "does not narrow these figures" in weapon.notes[0] and "weapon" in weapon.notes[0].lower()
    assert [t.protected for t in plain.tables] == [t.protected for t in weapon.tables]


def test_only_the_reporting_role_builds_the_report(world, panels, cast):
    for role in set(Role.values) - {Role.REPORTING}:
        actor = access.actor_for_user(cast.user("hub", role), partnership=world.partnership.pk)
        with pytest.raises(access.NotAllowed):
            figures.contexts_report(actor, figures.Filters(year=figures.financial_year(timezone.localdate())))
