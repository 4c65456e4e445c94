"""The monitoring: the reporting schema's refresh and the report pages.

    python -m bench.run --only monitoring --size small

0. The cast's partnership gets a borough of 20 wards, as its analysts
   would load them (``monitoring.reference``): boundaries, a postcode
   lookup for the postcodes the generator draws (nine in ten of them; the
   rest are "ward not known") and a young population by ward, age band
   and ethnic group. Loaded once and kept, so every ward-level table,
   the map and the disproportionality are measured at a real borough's
   width.
1. A full refresh of every partnership's reporting schema (``refresh_all``
   with ``full=True``): wall time, young people and facts written. Target at
   1,000,000 cases: under 2 minutes on two cores.
2. A second refresh straight after: the changes recorded in the 10 minutes
   before the first run's start are read again by design
   (``monitoring.refresh.OVERLAP``), so a freshly generated dataset is
   recomputed (the row says how many young people). Then one with nothing
   new since the last run (its mark moved past the overlap, as on a quiet
   night): it reads the change history and rewrites nothing. Target:
   under 5 s.
3. Each report as its page computes it, as a reporting analyst of the
   cast's partnership under its row-level security: the figures
   (``monitoring.figures.build``, every table suppressed) and the charts
   and map (``web.charts``), for the latest financial year, over the
   borough, a ward, a concern and both. First the view after the facts
   changed (``first_view_*``: it counts and protects the figures, then
   caches them), then the views after it. Target: under 200 ms median
   each. Then the first view after a refresh that wrote facts but left
   the year's counts as they were (``first_view_unchanged_*``): counted
   again, the hidden figures found in the cache by their digest.
"""

from __future__ import annotations

import json
import random
import time
import uuid

from bench.common import Context, Result, time_calls


def _analyst(ctx: Context):
    """A reporting analyst of the cast's hub (made once, kept)."""
    from django.contrib.auth import get_user_model

    from agencies.models import Agency, Membership, Role
    from safeguarding import access

    user, _ = get_user_model().objects.get_or_create(username="bench-reporting-analyst")
    hub = Agency.objects.get(pk=ctx.cast.hub_agency_id)
    Membership.objects.get_or_create(user=user, agency=hub, role=Role.REPORTING)
    return access.actor_for_user(user, partnership=ctx.cast.partnership_id)


WARDS = 20  # a London borough has 15 to 30


