"""The refresh: pseudonymised (no record id, no name, no date of birth, no
postcode in the reporting schema), incremental (a second run with nothing
new rewrites nothing; a change rewrites only its young person's facts, or
the contexts' and panel actions' when one of those changed), logged, for
the system actor only, and under row-level security."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from agencies.models import Role
from contexts.models import Context, PanelAction
from monitoring import refresh as refreshing
from monitoring.models import (
    CaseFact,
    ContextFact,
    InterventionFact,
    PanelActionFact,
    RefreshState,
    ReferralFact,
    ReportingKey,
    ReviewFact,
)
from referrals.models import Case, Intervention, Referral, Review, YoungPerson
from reminders import tasks
from safeguarding import access
from safeguarding.models import AccessEvent
from tests import factories as f
from tests.monitoring.conftest import load_reference, refresh_as_task
from tests.partnerships.test_row_security import count_as_app

pytestmark = pytest.mark.django_db
FACTS = (ReferralFact, CaseFact, ReviewFact, InterventionFact, ContextFact, PanelActionFact)


def facts(partnership) -> dict:
    return {m.__name__: sorted((
        tuple(v for k, v in row.items() if k != "id") for row in m.objects.filter(partnership=partnership).values()
    ), key=repr) for m in FACTS}


def same_as_a_full_refresh(partnership) -> None:
    after = facts(partnership)
    refresh_as_task(partnership.pk, full=True)
    assert facts(partnership) == after


def as_if_later(partnership) -> None:
    """As if the last run were an hour ago and everything so far recorded
    before it. (A test is one transaction, in which every change is
    recorded at the transaction's start: the history is moved back an hour
    so that what the test changes next is recorded after the last run.)"""
    with connection.cursor() as cursor:
        for table in ("referrals_youngpersonevent", "referrals_referralevent", "referrals_caseevent",
                      "referrals_interventionevent", "referrals_reviewevent", "contexts_contextevent",
                      "contexts_panelactionevent"):
            cursor.execute(f"UPDATE {table} SET pgh_created_at = pgh_created_at - interval '1 hour'")
    RefreshState.objects.filter(partnership=partnership).update(
        changes_until=timezone.now() - dt.timedelta(minutes=30) + refreshing.OVERLAP)


def test_the_reporting_schema_holds_no_direct_identifier(world, panels):
    refresh_as_task(world.partnership.pk)
    for model in FACTS:
        columns = {f.column for f in model._meta.concrete_fields}
        assert not columns & {"young_person_id", "referral_id", "case_id", "reference", "given_name", "family_name",
                              "date_of_birth", "postcode"}, model
    keys = {str(k) for k in ReportingKey.objects.values_list("key", flat=True)}
    with connection.cursor() as cursor:
        for model in FACTS:
            cursor.execute(f"SELECT row_to_json(t)::text FROM {model._meta.db_table} t")
            text = " ".join(row[0] for row in cursor.fetchall())
            for person in world.people:
                assert person.family_name not in text and person.date_of_birth.isoformat() not in text
                assert person.postcode not in text and person.postcode.replace(" ", "") not in text
            for referral in world.referrals:
                assert referral.reference not in text
            for context in [*panels.contexts, *panels.persons]:
                assert context.name not in text and context.known not in text
            for action in panels.actions:
                assert action.description not in text
    # The key is random: not the record id, nor anything made from it.
    assert all(len(k) == 36 for k in keys)
    assert not {str(p.pk) for p in world.people} & keys


def test_a_second_refresh_with_nothing_new_rewrites_nothing(world):
    first = refresh_as_task(world.partnership.pk)
    assert first.full and first.facts["referrals"] == len(world.referrals)
    before = facts(world.partnership)
    as_if_later(world.partnership)
    second = refresh_as_task(world.partnership.pk)
    assert not second.full and second.young_people == 0 and sum(second.facts.values()) == 0
    assert facts(world.partnership) == before


def test_a_change_rewrites_only_that_young_persons_facts(world):
    refresh_as_task(world.partnership.pk)
    as_if_later(world.partnership)
    person = world.people[0]
    # A bulk update (no save(), no updated_at): the change history sees it.
    YoungPerson.objects.filter(pk=person.pk).update(postcode="ZZ9 9ZZ")
    result = refresh_as_task(world.partnership.pk)
    assert result.young_people == 1
    key = ReportingKey.objects.get(young_person=person).key
    assert set(ReferralFact.objects.filter(person_key=key).values_list("ward_id", flat=True)) == {None}
    same_as_a_full_refresh(world.partnership)


def test_a_referral_moved_to_another_record_leaves_no_fact_behind(world):
    refresh_as_task(world.partnership.pk)
    as_if_later(world.partnership)
    moved = world.referrals[2]  # signposted: no case
    old, new = moved.young_person, world.people[5]
    Referral.objects.filter(pk=moved.pk).update(young_person=new)
    refresh_as_task(world.partnership.pk)
    old_key = ReportingKey.objects.get(young_person=old).key
    assert ReferralFact.objects.filter(person_key=old_key).count() == Referral.objects.filter(young_person=old).count()
    same_as_a_full_refresh(world.partnership)


def test_contexts_and_panel_actions_are_rewritten_only_when_one_changed(world, panels):
    first = refresh_as_task(world.partnership.pk)
    assert first.facts["contexts"] == len(panels.contexts) and first.facts["panel_actions"] == len(panels.actions)
    version = RefreshState.objects.get(partnership=world.partnership).facts_version
    before = facts(world.partnership)
    as_if_later(world.partnership)
    quiet = refresh_as_task(world.partnership.pk)
    assert sum(quiet.facts.values()) == 0 and quiet.young_people == 0
    assert RefreshState.objects.get(partnership=world.partnership).facts_version == version
    assert facts(world.partnership) == before
    # A place moved to another ward, by a bulk update (no save()): the
    # change history sees it, and every context and action is written again.
    place = next(c for c, ward in panels.contexts.items() if ward == panels.north.pk)
    Context.objects.filter(pk=place.pk).update(ward="South Ward")
    moved = refresh_as_task(world.partnership.pk)
    assert moved.young_people == 0 and moved.facts == {
        "referrals": 0, "cases": 0, "reviews": 0, "interventions": 0,
        "contexts": len(panels.contexts), "panel_actions": len(panels.actions)}
    assert RefreshState.objects.get(partnership=world.partnership).facts_version != version
    assert ContextFact.objects.filter(partnership=world.partnership, ward=panels.south).count() == sum(
        1 for ward in panels.contexts.values() if ward == panels.south.pk) + 1
    logged = AccessEvent.objects.filter(action="refresh", object_type="reporting schema").latest("pk")
    assert logged.detail["facts"]["contexts"] == len(panels.contexts)
    same_as_a_full_refresh(world.partnership)
    # So does an action's status changing.
    as_if_later(world.partnership)
    PanelAction.objects.filter(pk=panels.actions[0].pk).update(status="cancelled")
    assert refresh_as_task(world.partnership.pk).facts["panel_actions"] == len(panels.actions)
    assert PanelActionFact.objects.filter(partnership=world.partnership, status="cancelled").count() == 2
    same_as_a_full_refresh(world.partnership)


def test_loading_reference_data_makes_the_next_refresh_full(world):
    refresh_as_task(world.partnership.pk)
    as_if_later(world.partnership)
    load_reference(world.partnership)
    assert refresh_as_task(world.partnership.pk).full


def test_the_refresh_is_logged_and_the_task_runs_every_partnership(world, boroughs):
    f.ReferralFactory(young_person=f.YoungPersonFactory(partnership=boroughs.b, recorded_by=boroughs.youth_b),
                      referring_agency=boroughs.youth_b)
    counts = tasks.monitoring_refresh()
    assert set(counts) >= {world.partnership.pk, boroughs.b.pk}
    logged = AccessEvent.objects.filter(action="refresh", object_type="reporting schema")
    assert logged.count() >= 2 and all(e.api_client == "monitoring" and e.channel == "task" for e in logged)
    # Each partnership's facts are its own.
    b_people = set(ReportingKey.objects.filter(partnership=boroughs.b).values_list("key", flat=True))
    assert set(ReferralFact.objects.filter(partnership=world.partnership).values_list("person_key", flat=True)).isdisjoint(b_people)


def test_only_the_system_actor_reads_the_sources(world, panels, cast):
    for actor in (access.actor_for_user(cast.user("hub", Role.REPORTING)),
                  access.actor_for_user(cast.user("owner", Role.MANAGER)),
                  access.system_actor(channel="web", partnership=world.partnership.pk)):
        sources = access.reporting_sources(actor)
        assert not sources.referrals.exists() and not sources.young_people.exists()
        assert not sources.contexts.exists() and not sources.panel_actions.exists()
        assert not sources.panel_action_history.exists()
        assert access.reporting_changes(actor, timezone.now() - dt.timedelta(days=1)) == set()
        assert not access.reporting_contexts_changed(actor, timezone.now() - dt.timedelta(days=1))


def test_every_monitoring_table_is_under_row_level_security(world, panels, boroughs):
    import importlib

    policies = [importlib.import_module(f"monitoring.migrations.{name}")
                for name in ("0002_reporting_row_security", "0004_context_and_panel_facts")]
    load_reference(boroughs.b)
    f.ReferralFactory(young_person=f.YoungPersonFactory(partnership=boroughs.b, recorded_by=boroughs.youth_b),
                      referring_agency=boroughs.youth_b)
    Context.objects.create(partnership=boroughs.b, kind="place", name="Northbank place", known="Seen at night",
                           lead_agency=boroughs.youth_b, risk_level="amber", recording_agency=boroughs.youth_b,
                           recorded_by=boroughs.people[("youth_b", Role.PRACTITIONER)])
    tasks.monitoring_refresh()
    assert count_as_app("monitoring_contextfact", boroughs.b.pk) == 1
    assert count_as_app("monitoring_contextfact", world.partnership.pk) == len(panels.contexts)
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relname LIKE 'monitoring\\_%%' AND relkind = 'r'"
                       " AND NOT relrowsecurity")
        assert cursor.fetchall() == []
    for table in [table for policy in policies for table in policy.TABLES]:
        assert count_as_app(table, None) == 0
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {table}")
            everything = cursor.fetchone()[0]
        assert count_as_app(table, world.partnership.pk) + count_as_app(table, boroughs.b.pk) == everything
    assert Case.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_partnerships_refreshed_side_by_side_come_out_as_one_after_another(world, boroughs):
    """``refresh_all`` outside a transaction refreshes the partnerships on
    connections of their own, at the same time; the facts are those of a
    run on one connection, each partnership's its own."""
    assert not connection.in_atomic_block
    partnerships = (world.partnership, boroughs.b)
    side_by_side = refreshing.refresh_all(full=True, workers=2)
    assert {p.pk for p in partnerships} <= set(side_by_side)
    written = {p.pk: facts(p) for p in partnerships}
    for p in partnerships:
        assert len(written[p.pk]["ReferralFact"]) == Referral.objects.filter(partnership=p).count()
        assert side_by_side[p.pk].facts["referrals"] == len(written[p.pk]["ReferralFact"])
    assert len(written[world.partnership.pk]["ReferralFact"]) > len(written[boroughs.b.pk]["ReferralFact"]) > 0
    one_after_another = refreshing.refresh_all(full=True, workers=1)
    assert {pid: r.facts for pid, r in one_after_another.items()} == {pid: r.facts for pid, r in side_by_side.items()}
    assert {p.pk: facts(p) for p in partnerships} == written
    assert AccessEvent.objects.filter(action="refresh").count() == 2 * len(side_by_side)


