"""What row-level security costs, measured side by side (issue 14).

    python -m bench.row_security --size full      # or: python -m bench.run (all benchmarks)

Every request the app serves puts its database connection under the
partnership's row-level security (``access.enter_partnership``: the role
``crossroads_app`` with the partnership and agency set, and PostgreSQL's
policies on every case-data table). This measures the same requests with
and without it, in process, in alternating blocks of 20 so that the
machine's drift falls on both sides alike:

* ``row_security.caseload``: the caseload page of the big agency's
  practitioner (``GET /api/v1/cases/`` at a random cursor, as
  ``bench.caseload``);
* ``row_security.intake``: an intake (``POST young-people/matches/`` then
  ``POST referrals/``, as ``bench.intake``).

"Without" leaves the connection as the tables' owner, which the policies do
not bind (``access.enter_partnership`` made a no-op for those blocks); the
access policy's own filters run either way, so both sides answer the same.
The ratio ``rls_cost`` is (with / without) - 1; design asks under 10%.
"""

from __future__ import annotations

import json
import random
from unittest import mock

from bench.common import Context, Result, summarise, time_calls

BLOCK = 20
TARGET = 0.10


def _alternating(call, n: int) -> tuple[list[float], list[float]]:
    """``call(i)`` timed ``n`` times under row-level security and ``n``
    times without, in alternating blocks; distinct ``i`` throughout."""
    from safeguarding import access

    with_rls: list[float] = []
    without: list[float] = []
    offset = 0
    while len(with_rls) < n:
        size = min(BLOCK, n - len(with_rls))
        start = offset
        with_rls += time_calls(lambda i: call(start + i), size, warmup=0)
        offset += size
        start = offset
        with mock.patch.object(access, "enter_partnership", lambda actor: None):
            without += time_calls(lambda i: call(start + i), size, warmup=0)
        offset += size
    return with_rls, without


def _row(name: str, with_rls: list[float], without: list[float], notes: str) -> Result:
    median, _ = summarise(with_rls)
    bare, bare_p95 = summarise(without)
    cost = round(median / bare - 1, 3)
    return Result.from_samples(
        name, with_rls, ratios={"rls_cost": cost}, target=f"row-level security costs < {TARGET:.0%}",
        met=cost < TARGET, extra={"without_median_ms": bare, "without_p95_ms": bare_p95, "block": BLOCK},
        notes=notes,
    )


def run(ctx: Context) -> list[Result]:
    from api.auth import ApiClientThrottle
    from bench.caseload import PAGE, _api_client, _cursor, _live_ids, settle
    from bench.intake import MATCHES, REFERRALS, Intakes, _known

    rng = random.Random(ctx.size.seed + 14)
    n = 2 * ctx.size.single_requests
    settle()

    agency_id = ctx.cast.big_agency_id
    ids = _live_ids(agency_id)
    starts = [rng.randrange(0, len(ids) - PAGE - 1) for _ in range(2 * n + 20)]
    cases = _api_client(ctx.api_token(agency_id))

    def page(i: int) -> None:
        start = starts[i]
        response = cases.get("/api/v1/cases/", {"cursor": _cursor(ids[start])})
        body = response.json() if response.status_code == 200 else {}
        if [row["id"] for row in body.get("results", [])] != ids[start + 1:start + 1 + PAGE]:
            raise RuntimeError(f"caseload page at {start}: {response.status_code}")

    token = ctx.api_token(agency_id, ("referrals:read", "referrals:write"), name="bench-intake")
    intakes = Intakes(_known(ctx, 2000), ctx.size.seed + 14)
    people = [intakes.person(rng) for _ in range(2 * n + 20)]
    from django.test import Client

    client = Client(headers={"Authorization": f"Bearer {token}"})

    def post(path: str, body: dict) -> None:
        response = client.post(path, data=json.dumps(body), content_type="application/json")
        if response.status_code not in (200, 201):
            raise RuntimeError(f"{path} answered {response.status_code}: {response.content[:300]!r}")

    def intake(i: int) -> None:
        post(MATCHES, people[i])
        post(REFERRALS, Intakes.referral(people[i]))

    with mock.patch.object(ApiClientThrottle, "rate", "1000000/minute", create=True):
        for i in range(10):  # warm both paths, unmeasured
            page(2 * n + i)
        caseload_with, caseload_without = _alternating(page, n)
        intake_with, intake_without = _alternating(intake, n)
    return [
        _row("row_security.caseload", caseload_with, caseload_without,
             f"GET /api/v1/cases/ for the {len(ids):,}-case agency, with and without row-level security, "
             f"alternating blocks of {BLOCK}"),
        _row("row_security.intake", intake_with, intake_without,
             f"match then refer, with and without row-level security, alternating blocks of {BLOCK}"),
    ]


def main(argv: list[str] | None = None) -> None:
    from bench.caseload import standalone

    standalone(run, argv, description="Row-level security's cost on the caseload page and intake")


if __name__ == "__main__":
    main()