def _borough(ctx: Context) -> int:
    """Load the cast's partnership's 20 wards (squares on a grid near
    London), its postcode lookup and its young population through the
    loaders a partnership uses, unless loaded already. Returns how many
    wards it has."""
    from agencies.models import Partnership
    from bench.generate import name_pools
    from monitoring import reference
    from monitoring.bands import normalise_postcode
    from monitoring.models import AgeBand, EthnicGroup, Ward

    partnership = Partnership.objects.get(pk=ctx.cast.partnership_id)
    if Ward.objects.filter(partnership=partnership, code__startswith="E0599").count() == WARDS:
        return WARDS
    codes = [f"E0599{n:04d}" for n in range(WARDS)]
    features = []
    for n, code in enumerate(codes):
        west, south = -0.10 + (n % 5) * 0.02, 51.46 + (n // 5) * 0.02
        ring = [[west, south], [west + 0.02, south], [west + 0.02, south + 0.02], [west, south + 0.02], [west, south]]
        features.append({"type": "Feature", "properties": {"code": code, "name": f"Bench Ward {n + 1}"},
                         "geometry": {"type": "Polygon", "coordinates": [ring]}})
    reference.wards_load(partnership=partnership, text=json.dumps({"type": "FeatureCollection", "features": features}))
    rng = random.Random(ctx.size.seed)
    postcodes = sorted({normalise_postcode(p) for p in name_pools().postcodes} - {""})
    reference.postcodes_load(partnership=partnership, text="\n".join(
        ["pcds,osward", *(f"{postcode},{rng.choice(codes)}" for postcode in postcodes if rng.random() < 0.9)]
    ))
    reference.population_load(partnership=partnership, text="\n".join(
        ["ward_code,age_band,ethnic_group,people",
         *(f"{code},{band},{group},{rng.randint(20, 900)}"
           for code in codes for band in AgeBand.values for group in EthnicGroup.values)]
    ))
    return WARDS


def run(ctx: Context) -> list[Result]:
    from django.core.cache import cache
    from django.utils import timezone

    from monitoring import figures
    from monitoring.models import ReferralFact, RefreshState
    from monitoring.refresh import OVERLAP, refresh_all
    from safeguarding import access
    from web import charts

    results = []
    wards = _borough(ctx)
    started = time.perf_counter()
    full = refresh_all(full=True)
    took = time.perf_counter() - started
    facts = {k: sum(r.facts[k] for r in full.values()) for k in ("referrals", "cases", "reviews", "interventions")}
    cast_facts = ReferralFact.objects.filter(partnership_id=ctx.cast.partnership_id)
    placed = cast_facts.filter(ward__isnull=False).count() / max(1, cast_facts.count())
    results.append(Result(
        name="monitoring.refresh_full", value=round(took, 2), unit="s", target="under 120 s at 1,000,000 cases",
        # The target is for 1,000,000 cases: judged at the full size only.
        met=(took < 120) if ctx.size.name == "full" else None,
        extra={"young_people": sum(r.young_people for r in full.values()), "facts": facts,
               "cast_partnership_wards": wards, "cast_referrals_with_a_ward": round(placed, 3)},
    ))
    # Straight after, the freshly generated rows' history (recorded in the
    # last 10 minutes) is read again by design: that run is reported as it
    # is. Then a run as a quiet night's would be, the last run's mark moved
    # past the overlap: nothing recorded since, nothing rewritten.
    for name, quiet in (("refresh_again_within_overlap", False), ("refresh_nothing_new", True)):
        if quiet:
            RefreshState.objects.update(changes_until=timezone.now() + OVERLAP)
        started = time.perf_counter()
        again = refresh_all()
        took = time.perf_counter() - started
        recomputed = sum(r.young_people for r in again.values())
        results.append(Result(
            name=f"monitoring.{name}", value=round(took, 2), unit="s",
            target="under 5 s with nothing new" if quiet else "", met=(took < 5 and recomputed == 0) if quiet else None,
            extra={"young_people_recomputed": recomputed,
                   "run": "full" if any(r.full for r in again.values()) else "incremental"},
        ))
    actor = _analyst(ctx)
    year = figures.financial_year(timezone.localdate())
    n = max(10, ctx.size.single_requests // 2)
    with access.within_partnership(actor):
        # The views a person goes through: the borough, a ward, a concern,
        # both. Every one is a slice of the same protected figures.
        ward = next(iter(figures.wards(actor)), None)
        concern = next(iter(figures.concerns(actor)), (None,))[0]
        views = [figures.Filters(year=year), figures.Filters(year=year, ward=ward and ward.pk),
                 figures.Filters(year=year, concern=concern),
                 figures.Filters(year=year, ward=ward and ward.pk, concern=concern)]
        for name in figures.REPORTS:
            def page(i: int, name=name) -> None:
                report = figures.build(actor, name, views[i % len(views)])
                for table in report.tables:
                    charts.chart_table(table.protected, table.measure)
                if name == "referrals":
                    charts.ward_map(figures.ward_map(actor, report))

            # The first view after the facts changed counts and protects the
            # figures of every population the report reads, for the borough
            # and with each concern; the views after it read them cached.
            cache.clear()
            started = time.perf_counter()
            page(0)
            results.append(Result(
                name=f"monitoring.first_view_{name}", value=round((time.perf_counter() - started) * 1000), unit="ms",
                target="", met=None, extra={"note": "figures worked out and protected, then cached"},
            ))
            results.append(Result.from_samples(
                f"monitoring.page_{name}", time_calls(page, n, warmup=2), target="median under 200 ms",
            ))
            results[-1].met = results[-1].median_ms < 200
            # After a refresh that wrote facts elsewhere (a new version of
            # the facts), the year's counts unchanged: counted again, its
            # hidden figures taken from the cache by their digest.
            RefreshState.objects.filter(partnership_id=ctx.cast.partnership_id).update(facts_version=uuid.uuid4())
            started = time.perf_counter()
            page(0)
            results.append(Result(
                name=f"monitoring.first_view_unchanged_{name}", value=round((time.perf_counter() - started) * 1000),
                unit="ms", target="", met=None, extra={"note": "new facts' version, the year's counts unchanged"},
            ))
    return results