@pytest.mark.parametrize(("received", "decided"), [
    ("2026-05-01 16:00", "2026-05-05 10:00"),  # a Friday to the Tuesday after a bank holiday Monday: 18 hours
    ("2026-05-02 09:00", "2026-05-04 23:30"),  # Saturday to the bank holiday: none
    ("2026-03-27 22:15", "2026-03-30 00:45"),  # over the clocks going forward (a Sunday)
    ("2026-10-23 12:00", "2026-10-26 12:00"),  # over the clocks going back
    ("2026-12-24 08:00", "2027-01-04 09:10"),  # over Christmas and New Year, into the next year
    ("2026-06-10 09:00", "2026-06-10 09:00"),  # decided at once
    ("2026-06-10 09:00", "2026-06-09 09:00"),  # decided before it came (bad data): none, never negative
])
def test_the_time_to_decision_is_the_working_time_between(cast, received, decided):
    """Each referral's working hours from receipt to decision are those of
    ``referrals.deadlines`` (weekends and bank holidays stop the clock)."""
    from referrals.deadlines import working_time_left

    partnership = f.default_partnership()
    tz = timezone.get_current_timezone()
    at = {name: dt.datetime.fromisoformat(value).replace(tzinfo=tz) for name, value in
          (("received", received), ("decided", decided))}
    f.ReferralFactory(referring_agency=cast.referrer, young_person=f.YoungPersonFactory(recorded_by=cast.referrer),
                      received_at=at["received"], decided_at=at["decided"], status="signposted")
    refresh_as_task(partnership.pk, full=True)
    fact = ReferralFact.objects.get(partnership=partnership)
    expected = max(working_time_left(at["received"], at["decided"]).total_seconds(), 0) / 3600
    assert fact.decision_hours == pytest.approx(expected)
    assert fact.within_standard == (expected <= 24)


