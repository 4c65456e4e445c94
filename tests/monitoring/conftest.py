"""A borough with wards, a postcode lookup and a young population loaded,
and casework spread over them: referrals of every kind of decision, cases
with reviews and interventions, young people whose postcodes are in the
lookup and one whose postcode is not; and (``panels``) its contexts and
its panel's actions."""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

import pytest
from django.utils import timezone

from agencies.models import AgencyKind, Role
from monitoring import reference
from monitoring.figures import financial_year
from monitoring.models import Ward
from monitoring.refresh import as_partnership, refresh
from referrals import models as rm
from safeguarding import access
from tests import factories as f
from tests.partnerships.conftest import boroughs  # noqa: F401 (a fixture)


def square(lon: float, lat: float) -> dict:
    ring = [[lon, lat], [lon + 0.01, lat], [lon + 0.01, lat - 0.01], [lon, lat - 0.01], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


WARDS = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"code": "E05000001", "name": "North Ward"}, "geometry": square(-0.1, 51.5)},
    {"type": "Feature", "properties": {"code": "E05000002", "name": "South Ward"}, "geometry": square(-0.1, 51.49)},
]}
POSTCODES = "pcds,osward\nSE15 4QF,E05000001\nSE15 5AA,E05000001\nSE5 7BB,E05000002\nN1 1AA,E05999999\n"
POPULATION = "ward_code,age_band,ethnic_group,people\n" + "".join(
    f"{code},{band},{group},{people}\n"
    for code in ("E05000001", "E05000002")
    for band, group, people in (("14-15", "white", 400), ("14-15", "black", 300), ("16-17", "asian", 200),
                                ("16-17", "white", 100))
)


def load_reference(partnership) -> None:
    reference.wards_load(partnership=partnership, text=json.dumps(WARDS))
    reference.postcodes_load(partnership=partnership, text=POSTCODES)
    reference.population_load(partnership=partnership, text=POPULATION)


def refresh_as_task(partnership_id: int, *, full: bool = False):
    with as_partnership(partnership_id) as actor:
        return refresh(actor, full=full)


@pytest.fixture
def world(cast):
    partnership = f.default_partnership()
    load_reference(partnership)
    today = timezone.localdate()
    # From 100 days ago, two days apart (some on weekends, so the working
    # time to a decision is not the time itself).
    base = timezone.now().replace(hour=10, minute=0, second=0, microsecond=0) - dt.timedelta(days=100)
    moments = [base + dt.timedelta(days=2 * i) for i in range(40)]
    police = f.AgencyFactory(name="Borough Police", slug="borough-police", kind=AgencyKind.POLICE)
    postcodes = ["SE15 4QF", "SE15 5AA", "SE5 7BB", "ZZ9 9ZZ"]
    ethnicities = ["white_british", "black_caribbean", "asian_indian", "mixed_other", "not_stated"]
    genders = ["male", "female", "male", "non_binary"]
    people = []
    for i in range(24):
        person = f.YoungPersonFactory(
            recorded_by=cast.owner, partnership=partnership, postcode=postcodes[i % 4],
            ethnicity=ethnicities[i % 5], gender=genders[i % 4],
            date_of_birth=today - dt.timedelta(days=365 * (11 + i % 8) + 40),
        )
        people.append(person)
    referrals, cases = [], []
    statuses = ["accepted", "accepted", "signposted", "no_further_action", "submitted", "withdrawn"]
    for i, person in enumerate(people):
        received = moments[i]
        status = statuses[i % 6]
        case = None
        if status == "accepted":
            case = f.CaseFactory(young_person=person, lead_agency=cast.owner, opened_at=received + dt.timedelta(hours=3),
                                 risk_level=["red", "amber", "green"][i % 3])
            cases.append(case)
        decided = None if status == "submitted" else received + dt.timedelta(hours=[3, 30, 80][i % 3])
        referrals.append(f.ReferralFactory(
            young_person=person, partnership=partnership, referring_agency=[cast.referrer, police][i % 2],
            concerns=[["weapon"], ["gang_association", "weapon"], ["criminal_exploitation"]][i % 3], received_at=received,
            decision_due_at=received + dt.timedelta(days=1), status=status, decided_at=decided, case=case,
            risk_level=["red", "amber", "green"][i % 3],
        ))
    # A repeat referral for two of them, a month after their first.
    for person in people[:2]:
        first = person.referrals.get()
        referrals.append(f.ReferralFactory(
            young_person=person, partnership=partnership, referring_agency=cast.referrer, concerns=["weapon"],
            received_at=min(first.received_at + dt.timedelta(days=30), timezone.now()),
            decision_due_at=first.received_at + dt.timedelta(days=31), status="signposted",
            decided_at=min(first.received_at + dt.timedelta(days=30, hours=2), timezone.now()),
        ))
    worker = cast.user("owner", Role.PRACTITIONER)
    for i, case in enumerate(cases):
        rm.Review.objects.create(
            case=case, due_on=today, completed_at=timezone.now(), completed_by=worker,
            risk_after=["green", "amber", "red"][i % 3], summary="Reviewed",
            decision=["continue", "step_down", "escalate"][i % 3],
        )
        rm.Intervention.objects.create(
            case=case, provider_agency=cast.owner, kind=["mentoring", "diversion"][i % 2],
            status=["completed", "active"][i % 2], started_on=case.opened_at.date(),
            ended_on=case.opened_at.date() if i % 2 == 0 else None, goals="Weekly sessions",
            sessions_offered=10, sessions_attended=7, recorded_by=worker,
        )
    analyst = cast.user("hub", Role.REPORTING)
    years = sorted({financial_year(timezone.localtime(r.received_at).date()) for r in referrals})
    return SimpleNamespace(partnership=partnership, people=people, referrals=referrals, cases=cases, years=years,
                           police=police, analyst=analyst,
                           analyst_actor=access.actor_for_user(analyst, partnership=partnership.pk))


