"""Load a city's partnerships into a PostgreSQL database of their own.

    python -m bench.generate postgres://postgres@127.0.0.1:5432/crossroads_bench_full --size full

``full`` is 1,000,000 cases over 33 partnerships (boroughs) in 200 agencies
with 5,000 people; ``small`` is the same shape at 2,000 cases over three
partnerships (CI). The database is created and migrated if it is missing.
Everything is synthetic (Faker names, invented text).

How it loads: one pass over the cases, in Python, streaming each table's rows
into its own ``COPY ... FROM STDIN`` (psycopg 3 ``cursor.copy``; one
connection per table, so every stream stays open at once and nothing is held
in memory but the agencies and people). It prints progress as it goes: cases
and rows done, the rate and the time left.

The loader connections run with ``session_replication_role = replica``:
PostgreSQL fires no trigger and checks no foreign key for the COPY (the rows
are consistent by construction, and row-by-row triggers would multiply the
load time). What the triggers would have written is then rebuilt, so the
data is what the app itself would have made:

* the young people's match keys, computed while loading by
  ``casework.matching.match_keys`` (the Python mirror of the trigger's SQL,
  tested to agree with it) and COPYed alongside;
* pghistory's "insert" event for every row of each tracked table (one
  ``INSERT ... SELECT`` per table, as the insert trigger would have made);
* django-guardian's direct foreign-key permission rows for each case's lead
  agency and for every active share grant (what ``sync_case_permissions``
  writes);
* the caseload index (``safeguarding.caseload_index.rebuild_case_access_index``).

The append-only triggers guard updates and deletes only; the load does
neither. At the end it records the size, seed and counts in the
``bench_dataset`` table: a second run with the same size finds it and does
nothing; a database holding another size is refused.

The shape: the cases are spread over the partnerships, the first (the
cast's, where every benchmark acts) the biggest, with a tenth of them, the
others log-normally around the rest. Every young person, referral and case
belongs to one partnership, and everything on a case stays inside it: its
lead agency, referrers, shares (with their sharing decisions), chronology
authors and intervention providers all work in the case's partnership. Each
partnership has its hub (which leads 1% of its cases and screens its
referrals) and its own agencies, each working in it alone, and one or two
police units, each serving three or four neighbouring partnerships; each
partnership has its information-sharing agreement (and the one before it).
In the cast's partnership one agency (the "lead") leads about 3.5% of all
the cases, over a third of its partnership's, and, with the shares it
receives, sees about 60,000; a typical big agency there sees about 10,000;
the rest are spread log-normally. About 1.5 share grants per case (three quarters active, the rest expired or revoked,
each with its sharing decision), a referral for every case and some that
led nowhere, a few still waiting for screening, chronology notes,
interventions and reviews in proportion to how long each case has been
open. Open cases' next reviews all fall after the dataset's day (``today``
in the record), so nothing is due until a benchmark makes it so.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import functools
import itertools
import json
import random
import sys
import time
from dataclasses import asdict

from bench.common import (
    MARKER_TABLE,
    SIZES,
    Size,
    database_url_for,
    django_setup,
    ensure_database,
)

# Scrambles ids into references: 30^8 references, a multiplier prime to 30.
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
_REF_SPACE = 30**8
_REF_MULTIPLIER = 2_654_435_761  # prime to 30: neither even nor a multiple of 3 or 5


def reference(prefix: str, pk: int) -> str:
    n = (pk * _REF_MULTIPLIER + 104_729) % _REF_SPACE
    body = ""
    for _ in range(8):
        n, digit = divmod(n, 30)
        body += _ALPHABET[digit]
    return f"{prefix}-{body[:4]}-{body[4:]}"


class Progress:
    """Prints how far the load has gone, at most every two seconds."""

    def __init__(self, total: int, label: str):
        self.total, self.label = total, label
        self.started = self.last = time.monotonic()
        self.rows = 0

    def tick(self, done: int, rows: int) -> None:
        self.rows = rows
        now = time.monotonic()
        if now - self.last < 2 and done < self.total:
            return
        self.last = now
        elapsed = max(now - self.started, 1e-6)
        rate = done / elapsed
        left = (self.total - done) / rate if rate else 0
        print(
            f"  {self.label}: {done:,}/{self.total:,} ({100 * done / self.total:.0f}%), {rows:,} rows, "
            f"{rate:,.0f} {self.label}/s, {rows / elapsed:,.0f} rows/s, {left:,.0f}s left",
            file=sys.stderr, flush=True,
        )


def pg_array(values) -> str:
    return "{" + ",".join(values) + "}"


NOTE_TEXT = [
    "Spoke with {who} by phone; agreed to meet next week at the youth centre.",
    "Home visit. {who} was present; discussed school attendance and the risks of carrying a knife.",
    "Information received from the school: two fixed-term exclusions this term.",
    "Strategy meeting held with police, school and youth service; actions agreed and recorded.",
    "Missing episode reported overnight; returned the next morning, return home interview offered.",
    "Attended the mentoring session and engaged well; talked about the football programme.",
    "Did not attend the planned appointment; left a message with {who}.",
    "Decision: continue the current plan and review in six weeks.",
    "Police intelligence shared under the agreement: seen with older peers linked to a county line.",
    "Sibling also known to the youth offending service; the family support worker is aware.",
]
WHO = ["the young person", "mum", "dad", "the carer", "the head of year", "the social worker", "grandmother"]
PURPOSES = [
    "Joint safeguarding plan for a child at risk of criminal exploitation",
    "Information needed for the multi-agency risk assessment",
    "Delivery of the diversion programme",
    "Education support and attendance follow-up",
]
GOALS = [
    "Reduce time spent with peers involved in violence; attend weekly sessions",
    "Return to full-time education within the term",
    "Build a trusted relationship and a safety plan",
    "Engage in positive activities twice a week",
]
ACCOUNTS = [
    "Seen by officers in the company of older males; a knife was found nearby.",
    "School reports a sudden change in behaviour, new phone and expensive clothes.",
    "Admitted to A&E with a stab wound; reluctant to say how it happened.",
    "Missing from home three times this month; found out of borough.",
    "Parent worried about threats received online and not wanting to go to school.",
]
CONCERNS = [
    "weapon", "gang_association", "criminal_exploitation", "sexual_exploitation", "victim_of_violence",
    "missing_episodes", "exclusion", "substance_misuse", "mental_health", "domestic_abuse", "bereavement",
    "online_harm",
]
RISKS = ["green", "amber", "red"]
INTERVENTION_KINDS = [
    "mentoring", "detached_youth_work", "diversion", "family_support", "education_support",
    "positive_activities", "navigator", "therapeutic", "substance_misuse", "employment_training",
]
KINDS = ["police", "school", "youth_service", "childrens_social_care", "youth_justice", "health", "housing",
         "voluntary"]
CLOSURES = ["outcomes_met", "stepped_down", "escalated", "disengaged", "moved_away"]


class FastRandom(random.Random):
    """``choice`` and ``randint`` without ``_randbelow``'s exactness, which
    costs more than the rest of a row; still reproducible from the seed."""

    def choice(self, seq):
        return seq[int(self.random() * len(seq))]

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))


@functools.cache
def name_pools():
    """The matching benchmark's Faker pools (built once, before the workers fork)."""
    from bench.matching_speed import People

    return People(SIZES["full"].seed)