@pytest.mark.parametrize("run", ["full", "incremental"])
def test_the_risk_before_and_after_an_intervention_are_its_cases_reviews_around_it(cast, run):
    """The risk before an intervention is the one its case's last review
    before it started found (else the case's risk on entry: its first
    referral's; else its risk now); the risk after, the one the first
    review on or after it ended found. Worked out here review by review.
    A full run joins the cases' reviews, an incremental one looks them up:
    both come out the same."""
    partnership = f.default_partnership()
    if run == "incremental":
        assert refresh_as_task(partnership.pk).full  # the first run; what follows is new to the next
    worker = cast.user("owner", Role.PRACTITIONER)
    tz = timezone.get_current_timezone()

    def at(day: str, hour: int = 12):
        return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=tz)

    reviewed = f.CaseFactory(lead_agency=cast.owner, risk_level="green",
                             young_person=f.YoungPersonFactory(recorded_by=cast.owner))
    for day, risk in (("2026-02-10", "amber"), ("2026-01-05", "red"), ("2026-03-20", "green")):
        Review.objects.create(case=reviewed, due_on=at(day).date(), completed_at=at(day), completed_by=worker,
                               risk_after=risk, summary="Reviewed", decision="continue")
    referred = f.CaseFactory(lead_agency=cast.owner, risk_level="green",
                             young_person=f.YoungPersonFactory(recorded_by=cast.owner))
    for received, risk in (("2026-01-03", "amber"), ("2025-12-01", "red")):
        f.ReferralFactory(referring_agency=cast.referrer, young_person=referred.young_person, case=referred,
                          status="accepted", received_at=at(received), decided_at=at(received, 15), risk_level=risk)
    bare = f.CaseFactory(lead_agency=cast.owner, risk_level="amber",
                         young_person=f.YoungPersonFactory(recorded_by=cast.owner))
    plans = [  # (case, started, ended, kind)
        (reviewed, "2026-01-05", "2026-02-10", "mentoring"),  # a review on the day it started is not before it
        (reviewed, "2026-02-11", None, "diversion"),
        (reviewed, "2026-03-21", "2026-03-22", "positive_activities"),  # no review after it yet
        (reviewed, "2026-01-01", "2026-03-01", "education_support"),
        (referred, "2026-02-01", "2026-02-02", "mentoring"),
        (bare, "2026-02-01", None, "diversion"),
    ]
    for case, started, ended, kind in plans:
        Intervention.objects.create(
            case=case, provider_agency=cast.owner, kind=kind, status="completed" if ended else "active",
            started_on=dt.date.fromisoformat(started), ended_on=ended and dt.date.fromisoformat(ended),
            goals="Sessions", sessions_offered=4, sessions_attended=2, recorded_by=worker)
    assert refresh_as_task(partnership.pk, full=run == "full").full == (run == "full")

    def expected(intervention):
        reviews = sorted(intervention.case.reviews.filter(completed_at__isnull=False), key=lambda r: r.completed_at)
        local = [(timezone.localtime(r.completed_at).date(), r.risk_after) for r in reviews]
        before = [risk for day, risk in local if day < intervention.started_on]
        first = intervention.case.referrals.order_by("received_at").first()
        after = [risk for day, risk in local if intervention.ended_on and day >= intervention.ended_on]
        return (intervention.kind, before[-1] if before else (first.risk_level if first else intervention.case.risk_level),
                after[0] if after else "")

    wanted = sorted(expected(i) for i in Intervention.objects.filter(case__partnership=partnership))
    assert sorted(InterventionFact.objects.filter(partnership=partnership)
                  .values_list("kind", "risk_before", "risk_after")) == wanted
    assert wanted == sorted([  # as meant: the reasoning above, worked out by hand
        ("mentoring", "green", "amber"), ("diversion", "amber", ""), ("positive_activities", "green", ""),
        ("education_support", "green", "green"), ("mentoring", "red", ""), ("diversion", "amber", "")])
    # And each case's risk on entry: its first referral's, else its risk now.
    assert sorted(CaseFact.objects.filter(partnership=partnership).values_list("risk_now", "risk_on_entry")) == [
        ("amber", "amber"), ("green", "green"), ("green", "red")]


