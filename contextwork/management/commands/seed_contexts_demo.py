"""``manage.py seed_contexts_demo``: contexts and panels for the demo borough
(issue 16), run by ``seed_demo`` after the casework.

In Riverside (``seed_demo``'s borough, found by its slug): two places, a
peer group and a person of concern, links from open cases that show a
pattern, interventions, chronology entries, a panel held three weeks ago
and one coming. Everything goes through ``contextwork.services`` as the
demo's own people, in one transaction. Idempotent: if Riverside already has
contexts it changes nothing.
"""

from __future__ import annotations

import datetime as dt
import random

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from agencies.models import Agency, Membership, Partnership, Role
from contexts.models import Context, ContextKind, ContextLink, Panel, PanelAction, PanelAttendee
from contextwork import services as contextwork
from referrals import deadlines
from referrals.models import Case, RiskLevel
from safeguarding import access
from safeguarding.models import Channel

SEED = 2026 + 200
PARTNERSHIP_SLUG = "riverside"
AGENCY_SLUGS = {
    "hub": "riverside-mash", "police": "met-police-se-bcu", "parkside": "parkside-secondary",
    "youth": "riverside-youth-service", "yjs": "riverside-yjs", "csc": "riverside-csc",
}
DEMO_USERS = ("youthworker", "police", "screener", "manager", "teacher")