# In the world's wards (``WARDS``): a point in each, and one in neither.
IN_NORTH, IN_SOUTH, OUTSIDE = (51.495, -0.095), (51.485, -0.095), (51.6, -0.095)


@pytest.fixture
def panels(world, cast):
    """The borough's contexts and its panel's actions. Places and groups in
    each ward, by the ward their recorder wrote (its name or code, in any
    case, with spaces around) or by a place's map point, and some whose
    ward is not known (no ward written, a ward that is none of the
    borough's, a point outside it); two persons of concern, never to be
    counted; a few recorded over a year ago. Actions of every outcome, each
    status change dated in its history as if made on the day it says
    (``updated_at`` is left to disagree: the history is what counts)."""
    from contexts import models as cm

    recorder = cast.user("owner", Role.PRACTITIONER)
    manager = cast.user("owner", Role.MANAGER)
    now = timezone.now()
    north, south = (Ward.objects.get(partnership=world.partnership, code=code) for code in ("E05000001", "E05000002"))
    contexts = {}  # context: the ward (id) it must be counted in (None: not known)

    def context(kind, ward, expected, *, point=(None, None), days_ago=0):
        made = cm.Context.objects.create(
            partnership=world.partnership, kind=kind, name=f"Zephyr context {len(contexts) + 1}",
            known=f"Quillon observations number {len(contexts) + 1}", ward=ward, latitude=point[0],
            longitude=point[1], lead_agency=cast.owner, risk_level=["red", "amber", "green"][len(contexts) % 3],
            recorded_by=recorder, recording_agency=cast.owner, created_at=now - dt.timedelta(days=days_ago),
        )
        contexts[made] = expected.pk if expected else None
        return made

    place, group, online = cm.ContextKind.PLACE, cm.ContextKind.PEER_GROUP, cm.ContextKind.ONLINE_SPACE
    for i, written in enumerate(["North Ward", " north ward ", "NORTH WARD", "e05000001", "North Ward",
                                 "North Ward", " E05000001"]):
        context(place, written, north, days_ago=400 if i >= 5 else 0)
    context(place, "", south, point=IN_SOUTH)
    context(place, "", south, point=IN_SOUTH, days_ago=400)
    context(place, "Lock Street", north, point=IN_NORTH)  # not a ward's name: the point says
    context(place, "", None, point=OUTSIDE)
    context(place, "Riverside", None)
    for i, written in enumerate(["South Ward", "south ward", "E05000002", "South Ward", " South Ward"]):
        context(group, written, south, days_ago=400 if i == 3 else 0)
    context(group, "", None)
    context(online, "", None)
    context(online, "", None, days_ago=400)
    context(online, "North Ward", north)
    persons = [cm.Context.objects.create(
        partnership=world.partnership, kind=cm.ContextKind.PERSON_OF_CONCERN, name=f"Yarrow person {i}",
        known="Believed to recruit", ward="North Ward", lead_agency=cast.owner, risk_level="red",
        recorded_by=recorder, recording_agency=cast.owner) for i in range(2)]

    panel = cm.Panel.objects.create(
        partnership=world.partnership, title="Xylo panel", meets_at=now - dt.timedelta(days=60),
        held_at=now - dt.timedelta(days=60), convening_agency=cast.owner, chair=manager, created_by=manager,
    )
    today = timezone.localdate()

    def action(due_in: int, *changes: tuple[str, int]):
        """An action due ``due_in`` days from today, then each (status, days
        ago) change, dated so in its history."""
        made = cm.PanelAction.objects.create(
            panel=panel, description=f"Vetch action {panel.actions.count() + 1}", owner_agency=cast.owner,
            owner=recorder, due_on=today + dt.timedelta(days=due_in), created_by=manager,
        )
        for status, days_ago in changes:
            cm.PanelAction.objects.filter(pk=made.pk).update(status=status, updated_at=now)
            event = cm.PanelAction.pgh_event_model.objects.filter(pgh_obj_id=made.pk).latest("pgh_id")
            cm.PanelAction.pgh_event_model.objects.filter(pk=event.pk).update(
                pgh_created_at=now - dt.timedelta(days=days_ago))
        return made

    for _ in range(5):
        action(-60, ("done", 61))  # on time
    action(-30, ("done", 35))  # on time, though last changed today
    action(-30, ("done", 20))  # late
    action(-10)  # overdue
    action(-5, ("in_progress", 8))  # overdue
    action(20)  # not yet due
    action(20, ("done", 1))  # done early: on time
    action(-15, ("cancelled", 16))
    action(-50, ("done", 55), ("in_progress", 40))  # done, then reopened: overdue, not done
    action(-40, ("done", 45), ("in_progress", 42), ("done", 30))  # first done before its due date: on time
    action(-400, ("done", 405))  # a year and more ago: on time
    action(-400, ("done", 380))  # late
    return SimpleNamespace(contexts=contexts, persons=persons, panel=panel, recorder=recorder, manager=manager,
                           actions=list(panel.actions.all()), action=action, north=north, south=south)