def test_the_scheduled_refresh_works_the_figures_out_before_anyone_reads_them(world, monkeypatch):
    """After a refresh that wrote facts, the task works out every report's
    figures (cached) for the year under way and the last one, so their
    first reader waits for none; a refresh with nothing new works out
    nothing."""
    from django.core.cache import cache

    from monitoring import figures

    cache.clear()
    worked_out = []
    work_out = figures._work_out
    monkeypatch.setattr(figures, "_work_out", lambda *args: worked_out.append(args[1]) or work_out(*args))
    tasks.monitoring_refresh()
    assert {"referrals", "open"} <= set(worked_out)
    worked_out.clear()
    current = figures.financial_year(timezone.localdate())
    actor = world.analyst_actor
    with access.within_partnership(actor):
        for year in (current, current - 1):
            for name in figures.REPORTS:
                for ward in (None, figures.wards(actor)[0].pk):
                    figures.build(actor, name, figures.Filters(year=year, ward=ward, concern="weapon"))
        assert worked_out == [], "a reader found the year's and the last year's figures worked out"
        figures.build(actor, "referrals", figures.Filters(year=current - 2))
        assert worked_out == ["referrals"], "an earlier year is worked out when first read"
        worked_out.clear()
    as_if_later(world.partnership)
    tasks.monitoring_refresh()
    assert worked_out == []


