"""How fast is the young-person candidate search at borough-to-city scale?

    python -m bench.matching_speed postgres://postgres@127.0.0.1:5432/crossroads_matchbench \\
        --people 1000000 --queries 500

Creates the database if it is missing, migrates it, streams N synthetic
young people into it with COPY (psycopg 3 ``cursor.copy``, row by row, never
holding them in memory), then their match keys the same way, then times searches for people in it typed with the usual
slips. It reports the median and 95th percentile of

* ``find_candidates``: the candidate search itself (blocking keys, fetching
  the rows, scoring them), and
* ``young_person_candidates``: the same as a hub screener calls it, with the
  privacy rule and the access-log row.

All of them are one partnership's (a borough as big as a city: the worst
case for its hub's searches), which the bench hub and police work in.

Run it against a database of its own: it adds rows, and never deletes any.
A second run reuses the people already loaded.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from urllib.parse import urlsplit, urlunsplit

SEED = 1_000_003


def ensure_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def the_cast():
    """The bench's hub, its screener and a recording agency, and the
    partnership they work in (made once; a database loaded before
    partnerships keeps the one its migration put everything in)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from agencies.models import Agency, AgencyKind, Membership, Partnership, Role
    from safeguarding import access

    def agency(slug, name, kind):
        found = Agency.objects.filter(slug=slug).first()
        if found is None:
            found = Agency.objects.create(
                slug=slug, name=name, kind=kind, group=Group.objects.get_or_create(name=f"agency:{slug}")[0],
            )
        return found

    hub = agency("bench-hub", "Bench Hub", AgencyKind.HUB)
    police = agency("bench-police", "Bench Police", AgencyKind.POLICE)
    partnership = hub.partnerships.order_by("pk").first()
    if partnership is None:
        partnership, _ = Partnership.objects.get_or_create(slug="bench-borough", defaults={"name": "Bench borough"})
    for one in (hub, police):
        one.partnerships.add(partnership)
    user, _ = get_user_model().objects.get_or_create(username="bench-screener")
    Membership.objects.get_or_create(user=user, agency=hub, role=Role.HUB_SCREENER)
    return police, partnership, access.actor_for_user(user, partnership=partnership)


class People:
    """A skewed, London-like population: a few surnames very common, most rare."""

    def __init__(self, seed: int = SEED):
        from faker import Faker

        from bench.matching_eval import (
            LONDON_FAMILY,
            LONDON_GIVEN,
            NICKNAME_PAIRS,
            TRANSLITERATION_PAIRS,
        )

        self.rng = random.Random(seed)
        fake = Faker("en_GB")
        fake.seed_instance(seed)
        self.given = {
            "male": sorted({fake.first_name_male() for _ in range(3000)} | set(LONDON_GIVEN["male"])
                           | {a for a, _ in NICKNAME_PAIRS["male"] + TRANSLITERATION_PAIRS["male"]}),
            "female": sorted({fake.first_name_female() for _ in range(3000)} | set(LONDON_GIVEN["female"])
                             | {a for a, _ in NICKNAME_PAIRS["female"] + TRANSLITERATION_PAIRS["female"]}),
        }
        family = sorted({fake.last_name() for _ in range(20000)} | set(LONDON_FAMILY))
        self.rng.shuffle(family)
        self.family = family
        # Zipf-like: the k-th surname is about 1/k as common as the first.
        self.family_weights = [1 / (k + 1) ** 0.9 for k in range(len(family))]
        self.postcodes = sorted({fake.postcode() for _ in range(30000)})
        self.today = dt.date(2026, 11, 25)

    def row(self, agency_id: int, now: dt.datetime):
        rng = self.rng
        gender = rng.choice(["male", "female"])
        given = rng.choice(self.given[gender])
        family = rng.choices(self.family, weights=self.family_weights)[0]
        if rng.random() < 0.05:
            family = f"{family}-{rng.choices(self.family, weights=self.family_weights)[0]}"
        born = self.today - dt.timedelta(days=rng.randint(8 * 365, 25 * 365))
        postcode = rng.choice(self.postcodes) if rng.random() < 0.9 else ""
        return (given, family, "", born, gender, "not_stated", postcode, "", "", "", "", agency_id, now, now)


