"""``manage.py seed_matching_demo``: matching at work in the demo borough.

Adds four referrals awaiting screening, each from an agency that has never
recorded the young person it is about, so each creates a second record of
someone the partnership already knows, typed as people really type:

1. the police use a nickname (or a slip in the given name);
2. the hospital youth workers swap day and month of the date of birth,
   double a letter of the family name and have no postcode;
3. a school enters the family name as the given name, in capitals;
4. the youth justice service refers the *twin* of a known young person:
   same family name, date of birth and address, another given name. The
   screening page shows that record as possible but not likely, and says
   why: this one should not be linked.

At intake each referrer sees only "a possible existing record exists — the
hub will link it"; the hub's screener sees the candidates with their
reasons (``casework.matching.referral_candidates``) and can link or merge.

Written through the services as the referring practitioners, so every rule
and the access log hold. Idempotent: the referrals carry the partner
reference ``MATCH-DEMO-<n>``, and a second run changes nothing. Needs the
demo borough (``manage.py seed_demo``, which calls this at its end).
"""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from agencies.models import Agency, Role
from casework import matching
from casework import services as casework
from referrals.models import (
    CaseStatus,
    Concern,
    Consent,
    Referral,
    RiskLevel,
    YoungPerson,
)
from safeguarding import access
from safeguarding.models import Channel

HUB_SLUG = "riverside-mash"
MARKER = "MATCH-DEMO-"
TWIN_NAMES = {"male": "Tyler", "female": "Maya", "": "Alex"}


def _nickname_or_slip(given: str) -> str:
    folded = matching.fold(given)
    others = sorted(matching.name_forms(folded) - {folded}, key=lambda n: (len(n), n))
    if others:
        return others[0].capitalize()
    # A neighbouring-letter swap in the middle of the name.
    i = max(1, len(given) // 2 - 1)
    return given[:i] + given[i + 1] + given[i] + given[i + 2:] if len(given) > 3 else given + given[-1]


def _dob_slip(born: dt.date) -> dt.date:
    if born.day <= 12 and born.day != born.month:
        return dt.date(born.year, born.day, born.month)
    return born.replace(day=born.day - 1 if born.day > 1 else 2)


def _doubled(family: str) -> str:
    i = min(2, len(family) - 1)
    return family[:i] + family[i] + family[i:]


SCENARIOS = [
    # (referring agency, how they type the young person, concern, account)
    ("met-police-se-bcu", "nickname", Concern.WEAPON,
     "Stopped near the station after a report of a group with a knife; nothing found on him, but he was with "
     "older males known to officers."),
    ("st-anselms-yvi", "dob_and_family", Concern.VICTIM_OF_VIOLENCE,
     "Seen in A&E with a hand injury he says came from a fall; he did not want his school or family told."),
    ("canal-bridge-high", "swapped", Concern.EXCLUSION,
     "Attendance has dropped to two days a week since half term; staff have seen him collected by a car "
     "they do not recognise."),
    ("riverside-yjs", "twin", Concern.GANG_ASSOCIATION,
     "Mentioned by a young person on an out-of-court disposal as being 'run' by the same older group."),
]


class Command(BaseCommand):
    help = "Add referrals awaiting screening that show young-person matching at work. Safe to run twice."

    def handle(self, *args, **options):
        if not Agency.objects.filter(slug=HUB_SLUG).exists():
            self.stdout.write("The demo borough is not loaded: run `manage.py seed_demo` first.")
            return
        if Referral.objects.filter(partner_reference__startswith=MARKER).exists():
            self.stdout.write("The matching demo is already loaded; nothing changed.")
            return
        self._used: set[int] = set()
        with transaction.atomic():
            lines = [self.scenario(n, *spec) for n, spec in enumerate(SCENARIOS, start=1)]
        self.stdout.write("")
        self.stdout.write("Matching demo: referrals awaiting screening about young people already known:")
        for line in lines:
            self.stdout.write(f"  {line}")

    def referrer(self, slug: str) -> access.Actor:
        agency = Agency.objects.get(slug=slug)
        membership = (
            agency.memberships.filter(role=Role.PRACTITIONER, is_active=True).select_related("user").order_by("pk").first()
        )
        return access.actor_for_user(membership.user, agency=agency, channel=Channel.COMMAND)

    def known_person(self, actor: access.Actor, used: set[int]) -> YoungPerson:
        """A young person with an open case that this referrer's agency cannot see."""
        visible = access.visible_young_people(actor).values("pk")
        person = (
            YoungPerson.objects.filter(cases__status=CaseStatus.OPEN, anonymised_at__isnull=True)
            .exclude(pk__in=visible)
            .exclude(pk__in=used)
            .exclude(referrals__partner_reference__startswith=MARKER)
            .order_by("pk")
            .first()
        )
        used.add(person.pk)
        return person

    def scenario(self, number: int, slug: str, kind: str, concern: str, account: str) -> str:
        actor = self.referrer(slug)
        known = self.known_person(actor, self._used)
        typed = {
            "given_name": known.given_name, "family_name": known.family_name, "date_of_birth": known.date_of_birth,
            "postcode": known.postcode, "gender": known.gender, "ward": known.ward,
        }
        if kind == "nickname":
            typed["given_name"] = _nickname_or_slip(known.given_name)
        elif kind == "dob_and_family":
            typed.update(date_of_birth=_dob_slip(known.date_of_birth), family_name=_doubled(known.family_name), postcode="")
        elif kind == "swapped":
            typed.update(given_name=known.family_name.upper(), family_name=known.given_name.upper())
        elif kind == "twin":
            typed["given_name"] = TWIN_NAMES.get(known.gender, "Alex")
            if matching.fold(typed["given_name"]) == matching.fold(known.given_name):
                typed["given_name"] = "Jordan"
        # What the referrer is told at intake: a flag at most, never who.
        seen = matching.young_person_candidates(
            actor, details={k: v for k, v in typed.items() if k != "ward"},
        )
        referral = casework.referral_submit(
            actor=actor,
            person=typed,
            concerns=[concern],
            risk_level=RiskLevel.AMBER,
            account=account,
            consent=Consent.NOT_SOUGHT,
            lawful_basis="safeguarding_children",
            consent_reason="Seeking consent could increase the risk to the young person; shared with the hub to safeguard.",
            partner_reference=f"{MARKER}{number}",
            received_at=timezone.now() - dt.timedelta(minutes=30 * number),
        )
        told = "told a record may exist" if seen.possible_existing_record else "told nothing"
        what = "the twin of" if kind == "twin" else "also"
        return (
            f"{referral.reference} from {actor.agency.name}: {typed['given_name']} {typed['family_name']} "
            f"({typed['date_of_birth']:%d/%m/%Y}) is {what} {known.given_name} {known.family_name} "
            f"({known.date_of_birth:%d/%m/%Y}); referrer {told}."
        )