class Command(BaseCommand):
    help = "Load the demo borough's contexts and panels (after seed_demo). Safe to run twice."

    def handle(self, *args, **options):
        self.partnership = Partnership.objects.filter(slug=PARTNERSHIP_SLUG).first()
        if self.partnership is None:
            self.stdout.write("No demo borough: run seed_demo first.")
            return
        if Context.objects.filter(partnership=self.partnership).exists():
            self.stdout.write("The demo's contexts and panels are already loaded; nothing changed.")
            return
        self.now = timezone.now()
        self.today = timezone.localdate(self.now)
        self.actors: dict[int, access.Actor] = {}
        with transaction.atomic():
            self.contexts_and_panels()

    def actor(self, user) -> access.Actor:
        if user.pk not in self.actors:
            self.actors[user.pk] = access.actor_for_user(user, partnership=self.partnership, channel=Channel.COMMAND)
        return self.actors[user.pk]

    def practitioner(self, agency_id: int):
        return Membership.objects.filter(agency_id=agency_id, role=Role.PRACTITIONER, is_active=True).select_related(
            "user").order_by("user_id").first().user

    def contexts_and_panels(self) -> None:
        """In Riverside: two places, one peer group and a person of concern,
        with links that show a pattern (the same young people at the canal,
        in the group and around the person of concern, some of them led by
        agencies the teacher's school is not part of, so the teacher sees
        them as anonymous), interventions aimed at the places, a panel held
        three weeks ago (minutes, decisions in the cases' chronologies, an
        action done, one overdue and one due soon) and a coming panel that
        has taken up the overdue action by itself.

        Written last, with a random stream of its own, so the boroughs draw
        what they drew before."""
        self.rng = random.Random(SEED)
        agencies = {key: Agency.objects.get(slug=slug) for key, slug in AGENCY_SLUGS.items()}
        demo = {user.username: user for user in get_user_model().objects.filter(username__in=DEMO_USERS)}
        youth, police, hub = (self.actor(demo[name]) for name in ("youthworker", "police", "screener"))
        manager = self.actor(demo["manager"])
        cases = list(Case.objects.filter(partnership=self.partnership, status="open")
                     .select_related("lead_agency", "key_worker").order_by("pk"))
        youth_cases = [c for c in cases if c.lead_agency_id == agencies["youth"].pk][:6]
        other_cases = [c for c in cases if c.lead_agency_id in (agencies["yjs"].pk, agencies["csc"].pk)][:4]

        def at_place(**extra):
            return {"risk_level": RiskLevel.RED, **extra}

        canal = contextwork.context_record(
            actor=youth, kind=ContextKind.PLACE, name="Canal towpath by Lock 4",
            known="Young people gather under the bridge after school; older males on bikes come and go. Two "
                  "reports of knives being passed on here this term.",
            ward="Millpond Quay", latitude="51.49412", longitude="-0.05310", **at_place())
        estate = contextwork.context_record(
            actor=youth, kind=ContextKind.PLACE, name="Eastfield estate, block C stairwells",
            known="Used to store drugs and weapons; younger children seen keeping watch.", ward="Peckford",
            latitude="51.47105", longitude="-0.06921", risk_level=RiskLevel.AMBER)
        group = contextwork.context_record(
            actor=police, kind=ContextKind.PEER_GROUP, name="The Lock Boys",
            known="A group of 16 to 19 year olds linked to a county line running to the coast; recruits younger "
                  "pupils through social media.", street_names=["Sosa", "Lil T", "Ghost"],
            risk_level=RiskLevel.RED, lead_agency=agencies["police"])
        person = contextwork.context_record(
            actor=police, kind=ContextKind.PERSON_OF_CONCERN, name="Adult male known as 'Uncle'",
            known="Believed to be in his thirties; gives lifts, phones and money to young people in the group.",
            risk_level=RiskLevel.RED, lead_agency=agencies["police"],
            restricted_to=[agencies["hub"], agencies["youth"]])

        sources = ["Detached youth worker's observation", "Police intelligence report", "School incident log",
                   "Information from a parent", "Stop and search record"]

        def link(context, case, recorder=None):
            worker = recorder or case.key_worker or self.practitioner(case.lead_agency_id)
            contextwork.context_link_record(
                actor=self.actor(worker), context=context, case=case, source=self.rng.choice(sources),
                information_date=self.today - dt.timedelta(days=self.rng.randint(3, 60)),
                source_evaluation=self.rng.choice("122"), intelligence_assessment=self.rng.choice("ABBC"),
            )

        pattern = youth_cases + other_cases
        for case in pattern[:7]:
            link(canal, case)
        for case in pattern[2:9]:
            link(group, case)
        for case in pattern[6:10]:
            link(estate, case)
        for case in pattern[3:6]:
            link(person, case)
        for first, second, relationship in ((pattern[0], pattern[1], "associate"),
                                            (pattern[2], pattern[7], "associate")):
            worker = first.key_worker or self.practitioner(first.lead_agency_id)
            if second.lead_agency_id == first.lead_agency_id:
                contextwork.peer_link_record(
                    actor=self.actor(worker), case=first, other_case=second, relationship=relationship,
                    source="Youth worker's observation", information_date=self.today - dt.timedelta(days=10),
                    source_evaluation="2", intelligence_assessment="B")
        contextwork.context_intervention_record(
            actor=youth, context=canal, kind="detached_youth_work", owner_agency=agencies["youth"],
            owner=demo["youthworker"], status="active", started_on=self.today - dt.timedelta(days=20),
            description="Detached youth work on Tuesday and Friday evenings along the towpath.")
        contextwork.context_intervention_record(
            actor=police, context=canal, kind="patrols", owner_agency=agencies["police"],
            description="Extra patrols at school closing time for six weeks.", status="planned")
        contextwork.context_intervention_record(
            actor=youth, context=estate, kind="lighting", owner_agency=agencies["hub"],
            description="Ask the housing provider to light the stairwells and fit a door entry system.")
        contextwork.context_note_add(actor=police, context=group, kind="information",
                                     occurred_at=self.now - dt.timedelta(days=12),
                                     text="Group seen recruiting at the chicken shop on the high street.")
        contextwork.context_note_add(actor=youth, context=canal, kind="contact",
                                     occurred_at=self.now - dt.timedelta(days=5),
                                     text="Spoke to six young people under the bridge; two new faces from Year 8.")

        # A panel three weeks ago: arranged, then moved back (a service
        # never arranges one in the past).
        past = contextwork.panel_convene(actor=manager, title="Riverside MACE panel",
                                         meets_at=self.now + dt.timedelta(days=1), location="Riverside Town Hall")
        for name, key in (("police", "police"), ("teacher", "parkside"), ("youthworker", "youth"),
                          ("screener", "hub")):
            contextwork.panel_attendee_add(actor=manager, panel=past, user=demo[name], agency=agencies[key])
        items = [contextwork.panel_agenda_add(actor=manager, panel=past, context=group, reason="New recruits"),
                 contextwork.panel_agenda_add(actor=manager, panel=past, context=canal)]
        case_items = [contextwork.panel_agenda_add(actor=manager, panel=past, case=c, reason="Linked to the group")
                      for c in youth_cases[:2]]
        for name in ("manager", "police", "youthworker"):
            contextwork.panel_confidentiality_accept(actor=self.actor(demo[name]), panel=past)
        contextwork.panel_minute_add(actor=manager, panel=past, kind="attendance",
                                     text="Present: youth service, police, Parkside School, the hub.")
        contextwork.panel_minute_add(actor=manager, panel=past, kind="discussion", item=items[0].pk,
                                     text="The group is recruiting Year 8 and 9 pupils; agencies to share what "
                                          "they see at the canal.")
        for item in case_items:
            contextwork.panel_minute_add(actor=manager, panel=past, kind="decision", item=item.pk,
                                         text="Refer to the exploitation strategy meeting; keep the safety plan.")
        actions = [
            ("Share the school's attendance data for the young people linked to the group.", "teacher", "parkside",
             14),
            ("Map where the group meets and share it with the patrol team.", "police", "police", 14),
            ("Offer each young person linked to the canal a mentor.", "youthworker", "youth", 14),
        ]
        made = [contextwork.panel_action_record(actor=manager, panel=past, description=text, owner=demo[name],
                                                owner_agency=agencies[key], due_on=self.today + dt.timedelta(days=d))
                for text, name, key, d in actions]
        contextwork.panel_action_update(actor=self.actor(demo["police"]), action=made[1], status="done",
                                        update="Shared on the patrol briefing.")
        held_at = self.now - dt.timedelta(days=21)
        Panel.objects.filter(pk=past.pk).update(meets_at=held_at - dt.timedelta(hours=2), held_at=held_at,
                                                created_at=held_at - dt.timedelta(days=10))
        # One action went past its due date; one falls due within days.
        PanelAction.objects.filter(pk=made[0].pk).update(due_on=self.today - dt.timedelta(days=7))
        PanelAction.objects.filter(pk=made[2].pk).update(due_on=deadlines.next_working_day(deadlines.next_working_day(self.today)))

        # The coming panel: the overdue action is on its agenda by itself.
        coming = contextwork.panel_convene(actor=manager, title="Riverside MACE panel",
                                           meets_at=timezone.make_aware(dt.datetime.combine(self.today + dt.timedelta(days=11), dt.time(14, 0))),
                                           location="Riverside Town Hall")
        for name, key in (("police", "police"), ("teacher", "parkside"), ("youthworker", "youth")):
            contextwork.panel_attendee_add(actor=manager, panel=coming, user=demo[name], agency=agencies[key])
        contextwork.panel_agenda_add(actor=manager, panel=coming, context=person, reason="Intelligence update")
        contextwork.panel_agenda_add(actor=manager, panel=coming, context=estate)
        self.stdout.write(f"Contexts: {Context.objects.count()} with {ContextLink.objects.count()} links; panels: "
                 f"{Panel.objects.count()} ({PanelAttendee.objects.count()} invitations)")