COLUMNS = (
    "given_name", "family_name", "preferred_name", "date_of_birth", "gender", "ethnicity", "postcode", "ward",
    "unique_pupil_number", "nhs_number", "police_reference", "recorded_by_id", "created_at", "updated_at",
)


def load(people: int, agency_id: int, partnership_id: int) -> None:
    """Stream the people in with COPY, then their match keys with a second COPY.

    The keys are computed by ``casework.matching.match_keys``, the Python
    mirror of the trigger's SQL (a test proves the two agree), because the
    row-by-row trigger and the SQL function are slow for a million-row bulk
    load; the trigger is disabled for the load (and with it the history
    rows, which bench data does not need) and enabled again afterwards.
    """
    from django.db import connection

    from casework.matching import match_keys
    from referrals.models import YoungPerson

    have = YoungPerson.objects.count()
    if have >= people:
        print(f"{have:,} young people already loaded", file=sys.stderr)
        return
    wanted = people - have
    now = dt.datetime.now(dt.timezone.utc)
    started = time.monotonic()
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg 3 cursor
        first_id = raw.execute("SELECT coalesce(max(id), 0) + 1 FROM referrals_youngperson").fetchone()[0]
        raw.execute("ALTER TABLE referrals_youngperson DISABLE TRIGGER USER")
        try:
            gen = People(SEED + have)
            columns = ", ".join(COLUMNS)
            with raw.copy(f"COPY referrals_youngperson (id, partnership_id, {columns}) FROM STDIN") as copy:
                for n in range(wanted):
                    copy.write_row((first_id + n, partnership_id, *gen.row(agency_id, now)))
                    if n and n % 200_000 == 0:
                        print(f"  {n:,} people ({time.monotonic() - started:.0f}s)", file=sys.stderr)
        finally:
            raw.execute("ALTER TABLE referrals_youngperson ENABLE TRIGGER USER")
        raw.execute(
            "SELECT setval(pg_get_serial_sequence('referrals_youngperson', 'id'), "
            "(SELECT max(id) FROM referrals_youngperson))"
        )
        print(f"COPY {wanted:,} people in {time.monotonic() - started:.0f}s; now their keys", file=sys.stderr)
        gen = People(SEED + have)  # the same rows again, from the same seed
        with raw.copy("COPY referrals_youngpersonmatchkey (key, young_person_id) FROM STDIN") as copy:
            for n in range(wanted):
                given, family, preferred, born, _, _, postcode, *_ = gen.row(agency_id, now)
                for key in match_keys(given, family, preferred, born, postcode):
                    copy.write_row((key, first_id + n))
        raw.execute("VACUUM ANALYZE referrals_youngperson")
        raw.execute("VACUUM ANALYZE referrals_youngpersonmatchkey")
    print(f"Loaded in {time.monotonic() - started:.0f}s", file=sys.stderr)


def rebuild_keys() -> None:
    """Recompute every match key from the people loaded (after the key scheme
    changed): stream the people with a server-side cursor, COPY the keys in."""
    import psycopg
    from django.db import connection

    from casework.matching import match_keys

    started = time.monotonic()
    url = os.environ["DATABASE_URL"]
    with psycopg.connect(url) as reader, psycopg.connect(url) as writer:
        writer.execute("TRUNCATE referrals_youngpersonmatchkey")
        people = reader.cursor(name="people")
        people.itersize = 20_000
        people.execute(
            "SELECT id, given_name, family_name, preferred_name, date_of_birth, postcode "
            "FROM referrals_youngperson WHERE anonymised_at IS NULL"
        )
        with writer.cursor().copy("COPY referrals_youngpersonmatchkey (key, young_person_id) FROM STDIN") as copy:
            for pk, given, family, preferred, born, postcode in people:
                for key in match_keys(given, family, preferred, born, postcode):
                    copy.write_row((key, pk))
    connection.close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE referrals_youngpersonmatchkey")
    print(f"Keys rebuilt in {time.monotonic() - started:.0f}s", file=sys.stderr)


