"""The benchmark harness keeps working: the small size end to end.

Generates the small dataset into a database of its own (dropped first, so
the generator itself runs every time), runs every benchmark module with
``python -m bench.run``, and checks the table; then checks that a second
generate finds the data and does nothing. The numbers are not asserted (a
shared machine's timings are no test); that each benchmark ran and said
whether it met its target is. About two minutes on an idle two-core machine;
far longer on a busy one, hence the generous timeout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
# Its own database per run, so two runs on one server never drop each other's.
DATABASE = f"crossroads_bench_ci_{os.getpid()}"


@pytest.fixture(scope="module")
def bench_url():
    base = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres"
    parts = urlsplit(base)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    yield urlunsplit(parts._replace(path=f"/{DATABASE}"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


def bench(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=1800, check=False)


@pytest.fixture(scope="module")
def report(bench_url, tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    done = bench("bench.run", "--size", "small", "--database-url", bench_url, "--out", str(out))
    assert done.returncode == 0, done.stderr[-4000:]
    return out, done


def test_run_writes_every_benchmark_row_in_markdown_and_json(report):
    out, done = report
    assert "cases[" in done.stderr and "rows/s" in done.stderr and "s left" in done.stderr  # progress lines
    data = json.loads((out / "small.json").read_text())
    names = {row["name"] for row in data["results"]}
    due_counts = data["dataset"]["size"]["due_counts"]
    assert len(due_counts) == 3 and due_counts == sorted(due_counts)
    expected = {
        "intake.match", "intake.referral", "intake.end_to_end", "intake.load_bare", "intake.throughput",
        "memory.web_worker_peak_rss", "reminders.scaling", "row_security.caseload", "row_security.intake",
        "monitoring.refresh_full", "monitoring.refresh_nothing_new",
        *(f"monitoring.page_{name}" for name in ("referrals", "cases", "interventions", "disproportionality")),
        *(f"reminders.{kind}_{due}" for kind in ("sweep", "process", "second_run", "worker_peak_rss")
          for due in due_counts),
    }
    assert expected <= names, expected - names
    assert not [name for name in names if name.endswith(".error")]
    rows = {row["name"]: row for row in data["results"]}
    assert rows["intake.end_to_end"]["median_ms"] > 0 and rows["intake.end_to_end"]["met"] in (True, False)
    assert rows["intake.throughput"]["value"] > 0 and rows["intake.throughput"]["ratios"]["vs_bare_view"] > 0
    assert rows["intake.throughput"]["extra"]["errors"] == 0
    for due in due_counts:
        assert rows[f"reminders.sweep_{due}"]["extra"]["handed_on"] == due
        assert rows[f"reminders.process_{due}"]["extra"]["notifications"] >= due
        assert rows[f"reminders.second_run_{due}"]["met"] is True  # a second run sends nothing
    assert rows["memory.web_worker_peak_rss"]["value"] > 0
    # The monitoring's full refresh wrote a fact for every referral (those
    # generated and those the intake benchmark made); with nothing new
    # since, a refresh rewrites nothing.
    generated = data["dataset"]["counts"]["referrals_referral"]
    assert rows["monitoring.refresh_full"]["extra"]["facts"]["referrals"] >= generated
    assert rows["monitoring.refresh_nothing_new"]["extra"]["young_people_recomputed"] == 0
    # The cast's borough has its 20 wards, and most referrals fall in one
    # (about 1 in 10 postcodes is blank and 1 in 10 not in the lookup).
    assert rows["monitoring.refresh_full"]["extra"]["cast_partnership_wards"] == 20
    assert 0.7 < rows["monitoring.refresh_full"]["extra"]["cast_referrals_with_a_ward"] < 0.9
    for name in ("row_security.caseload", "row_security.intake"):
        assert rows[name]["extra"]["without_median_ms"] > 0 and "rls_cost" in rows[name]["ratios"]
    # The load test ran its users (signed in with two-factor codes, partner
    # systems with tokens) with no failure, and the worker sent every reminder once.
    assert rows["load.total"]["n"] > 0 and rows["load.total"]["extra"]["failures"] == 0
    assert {"load.GET case page", "load.POST api: post referral", "load.POST sign in (two-factor code)"} <= names
    assert rows["load.reminders_during_load"]["met"] is True
    assert rows[f"reminders.worker_{due_counts[-1]}"]["met"] is True
    assert data["machine"]["cores"] and data["machine"]["postgresql"]
    assert data["dataset"]["counts"]["referrals_case"] == 2_000
    table = (out / "small.md").read_text()
    assert "| Benchmark | median ms | p95 ms |" in table
    for name in expected:
        assert f"| {name} |" in table


def test_the_dataset_is_what_the_app_would_have_written(report, bench_url):
    with psycopg.connect(bench_url) as conn:
        def one(sql):
            return conn.execute(sql).fetchone()[0]

        # Every young person has exactly the match keys the trigger would have written.
        assert one(
            "SELECT count(*) FROM referrals_youngperson p WHERE "
            "ARRAY(SELECT k.key::text FROM referrals_youngpersonmatchkey k WHERE k.young_person_id = p.id "
            "ORDER BY 1) IS DISTINCT FROM ARRAY(SELECT DISTINCT t FROM unnest(crossroads_match_keys("
            "p.given_name, p.family_name, p.preferred_name, p.date_of_birth, p.postcode)) t ORDER BY 1)") == 0
        assert one("SELECT count(*) FROM referrals_youngpersonmatchkey") > one("SELECT count(*) FROM referrals_youngperson")
        # An insert event in the history for every case, and guardian rows for leads and active shares.
        assert one("SELECT count(*) FROM referrals_case") == one(
            "SELECT count(*) FROM referrals_caseevent WHERE pgh_label = 'insert'")
        assert one("SELECT count(*) FROM referrals_case c WHERE NOT EXISTS (SELECT 1 FROM "
                   "safeguarding_casegroupobjectpermission p JOIN agencies_agency a ON a.group_id = p.group_id "
                   "WHERE p.content_object_id = c.id AND a.id = c.lead_agency_id)") == 0
        assert one("SELECT count(*) FROM safeguarding_sharegrant g WHERE g.revoked_at IS NULL "
                   "AND g.expires_at > now() AND NOT EXISTS (SELECT 1 FROM safeguarding_casegroupobjectpermission p "
                   "JOIN agencies_agency a ON a.group_id = p.group_id WHERE p.content_object_id = g.case_id "
                   "AND a.id = g.agency_id)") == 0
        # About 1.5 shares per case.
        assert 1.2 < one("SELECT count(*)::float FROM safeguarding_sharegrant") / 2_000 < 1.9


def test_a_second_generate_finds_the_data_and_does_nothing(report, bench_url):
    with psycopg.connect(bench_url) as conn:
        before = conn.execute("SELECT count(*) FROM referrals_case").fetchone()[0]
    done = bench("bench.generate", bench_url, "--size", "small")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "already generated" in done.stderr and "nothing to do" in done.stderr
    with psycopg.connect(bench_url) as conn:
        assert conn.execute("SELECT count(*) FROM referrals_case").fetchone()[0] == before