def test_who_may_work_the_figures_out(world, cast):
    """The partnership's system actor and its reporting analysts; no one
    else (deny by default)."""
    assert access.may_work_out_monitoring(access.system_actor(label="monitoring", partnership=world.partnership.pk))
    assert not access.may_work_out_monitoring(access.system_actor(label="monitoring"))
    assert access.may_work_out_monitoring(world.analyst_actor)
    for role in Role:
        if role != Role.REPORTING:
            assert not access.may_work_out_monitoring(cast.actor("hub", role)), role


def test_a_year_whose_counts_did_not_change_is_not_protected_again(world, monkeypatch):
    """A refresh that changed one year's counts gives the facts a new
    version, so both years the task warms are worked out again; but the
    year whose counts are as they were takes its hidden figures from the
    cache (keyed by a digest of its counts and links), and they are the
    ones worked out before."""
    from django.core.cache import cache

    from monitoring import figures

    cache.clear()
    latest = max(world.referrals, key=lambda referral: referral.received_at)
    changed = figures.financial_year(timezone.localtime(latest.received_at).date())
    current = figures.financial_year(timezone.localdate())
    (unchanged,) = {current, current - 1} - {changed}
    tasks.monitoring_refresh()
    actor = world.analyst_actor

    def tables(year: int) -> list:
        with access.within_partnership(actor):
            return [table.protected for table in figures.build(actor, "referrals", figures.Filters(year=year)).tables]

    before = {year: tables(year) for year in (changed, unchanged)}
    working_on, protected = [], []
    work_out, suppress = figures._work_out, figures.suppress
    monkeypatch.setattr(figures, "_work_out", lambda *args: working_on.append(args[2]) or work_out(*args))
    monkeypatch.setattr(figures, "suppress", lambda *args, **kwargs: protected.append(working_on[-1])
                        or suppress(*args, **kwargs))
    as_if_later(world.partnership)
    Referral.objects.filter(pk=latest.pk).update(concerns=["exclusion"])
    tasks.monitoring_refresh()
    assert unchanged in working_on, "the facts' new version: both years worked out again"
    assert protected and set(protected) == {changed}, "only the year whose counts changed is protected again"
    assert tables(unchanged) == before[unchanged]
    assert tables(changed) != before[changed]


@pytest.mark.django_db(transaction=True)
def test_a_full_run_vacuums_and_analyses_the_facts_it_rewrote(cast):
    """A full run deletes and writes again every fact: it then reclaims the
    old facts' space and gives the planner the new facts' statistics,
    whether or not autovacuum runs (it does not on the CI machine)."""
    partnership = f.default_partnership()
    f.ReferralFactory(referring_agency=cast.referrer, young_person=f.YoungPersonFactory(recorded_by=cast.referrer))
    before = timezone.now()
    results = refreshing.refresh_all(full=True, workers=1)
    assert results[partnership.pk].full

    def maintained() -> dict:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT relname, last_vacuum, last_analyze FROM pg_stat_user_tables WHERE relname = ANY(%s)",
                [[model._meta.db_table for model in refreshing.VACUUMED]])
            return {name: (vacuumed, analysed) for name, vacuumed, analysed in cursor.fetchall()}

    found = maintained()
    assert set(found) == {model._meta.db_table for model in (*refreshing.FACT_MODELS, ReportingKey)}
    assert all(vacuumed and vacuumed >= before and analysed and analysed >= before
               for vacuumed, analysed in found.values()), found
    # A run with nothing to rewrite in full leaves them be.
    refreshing.refresh_all(workers=1)
    assert maintained() == found
