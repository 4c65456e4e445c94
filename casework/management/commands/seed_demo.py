"""``manage.py seed_demo``: realistic, fictional boroughs to try Crossroads on.

Riverside is an invented London borough. Its partnership has a police basic
command unit, four schools, the youth service, children's social care, the
youth justice service, a hospital youth-work charity and the multi-agency
safeguarding hub; about sixty staff in every role; one information-sharing
agreement; and about 150 young people with referrals in every status, 80
cases with interventions, reviews, chronology entries and share grants.
Every name, reference and account is made up; accounts are deliberately
non-graphic.

Wharfside, its neighbour, is a second partnership in the same deployment,
smaller: its own hub, youth service, children's social care and school, the
same police unit (which works in both), its own agreement, a dozen young
people with referrals and cases, and one young person who moved there from
Riverside: a closed Riverside case, and a new Wharfside record and referral
of the same person. Nothing of one partnership shows in the other.

Casework is written through the services (``casework.services`` and
``safeguarding.services``) acting as the right person in the right agency,
so the demo data keeps every rule the app keeps, the access log included.
Where a service cannot backdate something (when a case opened, when the hub
decided, when a share was granted) the seed moves the date afterwards with a
queryset ``update()``. The chronology is append-only in the database and is
never updated: the hub's decision entry, which the service writes, carries
the time the seed ran.

Idempotent: if Riverside's hub agency already exists the seed changes nothing but
to give a demo sign-in without one an authenticator app, and prints the
demo sign-ins. Everything is written in one transaction (a
savepoint per young person), so a failed run leaves nothing behind.
Names come from a fixed seed; dates are relative to today, so some reviews
are always overdue, some due within three working days, and some referrals
are past their decision deadline.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import time
from dataclasses import dataclass, field

import pghistory
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from faker import Faker

from agencies import services as agency_services
from agencies import two_factor
from agencies.models import Agency, AgencyKind, InformationSharingAgreement, Partnership, Role
from casework import services as casework
from casework import transfers
from casework.management.demo_vocabulary import DEMO_AGREEMENT_TEMPLATE, DEMO_VOCABULARY
from partnerships import signs
from partnerships.models import AgreementTemplate, Indicator, PartnershipRules
from partnerships.models import Concern as VocabularyConcern
from referrals import deadlines
from referrals.models import (
    Case,
    CaseNote,
    CaseStatus,
    ClosureReason,
    Concern,
    Consent,
    Ethnicity,
    Gender,
    Intervention,
    InterventionKind,
    InterventionStatus,
    LawfulBasis,
    NoteKind,
    NoteVisibility,
    Referral,
    ReferralStatus,
    Review,
    ReviewDecision,
    RiskLevel,
    TransferArrangement,
    YoungPerson,
)
from safeguarding import access
from safeguarding import redaction
from safeguarding import services as sharing
from safeguarding.models import (
    Channel,
    ShareGrant,
    SharingDecision,
    SpecialCategoryCondition,
    WithheldFrom,
    WithholdingCategory,
)

DEMO_PASSWORD = "crossroads-demo-2026"
SEED = 2026
HUB_SLUG = "riverside-mash"  # the marker: present means the demo is loaded
BOROUGH = "Riverside"
MAIL_DOMAIN = "riverside.example.org"  # reserved for examples: mail goes nowhere

YOUNG_PEOPLE = 150

# ---------------------------------------------------------------------------
# The partnership
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AgencySpec:
    key: str
    name: str
    slug: str
    kind: str
    practitioners: int
    practitioner_titles: tuple[str, ...]
    manager_title: str


AGENCIES = [
    AgencySpec("hub", "Riverside Multi-Agency Safeguarding Hub", HUB_SLUG, AgencyKind.HUB, 0,
               (), "MASH team manager"),
    AgencySpec("police", "Met Police South East BCU (Riverside)", "met-police-se-bcu", AgencyKind.POLICE, 4,
               ("Safer Schools officer", "Youth engagement officer", "Detective constable, Youth Engagement Team"),
               "Inspector, Youth Engagement Team"),
    AgencySpec("parkside", "Parkside Secondary School", "parkside-secondary", AgencyKind.SCHOOL, 2,
               ("Designated safeguarding lead", "Head of year 10"), "Deputy headteacher"),
    AgencySpec("canal", "Canal Bridge High School", "canal-bridge-high", AgencyKind.SCHOOL, 2,
               ("Designated safeguarding lead", "Pastoral lead"), "Assistant headteacher, inclusion"),
    AgencySpec("academy", "Northgate Academy", "northgate-academy", AgencyKind.SCHOOL, 2,
               ("Designated safeguarding lead", "Attendance officer"), "Vice principal"),
    AgencySpec("pru", "Riverside Pupil Referral Unit", "riverside-pru", AgencyKind.SCHOOL, 2,
               ("Designated safeguarding lead", "Key stage 4 tutor"), "Head of centre"),
    AgencySpec("youth", "Riverside Youth Service", "riverside-youth-service", AgencyKind.YOUTH_SERVICE, 6,
               ("Youth worker", "Senior youth worker", "Detached youth worker", "Youth mentor"),
               "Youth service team manager"),
    AgencySpec("csc", "Riverside Children's Social Care", "riverside-csc", AgencyKind.CHILDRENS_SOCIAL_CARE, 4,
               ("Early help practitioner", "Social worker", "Family support worker"), "Early help team manager"),
    AgencySpec("yjs", "Riverside Youth Justice Service", "riverside-yjs", AgencyKind.YOUTH_JUSTICE, 4,
               ("YJS prevention worker", "YJS case manager"), "YJS operational manager"),
    AgencySpec("hospital", "St Anselm's Hospital Youth Violence Intervention", "st-anselms-yvi",
               AgencyKind.VOLUNTARY, 3, ("Hospital youth worker", "Youth violence navigator"), "Programme lead"),
]
SCHOOL_KEYS = ("parkside", "canal", "academy", "pru")
# Department for Education numbers for the fictional schools (for UPNs).
SCHOOL_DFE = {"parkside": "4021", "canal": "4035", "academy": "6907", "pru": "1102"}
LOCAL_AUTHORITY_CODE = "999"  # no real local authority has it


@dataclass(frozen=True)
class DemoSignIn:
    username: str
    agency_key: str | None
    role: str
    job_title: str = ""


DEMO_SIGN_INS = [
    DemoSignIn("youthworker", "youth", Role.PRACTITIONER, "Youth worker"),
    DemoSignIn("manager", "youth", Role.MANAGER, "Youth service team manager"),
    DemoSignIn("agencyadmin", "youth", Role.AGENCY_ADMIN, "Business support officer"),
    DemoSignIn("screener", "hub", Role.HUB_SCREENER, "MASH screener"),
    DemoSignIn("police", "police", Role.PRACTITIONER, "Safer Schools officer"),
    DemoSignIn("teacher", "parkside", Role.PRACTITIONER, "Designated safeguarding lead"),
    DemoSignIn("dpo", "hub", Role.DPO, "Partnership data-protection officer"),
    DemoSignIn("sysadmin", None, "superuser"),
    DemoSignIn("partnershipadmin", "hub", Role.PARTNERSHIP_ADMIN, "Community safety partnership officer"),
    DemoSignIn("analyst", "hub", Role.REPORTING, "Community safety analyst"),
]

WARDS = {
    # ward: postcode districts (south-east London, invented wards)
    "Bankside Reach": ("SE1",),
    "Larkhall Green": ("SE5",),
    "Elmstead Rise": ("SE5", "SE17"),
    "Peckford": ("SE15",),
    "Copper Hill": ("SE15",),
    "Brenchley Vale": ("SE15", "SE22"),
    "Millpond Quay": ("SE16",),
    "Walworth Gate": ("SE17",),
    "Hollybrook": ("SE21",),
    "Ashgrove": ("SE22",),
}
POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # the letters Royal Mail uses in the inward code


def sector_in_ward(wards: dict[str, tuple[str, ...]], ward: str, district: str, draw: int) -> int:
    """The postcode sector (1 to 9) for a draw of 1 to 9, kept to the
    sectors of ``district`` that lie in ``ward``: a district shared by
    several wards has its sectors dealt out among them, so every demo
    postcode lies in one ward, as the demo's postcode lookup
    (``monitoring/demo/<borough>/postcodes.csv``) says."""
    sharing = sorted(w for w, districts in wards.items() if district in districts)
    sectors = [n for n in range(1, 10) if (n - 1) % len(sharing) == sharing.index(ward)]
    return sectors[(draw - 1) % len(sectors)]

# ---------------------------------------------------------------------------
# The neighbouring borough
# ---------------------------------------------------------------------------
# Wharfside, across the water from Riverside, has a partnership of its own and
# a smaller demo: its hub, youth service, children's social care and one
# school, and the same police unit (the Met's South East BCU serves both
# boroughs). Its name sorts after Riverside's, so a person whose agency works
# in both (the police) starts in Riverside, as before (``access.actor_for_user``
# picks the first partnership by name until they choose).

NEIGHBOUR = "Wharfside"
NEIGHBOUR_HUB_SLUG = "wharfside-mash"
NEIGHBOUR_MAIL_DOMAIN = "wharfside.example.org"  # reserved for examples too
NEIGHBOUR_AGENCIES = [
    AgencySpec("hub", "Wharfside Multi-Agency Safeguarding Hub", NEIGHBOUR_HUB_SLUG, AgencyKind.HUB, 0,
               (), "MASH team manager"),
    AgencySpec("youth", "Wharfside Youth Service", "wharfside-youth-service", AgencyKind.YOUTH_SERVICE, 3,
               ("Youth worker", "Detached youth worker", "Youth mentor"), "Youth service team manager"),
    AgencySpec("csc", "Wharfside Children's Social Care", "wharfside-csc", AgencyKind.CHILDRENS_SOCIAL_CARE, 2,
               ("Early help practitioner", "Family support worker"), "Early help team manager"),
    AgencySpec("ferrylane", "Ferry Lane Academy", "ferry-lane-academy", AgencyKind.SCHOOL, 2,
               ("Designated safeguarding lead", "Head of year 9"), "Deputy principal"),
]
# Riverside's agencies that work in Wharfside as well.
NEIGHBOUR_SHARED_AGENCIES = ("police",)
NEIGHBOUR_SIGN_INS = [
    DemoSignIn("wharfside-screener", "hub", Role.HUB_SCREENER, "MASH screener"),
    DemoSignIn("wharfside-youthworker", "youth", Role.PRACTITIONER, "Youth worker"),
]
ALL_SIGN_INS = [*DEMO_SIGN_INS, *NEIGHBOUR_SIGN_INS]
NEIGHBOUR_WARDS = {
    "Ferry Reach": ("SE8",),
    "Tannery Row": ("SE8", "SE14"),
    "Gasworks Green": ("SE14",),
    "Cutter's Dock": ("SE14", "SE4"),
    "Brockwell Rise": ("SE4",),
}
# What happens to each of Wharfside's young people: six cases (one closed),
# referrals waiting for the hub and some that led nowhere. The young person
# who moved from Riverside comes on top (``moved_young_person``).
NEIGHBOUR_SCENARIOS = (
    ["case"] * 5 + ["closed_case"] + ["submitted_overdue", "submitted_fresh", "screening_fresh"]
    + ["signposted", "no_further_action"]
)

# ---------------------------------------------------------------------------
# Names (ONS 2021 groups; a spread like an inner south London borough's)
# ---------------------------------------------------------------------------

ETHNICITY_WEIGHTS = {
    Ethnicity.WHITE_BRITISH: 24, Ethnicity.WHITE_IRISH: 2, Ethnicity.WHITE_GYPSY_TRAVELLER: 0.7,
    Ethnicity.WHITE_ROMA: 0.7, Ethnicity.WHITE_OTHER: 10, Ethnicity.BLACK_AFRICAN: 19,
    Ethnicity.BLACK_CARIBBEAN: 8, Ethnicity.BLACK_OTHER: 4, Ethnicity.MIXED_WHITE_BLACK_CARIBBEAN: 6,
    Ethnicity.MIXED_WHITE_BLACK_AFRICAN: 3, Ethnicity.MIXED_WHITE_ASIAN: 2, Ethnicity.MIXED_OTHER: 4,
    Ethnicity.ASIAN_BANGLADESHI: 3, Ethnicity.ASIAN_CHINESE: 2, Ethnicity.ASIAN_INDIAN: 2,
    Ethnicity.ASIAN_PAKISTANI: 1.5, Ethnicity.ASIAN_OTHER: 2.5, Ethnicity.OTHER_ARAB: 1.5,
    Ethnicity.OTHER_ANY: 3, Ethnicity.NOT_STATED: 3,
}

# (male given names, female given names, family names); None: Faker's en_GB names.
NAME_POOLS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]] | None] = {
    "white_british": None,
    "not_stated": None,
    "white_irish": (
        ("Cian", "Oisin", "Darragh", "Conor", "Sean", "Callum"),
        ("Aoife", "Niamh", "Siobhan", "Ciara", "Roisin", "Erin"),
        ("Murphy", "O'Brien", "Kelly", "Byrne", "Doyle", "Gallagher", "Walsh", "Brennan"),
    ),
    "white_gypsy_traveller": (
        ("Tommy", "Johnny", "Patrick", "Levi", "Jimmy"),
        ("Kathleen", "Bridget", "Mary", "Shannon", "Margaret"),
        ("Doherty", "McDonagh", "Ward", "Price", "Lee", "Boswell"),
    ),
    "white_roma": (
        ("Marian", "Denis", "Robert", "Lukas", "Patrik"),
        ("Denisa", "Monika", "Andrea", "Natalia", "Vanesa"),
        ("Horvath", "Balog", "Lakatos", "Olah", "Dudi"),
    ),
    "white_other": (
        ("Jakub", "Mateusz", "Luca", "Tiago", "Andrei", "Florin", "Marco", "Dawid", "Nikolai"),
        ("Zuzanna", "Maria", "Ana", "Ioana", "Giulia", "Natalia", "Oliwia", "Elena"),
        ("Kowalski", "Nowak", "Silva", "Santos", "Popescu", "Rossi", "Ferreira", "Wisniewski", "Ionescu"),
    ),
    "black_african": (
        ("Oluwaseun", "Tobi", "Kwame", "Emmanuel", "Samuel", "Chidi", "Daniel", "Kofi", "Abdi", "Mohamed",
         "Tunde", "David", "Joshua", "Ayomide", "Michael"),
        ("Adaeze", "Chioma", "Blessing", "Abena", "Amina", "Precious", "Esther", "Ifeoma", "Hodan", "Favour",
         "Deborah", "Grace"),
        ("Adeyemi", "Okafor", "Mensah", "Owusu", "Adebayo", "Okoro", "Boateng", "Osei", "Nwosu", "Abdi",
         "Hassan", "Diallo", "Eze", "Asante", "Ogunleye", "Kamara"),
    ),
    "black_caribbean": (
        ("Jermaine", "Tyrone", "Marcus", "Kai", "Jordan", "Andre", "Reuben", "Isaiah", "Malachi", "Dwayne"),
        ("Shanice", "Tiana", "Kiara", "Jada", "Aaliyah", "Naomi", "Keisha", "Chantelle"),
        ("Campbell", "Williams", "Brown", "Thompson", "Robinson", "Clarke", "Francis", "Grant", "Henry", "Reid",
         "Bailey", "Gayle"),
    ),
    "asian_bangladeshi": (
        ("Mohammed", "Abdul", "Rahim", "Sayed", "Imran", "Tanvir", "Arif", "Rayhan"),
        ("Fatima", "Nusrat", "Sumaiya", "Tasnim", "Farhana", "Ruksana"),
        ("Rahman", "Uddin", "Ahmed", "Miah", "Islam", "Hossain", "Chowdhury", "Ali"),
    ),
    "asian_pakistani": (
        ("Hamza", "Bilal", "Usman", "Zain", "Ali", "Ibrahim", "Ayaan"),
        ("Zara", "Ayesha", "Maryam", "Sana", "Hira", "Iqra"),
        ("Khan", "Hussain", "Iqbal", "Akhtar", "Mahmood", "Shah", "Butt", "Qureshi"),
    ),
    "asian_indian": (
        ("Arjun", "Rohan", "Aarav", "Harjot", "Karan", "Dev", "Nikhil"),
        ("Priya", "Ananya", "Simran", "Kiran", "Nisha", "Jasmeet"),
        ("Patel", "Singh", "Sharma", "Gill", "Mistry", "Chauhan", "Sandhu"),
    ),
    "asian_chinese": (
        ("Wei", "Jun", "Kevin", "Ryan", "Hao", "Jason"),
        ("Mei", "Jessica", "Xin", "Lily", "Yan", "Vivian"),
        ("Chen", "Wong", "Li", "Zhang", "Lam", "Cheung", "Liu"),
    ),
    "asian_other": (
        ("Thanh", "Minh", "Dinesh", "Nimal", "Joseph", "Bikash"),
        ("Linh", "Thuy", "Kavya", "Maya", "Angelica"),
        ("Nguyen", "Tran", "Perera", "Fernando", "Reyes", "Gurung"),
    ),
    "other_arab": (
        ("Omar", "Yusuf", "Karim", "Ahmad", "Tariq"),
        ("Layla", "Noor", "Yasmin", "Rania", "Hana"),
        ("Al-Sayed", "Haddad", "Mansour", "Khalil", "Saleh", "Nasser"),
    ),
    "other_any": (
        ("Aram", "Mehmet", "Luis", "Ahmad", "Daniel", "Emre"),
        ("Sara", "Elif", "Zeynep", "Valentina", "Shirin"),
        ("Yilmaz", "Demir", "Ahmadi", "Rezaei", "Gonzalez", "Rodriguez", "Kaya"),
    ),
}
# Mixed backgrounds draw on both parents' pools.
MIXED_POOLS = {
    "mixed_white_black_caribbean": ("white_british", "black_caribbean"),
    "mixed_white_black_african": ("white_british", "black_african"),
    "mixed_white_asian": ("white_british", "asian_indian", "asian_bangladeshi", "asian_chinese"),
    "mixed_other": ("white_other", "black_african", "other_any", "black_caribbean"),
    "black_other": ("black_african", "black_caribbean"),
}
# Faker's en_GB first names are of every generation; young people get names
# common for births in England and Wales 2006-2016.
YOUNG_BRITISH_NAMES = (
    ("Oliver", "Jack", "Harry", "Charlie", "George", "Alfie", "Jacob", "Thomas", "James", "Joshua", "Riley",
     "Mason", "Harvey", "Kai", "Tyler", "Callum", "Connor", "Leo", "Ethan", "Lewis", "Reece", "Archie", "Freddie",
     "Louie", "Kyle", "Alexander", "Daniel"),
    ("Olivia", "Amelia", "Emily", "Isla", "Ava", "Jessica", "Lily", "Sophie", "Ruby", "Chloe", "Grace", "Ella",
     "Mia", "Evie", "Poppy", "Millie", "Holly", "Megan", "Lacey", "Courtney", "Freya", "Summer", "Keira"),
)
PREFERRED_NAMES = {
    "Oluwaseun": "Seun", "Ayomide": "Ayo", "Mohammed": "Mo", "Emmanuel": "Manny", "Tyrone": "Ty",
    "Adaeze": "Ada", "Joshua": "Josh", "Daniel": "Danny", "Alexander": "Alex", "Jessica": "Jess",
    "Chidi": "Chi", "Oliwia": "Oli", "Jermaine": "JJ", "Nikolai": "Nik", "Ibrahim": "Ibby",
}

# ---------------------------------------------------------------------------
# Words: referral accounts, chronology, interventions, reviews (all fictional)
# ---------------------------------------------------------------------------

SCHOOL, POLICE, YOUTH, HOSPITAL, CSC, YJS = (
    AgencyKind.SCHOOL, AgencyKind.POLICE, AgencyKind.YOUTH_SERVICE, AgencyKind.VOLUNTARY,
    AgencyKind.CHILDRENS_SOCIAL_CARE, AgencyKind.YOUTH_JUSTICE,
)
ANYONE = (SCHOOL, POLICE, YOUTH, HOSPITAL, CSC, YJS)
# What happened, in the referrer's words: (text, the kinds of agency that
# would write it). Fictional and deliberately non-graphic.
ACCOUNTS = {
    Concern.WEAPON: [
        ("During a routine bag search at the start of the school day, staff found a small folding knife in "
         "{name}'s blazer pocket. {name} said it was for protection because older boys from another estate had "
         "been waiting near the bus stop after school, and that travelling home alone feels frightening at the "
         "moment. The knife was handed to the Safer Schools officer and a parent came in the same afternoon.",
         (SCHOOL,)),
        ("Officers stopped {name} near the shops in {ward} after a call from a member of the public. A kitchen "
         "knife was found in {their} bag. {name} was arrested and later released under investigation. In "
         "interview {name} said friends carry knives too and that it 'felt safer' to have one. The parent who "
         "attended custody is very worried and asked for help.",
         (POLICE, YJS)),
        ("{name} told a youth worker at the Friday session that {name} has started carrying a knife 'because "
         "everyone does' since a friend was chased in {ward}. {name} agreed to hand it in at the police station "
         "with the youth worker, which was done the same evening.",
         (YOUTH,)),
    ],
    Concern.GANG_ASSOCIATION: [
        ("{name} has been seen most evenings with a group of older young people around the {ward} estate, some "
         "of whom are known to police. Attendance has dropped and the family says {name} comes home late with "
         "new clothes and trainers nobody at home paid for.",
         (SCHOOL, POLICE, CSC, YJS)),
        ("Youth workers on detached sessions have seen {name} with a group linked to recent disorder in {ward}. "
         "{name} has started using a new nickname and posting music videos that reference the group, and told "
         "a youth worker that leaving it 'would not be easy'.",
         (YOUTH,)),
    ],
    Concern.CRIMINAL_EXPLOITATION: [
        ("British Transport Police found {name} at a station outside London on a school day, with a ticket "
         "bought by someone else and two mobile phones. {name} would not say why the journey was made. This is "
         "the second time {name} has been found out of the area this term.",
         (POLICE, YJS)),
        ("The family reports that {name} gets calls late at night and leaves the house straight away, sometimes "
         "coming back the next day. {name} has had cash and a new phone the family cannot explain, and they "
         "believe older males are using {them} to carry drugs.",
         ANYONE),
    ],
    Concern.SEXUAL_EXPLOITATION: [
        ("Staff are worried about {name}'s contact with an adult seen collecting {them} from near the school in "
         "a car. {name} has been given gifts and a phone, and friends say {name} has been to parties at "
         "addresses the family does not know.",
         (SCHOOL, CSC, YOUTH)),
    ],
    Concern.VICTIM_OF_VIOLENCE: [
        ("{name} came to the emergency department after being assaulted by a group on the way home from a "
         "youth club. The injuries were minor and {name} went home the same evening. {name} told the hospital "
         "youth worker the group had been sending threats online for weeks.",
         (HOSPITAL,)),
        ("{name} was robbed of {their} phone and jacket by older teenagers near the park in {ward}. Since then "
         "{name} has been refusing to go out and has asked friends where to get a knife 'for protection'.",
         (POLICE, SCHOOL, YOUTH, CSC)),
    ],
    Concern.MISSING_EPISODES: [
        ("{name} has been reported missing three times in the last month, each time overnight. On return "
         "{name} has not wanted to talk about where the nights were spent. Return home interviews were offered "
         "but not taken up.",
         (POLICE, CSC)),
    ],
    Concern.EXCLUSION: [
        ("{name} was suspended this term and attendance is now below 60%. Staff believe {name} spends school "
         "days with older young people away from the school site. {name} is bright and does well one-to-one "
         "with a trusted adult.",
         (SCHOOL,)),
        ("{name} has been permanently excluded and is waiting for a place at the pupil referral unit. The "
         "family says {name} is out most of the day and mixing with a new peer group they do not know.",
         (SCHOOL, YOUTH, CSC, YJS)),
    ],
    Concern.SUBSTANCE_MISUSE: [
        ("{name} has smelt of cannabis in lessons and told a teacher about using most days. {name} owes money "
         "to an older boy for cannabis and is worried about what will happen if it is not paid back.",
         (SCHOOL,)),
        ("{name} told a youth worker about using cannabis most days and owing money for it to an older boy, and "
         "is worried about what will happen if it is not paid back.",
         (YOUTH, YJS)),
    ],
    Concern.MENTAL_HEALTH: [
        ("{name} has become withdrawn since a close friend was seriously hurt in an incident in the borough "
         "last year, and talks about trouble sleeping and feeling on edge outside. {name} is on the CAMHS "
         "waiting list.",
         ANYONE),
    ],
    Concern.DOMESTIC_ABUSE: [
        ("Police attended the family home twice this month after reports of arguments between {name}'s mother "
         "and her partner. {name} was at home both times and has since been staying out late and getting into "
         "fights at school.",
         (POLICE, CSC, SCHOOL)),
    ],
    Concern.BEREAVEMENT: [
        ("{name}'s older brother died last year and {name} has found it very hard since. Staff have noticed "
         "angry outbursts, and {name} has said that nobody is going to 'do that' to {them}.",
         (SCHOOL, YOUTH, HOSPITAL)),
    ],
    Concern.ONLINE_HARM: [
        ("{name} has been targeted in online videos posted by young people from another area, naming {their} "
         "school and estate. {name} has replied with videos of {their} own and there is a worry the conflict "
         "will move from online to the street.",
         (SCHOOL, YOUTH, POLICE)),
    ],
    Concern.OTHER: [
        ("The family was placed in temporary accommodation in {ward} after an eviction. {name} now travels "
         "across two areas to get to school and has been approached by older young people near the new address.",
         (SCHOOL, CSC, YOUTH)),
    ],
}
ACCOUNT_ENDINGS = {
    AgencyKind.SCHOOL: "We would welcome support from partners and a joined-up plan with school.",
    AgencyKind.POLICE: "Referred for early-intervention support alongside any police action.",
    AgencyKind.YOUTH_SERVICE: "{name} would like to keep seeing the same youth worker.",
    AgencyKind.VOLUNTARY: "Referred by the hospital youth work team at the point of discharge.",
    AgencyKind.CHILDRENS_SOCIAL_CARE: "Below the threshold for statutory services; referred for early help.",
    AgencyKind.YOUTH_JUSTICE: "Referred by the YJS out-of-court disposal panel for prevention support.",
}
CONCERN_WEIGHTS = {
    Concern.WEAPON: 18, Concern.GANG_ASSOCIATION: 14, Concern.CRIMINAL_EXPLOITATION: 12,
    Concern.SEXUAL_EXPLOITATION: 3, Concern.VICTIM_OF_VIOLENCE: 10, Concern.MISSING_EPISODES: 6,
    Concern.EXCLUSION: 10, Concern.SUBSTANCE_MISUSE: 6, Concern.MENTAL_HEALTH: 6, Concern.DOMESTIC_ABUSE: 5,
    Concern.BEREAVEMENT: 3, Concern.ONLINE_HARM: 5, Concern.OTHER: 2,
}
NO_CONSENT_REASONS = [
    (LawfulBasis.SAFEGUARDING_CHILDREN,
     "Asking for consent would alert the adults we believe are exploiting the young person and put them at "
     "greater risk."),
    (LawfulBasis.PREVENTING_CRIME,
     "Police referral after arrest; seeking consent could prejudice the ongoing investigation."),
    (LawfulBasis.SAFEGUARDING_CHILDREN,
     "Parent could not be reached and the young person was not able to give informed consent at the time; "
     "the risk could not wait."),
]

SIGNPOSTS = [
    ("School pastoral team", "Concerns are low level and already known to school; pastoral support in school is "
     "the right response."),
    ("Riverside Young Carers", "The main need is support as a young carer; no indicators of exploitation or "
     "weapon carrying."),
    ("CAMHS single point of access", "The need is for mental-health support; referral details passed on with "
     "the family's agreement."),
    ("Riverside Boxing Club youth programme", "Needs positive activities rather than targeted support; family "
     "keen on the boxing club."),
    ("Early help front door (children's social care)", "Needs are family-wide and best met by an early-help "
     "assessment."),
]
NFA_REASONS = [
    "Already open to children's social care under a child-in-need plan; information passed to the allocated "
    "social worker.",
    "Concern resolved: the item found was a multi-tool for a Duke of Edinburgh expedition; school satisfied.",
    "Young person has moved out of the borough; information sent to the receiving authority.",
    "Already receiving support from the youth justice service under a referral order.",
    "No indicators of risk found after checks with school, police and the youth service.",
]
WITHDRAW_REASONS = [
    "The family moved out of the borough before screening.",
    "This duplicated a referral a colleague had already made.",
    "Sent to the wrong service: re-referring through the children's social care front door.",
    "Young person and parent asked us not to go ahead; no safeguarding grounds to proceed without consent.",
]
ACCEPT_REASONS = [
    "Meets the threshold for early-intervention support; no statutory involvement at present.",
    "Several agencies hold concerns; a lead professional is needed to coordinate a plan.",
    "Risk indicators for criminal exploitation; early intervention agreed with police and youth justice.",
    "",
]

NOTES = {
    NoteKind.CONTACT: [
        "Met {name} at the youth centre for a one-to-one. Talked about school and plans for the summer. {name} "
        "was engaged and agreed to try the football sessions on Thursday.",
        "Home visit. Spoke with {name} and {their} mum together. Mum says things are calmer at home and {name} "
        "has been in by the agreed time most nights this week.",
        "Phone call with {name} to rearrange the session missed on Monday. New time agreed.",
        "Walked {name} to the bus stop after the session, as agreed in the safety plan.",
        "Session at school with {name}. Worked on the safety map: places, people and times that feel unsafe.",
    ],
    NoteKind.INCIDENT: [
        "{name} was reported missing overnight and came home the next morning. Return home interview offered.",
        "School reported a fight at lunchtime; {name} was involved and went home early. No one was hurt.",
        "{name} was stopped and searched by police in {ward}; nothing was found.",
    ],
    NoteKind.MEETING: [
        "Team around the family meeting at school with mum, the head of year, the youth worker and the key "
        "worker. Agreed: weekly mentoring, attendance check-ins, referral for family support.",
        "Multi-agency meeting to review the safety plan. Agreed that {name} will avoid the route through {ward} "
        "after dark for now.",
        "Professionals' meeting with the YJS prevention worker to agree who leads on which part of the plan.",
    ],
    NoteKind.INFORMATION: [
        "Information received from school: attendance this half-term is 82%, up from 61%.",
        "Information received from the hospital youth work team: {name} came to the emergency department with a "
        "minor injury and went home the same day.",
        "Information received from mum: {name} has started a Saturday job at a local cafe.",
    ],
    NoteKind.DECISION: [
        "Manager's decision: continue with the current plan and review at the next review date.",
        "Decision: add family support to the plan after mum asked for help with boundaries at home.",
        "Decision: hold a strategy discussion with children's social care given the new information.",
    ],
}
SHARED_AGENCY_NOTES = {
    AgencyKind.POLICE: (NoteKind.INFORMATION,
                        "Information from police: {name} was seen with a group linked to recent disorder in {ward}. "
                        "Shared for safeguarding purposes."),
    AgencyKind.SCHOOL: (NoteKind.INFORMATION,
                        "Information from school: {name} has had no behaviour incidents this fortnight and is "
                        "attending the homework club."),
    AgencyKind.YOUTH_JUSTICE: (NoteKind.MEETING,
                               "YJS prevention worker met {name} to start the weapons-awareness programme."),
    AgencyKind.CHILDRENS_SOCIAL_CARE: (NoteKind.INFORMATION,
                                       "Early help: family support worker allocated; first home visit booked."),
    AgencyKind.VOLUNTARY: (NoteKind.CONTACT,
                           "Hospital youth worker followed up after discharge; {name} agreed to weekly contact."),
    AgencyKind.YOUTH_SERVICE: (NoteKind.CONTACT,
                               "Youth worker saw {name} at the Thursday football session; good engagement."),
}
AGENCY_ONLY_NOTES = {
    AgencyKind.POLICE: "Police only: intelligence suggests {name} may be being groomed to hold items for older "
                       "males. Not for onward sharing without police agreement.",
    AgencyKind.YOUTH_SERVICE: "Supervision note: discussed the key worker's own safety on detached sessions in "
                              "{ward}; lone-working risk assessment updated.",
    AgencyKind.CHILDRENS_SOCIAL_CARE: "CSC only: a sibling is known to children's social care; details held in "
                                      "CSC records.",
    AgencyKind.YOUTH_JUSTICE: "YJS only: AssetPlus screening completed; scores held in the YJS system.",
    AgencyKind.VOLUNTARY: "Hospital team only: clinical follow-up arranged by the ED; details held by the trust.",
    AgencyKind.SCHOOL: "School only: SEN support plan under review; details held in the school's records.",
}
CORRECTIONS = {
    # original contact note (index in NOTES[CONTACT]) -> its correction
    1: "Home visit. Spoke with {name} and {their} aunt (not mum, as first recorded). Aunt says things are calmer "
       "at home and {name} has been in by the agreed time most nights this week.",
    2: "Phone call with {name} to rearrange the session missed on Tuesday (not Monday, as first recorded). New "
       "time agreed.",
    4: "Session at the youth centre (not at school, as first recorded) with {name}. Worked on the safety map: "
       "places, people and times that feel unsafe.",
}

INTERVENTION_GOALS = {
    InterventionKind.MENTORING: "Weekly one-to-one mentoring to build trust, explore safer choices and set goals "
                                "for school.",
    InterventionKind.DETACHED_YOUTH_WORK: "Regular contact through detached sessions in {ward}, linking {name} to "
                                          "the youth centre.",
    InterventionKind.DIVERSION: "Complete the prevention programme: weapons awareness, consequential thinking and "
                                "victim awareness.",
    InterventionKind.FAMILY_SUPPORT: "Support for the family with routines, boundaries and keeping {name} safe "
                                     "outside the home.",
    InterventionKind.EDUCATION_SUPPORT: "Attendance plan with weekly check-ins with a trusted adult; catch-up in "
                                        "English and maths.",
    InterventionKind.POSITIVE_ACTIVITIES: "Thursday football and the boxing club: new friendships outside the "
                                          "current peer group.",
    InterventionKind.NAVIGATOR: "Follow-up from the hospital youth worker after discharge: safety planning and "
                                "links to local support.",
    InterventionKind.THERAPEUTIC: "Trauma-informed therapeutic sessions while on the CAMHS waiting list.",
    InterventionKind.SUBSTANCE_MISUSE: "Sessions with the young people's substance-misuse worker on cannabis use "
                                       "and debt.",
    InterventionKind.EMPLOYMENT_TRAINING: "Support to apply for a college course or apprenticeship; CV and "
                                          "interview practice.",
    InterventionKind.OTHER: "Music production course at the youth centre.",
}
INTERVENTION_PROVIDERS = {
    InterventionKind.MENTORING: ("youth", "hospital"),
    InterventionKind.DETACHED_YOUTH_WORK: ("youth",),
    InterventionKind.DIVERSION: ("yjs", "police"),
    InterventionKind.FAMILY_SUPPORT: ("csc",),
    InterventionKind.EDUCATION_SUPPORT: ("school",),
    InterventionKind.POSITIVE_ACTIVITIES: ("youth",),
    InterventionKind.NAVIGATOR: ("hospital",),
    InterventionKind.THERAPEUTIC: ("csc", "hospital"),
    InterventionKind.SUBSTANCE_MISUSE: ("youth",),
    InterventionKind.EMPLOYMENT_TRAINING: ("youth",),
    InterventionKind.OTHER: ("youth",),
}
INTERVENTION_WEIGHTS = {
    InterventionKind.MENTORING: 16, InterventionKind.DETACHED_YOUTH_WORK: 6, InterventionKind.DIVERSION: 9,
    InterventionKind.FAMILY_SUPPORT: 8, InterventionKind.EDUCATION_SUPPORT: 8,
    InterventionKind.POSITIVE_ACTIVITIES: 10, InterventionKind.NAVIGATOR: 5, InterventionKind.THERAPEUTIC: 5,
    InterventionKind.SUBSTANCE_MISUSE: 4, InterventionKind.EMPLOYMENT_TRAINING: 4, InterventionKind.OTHER: 2,
}
INTERVENTION_OUTCOMES = {
    InterventionStatus.COMPLETED: [
        "Attended most sessions; {name} says feeling safer and has set goals for next term.",
        "Programme completed. {name} can name trusted adults and safer routes home.",
        "Completed; attendance at school has improved and {name} joined a club.",
    ],
    InterventionStatus.ENDED_EARLY: [
        "{name} stopped attending after the first few sessions; the key worker will explore other options.",
        "Ended early: the family moved across the borough and the sessions were too far away.",
    ],
}

REVIEW_SUMMARIES = {
    ReviewDecision.CONTINUE: [
        "Progress reviewed with {name} and the family. Engagement is good; risk is {risk}. Continue the plan.",
        "Some progress: attendance up and no police contact since the last review. Risk is {risk}. Continue.",
        "Engagement has been patchy this period. Risk is {risk}; plan adjusted and continues.",
    ],
    ReviewDecision.STEP_DOWN: [
        "{name} has met most goals and risk has come down to {risk}. Step down to school pastoral support.",
    ],
    ReviewDecision.ESCALATE: [
        "New concerns since the last review (risk now {risk}); escalated to children's social care for a "
        "strategy discussion.",
    ],
    ReviewDecision.CLOSE: [
        "Goals met and risk reduced to {risk}. {name} and the family agree the case can close.",
        "{name} has moved on to college and has stable support. Risk {risk}. Recommend closure.",
    ],
}
CLOSURE_OUTCOMES = {
    ClosureReason.OUTCOMES_MET: "{name} completed the plan, is attending regularly and has had no police contact "
                                "since the referral.",
    ClosureReason.STEPPED_DOWN: "Stepped down to the school pastoral team, who will keep the safety plan going.",
    ClosureReason.DISENGAGED: "{name} stopped engaging despite repeated attempts; family told how to re-refer.",
    ClosureReason.MOVED_AWAY: "The family moved to another borough; information passed on with consent.",
}
SHARE_PURPOSES = {
    AgencyKind.POLICE: ("Joint safety planning: police to share relevant intelligence and flag risks in the area.",
                        LawfulBasis.PREVENTING_CRIME),
    AgencyKind.SCHOOL: ("So the school can support the attendance plan and the safety plan during the school day.",
                        LawfulBasis.SAFEGUARDING_CHILDREN),
    AgencyKind.YOUTH_JUSTICE: ("YJS to deliver the prevention programme and contribute to reviews.",
                               LawfulBasis.PUBLIC_TASK),
    AgencyKind.CHILDRENS_SOCIAL_CARE: ("Early help to offer family support alongside the lead agency's plan.",
                                       LawfulBasis.SAFEGUARDING_CHILDREN),
    AgencyKind.VOLUNTARY: ("Hospital youth workers to follow up after discharge and join the safety plan.",
                           LawfulBasis.SAFEGUARDING_CHILDREN),
    AgencyKind.YOUTH_SERVICE: ("Youth service to offer mentoring and positive activities.",
                               LawfulBasis.PUBLIC_TASK),
}

# The lead agency the hub tends to choose for each main concern.
LEAD_FOR_CONCERN = {
    Concern.WEAPON: ("youth", "youth", "yjs", "police"),
    Concern.GANG_ASSOCIATION: ("youth", "yjs"),
    Concern.CRIMINAL_EXPLOITATION: ("yjs", "youth", "csc"),
    Concern.SEXUAL_EXPLOITATION: ("csc",),
    Concern.VICTIM_OF_VIOLENCE: ("hospital", "youth"),
    Concern.MISSING_EPISODES: ("csc", "youth"),
    Concern.EXCLUSION: ("youth", "school"),
    Concern.SUBSTANCE_MISUSE: ("youth",),
    Concern.MENTAL_HEALTH: ("youth", "csc"),
    Concern.DOMESTIC_ABUSE: ("csc",),
    Concern.BEREAVEMENT: ("youth", "hospital"),
    Concern.ONLINE_HARM: ("youth", "school"),
    Concern.OTHER: ("youth", "csc"),
}
REFERRER_WEIGHTS = {
    "school": 34, "police": 26, "youth": 16, "hospital": 9, "csc": 8, "yjs": 7,
}

# What happens to each young person. 80 cases (74 open, 6 closed) and 70
# people whose referrals did not become cases.
SCENARIOS = (
    ["case"] * 68 + ["case_after_earlier_referral"] * 6 + ["closed_case"] * 6
    + ["submitted_overdue"] * 6 + ["submitted_fresh"] * 4 + ["screening_overdue"] * 4 + ["screening_fresh"] * 4
    + ["signposted"] * 24 + ["no_further_action"] * 20 + ["withdrawn"] * 8
)
assert len(SCENARIOS) == YOUNG_PEOPLE


@dataclass
class Staff:
    user: object
    agency_key: str | None
    role: str


@dataclass(frozen=True)
class BoroughSpec:
    """What differs between the demo's boroughs: their agencies, sign-ins,
    wards and schools, and who refers, leads and is shared with."""

    name: str
    mail_domain: str
    agencies: tuple[AgencySpec, ...]
    sign_ins: tuple[DemoSignIn, ...]
    agreement_reference: str
    agreement_age_days: int
    wards: dict[str, tuple[str, ...]]
    schools: tuple[str, ...]
    school_weights: tuple[float, ...]
    sixth_form_schools: tuple[str, ...]
    school_dfe: dict[str, str]
    local_authority_code: str
    # Who provides education support for a young person at none of its schools.
    fallback_school: str
    referrer_weights: dict[str, float]
    share_candidates: tuple[str, ...]
    screener_titles: tuple[str, ...]
    extra_staff: tuple[tuple[str, str, str], ...] = ()
    # Keys of agencies of the first borough that work in this one too.
    shared_agencies: tuple[str, ...] = ()
    # The demo sign-ins (usernames) the casework favours: as referrer or key
    # worker of an agency, as its contributor to a shared case, as the
    # managing manager, as the screener.
    prefer: dict[str, str] = field(default_factory=dict)
    contributor_prefer: dict[str, str] = field(default_factory=dict)
    manager_prefer: str | None = None
    screener_prefer: str | None = None

    @property
    def partnership_name(self) -> str:
        return f"{self.name} Community Safety Partnership"

    @property
    def slug(self) -> str:
        return self.name.lower()

    def has(self, key: str) -> bool:
        """Whether an agency (by key; "school": any of its schools) works here."""
        if key == "school":
            return bool(self.schools)
        return key in self.shared_agencies or any(a.key == key for a in self.agencies)

    def lead_for(self, concern: str) -> tuple[str, ...]:
        """The lead agencies the hub tends to choose for a concern, of those it has."""
        return tuple(k for k in LEAD_FOR_CONCERN[concern] if self.has(k)) or ("youth",)

    def providers_of(self, kind: str) -> tuple[str, ...]:
        return tuple(k for k in INTERVENTION_PROVIDERS[kind] if self.has(k)) or ("youth",)


RIVERSIDE = BoroughSpec(
    name=BOROUGH, mail_domain=MAIL_DOMAIN, agencies=tuple(AGENCIES),
    sign_ins=tuple(DEMO_SIGN_INS), agreement_reference="RSP-ISA-2025-01", agreement_age_days=400,
    wards=WARDS, schools=SCHOOL_KEYS, school_weights=(32, 30, 28, 10), sixth_form_schools=("parkside", "academy"),
    school_dfe=SCHOOL_DFE, local_authority_code=LOCAL_AUTHORITY_CODE, fallback_school="pru",
    referrer_weights=REFERRER_WEIGHTS, share_candidates=("police", "yjs", "csc", "hospital", "youth"),
    screener_titles=("MASH screener", "MASH senior practitioner", "MASH screener (police)"),
    # The youth service's second manager, so "manager" is not the only one.
    extra_staff=(("youth", Role.MANAGER, "Senior practitioner, youth service"),),
    prefer={"parkside": "teacher", "police": "police", "youth": "youthworker"},
    contributor_prefer={"police": "police", "parkside": "teacher"},
    manager_prefer="manager", screener_prefer="screener",
)
WHARFSIDE = BoroughSpec(
    name=NEIGHBOUR, mail_domain=NEIGHBOUR_MAIL_DOMAIN,
    agencies=tuple(NEIGHBOUR_AGENCIES), sign_ins=tuple(NEIGHBOUR_SIGN_INS), agreement_reference="WSP-ISA-2025-01",
    agreement_age_days=300, wards=NEIGHBOUR_WARDS, schools=("ferrylane",), school_weights=(1,),
    sixth_form_schools=("ferrylane",), school_dfe={"ferrylane": "4118"}, local_authority_code="998",
    fallback_school="ferrylane", referrer_weights={"school": 34, "police": 26, "youth": 16, "csc": 8},
    share_candidates=("police", "csc", "youth"), screener_titles=("MASH screener", "MASH screener (police)"),
    shared_agencies=NEIGHBOUR_SHARED_AGENCIES,
    # The demo police officer works in both boroughs.
    prefer={"police": "police", "youth": "wharfside-youthworker"}, contributor_prefer={"police": "police"},
    screener_prefer="wharfside-screener",
)


@dataclass
class Borough:
    spec: BoroughSpec
    partnership: Partnership | None = None
    agencies: dict[str, Agency] = field(default_factory=dict)
    staff: list[Staff] = field(default_factory=list)
    agreement: InformationSharingAgreement | None = None
    # The demo sign-ins the casework favours: as referrer or key worker (by
    # agency key), as contributor to a shared case, as manager, as screener.
    prefer: dict[str, object] = field(default_factory=dict)
    contributor_prefer: dict[str, object] = field(default_factory=dict)
    manager_prefer: object | None = None
    screener_prefer: object | None = None

    def people(self, agency_key: str, role: str) -> list:
        return [s.user for s in self.staff if s.agency_key == agency_key and s.role == role]


def _slug_name(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower().replace("-", ""))


class Command(BaseCommand):
    help = "Load a fictional demo borough (agencies, staff, young people and casework). Safe to run twice."

    # -- entry point --------------------------------------------------------

    def handle(self, *args, **options):
        self.verbosity = options.get("verbosity", 1)
        if Agency.objects.filter(slug=HUB_SLUG).exists():
            self.say("The demo boroughs are already loaded; nothing changed.")
            self.demo_authenticator_apps()
            self.print_sign_ins()
            return

        started = time.monotonic()
        self.fake = Faker("en_GB")
        self.fake.seed_instance(SEED)
        # Two streams: who the people are stays the same from day to day,
        # whatever the casework (which depends on today's date) draws.
        self.names_rng = random.Random(SEED)
        self.rng = random.Random(SEED + 1)
        self.now = timezone.now()
        self.today = timezone.localdate(self.now)
        self.actors: dict[tuple[int, int], access.Actor] = {}
        self.upn_serial = 0
        self.declined = 0
        self.used_usernames: set[str] = set()
        self.demo_users: dict[str, object] = {}

        with transaction.atomic():
            self.borough = self.riverside = Borough(RIVERSIDE)
            self.create_partnership()
            self.say(f"Partnership: {len(self.borough.agencies)} agencies, {len(self.borough.staff)} staff")
            scenarios = list(SCENARIOS)
            self.rng.shuffle(scenarios)
            self.shares_made: list[ShareGrant] = []
            for number, scenario in enumerate(scenarios, start=1):
                with transaction.atomic():
                    self.young_person_story(number, scenario)
                if number % 25 == 0:
                    self.say(f"  {number}/{len(scenarios)} young people ({time.monotonic() - started:.1f}s)")
            self.sharing_endings()
            self.neighbouring_borough()
            self.across_the_border()
            self.local_rules()
            self.withheld_witness()

        self.say(f"Loaded in {time.monotonic() - started:.1f}s: {self.counts()}")
        self.demo_authenticator_apps()
        self.print_sign_ins()
        call_command("seed_matching_demo", stdout=self.stdout, verbosity=self.verbosity)  # issue 7
        call_command("seed_contexts_demo", stdout=self.stdout, verbosity=self.verbosity)  # issue 16
        call_command("seed_monitoring_demo", stdout=self.stdout, verbosity=self.verbosity)  # issue 17

    def say(self, message: str) -> None:
        if self.verbosity >= 1:
            self.stdout.write(message)

    def counts(self) -> str:
        statuses = ", ".join(
            f"{label.lower()} {Referral.objects.filter(status=value).count()}"
            for value, label in ReferralStatus.choices
        )
        boroughs = "; ".join(
            f"{p.name}: {p.young_people.count()} young people, {p.cases.count()} cases"
            for p in Partnership.objects.order_by("name")
        )
        return (
            f"{boroughs}. In all: "
            f"{YoungPerson.objects.count()} young people, {Referral.objects.count()} referrals ({statuses}), "
            f"{Case.objects.count()} cases ({Case.objects.filter(status='closed').count()} closed), "
            f"{Intervention.objects.count()} interventions, "
            f"{Review.objects.filter(completed_at__isnull=False).count()} completed reviews, "
            f"{CaseNote.objects.count()} chronology entries, {ShareGrant.objects.count()} share grants, "
            f"{SharingDecision.objects.count()} sharing decisions"
        )

    def demo_authenticator_apps(self) -> None:
        """Every demo sign-in has an authenticator app already set up (made
        once; a later run keeps it), so the demo asks for a code straight
        after the password and ``demo_otp_code`` can say what it is."""
        for user in get_user_model().objects.filter(username__in=[spec.username for spec in ALL_SIGN_INS]):
            two_factor.confirmed_app_ensure(user=user)

    def print_sign_ins(self) -> None:
        User = get_user_model()
        rows = [("Username", "Role", "Agency", "Password")]
        for spec in ALL_SIGN_INS:
            user = User.objects.filter(username=spec.username).first()
            if user is None:
                continue
            if spec.agency_key is None:
                role, agency = "System administrator (superuser)", "none"
            else:
                membership = user.memberships.select_related("agency").filter(role=spec.role).first()
                role = Role(spec.role).label
                agency = membership.agency.name if membership else "?"
            rows.append((spec.username, role, agency, DEMO_PASSWORD))
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        self.stdout.write("")
        self.stdout.write("Demo sign-ins (every demo account shares this password; never use it for real data):")
        for index, row in enumerate(rows):
            self.stdout.write("  " + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
            if index == 0:
                self.stdout.write("  " + "  ".join("-" * w for w in widths))
        if Partnership.objects.filter(slug=WHARFSIDE.slug).exists():
            self.stdout.write("")
            self.stdout.write(f"The police unit works in both partnerships: police starts in {BOROUGH} and can")
            self.stdout.write(f"choose {NEIGHBOUR}. The {NEIGHBOUR.lower()}- sign-ins work in {NEIGHBOUR}, the "
                              f"others in {BOROUGH}.")
        self.stdout.write("")
        self.stdout.write("After the password, Crossroads asks for a two-factor code. Each demo account's")
        self.stdout.write("authenticator app is already set up; get its current code with, for example:")
        self.stdout.write("  .venv/bin/python manage.py demo_otp_code youthworker")

    # -- the partnership ----------------------------------------------------

    def person_name(self, ethnicity: str, gender: str, *, young: bool = False) -> tuple[str, str]:
        pool_key = ethnicity
        if pool_key in MIXED_POOLS:
            given_pool = self.names_rng.choice(MIXED_POOLS[pool_key])
            family_pool = self.names_rng.choice(MIXED_POOLS[pool_key])
        else:
            given_pool = family_pool = pool_key
        female = gender == Gender.FEMALE or (gender not in (Gender.MALE, Gender.FEMALE) and self.names_rng.random() < 0.5)
        pool = NAME_POOLS.get(given_pool)
        if pool is None and young:
            given = self.names_rng.choice(YOUNG_BRITISH_NAMES[1] if female else YOUNG_BRITISH_NAMES[0])
        elif pool is None:
            given = self.fake.first_name_female() if female else self.fake.first_name_male()
        else:
            given = self.names_rng.choice(pool[1] if female else pool[0])
        pool = NAME_POOLS.get(family_pool)
        family = self.fake.last_name() if pool is None else self.names_rng.choice(pool[2])
        return given, family

    def random_ethnicity(self) -> str:
        return self.names_rng.choices(list(ETHNICITY_WEIGHTS), weights=list(ETHNICITY_WEIGHTS.values()))[0]

    def new_username(self, given: str, family: str) -> str:
        base = f"{_slug_name(given)}.{_slug_name(family)}"
        username, n = base, 1
        while username in self.used_usernames:
            n += 1
            username = f"{base}{n}"
        self.used_usernames.add(username)
        return username

    def add_staff(self, agency_key: str | None, role: str, job_title: str, username: str | None = None):
        gender = self.names_rng.choice([Gender.FEMALE, Gender.MALE])
        given, family = self.person_name(self.random_ethnicity(), gender)
        if username is None:
            username = self.new_username(given, family)
        else:
            self.used_usernames.add(username)
        agency = self.borough.agencies[agency_key] if agency_key else None
        mail_domain = self.borough.spec.mail_domain
        domain = f"{agency.slug}.{mail_domain}" if agency else mail_domain
        user = agency_services.user_create(
            username=username, email=f"{username}@{domain}", first_name=given, last_name=family, password=None,
        )
        # The shared demo password passes the same validators as any other;
        # it is hashed once for everyone (argon2 is slow on purpose).
        password_validation.validate_password(DEMO_PASSWORD, user)
        if agency is not None:
            agency_services.membership_add(agency=agency, user=user, role=role, job_title=job_title)
        self.borough.staff.append(Staff(user=user, agency_key=agency_key, role=role))
        return user

    def create_partnership(self) -> None:
        """The borough's partnership, its agencies (and those of the first
        borough that work here too), its agreement and its staff."""
        borough = self.borough
        spec = borough.spec
        borough.partnership = agency_services.partnership_create(name=spec.partnership_name, slug=spec.slug)
        for agency_spec in spec.agencies:
            borough.agencies[agency_spec.key] = agency_services.agency_create(
                name=agency_spec.name, kind=agency_spec.kind, slug=agency_spec.slug,
                email=f"team@{agency_spec.slug}.{spec.mail_domain}", partnerships=[borough.partnership],
            )
        for key in spec.shared_agencies:
            # Joins this partnership too, with its people.
            agency = self.riverside.agencies[key]
            agency.partnerships.add(borough.partnership)
            borough.agencies[key] = agency
            borough.staff.extend(s for s in self.riverside.staff if s.agency_key == key)
        borough.agreement = InformationSharingAgreement.objects.create(
            title=f"{spec.name} Serious Violence and Exploitation Information-Sharing Agreement",
            reference=spec.agreement_reference,
            purpose=(
                "Sharing information about children and young people at risk of serious violence, criminal or "
                "sexual exploitation, so that partners can assess risk, plan support together and keep them "
                "safe. Share the minimum needed, for the purpose stated, with the partners who need it."
            ),
            starts_on=self.today - dt.timedelta(days=spec.agreement_age_days),
            ends_on=None,
        )
        borough.agreement.parties.set(borough.agencies.values())
        self.vocabulary(borough)

        demo = {}
        for sign_in in spec.sign_ins:
            if sign_in.agency_key is None:
                user = self.add_staff(None, sign_in.role, "", username=sign_in.username)
                get_user_model().objects.filter(pk=user.pk).update(is_staff=True, is_superuser=True)
            else:
                user = self.add_staff(sign_in.agency_key, sign_in.role, sign_in.job_title, username=sign_in.username)
            demo[sign_in.username] = user
        self.demo_users.update(demo)

        for agency_spec in spec.agencies:
            # Every agency has a manager and an administrator (a demo sign-in
            # may be one already: the youth service's in Riverside).
            if not borough.people(agency_spec.key, Role.MANAGER):
                self.add_staff(agency_spec.key, Role.MANAGER, agency_spec.manager_title)
            if not borough.people(agency_spec.key, Role.AGENCY_ADMIN):
                self.add_staff(agency_spec.key, Role.AGENCY_ADMIN, "Business support officer")
            have = len(borough.people(agency_spec.key, Role.PRACTITIONER))
            titles = agency_spec.practitioner_titles
            for i in range(agency_spec.practitioners - have):
                self.add_staff(agency_spec.key, Role.PRACTITIONER, titles[i % len(titles)])
        for title in spec.screener_titles:
            self.add_staff("hub", Role.HUB_SCREENER, title)
        for key, role, title in spec.extra_staff:
            self.add_staff(key, role, title)
        own = [s.user.pk for s in borough.staff if s.agency_key not in spec.shared_agencies]
        get_user_model().objects.filter(pk__in=own).update(password=make_password(DEMO_PASSWORD))

        borough.prefer = {key: self.demo_users[name] for key, name in spec.prefer.items()}
        borough.contributor_prefer = {key: self.demo_users[name] for key, name in spec.contributor_prefer.items()}
        borough.manager_prefer = self.demo_users.get(spec.manager_prefer) if spec.manager_prefer else None
        borough.screener_prefer = self.demo_users.get(spec.screener_prefer) if spec.screener_prefer else None

    def vocabulary(self, borough: Borough) -> None:
        """The borough's concern vocabulary, written by its partnership
        administrator where it has one: signs to look for, a source and
        indicators for every standard concern, and a model agreement."""
        partnership = borough.partnership
        admin = self.demo_users.get("partnershipadmin") if borough.spec is RIVERSIDE else None
        with pghistory.context(user=admin.pk if admin else None, agency=borough.agencies["hub"].name):
            for code, (text, source_title, source_url, indicators) in DEMO_VOCABULARY.items():
                assert not signs.problems(text), code
                concern = VocabularyConcern.objects.get(partnership=partnership, code=code)
                concern.signs, concern.source_title, concern.source_url = text, source_title, source_url
                concern.save(update_fields=["signs", "source_title", "source_url"])
                Indicator.objects.bulk_create(
                    Indicator(concern=concern, text=indicator, position=n) for n, indicator in enumerate(indicators, 1)
                )
            title, body = DEMO_AGREEMENT_TEMPLATE
            AgreementTemplate.objects.create(partnership=partnership, title=title, body=body)

    def local_rules(self) -> None:
        """Riverside's own time limits from now on (referrals already made
        keep their deadlines): red referrals decided within 2 working hours,
        amber within 8, green in the standard working day; red cases reviewed
        every four weeks."""
        admin = self.demo_users["partnershipadmin"]
        with pghistory.context(user=admin.pk, agency=self.riverside.agencies["hub"].name):
            PartnershipRules.objects.create(
                partnership=self.riverside.partnership, effective_from=timezone.now(), created_by=admin,
                decision_hours_red=2, decision_hours_amber=8, decision_hours_green=None,
                review_days_red=28, review_days_amber=42, review_days_green=56,
                alert_minutes_red=30, alert_minutes_amber=60, alert_minutes_green=0,
                retention_age_years=25, reason="Tighter limits agreed at the partnership board",
            )

    def withheld_witness(self) -> None:
        """Redaction (issue 18): on a Riverside case both the Safer Schools
        officer (``police``) and Parkside's safeguarding lead (``teacher``)
        work on, the officer records an incident naming a witness and
        withholds the witness from everyone but the police: ``teacher`` sees
        a marker where the name was."""
        self.borough = self.riverside
        officer = self.actor(self.demo_users["police"])
        teacher = self.actor(self.demo_users["teacher"])
        case = (
            access.visible_cases(officer).filter(status=CaseStatus.OPEN)
            .filter(pk__in=access.visible_cases(teacher).values("pk")).order_by("pk").first()
        )
        if case is None:
            return
        witness = "Dwayne Okafor, 17, of Marsh Lane"
        note = casework.case_note_add(
            actor=officer, case=case, kind=NoteKind.INCIDENT, visibility=NoteVisibility.CASE,
            text=f"Fight outside the chicken shop on the High Street after school. Witness {witness} saw "
                 f"{case.young_person.given_name} hand a knife to an older boy and is willing to make a statement.",
        )
        redaction.passage_withhold(
            actor=officer, record=note, field="text", passage=witness, category=WithholdingCategory.WITNESS,
            withheld_from=WithheldFrom.ALL_BUT_AUTHOR, ask="PC Adams, Safer Schools officer",
            reason="The witness fears reprisals",
        )
        self.say(f"A witness withheld from every agency but the police on case {case.reference}")

    # -- helpers ------------------------------------------------------------

    def actor(self, user) -> access.Actor:
        """The person acting for their agency in the borough being written."""
        partnership = self.borough.partnership
        key = (user.pk, partnership.pk)
        if key not in self.actors:
            self.actors[key] = access.actor_for_user(user, partnership=partnership, channel=Channel.COMMAND)
        return self.actors[key]

    def pick(self, agency_key: str, role: str = Role.PRACTITIONER, *, prefer=None, weight: float = 0.0):
        people = self.borough.people(agency_key, role)
        if prefer is not None and prefer in people and self.rng.random() < weight:
            return prefer
        return self.rng.choice(people)

    def at(self, day: dt.date, hour: int | None = None, minute: int | None = None) -> dt.datetime:
        hour = self.rng.randint(9, 17) if hour is None else hour
        minute = self.rng.randint(0, 59) if minute is None else minute
        moment = timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))
        return min(moment, self.now - dt.timedelta(minutes=5))

    def working_day_on_or_before(self, day: dt.date) -> dt.date:
        while not deadlines.is_working_day(day):
            day -= dt.timedelta(days=1)
        return day

    def working_days_ahead(self, n: int) -> dt.date:
        day = self.today if deadlines.is_working_day(self.today) else deadlines.next_working_day(self.today)
        for _ in range(n):
            day = deadlines.next_working_day(day)
        return day

    def words(self, template: str, person: YoungPerson, **extra) -> str:
        pronoun = {Gender.MALE: ("him", "his"), Gender.FEMALE: ("her", "her")}.get(person.gender, ("them", "their"))
        name = person.preferred_name or person.given_name
        return template.format(name=name, them=pronoun[0], their=pronoun[1], ward=person.ward, **extra)

    # -- one young person's story --------------------------------------------

    def address(self) -> tuple[str, str]:
        """A ward of the borough and a postcode in it."""
        rng = self.names_rng
        wards = self.borough.spec.wards
        ward = rng.choice(list(wards))
        district = rng.choice(wards[ward])
        sector = sector_in_ward(wards, ward, district, rng.randint(1, 9))
        postcode = f"{district} {sector}{rng.choice(POSTCODE_LETTERS)}{rng.choice(POSTCODE_LETTERS)}"
        return ward, postcode

    def new_person(self) -> dict:
        rng = self.names_rng
        gender = rng.choices(
            [Gender.MALE, Gender.FEMALE, Gender.NON_BINARY, Gender.NOT_KNOWN], weights=[68, 29, 2, 1],
        )[0]
        ethnicity = self.random_ethnicity()
        given, family = self.person_name(ethnicity, gender, young=True)
        age = rng.choices(range(10, 20), weights=[2, 4, 7, 10, 13, 15, 15, 12, 8, 5])[0]
        born = self.today - dt.timedelta(days=age * 365 + rng.randint(0, 364))
        spec = self.borough.spec
        ward, postcode = self.address()
        school_key = None
        if 11 <= age <= 16:
            school_key = rng.choices(spec.schools, weights=spec.school_weights)[0]
        elif age == 17 and rng.random() < 0.3:
            school_key = rng.choice(spec.sixth_form_schools)
        person = {
            "given_name": given,
            "family_name": family,
            "preferred_name": PREFERRED_NAMES.get(given, "") if rng.random() < 0.6 else "",
            "date_of_birth": born,
            "gender": gender,
            "ethnicity": ethnicity,
            "postcode": postcode,
            "ward": ward,
        }
        if school_key:
            self.upn_serial += 1
            person["school"] = self.borough.agencies[school_key]
            entry_year = (born.year + 11) % 100
            person["unique_pupil_number"] = (
                f"{rng.choice('ABCDEFGHJKLMNPQRTUVWXYZ')}{spec.local_authority_code}{spec.school_dfe[school_key]}"
                f"{entry_year:02d}{self.upn_serial:03d}"
            )
        return person

    def choose_referrer(self, person: dict) -> tuple[str, object]:
        weights = self.borough.spec.referrer_weights
        key = self.rng.choices(list(weights), weights=list(weights.values()))[0]
        if key == "school":
            school = person.get("school")
            # A young person not at one of the partnership's schools is
            # referred by police instead.
            key = next((k for k, a in self.borough.agencies.items() if a == school), None) or "police"
        return key, self.pick(key, prefer=self.borough.prefer.get(key), weight=0.6)

    def referral_details(self, person: dict, referrer_key: str, person_obj=None) -> dict:
        rng = self.rng
        kind = self.borough.agencies[referrer_key].kind
        # The main concern is one this kind of referrer would write about.
        fitting = [c for c in CONCERN_WEIGHTS if any(kind in kinds for _, kinds in ACCOUNTS[c])]
        first = rng.choices(fitting, weights=[CONCERN_WEIGHTS[c] for c in fitting])[0]
        concerns = [first]
        for _ in range(rng.choice([0, 1, 1, 2])):
            extra = rng.choices(list(CONCERN_WEIGHTS), weights=list(CONCERN_WEIGHTS.values()))[0]
            if extra not in concerns and extra != Concern.OTHER:
                concerns.append(extra)
        risk = rng.choices([RiskLevel.RED, RiskLevel.AMBER, RiskLevel.GREEN], weights=[22, 50, 28])[0]
        stand_in = person_obj or YoungPerson(
            given_name=person["given_name"], preferred_name=person["preferred_name"], gender=person["gender"],
            ward=person["ward"],
        )
        text = rng.choice([text for text, kinds in ACCOUNTS[first] if kind in kinds])
        account = " ".join([
            self.words(text, stand_in),
            self.words(ACCOUNT_ENDINGS[kind], stand_in),
        ])
        details = {
            "concerns": concerns, "risk_level": risk, "account": account,
            "concerns_other": "Housing: temporary accommodation" if Concern.OTHER in concerns else "",
        }
        consent = rng.choices([Consent.YOUNG_PERSON, Consent.PARENT_CARER, Consent.NOT_SOUGHT], weights=[45, 32, 23])[0]
        details["consent"] = consent
        if consent == Consent.NOT_SOUGHT:
            basis, reason = rng.choice(NO_CONSENT_REASONS)
            details["lawful_basis"], details["consent_reason"] = basis, reason
        if kind == AgencyKind.POLICE:
            details["partner_reference"] = f"CAD {rng.randint(1000, 9999)}/{rng.randint(1, 28):02d}"
        return details

    def submit(self, person: dict | None, young_person: YoungPerson | None, received_at: dt.datetime,
               referrer_key: str | None = None, referrer=None) -> tuple[Referral, str, object]:
        if referrer is None:
            referrer_key, referrer = self.choose_referrer(person)
        details = self.referral_details(person or {}, referrer_key, person_obj=young_person)
        return casework.referral_submit(
            actor=self.actor(referrer),
            young_person=young_person,
            person=None if young_person is not None else person,
            received_at=received_at,
            **details,
        ), referrer_key, referrer

    def screener(self):
        return self.pick("hub", Role.HUB_SCREENER, prefer=self.borough.screener_prefer, weight=0.5)

    def signpost(self) -> tuple[str, str]:
        """Where the hub signposts to, and why (the borough's own services)."""
        to, reason = self.rng.choice(SIGNPOSTS)
        return to.replace(BOROUGH, self.borough.spec.name), reason

    def decided(self, referral: Referral, decided_at: dt.datetime) -> None:
        Referral.objects.filter(pk=referral.pk).update(decided_at=max(decided_at, referral.received_at))

    def young_person_story(self, number: int, scenario: str) -> None:
        rng = self.rng
        person = self.new_person()

        if scenario in ("submitted_overdue", "screening_overdue", "submitted_fresh", "screening_fresh"):
            if scenario.endswith("overdue"):
                # Received a week or more ago: well past one working day.
                day = self.working_day_on_or_before(self.today - dt.timedelta(days=rng.randint(6, 12)))
                received = self.at(day)
            else:
                received = self.now - dt.timedelta(minutes=rng.randint(20, 240))
            referral, _, _ = self.submit(person, None, received)
            if scenario.startswith("screening"):
                casework.referral_start_screening(actor=self.actor(self.screener()), referral=referral)
            return

        if scenario in ("signposted", "no_further_action", "withdrawn"):
            day = self.working_day_on_or_before(self.today - dt.timedelta(days=rng.randint(3, 240)))
            received = self.at(day, hour=rng.randint(8, 15))
            referral, _, referrer = self.submit(person, None, received)
            decided_at = received + dt.timedelta(hours=rng.randint(1, 22))
            if scenario == "withdrawn":
                casework.referral_withdraw(actor=self.actor(referrer), referral=referral,
                                           reason=rng.choice(WITHDRAW_REASONS))
                self.decided(referral, decided_at - dt.timedelta(minutes=30))
                return
            screener = self.actor(self.screener())
            if rng.random() < 0.6:
                casework.referral_start_screening(actor=screener, referral=referral)
            if scenario == "signposted":
                to, reason = self.signpost()
                casework.referral_signpost(actor=screener, referral=referral, signposted_to=to, reason=reason)
            else:
                casework.referral_no_further_action(actor=screener, referral=referral, reason=rng.choice(NFA_REASONS))
            self.decided(referral, decided_at)
            return

        self.case_story(person, scenario)

    # -- cases --------------------------------------------------------------

    def case_story(self, person: dict, scenario: str, *, closure_reason: str | None = None) -> Case:
        rng = self.rng
        closed = scenario == "closed_case"
        # When the next review is due decides when the case opened and how
        # many reviews it has had (six-weekly).
        reviews_done = rng.choices([0, 1, 2, 3, 4], weights=[34, 30, 20, 10, 6])[0]
        lateness = rng.randint(0, 3)
        if closed:
            reviews_done = rng.randint(2, 4)
            closes_on = self.today - dt.timedelta(days=rng.randint(10, 90))
            opened_day = closes_on - dt.timedelta(days=42 * reviews_done + rng.randint(3, 10))
            target = None
        else:
            bucket = rng.choices(["overdue", "soon", "later"], weights=[16, 16, 68])[0]
            if bucket == "overdue":
                target = self.working_day_on_or_before(self.today - dt.timedelta(days=rng.randint(1, 25)))
            elif bucket == "soon":
                target = self.working_days_ahead(rng.randint(0, 3))
            else:
                target = self.today + dt.timedelta(days=rng.randint(8, 40))
                target = deadlines.review_due_after(target, 0)
            opened_day = target - dt.timedelta(days=42 * (reviews_done + 1) + lateness)
        opened_day = self.working_day_on_or_before(min(opened_day, self.today - dt.timedelta(days=2)))
        opened_at = self.at(opened_day, hour=rng.randint(10, 16))

        if scenario == "case_after_earlier_referral":
            earlier_day = self.working_day_on_or_before(opened_day - dt.timedelta(days=rng.randint(60, 150)))
            earlier_received = self.at(earlier_day, hour=10)
            earlier, referrer_key, referrer = self.submit(person, None, earlier_received)
            if rng.random() < 0.5:
                to, reason = self.signpost()
                casework.referral_signpost(actor=self.actor(self.screener()), referral=earlier, signposted_to=to,
                                           reason=reason)
            else:
                casework.referral_no_further_action(actor=self.actor(self.screener()), referral=earlier,
                                                    reason=rng.choice(NFA_REASONS))
            self.decided(earlier, earlier_received + dt.timedelta(hours=4))
            young_person = earlier.young_person
            referral, _, _ = self.submit(None, young_person, opened_at - dt.timedelta(hours=rng.randint(2, 20)),
                                         referrer_key=referrer_key, referrer=referrer)
        else:
            referral, referrer_key, referrer = self.submit(
                person, None, opened_at - dt.timedelta(hours=rng.randint(2, 20)),
            )
            young_person = referral.young_person

        # The hub decides.
        screener = self.actor(self.screener())
        if rng.random() < 0.7:
            casework.referral_start_screening(actor=screener, referral=referral)
        spec = self.borough.spec
        lead_key = rng.choice(spec.lead_for(referral.concerns[0]))
        if lead_key == "school":
            lead_key = next((k for k in spec.schools if self.borough.agencies[k].pk == young_person.school_id),
                            "youth")
        lead = self.borough.agencies[lead_key]
        key_worker = None
        if rng.random() > 0.05:
            key_worker = self.pick(lead_key, prefer=self.borough.prefer.get(lead_key), weight=0.45)
        case = casework.referral_accept(
            actor=screener, referral=referral, lead_agency=lead, key_worker=key_worker,
            reason=rng.choice(ACCEPT_REASONS),
        )
        # Backdate what the service stamps with "now".
        first_due = deadlines.review_due_after(opened_day, case.review_interval_days)
        Case.objects.filter(pk=case.pk).update(opened_at=opened_at, next_review_due=first_due)
        Review.objects.filter(case=case, completed_at__isnull=True).update(due_on=first_due)
        self.decided(referral, opened_at)
        case.refresh_from_db()

        manager = self.pick(lead_key, Role.MANAGER, prefer=self.borough.manager_prefer, weight=0.7)
        managing = self.actor(key_worker or manager)
        worker = self.actor(key_worker or self.pick(lead_key))
        end_day = closes_on if closed else self.today

        # Sharing: with the agencies the plan needs.
        shared_with = self.share(case, young_person, referrer_key, lead_key, self.actor(manager), opened_day)

        # Chronology.
        self.chronology(case, young_person, worker, shared_with, opened_at, end_day, lead_key)

        # Interventions.
        self.interventions(case, young_person, worker, lead_key, opened_day, end_day, finish_all=closed)

        # Reviews, six-weekly from opening.
        risk = case.risk_level
        review_day = opened_day
        for i in range(reviews_done):
            review_day = deadlines.review_due_after(review_day, case.review_interval_days)
            review_day = min(review_day + dt.timedelta(days=rng.randint(0, 2)), end_day - dt.timedelta(days=1))
            last = closed and i == reviews_done - 1
            risk = self.next_risk(risk, closing=last)
            if last:
                decision = ReviewDecision.CLOSE
            else:
                decision = rng.choices(
                    [ReviewDecision.CONTINUE, ReviewDecision.STEP_DOWN, ReviewDecision.ESCALATE], weights=[84, 11, 5],
                )[0]
            summary = self.words(rng.choice(REVIEW_SUMMARIES[decision]), young_person,
                                 risk=RiskLevel(risk).label.split(" ")[0].lower())
            casework.review_complete(actor=managing, case=case, risk_after=risk, summary=summary, decision=decision,
                                     completed_at=self.at(review_day, hour=rng.randint(10, 16)))

        # A later referral about the same young person joins the open case.
        if not closed and rng.random() < 0.08 and opened_day < self.today - dt.timedelta(days=20):
            day = self.working_day_on_or_before(self.today - dt.timedelta(days=rng.randint(3, 15)))
            again, _, _ = self.submit(None, young_person, self.at(day, hour=9), referrer_key=referrer_key,
                                      referrer=referrer)
            casework.referral_accept(actor=self.actor(self.screener()), referral=again, lead_agency=lead,
                                     reason="Further concerns about a young person with an open case.")
            self.decided(again, self.at(day, hour=13))

        if closed:
            reason = closure_reason or rng.choice(list(CLOSURE_OUTCOMES))
            casework.case_close(actor=self.actor(manager), case=case, reason=reason,
                                outcome=self.words(CLOSURE_OUTCOMES[reason], young_person))
            Case.objects.filter(pk=case.pk).update(closed_at=self.at(closes_on, hour=15))
        else:
            # Where the next review falls: overdue, due within three working
            # days, or later (the service sets it from the last review).
            Case.objects.filter(pk=case.pk).update(next_review_due=target)
            Review.objects.filter(case=case, completed_at__isnull=True).update(due_on=target)
            last_review = Review.objects.filter(case=case, completed_at__isnull=False).order_by("-completed_at").first()
            if last_review is not None:
                Review.objects.filter(pk=last_review.pk).update(next_review_due=target)
        return case

    def next_risk(self, risk: str, *, closing: bool) -> str:
        order = [RiskLevel.GREEN, RiskLevel.AMBER, RiskLevel.RED]
        if closing:
            return RiskLevel.GREEN
        index = order.index(risk) + self.rng.choices([-1, 0, 1], weights=[45, 45, 10])[0]
        return order[max(0, min(2, index))]

    def share(self, case, young_person, referrer_key, lead_key, manager, opened_day) -> list[tuple[str, Agency]]:
        rng = self.rng
        candidates = list(self.borough.spec.share_candidates)
        school_key = next(
            (k for k in self.borough.spec.schools if self.borough.agencies[k].pk == young_person.school_id), None,
        )
        if school_key:
            candidates.insert(0, school_key)
        if referrer_key not in candidates:
            candidates.append(referrer_key)
        candidates = [k for k in candidates if k != lead_key]
        count = rng.choices([0, 1, 2], weights=[50, 35, 15])[0]
        # Prefer the young person's school and police: they are most asked.
        chosen = []
        for key in candidates:
            if len(chosen) >= count:
                break
            if rng.random() < (0.6 if key in ("police", school_key) else 0.3):
                chosen.append(key)
        # An agency serving this borough from next door (the police unit) is
        # asked into the first case it could join, whatever the draws above,
        # so the demo always shows it working cases in both boroughs (the
        # draws depend on today's date through ages and working days).
        for key in self.borough.spec.shared_agencies:
            agency_id = self.borough.agencies[key].pk
            if key in candidates and key not in chosen and not any(g.agency_id == agency_id for g in self.shares_made):
                chosen.insert(0, key)
        shared = []
        for key in chosen:
            agency = self.borough.agencies[key]
            purpose, basis = SHARE_PURPOSES[agency.kind]
            consent_sought = rng.random() < 0.7
            grant = sharing.share_case(
                actor=manager, case=case, agency=agency, purpose=purpose, lawful_basis=basis,
                consent_sought=consent_sought,
                consent_reason=(
                    "Young person and parent agreed to the sharing at the first meeting." if consent_sought else
                    "Not sought: asking would increase the risk to the young person, and sharing is needed to "
                    "keep them safe."
                ),
                special_category_condition=SpecialCategoryCondition.SAFEGUARDING if rng.random() < 0.4 else "",
                agreement=self.borough.agreement,
                expires_at=self.now + dt.timedelta(days=rng.randint(30, 180)),
            )
            self.shares_made.append(grant)
            shared.append((key, agency))
        # A decision not to share is recorded too: at least one in the demo.
        if not chosen and "police" in candidates and (not self.declined or rng.random() < 0.03):
            self.declined += 1
            sharing.decline_to_share(
                actor=manager, case=case, agency=self.borough.agencies["police"],
                purpose="Police asked for the full case file to support an investigation into a group in the area.",
                reason="Not necessary or proportionate: the investigation does not need this young person's "
                       "support plan. Relevant safeguarding information was passed on at the strategy meeting.",
                consent_sought=False,
                consent_reason="The request was declined, so there was nothing to ask consent for.",
                lawful_basis=LawfulBasis.PREVENTING_CRIME, agreement=self.borough.agreement,
            )
        return shared

    def chronology(self, case, young_person, worker, shared_with, opened_at, end_day, lead_key) -> None:
        rng = self.rng
        lead_kind = self.borough.agencies[lead_key].kind
        end = self.at(end_day, hour=8, minute=0) if end_day < self.today else self.now - dt.timedelta(hours=1)
        span = max((end - opened_at).total_seconds(), 3600)
        entries = rng.randint(3, 8)
        moments = sorted(opened_at + dt.timedelta(seconds=rng.uniform(1800, span)) for _ in range(entries))
        for moment in moments:
            kind = rng.choices(list(NOTES), weights=[40, 12, 20, 16, 12])[0]
            index = rng.randrange(len(NOTES[kind]))
            note = casework.case_note_add(
                actor=worker, case=case, kind=kind, text=self.words(NOTES[kind][index], young_person),
                occurred_at=min(moment, self.now - dt.timedelta(minutes=10)),
            )
            if kind == NoteKind.CONTACT and index in CORRECTIONS and rng.random() < 0.15:
                casework.case_note_correct(actor=worker, note=note,
                                           text=self.words(CORRECTIONS[index], young_person))
        if rng.random() < 0.3:
            casework.case_note_add(
                actor=worker, case=case, kind=NoteKind.INFORMATION,
                text=self.words(AGENCY_ONLY_NOTES[lead_kind], young_person),
                occurred_at=moments[-1] - dt.timedelta(minutes=5), visibility=NoteVisibility.AGENCY,
            )
        for key, agency in shared_with:
            contributor = self.actor(self.pick(key, prefer=self.borough.contributor_prefer.get(key), weight=0.6))
            kind, text = SHARED_AGENCY_NOTES[agency.kind]
            when = opened_at + dt.timedelta(seconds=rng.uniform(3600, span))
            casework.case_note_add(actor=contributor, case=case, kind=kind, text=self.words(text, young_person),
                                   occurred_at=min(when, self.now - dt.timedelta(minutes=10)))
            if agency.kind == AgencyKind.POLICE and rng.random() < 0.4:
                casework.case_note_add(
                    actor=contributor, case=case, kind=NoteKind.INFORMATION,
                    text=self.words(AGENCY_ONLY_NOTES[AgencyKind.POLICE], young_person),
                    occurred_at=min(when + dt.timedelta(hours=2), self.now - dt.timedelta(minutes=10)),
                    visibility=NoteVisibility.AGENCY,
                )

    def interventions(self, case, young_person, worker, lead_key, opened_day, end_day, *, finish_all) -> None:
        rng = self.rng
        kinds = []
        for _ in range(rng.choices([1, 2, 3], weights=[35, 45, 20])[0]):
            kind = rng.choices(list(INTERVENTION_WEIGHTS), weights=list(INTERVENTION_WEIGHTS.values()))[0]
            if kind not in kinds:
                kinds.append(kind)
        last_day = min(end_day, self.today) - dt.timedelta(days=1)
        for kind in kinds:
            spec = self.borough.spec
            provider_key = rng.choice(spec.providers_of(kind))
            if provider_key == "school":
                provider_key = next(
                    (k for k in spec.schools if self.borough.agencies[k].pk == young_person.school_id),
                    spec.fallback_school,
                )
            provider = self.borough.agencies[provider_key]
            age_days = (last_day - opened_day).days
            if finish_all:
                status = rng.choices([InterventionStatus.COMPLETED, InterventionStatus.ENDED_EARLY], weights=[75, 25])[0]
            elif age_days < 10:
                status = rng.choice([InterventionStatus.PLANNED, InterventionStatus.ACTIVE])
            else:
                status = rng.choices(
                    [InterventionStatus.PLANNED, InterventionStatus.ACTIVE, InterventionStatus.COMPLETED,
                     InterventionStatus.ENDED_EARLY], weights=[18, 45, 25, 12],
                )[0]
            goals = self.words(INTERVENTION_GOALS[kind], young_person)
            values = {"status": status, "sessions_offered": 0, "sessions_attended": 0, "outcome": ""}
            start = opened_day + dt.timedelta(days=rng.randint(1, max(1, min(21, age_days // 3 or 1))))
            start = min(start, last_day)
            if status == InterventionStatus.PLANNED:
                values["planned_start"] = self.today + dt.timedelta(days=rng.randint(2, 21))
            else:
                values["planned_start"] = start
                values["started_on"] = start
                weeks = max(1, (last_day - start).days // 7)
                values["sessions_offered"] = min(weeks, rng.randint(4, 12))
                attendance = 0.4 if status == InterventionStatus.ENDED_EARLY else rng.uniform(0.6, 1.0)
                values["sessions_attended"] = int(values["sessions_offered"] * attendance)
                if status in (InterventionStatus.COMPLETED, InterventionStatus.ENDED_EARLY):
                    values["ended_on"] = min(start + dt.timedelta(days=7 * values["sessions_offered"]), last_day)
                    values["outcome"] = self.words(rng.choice(INTERVENTION_OUTCOMES[status]), young_person)
            if status == InterventionStatus.ACTIVE and rng.random() < 0.4:
                # Planned first, then started: the update path.
                intervention = casework.intervention_record(
                    actor=worker, case=case, provider_agency=provider, kind=kind, goals=goals,
                    planned_start=values["planned_start"],
                )
                casework.intervention_update(
                    actor=worker, intervention=intervention, status=status, started_on=values["started_on"],
                    sessions_offered=values["sessions_offered"], sessions_attended=values["sessions_attended"],
                )
            else:
                casework.intervention_record(
                    actor=worker, case=case, provider_agency=provider, kind=kind, goals=goals, **values,
                )

    # -- the neighbouring borough --------------------------------------------

    def neighbouring_borough(self) -> None:
        """Wharfside, next door: its own partnership and agencies, the police
        unit it shares with Riverside, a handful of referrals and cases, and a
        young person who moved there from Riverside.

        Written after Riverside, with random streams of its own, so Riverside
        draws exactly what it drew before Wharfside existed."""
        self.fake = Faker("en_GB")
        self.fake.seed_instance(SEED + 100)
        self.names_rng = random.Random(SEED + 100)
        self.rng = random.Random(SEED + 101)
        # In Riverside first: the case of the young person who then moved.
        with transaction.atomic():
            moved = self.case_story(self.new_person(), "closed_case", closure_reason=ClosureReason.MOVED_AWAY)

        self.borough = self.wharfside = Borough(WHARFSIDE)
        self.create_partnership()
        own_staff = [s for s in self.borough.staff if s.agency_key not in WHARFSIDE.shared_agencies]
        self.say(f"{NEIGHBOUR}: {len(self.borough.agencies)} agencies (the police unit shared with {BOROUGH}), "
                 f"{len(own_staff)} more staff")
        scenarios = list(NEIGHBOUR_SCENARIOS)
        self.rng.shuffle(scenarios)
        self.shares_made = []
        for number, scenario in enumerate(scenarios, start=1):
            with transaction.atomic():
                self.young_person_story(number, scenario)
        with transaction.atomic():
            self.moved_young_person(moved.young_person)

    def across_the_border(self) -> None:
        """What crosses between the two boroughs: a cross-border agreement
        between their youth services; one open Riverside case shared with
        Wharfside Youth Service under it (a boy who now spends his evenings
        at a Wharfside youth club); and the transfer of another Riverside
        case, proposed to Wharfside's hub, waiting in its queue."""
        river, wharf = self.riverside, self.wharfside
        agreement = InformationSharingAgreement.objects.create(
            title="Riverside and Wharfside Youth Services Cross-Border Information-Sharing Agreement",
            reference="RW-XB-ISA-2025-01", cross_border=True,
            purpose=(
                "Sharing information about young people at risk of serious violence or exploitation who live, "
                "study or spend time across the border between Riverside and Wharfside."
            ),
            starts_on=self.today - dt.timedelta(days=200), ends_on=None,
        )
        agreement.parties.set([river.agencies["youth"], wharf.agencies["youth"], river.agencies["csc"],
                               wharf.agencies["csc"]])
        youth = river.agencies["youth"]
        open_cases = list(
            Case.objects.filter(partnership=river.partnership, lead_agency=youth, status=CaseStatus.OPEN)
            .order_by("opened_at", "pk")[:2]
        )
        if len(open_cases) < 2:
            return
        shared_case, moving_case = open_cases
        self.borough = river
        manager = self.actor(self.demo_users["manager"])
        sharing.share_case(
            actor=manager, case=shared_case, agency=wharf.agencies["youth"], agreement=agreement,
            purpose="He now attends a Wharfside youth club most evenings: joint safety planning with its workers.",
            lawful_basis="safeguarding_children", consent_sought=True,
            consent_reason="He and his mother agreed when the plan was reviewed.",
            expires_at=self.now + dt.timedelta(days=90),
        )
        visible = list(access.visible_notes(manager, moving_case).order_by("-occurred_at", "-pk")[:2])
        transfers.transfer_propose(
            actor=manager, case=moving_case, to_partnership=wharf.partnership,
            reason="The family moved to a new tenancy in Wharfside at the end of last month.",
            summary=("Known for carrying a knife to school last year; engages well with his mentor. His mother "
                     "asks for the mentoring to carry on near the new home."),
            note_ids=[n.pk for n in visible], new_postcode="SE8 3QT", consent=Consent.PARENT_CARER,
            arrangement=TransferArrangement.JOINT, joint_days=28,
        )
        self.say("Across the border: a cross-border agreement, 1 cross-border share, 1 transfer proposed")

    def moved_young_person(self, before: YoungPerson) -> Referral:
        """The young person whose Riverside case closed when the family moved
        to Wharfside: referred there by the police unit, which serves both, as
        a new record of the same person (the same name and date of birth, a
        new address and school; no pupil number, which the officer does not
        have). Each partnership holds its own record; neither sees the
        other's, and the Wharfside hub's matching looks only at Wharfside's."""
        ward, postcode = self.address()
        born = before.date_of_birth
        age = self.today.year - born.year - ((self.today.month, self.today.day) < (born.month, born.day))
        person = {
            "given_name": before.given_name, "family_name": before.family_name,
            "preferred_name": before.preferred_name, "date_of_birth": born, "gender": before.gender,
            "ethnicity": before.ethnicity, "postcode": postcode, "ward": ward,
        }
        if 11 <= age <= 16:
            person["school"] = self.borough.agencies[self.borough.spec.schools[0]]
        officer = self.demo_users["police"]
        received = self.now - dt.timedelta(hours=self.rng.randint(2, 20))
        referral, _, _ = self.submit(person, None, received, referrer_key="police", referrer=officer)
        return referral

    # -- share endings: one expired, some revoked ---------------------------

    def sharing_endings(self) -> None:
        """One share that has run out and a couple that were revoked, so the
        demo shows each state. Done last, after the shared agencies wrote
        their chronology entries while their access was live."""
        open_case_ids = set(Case.objects.filter(status="open").values_list("pk", flat=True))
        open_grants = [g for g in self.shares_made if g.case_id in open_case_ids]
        police = [g for g in open_grants if g.agency.kind == AgencyKind.POLICE]
        others = [g for g in open_grants if g.agency.kind != AgencyKind.POLICE]
        expiring = (police or others)[0]
        granted = self.now - dt.timedelta(days=95)
        # A share granted three months ago for 90 days: it ran out two days ago.
        ShareGrant.objects.filter(pk=expiring.pk).update(granted_at=granted, expires_at=granted + dt.timedelta(days=93))
        sharing.share_expire(grant_id=expiring.pk)
        for grant in (others[1:3] if len(others) > 2 else others[-1:]):
            case = Case.objects.get(pk=grant.case_id)
            lead_key = next(k for k, a in self.borough.agencies.items() if a.pk == case.lead_agency_id)
            manager = self.borough.people(lead_key, Role.MANAGER)[0]
            sharing.revoke_share(
                actor=self.actor(manager), grant=grant,
                reason="The purpose has been met: the agency's part of the plan is finished, so its access ends.",
            )
        self.say("Sharing: 1 share expired, "
                 f"{ShareGrant.objects.filter(revoked_at__isnull=False).count()} revoked, "
                 f"{access.active_grants().count()} active")
