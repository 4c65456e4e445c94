"""Referral intake with young-person matching, through the partner API.

One intake is what a partner system does for a new concern: ask the matcher
whether the young person is known (``POST /api/v1/young-people/matches/``),
then make the referral with the person's details (``POST
/api/v1/referrals/``; the database writes the new record's match keys).
Half the people are typed-again versions of young people already held in
the partnership the client's agency works in (the cast's; the matcher
searches only its own partnership's records, so these give it candidates to
score), half are new.

* ``intake.match``, ``intake.referral``, ``intake.end_to_end``: one request
  (or one pair) at a time, in process (Django's test client, the whole
  middleware and DRF stack, real commits): median and p95.
* ``intake.throughput``: gunicorn on loopback, the same requests from
  concurrent keep-alive clients, requests per second, as a ratio to
  ``bench.load_bare``: a bare Django JSON view served by the same gunicorn,
  settings and middleware.

The referrals it makes stay in the bench database (``partner_reference``
``bench-intake``): a few hundred rows against a million changes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import random

from bench.common import Context, Gunicorn, Result, http_load, summarise, time_calls

MATCHES = "/api/v1/young-people/matches/"
REFERRALS = "/api/v1/referrals/"
TARGET_MS = 50.0


class Intakes:
    """Request bodies: half known young people typed again, half new ones."""

    def __init__(self, known: list[tuple], seed: int):
        from bench.generate import name_pools

        pools = name_pools()
        self.given = pools.given["male"] + pools.given["female"]
        self.family = pools.family[:2000]
        self.known = known
        self.seed = seed

    def person(self, rng: random.Random) -> dict:
        if self.known and rng.random() < 0.5:
            given, family, born, postcode = rng.choice(self.known)
            if rng.random() < 0.5 and len(family) > 3:  # a slip of the keyboard
                i = rng.randrange(1, len(family) - 1)
                family = family[:i] + family[i + 1] + family[i] + family[i + 2:]
        else:
            given, family, postcode = rng.choice(self.given), rng.choice(self.family), ""
            born = dt.date(2026, 1, 1) - dt.timedelta(days=rng.randint(10 * 365, 18 * 365))
        return {"given_name": given, "family_name": family, "date_of_birth": born.isoformat(), "postcode": postcode}

    @staticmethod
    def referral(person: dict) -> dict:
        return {
            "person": person, "concerns": ["weapon", "gang_association"], "risk_level": "amber",
            "account": "Seen with a knife outside the school gates; says he carries it for protection.",
            "consent": "young_person", "partner_reference": "bench-intake",
        }


def _known(ctx: Context, n: int) -> list[tuple]:
    """About ``n`` young people of the cast's partnership, at random."""
    from referrals.models import YoungPerson

    held = YoungPerson.objects.filter(partnership_id=ctx.cast.partnership_id, anonymised_at__isnull=True)
    top = YoungPerson.objects.order_by("-id").values_list("id", flat=True).first() or 0
    share = held.count() / max(YoungPerson.objects.count(), 1)
    rng = random.Random(ctx.size.seed)
    # Ids drawn over the whole table, enough of them to find ``n`` in the
    # partnership (its records are spread over it).
    ids = {rng.randint(1, top) for _ in range(min(top, int(n / max(share, 1e-3))))}
    return list(held.filter(pk__in=ids).order_by("pk")
                .values_list("given_name", "family_name", "date_of_birth", "postcode")[:n])


def run(ctx: Context) -> list[Result]:
    from django.test import Client

    token = ctx.api_token(ctx.cast.big_agency_id, ("referrals:read", "referrals:write"), name="bench-intake")
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    intakes = Intakes(_known(ctx, 2000), ctx.size.seed)
    client = Client(headers={"Authorization": f"Bearer {token}"})
    rng = random.Random(ctx.size.seed + 8)
    n = ctx.size.single_requests

    def post(path: str, body: dict) -> None:
        response = client.post(path, data=json.dumps(body), content_type="application/json")
        if response.status_code not in (200, 201):
            raise RuntimeError(f"{path} answered {response.status_code}: {response.content[:300]!r}")

    people = [intakes.person(rng) for _ in range(3 * n + 15)]
    match = time_calls(lambda i: post(MATCHES, people[i]), n)
    refer = time_calls(lambda i: post(REFERRALS, Intakes.referral(people[n + 5 + i])), n)

    def both(i: int) -> None:
        person = people[2 * n + 10 + i]
        post(MATCHES, person)
        post(REFERRALS, Intakes.referral(person))

    whole = time_calls(both, n)
    median, _ = summarise(whole)
    results = [
        Result.from_samples("intake.match", match, notes="POST young-people/matches/, in process"),
        Result.from_samples("intake.referral", refer, notes="POST referrals/ with a new person, in process"),
        Result.from_samples(
            "intake.end_to_end", whole, target=f"median < {TARGET_MS:.0f} ms", met=median < TARGET_MS,
            notes="match then refer, one intake at a time, in process",
        ),
    ]

    def intake_request(rng: random.Random):
        person = intakes.person(rng)
        if rng.random() < 0.5:
            return "POST", MATCHES, json.dumps(person), headers
        return "POST", REFERRALS, json.dumps(Intakes.referral(person)), headers

    def bare_request(rng: random.Random):
        return "GET", "/bench/bare/", None, {}

    size = ctx.size
    with Gunicorn(ctx.database_url, workers=size.web_workers) as server:
        http_load(server.port, bare_request, clients=size.load_clients, seconds=2)  # warm both workers
        bare = http_load(server.port, bare_request, clients=size.load_clients, seconds=size.load_seconds)
        http_load(server.port, intake_request, clients=size.load_clients, seconds=2)  # the API's first requests
        loaded = http_load(server.port, intake_request, clients=size.load_clients, seconds=size.load_seconds)
    ratio = round(loaded.throughput / bare.throughput, 3) if bare.throughput else 0.0
    common = {"clients": size.load_clients, "gunicorn_workers": size.web_workers, "seconds": size.load_seconds}
    results.append(Result.from_samples(
        "intake.load_bare", bare.latencies_ms, value=bare.throughput, unit="req/s",
        extra={**common, "statuses": bare.statuses}, notes="GET a bare Django JsonResponse, same gunicorn",
    ))
    results.append(Result.from_samples(
        "intake.throughput", loaded.latencies_ms, value=loaded.throughput, unit="req/s",
        ratios={"vs_bare_view": ratio},
        extra={**common, "statuses": loaded.statuses, "intakes_per_second": round(loaded.throughput / 2, 1),
               "errors": loaded.requests - loaded.ok},
        notes="half matches, half referrals; an intake is one of each",
    ))
    return results
