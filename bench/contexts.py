"""Contexts and panels at city scale: a context page with 500 linked cases,
and a panel's network of about 300 nodes.

    python -m bench.run --size full --only contexts

On top of the city (``bench.generate``), this module loads, once, 20,000
contexts and 200,000 links to cases (at the full size; a hundredth of each
at the small size) spread over the partnerships in proportion to their
cases, each link to a case of its context's partnership, with its source,
date, grade and recording agency: streamed in with COPY, recorded in
``bench_contexts`` so a second run loads nothing. In the cast's partnership
one context (the "hot" one) has 500 linked cases, 350 of them led by the
lead agency (which sees those and names them) and 150 others (counted, and
drawn as anonymous nodes unless shared with it); and a panel whose agenda
holds 12 of that partnership's contexts, 25 of the lead agency's cases and
the hot context, so that its network as the lead agency's manager sees it
has about 300 nodes.

Measured, as the lead agency's manager:

* ``contexts.page_500``: the context page end to end in process (the
  selector ``contextwork.selectors.context_page``, the access-log rows and
  the template rendered with the view's own context: the network picture's
  data and table of every node, and the first 50 linked young people's
  rows), target median < 100 ms;
* ``contexts.page_selector_500``: the selector alone;
* ``contexts.panel_network_300``: the panel's network
  (``contextwork.selectors.panel_network``: the agenda split by the policy
  and every node and edge built), target < 1 s, with its node count.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sys
import time

from bench.common import Context, Result, count_queries, time_calls

MARKER = "bench_contexts"
HOT_LINKS = 500
HOT_SEEN = 350


def _scale(ctx: Context) -> tuple[int, int]:
    return (20_000, 200_000) if ctx.size.name == "full" else (200, 2_000)


def ensure_loaded(ctx: Context) -> dict:
    """Load the contexts and links once; return what was recorded."""
    import psycopg
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {MARKER} (size text PRIMARY KEY, spec jsonb NOT NULL)")
        cursor.execute(f"SELECT spec FROM {MARKER} WHERE size = %s", [ctx.size.name])
        row = cursor.fetchone()
    if row is not None:
        return json.loads(row[0]) if isinstance(row[0], str) else row[0]
    contexts_wanted, links_wanted = _scale(ctx)
    started = time.monotonic()
    rng = random.Random(ctx.size.seed + 16)
    cast = ctx.cast
    manager = cast.user(cast.manager)
    connection.close()
    with psycopg.connect(ctx.database_url) as conn:
        conn.execute("SET session_replication_role = replica")  # no history triggers: rows made consistent here
        cases_by_partnership = dict(conn.execute(
            "SELECT partnership_id, array_agg(id ORDER BY id) FROM referrals_case GROUP BY 1").fetchall())
        agencies_by_partnership = dict(conn.execute(
            "SELECT partnership_id, array_agg(agency_id ORDER BY agency_id) FROM agencies_agency_partnerships "
            "GROUP BY 1").fetchall())
        lead_cases = [pk for (pk,) in conn.execute(
            "SELECT id FROM referrals_case WHERE lead_agency_id = %s AND partnership_id = %s ORDER BY id",
            [cast.lead_agency_id, cast.partnership_id]).fetchall()]
        leading = set(lead_cases)
        other_cases = [pk for pk in cases_by_partnership[cast.partnership_id] if pk not in leading]
        partnerships = sorted(cases_by_partnership)
        weights = [len(cases_by_partnership[p]) for p in partnerships]
        first_context = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM contexts_context").fetchone()[0]
        now = dt.datetime.now(dt.timezone.utc)
        kinds = ["place", "place", "peer_group", "online_space"]
        homes = [partnerships.index(cast.partnership_id)] + [
            partnerships.index(p) for p in rng.choices(partnerships, weights=weights, k=contexts_wanted - 1)]
        with conn.cursor().copy(
            "COPY contexts_context (id, partnership_id, kind, name, known, ward, street_names, lead_agency_id, "
            "risk_level, recorded_by_id, recording_agency_id, created_at, updated_at) FROM STDIN"
        ) as copy:
            for n, home in enumerate(homes):
                partnership = partnerships[home]
                agency = cast.lead_agency_id if partnership == cast.partnership_id and n < 50 else rng.choice(
                    agencies_by_partnership[partnership])
                kind = kinds[n % len(kinds)]
                copy.write_row((first_context + n, partnership, kind, f"Bench context {n:05d}",
                                "Young people seen gathering here in the evenings.", "",
                                "{Blade,Ghost}" if kind == "peer_group" else "{}", agency,
                                rng.choice(["green", "amber", "red"]), manager.pk, cast.lead_agency_id, now, now))
        hot = first_context
        hot_cases = rng.sample(lead_cases, min(HOT_SEEN, len(lead_cases)))
        hot_cases += rng.sample(other_cases, HOT_LINKS - len(hot_cases))
        today = now.date()
        with conn.cursor().copy(
            "COPY contexts_contextlink (context_id, case_id, source, information_date, source_evaluation, "
            "intelligence_assessment, handling_code, handling_conditions, recording_agency_id, recorded_by_id, "
            "recorded_at) FROM STDIN"
        ) as copy:
            def link(context_id: int, case_id: int) -> None:
                copy.write_row((context_id, case_id, "Police intelligence report", today - dt.timedelta(
                    days=rng.randint(0, 400)), rng.choice("123"), rng.choice("ABCDE"), "P", "",
                    cast.lead_agency_id, manager.pk, now))

            for case_id in hot_cases:
                link(hot, case_id)
            for k in range(links_wanted - len(hot_cases)):
                n = 1 + k % (contexts_wanted - 1)
                link(first_context + n, rng.choice(cases_by_partnership[partnerships[homes[n]]]))
        conn.execute(f"SELECT setval(pg_get_serial_sequence('contexts_context', 'id'), "
                     f"(SELECT max(id) FROM contexts_context))")
        # The panel: 12 contexts of the cast's partnership, the hot one, and
        # 25 of the lead agency's cases on its agenda.
        panel = conn.execute(
            "INSERT INTO contexts_panel (partnership_id, title, meets_at, location, convening_agency_id, chair_id, "
            "created_by_id, created_at) VALUES (%s, 'Bench MACE panel', %s, '', %s, %s, %s, %s) RETURNING id",
            [cast.partnership_id, now + dt.timedelta(days=7), cast.lead_agency_id, manager.pk, manager.pk, now],
        ).fetchone()[0]
        conn.execute("INSERT INTO contexts_panelattendee (panel_id, user_id, agency_id, added_by_id, added_at, "
                     "confidentiality_accepted_at, confidentiality_version) VALUES (%s, %s, %s, %s, %s, %s, 1)",
                     [panel, manager.pk, cast.lead_agency_id, manager.pk, now, now])
        cast_contexts = [first_context + n for n, home in enumerate(homes)
                         if partnerships[home] == cast.partnership_id][1:13]
        for context_id in [first_context, *cast_contexts]:
            conn.execute("INSERT INTO contexts_panelagendaitem (panel_id, context_id, reason, added_at) "
                         "VALUES (%s, %s, '', %s)", [panel, context_id, now])
        for case_id in rng.sample(lead_cases, 25):
            conn.execute("INSERT INTO contexts_panelagendaitem (panel_id, case_id, reason, added_at) "
                         "VALUES (%s, %s, '', %s) ON CONFLICT DO NOTHING", [panel, case_id, now])
        conn.commit()
    with psycopg.connect(ctx.database_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE contexts_context")
        conn.execute("VACUUM ANALYZE contexts_contextlink")
        counts = {name: conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
                  for name in ("contexts_context", "contexts_contextlink")}
    spec = {"hot_context": hot, "panel": panel, "counts": counts, "seconds": round(time.monotonic() - started, 1)}
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {MARKER} (size, spec) VALUES (%s, %s)", [ctx.size.name, json.dumps(spec)])
    print(f"  contexts: {counts} in {spec['seconds']}s", file=sys.stderr, flush=True)
    return spec


def _request(actor):
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = actor.user
    request.session = SessionStore()
    request.actor = actor
    return request


def run(ctx: Context) -> list[Result]:
    from django.db import transaction
    from django.template.loader import render_to_string

    from contexts.models import Panel
    from contextwork import selectors
    from web.views.contexts import detail_context

    spec = ensure_loaded(ctx)
    actor = ctx.cast.actor(ctx.cast.manager)
    hot, panel_id = spec["hot_context"], spec["panel"]
    n = max(10, ctx.size.single_requests)

    def page(i: int) -> None:
        with transaction.atomic():
            view = selectors.context_page(actor, hot)
            request = _request(actor)
            render_to_string("contexts/detail.html", detail_context(request, view), request=request)

    def selector(i: int) -> None:
        with transaction.atomic():
            selectors.context_page(actor, hot)

    panel = Panel.objects.get(pk=panel_id)

    def network(i: int) -> None:
        with transaction.atomic():
            selectors.panel_network(actor, panel)

    with count_queries() as counted:
        page(0)
    view = selectors.context_page(actor, hot)
    page_result = Result.from_samples("contexts.page_500", time_calls(page, n, warmup=3),
                                      target="median < 100 ms")
    page_result.met = page_result.median_ms < 100
    page_result.extra = {"linked_seen": len(view.linked), "linked_unseen": view.unseen, "queries": counted.count,
                         "network_nodes": len(view.network.nodes)}
    page_result.notes = "selector, access-log rows and the template rendered, in process"
    selector_result = Result.from_samples("contexts.page_selector_500", time_calls(selector, n, warmup=3))
    built, _ = selectors.panel_network(actor, panel)
    network_result = Result.from_samples("contexts.panel_network_300", time_calls(network, max(5, n // 4), warmup=1),
                                         target="< 1 s")
    network_result.met = network_result.median_ms < 1000
    network_result.extra = {"nodes": len(built.nodes), "edges": len(built.edges)}
    network_result.notes = "the agenda split by the policy and every node and edge built"
    page_result.ratios = {"page_vs_selector": round(page_result.median_ms / max(selector_result.median_ms, 0.01), 2)}
    return [page_result, selector_result, network_result]