def slip(rng: random.Random, person) -> dict:
    from bench.matching_eval import NICKNAME_PAIRS, TRANSLITERATION_PAIRS, Generator

    typed = {
        "given_name": person.given_name, "family_name": person.family_name,
        "date_of_birth": person.date_of_birth, "postcode": person.postcode,
    }
    kind = rng.choice(["exact", "typo", "nickname", "dob_swap", "dob_digit", "no_postcode", "swapped"])
    gen = Generator(rng.randrange(1 << 30))
    if kind == "typo":
        typed["family_name"] = gen.typo(person.family_name)
    elif kind == "nickname":
        pairs = dict(NICKNAME_PAIRS["male"] + NICKNAME_PAIRS["female"] + TRANSLITERATION_PAIRS["male"]
                     + TRANSLITERATION_PAIRS["female"])
        typed["given_name"] = pairs.get(person.given_name, gen.typo(person.given_name))
    elif kind == "dob_swap" and person.date_of_birth.day <= 12:
        typed["date_of_birth"] = dt.date(person.date_of_birth.year, person.date_of_birth.day, person.date_of_birth.month)
    elif kind == "dob_digit":
        typed["date_of_birth"] = gen.dob_digit(person.date_of_birth)
    elif kind == "no_postcode":
        typed["postcode"] = ""
    elif kind == "swapped":
        typed["given_name"], typed["family_name"] = person.family_name, person.given_name
    return typed


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))]


def measure(actor, queries: int) -> dict:
    from django.db import connection

    from casework import matching
    from referrals.models import YoungPerson

    rng = random.Random(SEED)
    top = YoungPerson.objects.order_by("-id").values_list("id", flat=True).first()
    ids = [rng.randint(1, top) for _ in range(queries * 2)]
    people = list(YoungPerson.objects.filter(pk__in=ids)[:queries])
    rng.shuffle(people)
    searches = [slip(rng, p) for p in people]
    for typed in searches[:30]:  # warm the caches
        matching.find_candidates(matching.clean_details(typed))
    core, whole, found, blocked = [], [], 0, []
    for person, typed in zip(people, searches):
        started = time.perf_counter()
        scored = matching.find_candidates(matching.clean_details(typed))
        core.append((time.perf_counter() - started) * 1000)
        blocked.append(len(scored))
        started = time.perf_counter()
        result = matching.young_person_candidates(actor, details=typed)
        whole.append((time.perf_counter() - started) * 1000)
        found += any(c.young_person_id == person.pk for c in result.candidates)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM referrals_youngpersonmatchkey")
        key_rows = cursor.fetchone()[0]
    return {
        "people": YoungPerson.objects.count(),
        "match_key_rows": key_rows,
        "queries": len(core),
        "find_candidates_ms": {"median": round(statistics.median(core), 2), "p95": round(percentile(core, 0.95), 2)},
        "young_person_candidates_ms": {
            "median": round(statistics.median(whole), 2), "p95": round(percentile(whole, 0.95), 2),
        },
        "rows_scored": {"median": statistics.median(blocked), "max": max(blocked)},
        "searched_person_found": round(found / len(core), 4),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Time the young-person candidate search")
    parser.add_argument("database_url", help="postgres://user@host:port/name (a database of its own)")
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--rebuild-keys", action="store_true", help="recompute the keys of the people loaded")
    args = parser.parse_args(argv)
    ensure_database(args.database_url)
    setup_django(args.database_url)
    agency, partnership, actor = the_cast()
    load(args.people, agency.pk, partnership.pk)
    if args.rebuild_keys:
        rebuild_keys()
    import json

    print(json.dumps(measure(actor, args.queries), indent=2))


if __name__ == "__main__":
    main()
