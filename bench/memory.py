"""Peak memory of a gunicorn web worker under the caseload load.

gunicorn (``bench.settings``, ``Size.web_workers`` sync workers) serves the
API; concurrent keep-alive clients ask for caseload pages
(``GET /api/v1/cases/``, 50 or 200 rows) as the API clients of many
agencies, the largest among them, for ``Size.load_seconds``: the cast's
three and others working in one partnership (a client of an agency in
several, a police unit, works in none until it names one), those of the
cast's partnership first. Every worker's
resident memory is sampled with psutil every 50 ms; the row is the highest
any worker reached. Target (design.md): under 200 MB at 1,000,000 cases.
"""

from __future__ import annotations

import random

from bench.common import Context, Gunicorn, PeakRss, Result, http_load, rss_mb

TARGET_MB = 200
AGENCIES = 20


def run(ctx: Context) -> list[Result]:
    from django.db.models import Count, Q

    from agencies.models import Agency

    cast = ctx.cast
    single = (
        Agency.objects.annotate(partnerships_count=Count("partnerships"))
        .filter(partnerships_count=1)
        .exclude(pk__in=[cast.lead_agency_id, cast.big_agency_id, cast.hub_agency_id])
        .annotate(in_cast=Count("partnerships", filter=Q(partnerships=cast.partnership_id)))
    )
    others = list(single.order_by("-in_cast", "pk").values_list("pk", flat=True)[: AGENCIES - 3])
    agencies = [cast.lead_agency_id, cast.big_agency_id, cast.hub_agency_id, *others]
    tokens = [ctx.api_token(agency_id, ("cases:read",)) for agency_id in agencies]

    def caseload(rng: random.Random):
        token = tokens[0] if rng.random() < 0.25 else rng.choice(tokens)  # the largest agency a quarter of the time
        size = 200 if rng.random() < 0.2 else 50
        return "GET", f"/api/v1/cases/?page_size={size}", None, {"Authorization": f"Bearer {token}"}

    size = ctx.size
    with Gunicorn(ctx.database_url, workers=size.web_workers) as server:
        http_load(server.port, caseload, clients=size.load_clients, seconds=2)  # warm every worker's first request
        idle = {pid: round(rss_mb(pid), 1) for pid in server.worker_pids()}
        with PeakRss(server.worker_pids) as peaks:
            load = http_load(server.port, caseload, clients=size.load_clients, seconds=size.load_seconds)
    peak = peaks.peak
    return [Result.from_samples(
        "memory.web_worker_peak_rss", load.latencies_ms, value=peak, unit="MB",
        target=f"< {TARGET_MB} MB", met=peak < TARGET_MB,
        extra={"workers": size.web_workers, "idle_rss_mb": list(idle.values()),
               "peak_rss_mb": [round(v, 1) for v in peaks.peaks.values()], "requests": load.requests,
               "throughput_rps": load.throughput, "statuses": load.statuses, "agencies": len(agencies)},
        notes="caseload pages through the API for 20 agencies under load; median/p95 are the request latencies",
    )]