class YoungPeople:
    """Names, dates of birth and postcodes, skewed like London's: the Faker
    pools of the matching benchmark (a few surnames very common, most rare),
    drawn with precomputed cumulative weights (a million draws)."""

    ETHNICITIES = ["white_british", "black_african", "black_caribbean", "asian_bangladeshi", "asian_pakistani",
                   "mixed_white_black_caribbean", "white_other", "other_any", "not_stated"]

    def __init__(self, seed: int, today: dt.date):
        pools = name_pools()
        self.rng = FastRandom(seed + 1)
        self.given, self.family, self.postcodes = pools.given, pools.family, pools.postcodes
        self.cumulative = list(itertools.accumulate(pools.family_weights))
        self.today = today

    def _family(self) -> str:
        return self.rng.choices(self.family, cum_weights=self.cumulative)[0]

    def next(self) -> tuple:
        rng = self.rng
        gender = rng.choice(["male", "female"])
        family = self._family()
        if rng.random() < 0.05:
            family = f"{family}-{self._family()}"
        born = self.today - dt.timedelta(days=rng.randint(10 * 365, 24 * 365))
        postcode = rng.choice(self.postcodes) if rng.random() < 0.9 else ""
        return rng.choice(self.given[gender]), family, born, gender, rng.choice(self.ETHNICITIES), postcode


class Tables:
    """The COPY streams: one connection and one open COPY per table."""

    COLUMNS = {
        "agencies_partnership": ("id", "name", "slug", "is_active", "created_at"),
        "agencies_agency_partnerships": ("agency_id", "partnership_id"),
        "auth_group": ("id", "name"),
        "agencies_agency": ("id", "name", "slug", "kind", "group_id", "email", "is_active", "created_at"),
        "auth_user": ("id", "password", "is_superuser", "username", "first_name", "last_name", "email", "is_staff",
                      "is_active", "date_joined"),
        "auth_user_groups": ("user_id", "group_id"),
        "agencies_membership": ("user_id", "agency_id", "role", "job_title", "is_active", "created_at"),
        "agencies_informationsharingagreement": ("id", "title", "reference", "purpose", "starts_on", "ends_on",
                                                 "created_at"),
        "agencies_informationsharingagreement_parties": ("informationsharingagreement_id", "agency_id"),
        "referrals_youngperson": ("id", "partnership_id", "given_name", "family_name", "preferred_name",
                                  "date_of_birth", "gender", "ethnicity", "postcode", "ward", "unique_pupil_number",
                                  "nhs_number", "police_reference", "recorded_by_id", "created_at", "updated_at"),
        "referrals_youngpersonmatchkey": ("key", "young_person_id"),
        "referrals_case": ("id", "reference", "partnership_id", "young_person_id", "lead_agency_id", "key_worker_id",
                           "status", "opened_at", "closed_at", "closed_by_id", "risk_level", "review_interval_days",
                           "next_review_due", "closure_reason", "outcome", "updated_at"),
        "referrals_referral": ("id", "reference", "partnership_id", "young_person_id", "referring_agency_id",
                               "referred_by_id", "partner_reference", "received_at", "concerns", "concerns_other",
                               "risk_level", "account", "consent", "lawful_basis", "consent_reason", "status",
                               "decision_due_at", "screener_id", "decided_at", "decided_by_id", "decision_reason",
                               "signposted_to", "case_id", "updated_at"),
        "referrals_casenote": ("case_id", "occurred_at", "kind", "author_id", "agency_id", "text", "visibility",
                               "recorded_at"),
        "referrals_intervention": ("case_id", "provider_agency_id", "kind", "status", "planned_start", "started_on",
                                   "ended_on", "goals", "sessions_offered", "sessions_attended", "outcome",
                                   "recorded_by_id", "created_at", "updated_at"),
        "referrals_review": ("case_id", "due_on", "completed_at", "completed_by_id", "risk_after", "summary",
                             "decision", "next_review_due"),
        "safeguarding_sharegrant": ("id", "case_id", "agency_id", "purpose", "lawful_basis",
                                    "special_category_condition", "agreement_id", "emergency_basis", "granted_by_id",
                                    "granted_at", "expires_at", "revoked_at", "revoked_by_id", "revoke_reason",
                                    "permissions_removed_at"),
        "safeguarding_sharingdecision": ("case_id", "recipient_id", "outcome", "purpose", "lawful_basis",
                                         "special_category_condition", "agreement_id", "emergency_basis",
                                         "consent_sought", "consent_reason", "reason", "decided_by_id", "decided_at",
                                         "grant_id"),
    }

    def __init__(self, url: str, names: list[str]):
        import psycopg

        self.rows = 0
        self._conns, self._copies, self._contexts = {}, {}, []
        for name in names:
            conn = psycopg.connect(url)
            conn.execute("SET session_replication_role = replica")
            conn.execute("SET synchronous_commit = off")
            context = conn.cursor().copy(f"COPY {name} ({', '.join(self.COLUMNS[name])}) FROM STDIN")
            self._conns[name] = conn
            self._copies[name] = context.__enter__()
            self._contexts.append(context)

    def write(self, name: str, row) -> None:
        self._copies[name].write_row(row)
        self.rows += 1

    def close(self) -> None:
        for context in self._contexts:
            context.__exit__(None, None, None)
        for conn in self._conns.values():
            conn.commit()
            conn.close()


