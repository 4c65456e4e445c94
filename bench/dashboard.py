"""The manager dashboard's aggregates for the agency that leads the most cases.

    python -m bench.dashboard --size full

As the manager of the largest agency (``Cast.manager``), each function the
manager's home page calls for its figures (``casework.selectors``), timed on
its own and all four together: the open caseload by key worker, late
referrals, quiet cases (no chronology entry in 30 days) and referral outcomes
by month. The EXPLAIN (ANALYZE, BUFFERS) plan of each one's main query goes
into the result (the slowest statement of each, as the function ran it), so
a slow one shows why.
"""

from __future__ import annotations

import os

from bench.caseload import standalone
from bench.common import Context, Result, count_queries, time_calls


def _plans(calls: dict) -> dict[str, str]:
    """Each call's slowest statement, as the call ran it, with its EXPLAIN
    (ANALYZE, BUFFERS) plan."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    plans = {}
    for name, call in calls.items():
        with CaptureQueriesContext(connection) as captured:
            call(0)
        slowest = (0.0, "")
        for query in captured.captured_queries:
            if not query["sql"].lstrip().upper().startswith("SELECT"):
                continue
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
                plan = "\n".join(row[0] for row in cursor.fetchall())
            took = float(plan.rsplit("Execution Time: ", 1)[1].split()[0])
            slowest = max(slowest, (took, plan))
        plans[name] = slowest[1]
    return plans


def run(ctx: Context) -> list[Result]:
    from casework import selectors

    actor = ctx.cast.actor(ctx.cast.manager)
    n = max(10, ctx.size.single_requests // 4)
    calls = {
        "caseload_by_key_worker": lambda i: selectors.caseload_by_key_worker(actor),
        "late_referrals": lambda i: selectors.late_referrals(actor),
        "quiet_cases": lambda i: selectors.quiet_cases(actor),
        "referral_outcomes_by_month": lambda i: selectors.referral_outcomes_by_month(actor),
    }
    results = []
    for name, call in calls.items():
        results.append(Result.from_samples(f"dashboard.{name}", time_calls(call, n, warmup=2)))

    def everything(i: int) -> None:
        for call in calls.values():
            call(i)

    with count_queries() as counted:
        everything(0)
    total = Result.from_samples("dashboard.manager_largest_agency", time_calls(everything, n, warmup=1))
    total.extra = {
        "agency_id": ctx.cast.lead_agency_id, "queries": counted.count,
        "parts_median_ms": {r.name.split(".", 1)[1]: r.median_ms for r in results},
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "plans": _plans(calls),
    }
    total.notes = "the four aggregates of the manager's home page, called as the page calls them"
    return [total, *results]


def main(argv: list[str] | None = None) -> None:
    standalone(run, argv, description=__doc__.splitlines()[0])


if __name__ == "__main__":
    main()