# The kinds of agency that work in one partnership (police units serve several).
LOCAL_KINDS = [kind for kind in KINDS if kind != "police"]


class City:
    """The partnerships, their agencies, people and agreements, decided up
    front from the seed (so every worker makes the same ones).

    Agency indices: 0 is the hub of the cast's partnership (partnership 0),
    1 its lead agency and 2 its typical big one; then the other
    partnerships' hubs, the police units (each serving three or four
    neighbouring partnerships, so each partnership has one or two) and the
    other agencies, each in one partnership: at least a few in each, the
    rest in proportion to the partnerships' sizes."""

    def __init__(self, size: Size, rng: random.Random, today: dt.date, ids: dict[str, int]):
        self.size, self.rng, self.today = size, rng, today
        count = max(1, size.partnerships)
        self.partnership_ids = [ids["agencies_partnership"] + k for k in range(count)]
        # How many of the cases each partnership holds: the cast's the most.
        if count == 1:
            self.shares = [1.0]
        else:
            others = [rng.lognormvariate(0, 0.35) for _ in range(count - 1)]
            scale = (1 - size.cast_partnership_share) / sum(others)
            self.shares = [size.cast_partnership_share, *[w * scale for w in others]]
        self.partnership_cumulative = list(itertools.accumulate(self.shares))

        kinds = ["hub", "childrens_social_care", "youth_justice"]
        homes: list[list[int]] = [[0], [0], [0]]
        self.hubs = [0]
        for k in range(1, count):
            self.hubs.append(len(kinds))
            kinds.append("hub")
            homes.append([k])
        self.police_units = []
        for j in range(-(-count // 3) if count >= 3 else 1):
            span = min(count, 3 + j % 2)
            self.police_units.append(len(kinds))
            kinds.append("police")
            homes.append(sorted({(3 * j + i) % count for i in range(span)}))
        rest = size.agencies - len(kinds)
        if rest < count:
            raise ValueError(f"{size.agencies} agencies are too few for {count} partnerships")
        at_least = max(1, min(4, rest // count))
        placed = [at_least] * count
        for _ in range(rest - at_least * count):
            k = max(range(count), key=lambda k: self.shares[k] * rest - placed[k])
            placed[k] += 1
        for k, n in enumerate(placed):
            for _ in range(n):
                kinds.append(LOCAL_KINDS[len(kinds) % len(LOCAL_KINDS)])
                homes.append([k])
        self.kinds, self.homes = kinds, homes
        n = len(kinds)
        self.agency_ids = [ids["agencies_agency"] + i for i in range(n)]
        self.group_ids = [ids["auth_group"] + i for i in range(n)]

        # Who works in each partnership, and how much of its work each does
        # (leading cases, referring, receiving shares): the hub ``hub_share``,
        # in the cast's partnership the lead and big agencies their shares of
        # all cases, the others (police units among them) log-normally.
        self.members: list[list[int]] = [[] for _ in range(count)]
        for index, home in enumerate(homes):
            for k in home:
                self.members[k].append(index)
        self.cumulative: list[list[float]] = []
        overall = [0.0] * n
        for k, members in enumerate(self.members):
            fixed = {self.hubs[k]: size.hub_share}
            if k == 0:
                fixed[1] = size.lead_share / self.shares[0]
                fixed[2] = size.big_share / self.shares[0]
            free = [i for i in members if i not in fixed]
            draws = [rng.lognormvariate(0, 0.7) * (1.5 if kinds[i] == "police" else 1.0) for i in free]
            left = 1 - sum(fixed.values())
            if left <= 0 or not free:
                raise ValueError("the cast's agencies take all of their partnership's cases")
            weight = {**fixed, **{i: d * left / sum(draws) for i, d in zip(free, draws)}}
            self.cumulative.append(list(itertools.accumulate(weight[i] for i in members)))
            for i in members:
                overall[i] += self.shares[k] * weight[i]
        self.overall = overall

        # People: in proportion to the agency's share of all the work, at
        # least five each; every hub has its screeners.
        per_agency = [max(5, round(w * size.users)) for w in overall]
        self.people: list[dict[str, list[int]]] = []
        next_user = ids["auth_user"]
        self.users: list[tuple[int, int, str]] = []  # (user id, agency index, role)
        for index, people in enumerate(per_agency):
            roles = ["manager", "agency_admin", "dpo", "practitioner"]
            if kinds[index] == "hub":
                roles += ["hub_screener"] * max(2, people // 5)
            while len(roles) < people:
                roles.append(rng.choices(["practitioner", "manager"], weights=[85, 15])[0])
            by_role: dict[str, list[int]] = {}
            for role in roles:
                by_role.setdefault(role, []).append(next_user)
                self.users.append((next_user, index, role))
                next_user += 1
            self.people.append(by_role)

    def partnership_name(self, k: int) -> str:
        return f"Bench Partnership {k + 1:02d}"

    def agency_name(self, index: int) -> str:
        if index < 3:
            return ["Bench Hub", "Bench Lead Agency", "Bench Big Agency"][index]
        kind = self.kinds[index]
        if kind == "hub":
            return f"Bench Hub {self.homes[index][0] + 1:02d}"
        if kind == "police":
            return f"Bench Police Unit {self.police_units.index(index) + 1:02d}"
        return f"Bench {kind.replace('_', ' ').title()} {index:03d}"

    def partnership(self) -> int:
        """A partnership for a new case, in proportion to their sizes."""
        k = bisect.bisect_left(self.partnership_cumulative, self.rng.random() * self.partnership_cumulative[-1])
        return min(k, len(self.shares) - 1)

    def agency(self, k: int, *, not_in: set[int] = frozenset()) -> int:
        """An agency working in partnership ``k``, by how much of its work it does."""
        members, cumulative = self.members[k], self.cumulative[k]
        while True:
            index = bisect.bisect_left(cumulative, self.rng.random() * cumulative[-1])
            index = members[min(index, len(members) - 1)]
            if index not in not_in:
                return index

    def worker(self, index: int) -> int:
        return self.rng.choice(self.people[index]["practitioner"])

    def manager(self, index: int) -> int:
        return self.rng.choice(self.people[index]["manager"])


def _start_ids(url: str) -> dict[str, int]:
    import psycopg

    ids = {}
    with psycopg.connect(url) as conn:
        for table in ("agencies_partnership", "auth_group", "agencies_agency", "auth_user",
                      "agencies_informationsharingagreement", "referrals_youngperson", "referrals_case",
                      "referrals_referral", "safeguarding_sharegrant"):
            ids[table] = conn.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()[0]
    return ids


CASE_TABLES = ["referrals_youngperson", "referrals_youngpersonmatchkey", "referrals_case", "referrals_referral",
               "referrals_casenote", "referrals_intervention", "referrals_review", "safeguarding_sharegrant",
               "safeguarding_sharingdecision"]
# Id blocks per case for each worker's rows (a case has at most two young
# people, four referrals and four share grants): workers never collide.
PER_CASE_IDS = 4


def load(url: str, size: Size, jobs: int = 2) -> dict:
    """Stream the whole dataset in (the cases in ``jobs`` processes, each with
    its own slice of ids and its own COPY streams); return the counts."""
    import multiprocessing

    clock = dt.datetime.now(dt.timezone.utc)
    today = clock.date()
    # The dataset's "now": six in the morning of its day, or the clock if
    # that is still to come. Never ahead of the clock: a share the dataset
    # made expire before its "now" must have expired by the database's
    # now() too (a dataset loaded at half past midnight had shares it
    # counted as ended, with no permission rows, that were live until 6).
    now = min(dt.datetime.combine(today, dt.time(6, 0), dt.timezone.utc), clock)
    ids = _start_ids(url)
    started = time.monotonic()
    city = load_city(url, size, ids, today, now)
    name_pools()
    jobs = max(1, min(jobs, size.cases // 1000 or 1))
    if jobs == 1:
        parts = [load_cases(url, size, ids, today, now, 0, 1)]
    else:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            parts = pool.starmap(load_cases, [(url, size, ids, today, now, k, jobs) for k in range(jobs)])
    counts = {name: sum(part[name] for part in parts) for name in CASE_TABLES}
    counts["rows"] = sum(counts.values()) + city.rows
    counts["load_seconds"] = round(time.monotonic() - started, 1)
    return {
        "counts": counts, "today": today.isoformat(), "now": now.isoformat(), "jobs": jobs,
        "partnerships": {
            "count": len(city.partnership_ids), "agencies": len(city.agency_ids),
            "police_units": {city.agency_ids[i]: [city.partnership_ids[k] for k in city.homes[i]]
                             for i in city.police_units},
            "agencies_per_partnership": [len(members) for members in city.members],
        },
        "cast": {
            "hub_agency_id": city.agency_ids[0], "lead_agency_id": city.agency_ids[1],
            "big_agency_id": city.agency_ids[2], "partnership_id": city.partnership_ids[0],
            "practitioner": f"bench-u{city.people[2]['practitioner'][0]:05d}",
            "manager": f"bench-u{city.people[1]['manager'][0]:05d}",
            "screener": f"bench-u{city.people[0]['hub_screener'][0]:05d}",
        },
    }


def load_city(url: str, size: Size, ids: dict, today: dt.date, now: dt.datetime) -> City:
    """The partnerships, groups, agencies (and which partnerships each works
    in), people, memberships and agreements."""
    city = City(size, FastRandom(size.seed), today, ids)
    tables = Tables(url, ["agencies_partnership", "auth_group", "agencies_agency", "agencies_agency_partnerships",
                          "auth_user", "auth_user_groups", "agencies_membership",
                          "agencies_informationsharingagreement", "agencies_informationsharingagreement_parties"])
    for k, partnership_id in enumerate(city.partnership_ids):
        name = city.partnership_name(k)
        tables.write("agencies_partnership", (partnership_id, name, f"bench-p{k + 1:02d}", True, now))
    for i, agency_id in enumerate(city.agency_ids):
        name = city.agency_name(i)
        slug = name.lower().replace(" ", "-")
        tables.write("auth_group", (city.group_ids[i], f"agency:{slug}"))
        tables.write("agencies_agency", (agency_id, name, slug, city.kinds[i], city.group_ids[i],
                                         f"team@{slug}.bench.invalid", True, now))
        for k in city.homes[i]:
            tables.write("agencies_agency_partnerships", (agency_id, city.partnership_ids[k]))
    for user_id, index, role in city.users:
        username = f"bench-u{user_id:05d}"
        tables.write("auth_user", (user_id, "!bench-unusable", False, username, "Bench", f"User {user_id}",
                                   f"{username}@bench.invalid", False, True, now))
        tables.write("auth_user_groups", (user_id, city.group_ids[index]))
        tables.write("agencies_membership", (user_id, city.agency_ids[index], role, role.replace("_", " "), True,
                                             now))
    # Each partnership's agreement, between its agencies, and the one before it.
    for k, members in enumerate(city.members):
        for offset, (title, starts, ends) in enumerate([
            ("information-sharing agreement", today - dt.timedelta(days=1500), None),
            ("previous agreement", today - dt.timedelta(days=3000), today - dt.timedelta(days=1501)),
        ]):
            agreement = agreement_id(ids, k, offset)
            tables.write("agencies_informationsharingagreement", (
                agreement, f"{city.partnership_name(k)} {title}", f"ISA-BENCH-{k + 1:02d}-{offset + 1}",
                "Safeguarding children at risk of violence", starts, ends, now))
            for index in members:
                tables.write("agencies_informationsharingagreement_parties", (agreement, city.agency_ids[index]))
    tables.close()
    city.rows = tables.rows
    return city


def agreement_id(ids: dict, partnership: int, offset: int = 0) -> int:
    """The id of a partnership's agreement in force (offset 0) or its previous one (1)."""
    return ids["agencies_informationsharingagreement"] + 2 * partnership + offset


def load_cases(url: str, size: Size, ids: dict, today: dt.date, now: dt.datetime, worker: int, jobs: int) -> dict:
    """One worker's slice of the cases and everything on them; returns its row counts."""
    from casework.matching import match_keys

    p = City(size, FastRandom(size.seed), today, ids)
    rng = p.rng = FastRandom(size.seed * 100 + worker + 1)
    first, last = size.cases * worker // jobs, size.cases * (worker + 1) // jobs
    people = YoungPeople(size.seed + worker, today)
    tables = Tables(url, CASE_TABLES)
    progress = Progress(last - first, f"cases[{worker + 1}/{jobs}]")
    counts = dict.fromkeys(CASE_TABLES, 0)
    case_id = ids["referrals_case"] + first
    young_person_id = ids["referrals_youngperson"] + PER_CASE_IDS * first
    referral_id = ids["referrals_referral"] + PER_CASE_IDS * first
    grant_id = ids["safeguarding_sharegrant"] + PER_CASE_IDS * first
    hub_screeners = [p.people[hub]["hub_screener"] for hub in p.hubs]
    open_referrals_wanted = max(20, size.cases // 500)

    def write(name, row):
        tables.write(name, row)
        counts[name] += 1

    def young_person(lead: int) -> int:
        nonlocal young_person_id
        given, family, born, gender, ethnicity, postcode = people.next()
        upn = f"B{young_person_id:012d}" if rng.random() < 0.4 else ""
        nhs = f"{9_000_000_000 + young_person_id}" if rng.random() < 0.3 else ""
        write("referrals_youngperson", (
            young_person_id, partnership_id, given, family, "", born, gender, ethnicity, postcode, "", upn, nhs, "",
            p.agency_ids[lead], now, now))
        for key in match_keys(given, family, "", born, postcode):
            write("referrals_youngpersonmatchkey", (key, young_person_id))
        young_person_id += 1
        return young_person_id - 1

    def referral(person: int, referrer: int, received: dt.datetime, status: str, case: int | None,
                 decided: dt.datetime | None) -> None:
        nonlocal referral_id
        consent = rng.choices(["young_person", "parent_carer", "not_sought"], weights=[40, 45, 15])[0]
        basis, reason = ("safeguarding_children", "Seeking consent would place the child at risk") \
            if consent == "not_sought" else ("", "")
        screener = rng.choice(hub_screeners[part]) if status != "submitted" else None
        write("referrals_referral", (
            referral_id, reference("R", referral_id), partnership_id, person, p.agency_ids[referrer],
            p.worker(referrer), "",
            received, pg_array(rng.sample(CONCERNS, rng.randint(1, 3))), "", rng.choice(RISKS),
            rng.choice(ACCOUNTS), consent, basis, reason, status, received + dt.timedelta(days=1),
            screener, decided if decided else None, screener if decided else None,
            "" if status in ("accepted", "submitted", "screening") else "Needs are met by universal services",
            "Local youth club" if status == "signposted" else "", case, decided or received))
        referral_id += 1

    for n in range(first, last):
        # The case's partnership: everyone on it works there.
        part = p.partnership()
        partnership_id = p.partnership_ids[part]
        agreement = agreement_id(ids, part)
        hub = p.hubs[part]
        lead = p.agency(part, not_in={hub}) if rng.random() > size.hub_share else hub
        is_open = rng.random() < 0.32
        if is_open:
            opened = now - dt.timedelta(days=rng.randint(1, 720), minutes=rng.randint(0, 1440))
            closed = None
        else:
            opened = now - dt.timedelta(days=rng.randint(60, 1825), minutes=rng.randint(0, 1440))
            closed = min(now - dt.timedelta(days=1), opened + dt.timedelta(days=rng.randint(30, 700)))
        ended = closed or now
        person = young_person(lead)
        key_worker = p.worker(lead)
        risk = rng.choices(RISKS, weights=[45, 40, 15])[0]
        # The next review: after today for every open case (nothing is due
        # until a benchmark makes it so).
        next_review = today + dt.timedelta(days=rng.randint(8, 42)) if is_open else None
        write("referrals_case", (
            case_id, reference("C", case_id), partnership_id, person, p.agency_ids[lead], key_worker,
            "open" if is_open else "closed", opened, closed if closed else None,
            p.manager(lead) if closed else None, risk, 42, next_review,
            rng.choice(CLOSURES) if closed else "", "Plan completed" if closed else "", closed or opened))
        referrer = p.agency(part)
        referral(person, referrer, opened - dt.timedelta(days=rng.randint(1, 5)), "accepted", case_id, opened)
        if rng.random() < 0.1:  # a later referral that joined the open case
            later = opened + (ended - opened) / 2
            referral(person, p.agency(part), later - dt.timedelta(hours=6), "accepted", case_id, later)
        if rng.random() < 0.3:  # one that led nowhere
            status = rng.choice(["signposted", "no_further_action", "withdrawn"])
            earlier = opened - dt.timedelta(days=rng.randint(30, 400))
            referral(person, p.agency(part), earlier, status, None, earlier + dt.timedelta(hours=20))
        if n < open_referrals_wanted:  # waiting for the hub, due after today
            received = now - dt.timedelta(hours=rng.randint(1, 12))
            referral(young_person(lead), p.agency(part), received, rng.choice(["submitted", "screening"]), None,
                     None)

        # Shares: about 1.5 per case, three quarters active; only to agencies
        # working in the case's partnership.
        sharers = []
        wanted = rng.choices([0, 1, 2, 3, 4], weights=[18, 33, 30, 12, 7])[0]
        for _ in range(min(wanted, len(p.members[part]) - 1)):
            agency = p.agency(part, not_in={lead, *sharers})
            sharers.append(agency)
            granted = opened + dt.timedelta(days=rng.randint(0, 20))
            granted = min(granted, now - dt.timedelta(hours=1))
            state = rng.choices(["active", "expired", "revoked"], weights=[75, 15, 10])[0]
            if state == "expired":
                expires = granted + (now - granted) * rng.uniform(0.1, 0.9)
            else:
                expires = now + dt.timedelta(days=rng.randint(14, 730))
            revoked = granted + (now - granted) / 2 if state == "revoked" else None
            emergency = rng.random() < 0.03
            by = p.manager(lead)
            purpose = rng.choice(PURPOSES)
            write("safeguarding_sharegrant", (
                grant_id, case_id, p.agency_ids[agency], purpose, "safeguarding_children", "safeguarding",
                None if emergency else agreement, "Immediate risk of serious harm" if emergency else "", by,
                granted, expires, revoked if revoked else None, by if revoked else None,
                "No longer needed" if revoked else "", revoked or expires if state != "active" else None))
            write("safeguarding_sharingdecision", (
                case_id, p.agency_ids[agency], "shared", purpose, "safeguarding_children", "safeguarding",
                None if emergency else agreement, "Immediate risk of serious harm" if emergency else "", False,
                "Seeking consent would increase the risk", "Needed for the joint plan", by, granted, grant_id))
            grant_id += 1
        if rng.random() < 0.05:
            write("safeguarding_sharingdecision", (
                case_id, p.agency_ids[p.agency(part, not_in={lead})], "not_shared", rng.choice(PURPOSES), "", "",
                None, "",
                True, "The young person asked us not to", "Not necessary for this agency's role",
                p.manager(lead), opened, None))

        # The chronology: a handful of entries over the life of the case.
        span = max((ended - opened).total_seconds(), 3600)
        for _ in range(rng.randint(1, 5)):
            author_agency = rng.choice([lead, lead, *sharers])
            occurred = opened + dt.timedelta(seconds=rng.random() * span)
            write("referrals_casenote", (
                case_id, occurred, rng.choice(["contact", "incident", "meeting", "information", "decision"]),
                p.worker(author_agency), p.agency_ids[author_agency],
                rng.choice(NOTE_TEXT).format(who=rng.choice(WHO)),
                "agency" if rng.random() < 0.1 else "case", occurred + dt.timedelta(minutes=rng.randint(1, 600))))
        for _ in range(rng.choices([0, 1, 2, 3], weights=[20, 45, 25, 10])[0]):
            provider = rng.choice([lead, *sharers])
            start = (opened + dt.timedelta(days=rng.randint(0, 20))).date()
            if closed:
                status, end = rng.choice(["completed", "ended_early"]), closed.date()
            else:
                status, end = rng.choice(["planned", "active"]), None
            offered = rng.randint(0, 24)
            write("referrals_intervention", (
                case_id, p.agency_ids[provider], rng.choice(INTERVENTION_KINDS), status, start,
                None if status == "planned" else start, end,
                rng.choice(GOALS), offered, rng.randint(0, offered), "Engaged well" if end else "",
                p.worker(provider), opened, closed or opened))
        # Reviews every six weeks while open (the latest three); the pending one
        # of an open case.
        reviews = min(int((ended - opened).days // 42), 3)
        for k in range(1, reviews + 1):
            due = (opened + dt.timedelta(days=42 * k)).date()
            last = closed is not None and k == reviews
            write("referrals_review", (
                case_id, due, dt.datetime.combine(due, dt.time(11), dt.timezone.utc), key_worker,
                rng.choice(RISKS), "Reviewed with the young person and the family",
                "close" if last else "continue", None if last else due + dt.timedelta(days=42)))
        if is_open:
            write("referrals_review", (case_id, next_review, None, None, "", "", "", None))
        case_id += 1
        progress.tick(n + 1 - first, tables.rows)
    tables.close()
    return counts


TRACKED = {  # table -> its pghistory event table
    "referrals_youngperson": "referrals_youngpersonevent",
    "referrals_case": "referrals_caseevent",
    "referrals_referral": "referrals_referralevent",
    "referrals_intervention": "referrals_interventionevent",
    "referrals_review": "referrals_reviewevent",
    "safeguarding_sharegrant": "safeguarding_sharegrantevent",
}


def rebuild_derived(url: str, at: dt.datetime) -> dict:
    """Write what the disabled triggers and the services would have written."""
    import psycopg

    done = {}
    with psycopg.connect(url) as conn:
        # Derived from rows consistent by construction: no deferred foreign-key
        # checks at commit (minutes for millions of permission rows).
        conn.execute("SET session_replication_role = replica")
        conn.execute("SET synchronous_commit = off")
        for table in ("agencies_partnership", "agencies_agency_partnerships", "auth_group", "agencies_agency",
                      "auth_user", "agencies_membership",
                      "agencies_informationsharingagreement", "referrals_youngperson", "referrals_case",
                      "referrals_referral", "referrals_casenote", "referrals_intervention", "referrals_review",
                      "safeguarding_sharegrant", "safeguarding_sharingdecision"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        # Each partnership's standard concern vocabulary, as the insert trigger
        # on partnerships gives it (partnerships/migrations/0002).
        conn.execute("SELECT partnerships_standard_vocabulary(id) FROM agencies_partnership")
        for table, events in TRACKED.items():
            started = time.monotonic()
            columns = [
                name for (name,) in conn.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                    "AND column_name NOT LIKE 'pgh\\_%%' ORDER BY ordinal_position", [events])
            ]
            listed = ", ".join(f'"{c}"' for c in columns)
            cursor = conn.execute(
                f"INSERT INTO {events} ({listed}, pgh_created_at, pgh_label, pgh_obj_id) "
                f"SELECT {listed}, now(), 'insert', id FROM {table} t "
                f"WHERE NOT EXISTS (SELECT 1 FROM {events} e WHERE e.pgh_obj_id = t.id AND e.pgh_label = 'insert')"
            )
            done[events] = cursor.rowcount
            conn.commit()
            print(f"  history: {cursor.rowcount:,} insert events in {events} "
                  f"({time.monotonic() - started:.0f}s)", file=sys.stderr, flush=True)
        # django-guardian's direct-FK rows, as sync_case_permissions writes them.
        started = time.monotonic()
        perms = dict(conn.execute(
            "SELECT codename, p.id FROM auth_permission p JOIN django_content_type t ON t.id = p.content_type_id "
            "WHERE t.app_label = 'referrals' AND t.model = 'case'").fetchall())
        lead = [perms["view_case"], perms["contribute_case"], perms["manage_case"]]
        shared = [perms["view_case"], perms["contribute_case"]]
        cursor = conn.execute(
            "INSERT INTO safeguarding_casegroupobjectpermission (content_object_id, group_id, permission_id) "
            "SELECT c.id, a.group_id, p FROM referrals_case c JOIN agencies_agency a ON a.id = c.lead_agency_id, "
            "unnest(%s::int[]) p ON CONFLICT DO NOTHING", [lead])
        lead_rows = cursor.rowcount
        cursor = conn.execute(
            "INSERT INTO safeguarding_casegroupobjectpermission (content_object_id, group_id, permission_id) "
            "SELECT DISTINCT g.case_id, a.group_id, p FROM safeguarding_sharegrant g "
            "JOIN agencies_agency a ON a.id = g.agency_id, unnest(%s::int[]) p "
            "WHERE g.revoked_at IS NULL AND g.expires_at > %s ON CONFLICT DO NOTHING", [shared, at])
        done["guardian_rows"] = lead_rows + cursor.rowcount
        conn.commit()
        print(f"  guardian: {done['guardian_rows']:,} permission rows ({time.monotonic() - started:.0f}s)",
              file=sys.stderr, flush=True)
    return done


def rebuild_access_index() -> int | None:
    try:
        from safeguarding.caseload_index import rebuild_case_access_index
    except ImportError:
        print("  no caseload index in this version (safeguarding.caseload_index): skipped", file=sys.stderr)
        return None
    from django.db import connection

    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")  # as above: no deferred checks
    try:
        rows = rebuild_case_access_index()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = DEFAULT")
    print(f"  caseload index: {rows:,} rows ({time.monotonic() - started:.0f}s)", file=sys.stderr, flush=True)
    return rows


def marker(size: Size) -> dict | None:
    """The recorded dataset, or None; refuses a database holding another size."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {MARKER_TABLE} (size text PRIMARY KEY, seed bigint NOT NULL, "
                       "spec jsonb NOT NULL, cast_json jsonb NOT NULL, finished_at timestamptz NOT NULL)")
        cursor.execute(f"SELECT size, seed, spec FROM {MARKER_TABLE}")
        rows = cursor.fetchall()
        if not rows:
            cursor.execute("SELECT EXISTS (SELECT 1 FROM referrals_case)")
            if cursor.fetchone()[0]:
                raise SystemExit("This database holds cases but no bench record: use a database of its own")
            return None
    (found, seed, spec), = rows
    if found != size.name or seed != size.seed:
        raise SystemExit(f"This database holds the {found!r} bench data (seed {seed}); use another database")
    spec = json.loads(spec) if isinstance(spec, str) else spec
    if "partnerships" not in spec:
        raise SystemExit(f"This database holds {found!r} bench data generated before partnerships (all of it in "
                         "one); drop the database and generate again")
    return spec


def generate(url: str, size: Size, jobs: int = 2) -> dict:
    """Create, migrate and fill the database unless it already holds this
    size; return the recorded spec."""
    from django.core.management import call_command
    from django.db import connection

    ensure_database(url)
    call_command("migrate", verbosity=0)
    found = marker(size)
    if found is not None:
        print(f"{size.name}: already generated ({found['counts']['rows']:,} rows); nothing to do", file=sys.stderr)
        return found
    print(f"{size.name}: loading {size.cases:,} cases over {size.partnerships} partnerships, {size.agencies} "
          f"agencies, {size.users:,} people", file=sys.stderr, flush=True)
    started = time.monotonic()
    connection.close()
    spec = load(url, size, jobs)
    at = dt.datetime.fromisoformat(spec["now"])
    spec["derived"] = rebuild_derived(url, at)
    spec["derived"]["case_access_rows"] = rebuild_access_index()
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        visible = {}
        for role in ("lead_agency_id", "big_agency_id", "hub_agency_id"):
            visible[role] = conn.execute(
                "SELECT count(DISTINCT id) FROM referrals_case c WHERE c.lead_agency_id = %(a)s OR EXISTS ("
                "SELECT 1 FROM safeguarding_sharegrant g WHERE g.case_id = c.id AND g.agency_id = %(a)s "
                "AND g.revoked_at IS NULL AND g.expires_at > now())", {"a": spec["cast"][role]}).fetchone()[0]
        # How the cases came out over the partnerships.
        held = [n for (n,) in conn.execute(
            "SELECT count(*) FROM referrals_case GROUP BY partnership_id ORDER BY 1 DESC").fetchall()]
        spec["partnerships"]["cases"] = {
            "cast": conn.execute("SELECT count(*) FROM referrals_case WHERE partnership_id = %s",
                                 [spec["cast"]["partnership_id"]]).fetchone()[0],
            "largest": held[0], "median": held[len(held) // 2], "smallest": held[-1],
        }
    spec["cast"]["visible"] = visible
    spec["size"] = asdict(size)
    spec["seconds"] = round(time.monotonic() - started, 1)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {MARKER_TABLE} (size, seed, spec, cast_json, finished_at) VALUES (%s, %s, %s, %s, now())",
            [size.name, size.seed, json.dumps(spec), json.dumps(spec["cast"])],
        )
    print(f"{size.name}: {spec['counts']['rows']:,} rows in {spec['seconds']:.0f}s; visible cases {visible}",
          file=sys.stderr, flush=True)
    return spec


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Load the city-scale benchmark dataset")
    parser.add_argument("database_url", nargs="?", help="default: crossroads_bench_<size> on DATABASE_URL's server")
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--jobs", type=int, default=2, help="processes generating cases (default 2)")
    args = parser.parse_args(argv)
    size = SIZES[args.size]
    url = args.database_url or database_url_for(size)
    ensure_database(url)
    django_setup(url)
    generate(url, size, args.jobs)


if __name__ == "__main__":
    main()
