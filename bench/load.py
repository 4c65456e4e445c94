"""The load test: Locust (``bench/locustfile.py``) against the production
shape on this machine, for minutes at a time.

    python -m bench.load --size full --minutes 10 --users 24    # writes bench/results/load_full.md and .json
    python -m bench.load --size full --find-rate                # short runs at rising users first

What runs, as docker-compose runs it: gunicorn (``config.wsgi``, three sync
workers, persistent database connections), a Redis of its own (the Celery
broker and the cache of the API's throttle counts), a Celery worker (the
prefork pool, two processes) and Celery beat (the reminder sweeps every
minute), against the bench database. Before the load, ``due`` open cases'
reviews are made due today (put back afterwards: ``bench.reminders``), so
the worker has reminders to send while the pages and the API are busy.

The users (``bench.load.prepare``): practitioners of the cast's big agency,
managers of its lead agency, screeners of its hub, each a person of their
own who signs in with a password and a two-factor code, and partner
systems of the big agency (OAuth client credentials). The mix is the
locustfile's weights.

The table gives, per endpoint, the requests, failures, p50/p95/p99 and
throughput; the total throughput; the resident memory of each process
(gunicorn's master and workers, the Celery worker and its pool, beat,
Redis) after a warm-up minute and at the end, with its growth (target: no
more than 10%); the load average at the start and end; and whether every
due reminder was sent once.

``--find-rate`` runs a minute each at rising numbers of users and keeps the
one with the most requests per second and no failure: the highest rate
this machine sustains (more users beyond it only queue).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import secrets
import subprocess
import sys
import time
from pathlib import Path

from bench.common import SIZES, Context, Gunicorn, Result

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PASSWORD = "load test passphrase, not for real use"
MEMORY_GROWTH_TARGET = 0.10


# ---------------------------------------------------------------------------
# Who comes
# ---------------------------------------------------------------------------


def _person(username: str, agency_id: int, role: str) -> dict:
    """A load user: active, with the shared password, a member of the agency
    in the role, and a confirmed authenticator app with a key of its own."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from agencies.models import Agency, Membership

    User = get_user_model()
    agency = Agency.objects.get(pk=agency_id)
    user, _ = User.objects.update_or_create(username=username, defaults={
        "first_name": "Load", "last_name": username, "email": f"{username}@load.invalid", "is_active": True,
        "password": make_password(PASSWORD),
    })
    Membership.objects.get_or_create(user=user, agency=agency, role=role)
    user.groups.add(agency.group_id)
    TOTPDevice.objects.filter(user=user).delete()
    key = secrets.token_hex(20)
    TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True, key=key)
    return {"username": username, "key": key}


def _partner(ctx: Context, agency_id: int, n: int) -> dict:
    """A partner system of the agency with a fresh secret (client credentials)."""
    ctx.api_token(agency_id, ("referrals:read",), name=f"load-{n}")  # makes the client once
    from agencies.models import ApiClient

    client = ApiClient.objects.select_related("application").get(agency_id=agency_id, name=f"load-{n}",
                                                                  revoked_at__isnull=True)
    secret = secrets.token_urlsafe(32)
    application = client.application
    application.client_secret = secret  # hashed as it is saved
    application.save()
    return {"client_id": application.client_id, "client_secret": secret}


def prepare(ctx: Context, people: int) -> dict:
    """Make (or refresh) the load users and partner systems; returns the
    locustfile's configuration."""
    from django.db import transaction

    from agencies.models import Role
    from bench.generate import name_pools
    from bench.intake import _known

    cast = ctx.cast
    with transaction.atomic():
        config = {
            "password": PASSWORD,
            "practitioners": [_person(f"load-practitioner-{k:02d}", cast.big_agency_id, Role.PRACTITIONER)
                              for k in range(people)],
            "managers": [_person(f"load-manager-{k:02d}", cast.lead_agency_id, Role.MANAGER)
                         for k in range(max(2, people // 4))],
            "screeners": [_person(f"load-screener-{k:02d}", cast.hub_agency_id, Role.HUB_SCREENER)
                          for k in range(max(2, people // 4))],
            "partners": [_partner(ctx, cast.big_agency_id, k) for k in range(max(2, people // 2))],
        }
    pools = name_pools()
    config["given_names"] = (pools.given["male"] + pools.given["female"])[:500]
    config["family_names"] = pools.family[:2000]
    config["people"] = [{"given_name": g, "family_name": f, "date_of_birth": born.isoformat()}
                        for g, f, born, _postcode in _known(ctx, 500)]
    return config


# ---------------------------------------------------------------------------
# Running it
# ---------------------------------------------------------------------------


def _rss(pids: list[int]) -> dict[int, float]:
    import psutil

    out = {}
    for pid in pids:
        try:
            out[pid] = round(psutil.Process(pid).memory_info().rss / 1e6, 1)
        except psutil.Error:
            pass
    return out


def _processes(web: Gunicorn, worker, beat, redis) -> dict[str, list[int]]:
    return {
        "gunicorn master": [web.process.pid],
        **{f"gunicorn worker {k + 1}": [pid] for k, pid in enumerate(sorted(web.worker_pids()))},
        "celery worker (main)": worker.pids()[:1],
        **{f"celery worker (pool {k + 1})": [pid] for k, pid in enumerate(sorted(worker.pids()[1:]))},
        "celery beat": beat.pids()[:1],
        "redis": redis.pids(),
    }


def locust(host: str, config_path: Path, users: int, seconds: int, out: Path, timeline: Path | None = None) -> dict:
    """Run Locust headless; returns its stats per endpoint (from its CSV)."""
    prefix = out / f"locust-{users}u"
    env = {**os.environ, "LOAD_CONFIG": str(config_path)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    if timeline:
        env["LOAD_TIMELINE"] = str(timeline)
    done = subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"), "--headless", "--host", host,
         "--users", str(users), "--spawn-rate", str(max(1, users // 4)), "--run-time", f"{seconds}s",
         "--csv", str(prefix), "--only-summary", "--stop-timeout", "15", "--loglevel", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=seconds + 600, check=False,
    )
    rows = {}
    with open(f"{prefix}_stats.csv") as stats:
        for row in csv.DictReader(stats):
            rows[f"{row['Type']} {row['Name']}" if row["Name"] != "Aggregated" else "Aggregated"] = {
                "requests": int(row["Request Count"]), "failures": int(row["Failure Count"]),
                "p50": float(row["50%"] or 0), "p95": float(row["95%"] or 0), "p99": float(row["99%"] or 0),
                "rps": round(float(row["Requests/s"]), 2), "mean": round(float(row["Average Response Time"]), 1),
            }
    failures = []
    if Path(f"{prefix}_failures.csv").exists():
        with open(f"{prefix}_failures.csv") as failed:
            failures = list(csv.DictReader(failed))
    return {"endpoints": rows, "failures": failures, "returncode": done.returncode, "stderr": done.stderr[-3000:]}


class Stack:
    """gunicorn, Redis, a Celery worker and beat, as docker-compose runs
    them, against one database, for as long as the block lasts."""

    def __init__(self, database_url: str, *, web_workers: int = 3, sweep_seconds: int = 60, env: dict | None = None):
        self.database_url, self.web_workers, self.sweep_seconds = database_url, web_workers, sweep_seconds
        self.extra_env = env or {}

    def __enter__(self) -> "Stack":
        from bench.stack import Celery, RedisServer

        self.redis = RedisServer().start()
        self.env = {"CELERY_BROKER_URL": self.redis.url(0), "CACHE_URL": self.redis.url(1),
                    "REMINDER_SWEEP_SECONDS": str(self.sweep_seconds), **self.extra_env}
        self.web = Gunicorn(self.database_url, workers=self.web_workers, env=self.env).__enter__()
        self.worker = self.new_worker()
        self.beat = Celery(self.database_url, self.redis.url(0), role="beat", env=self.env).start()
        return self

    def new_worker(self):
        """A Celery worker (two pool processes), as the worker service runs."""
        from bench.stack import Celery

        return Celery(self.database_url, self.redis.url(0), concurrency=2, env=self.env).start()

    def __exit__(self, *exc) -> None:
        for part in (self.beat, self.worker):
            part.stop()
        self.web.__exit__()
        self.redis.__exit__()

    @property
    def host(self) -> str:
        return f"http://127.0.0.1:{self.web.port}"

    def processes(self) -> dict[str, list[int]]:
        return _processes(self.web, self.worker, self.beat, self.redis)


def _memory(before: dict[str, dict], after: dict[str, dict]) -> list[Result]:
    results = []
    for name, start in before.items():
        start_mb, end_mb = sum(start.values()), sum(after.get(name, {}).values())
        if not start_mb:
            continue
        growth = (end_mb - start_mb) / start_mb
        results.append(Result(
            name=f"load.memory.{name.replace(' ', '_').replace('(', '').replace(')', '')}", value=round(end_mb, 1),
            unit="MB", ratios={"end_vs_start": round(end_mb / start_mb, 3)},
            target=f"growth <= {MEMORY_GROWTH_TARGET:.0%}", met=growth <= MEMORY_GROWTH_TARGET,
            extra={"start_mb": round(start_mb, 1), "end_mb": round(end_mb, 1), "growth_pct": round(growth * 100, 1)},
        ))
    return results


def run_load(ctx: Context, *, users: int, seconds: int, warmup: int, due: int, out: Path,
             memory: bool = True) -> list[Result]:
    """One load run; returns the table's rows."""
    from django.utils import timezone

    from bench import reminders
    from reminders.models import Notification

    out.mkdir(parents=True, exist_ok=True)
    config_path = out / "load-config.json"
    config_path.write_text(json.dumps(prepare(ctx, max(users, 4))))
    load_start = os.getloadavg()
    try:
        arranged = reminders._arrange(due, timezone.localdate()) if due else 0
        expected = reminders._expected_reminders() if due else 0
        after = Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        with Stack(ctx.database_url) as stack:
            processes = stack.processes()
            warm = locust(stack.host, config_path, users, warmup, out) if warmup else None
            before = {name: _rss(pids) for name, pids in processes.items()}
            started = time.monotonic()
            got = locust(stack.host, config_path, users, seconds, out)
            elapsed = time.monotonic() - started
            after_rss = {name: _rss(pids) for name, pids in processes.items()}
            # Let the worker finish what the sweeps queued, then check it.
            new = Notification.objects.filter(pk__gt=after, kind="review_due_soon")
            deadline = time.monotonic() + 300
            while due and time.monotonic() < deadline and (
                    new.count() < expected or new.filter(emailed_at__isnull=True).exists()):
                time.sleep(2)
            reminders_made, reminders_sent = new.count(), new.filter(emailed_at__isnull=False).count()
            once = new.values("recipient_id", "dedup_key").distinct().count() == reminders_made
    finally:
        if due:
            reminders._restore()
    load_end = os.getloadavg()
    rows = []
    endpoints = got["endpoints"]
    total = endpoints.pop("Aggregated")
    for name, row in sorted(endpoints.items()):
        rows.append(Result(
            name=f"load.{name}", median_ms=row["p50"], p95_ms=row["p95"], n=row["requests"],
            value=row["rps"], unit="req/s", target="no failure", met=row["failures"] == 0,
            extra={"p99_ms": row["p99"], "mean_ms": row["mean"], "failures": row["failures"]},
        ))
    rows.append(Result(
        name="load.total", median_ms=total["p50"], p95_ms=total["p95"], n=total["requests"], value=total["rps"],
        unit="req/s", target="no failure", met=total["failures"] == 0 and got["returncode"] == 0,
        extra={"p99_ms": total["p99"], "failures": total["failures"], "users": users, "seconds": round(elapsed),
               "warmup_seconds": warmup, "gunicorn_workers": stack.web_workers,
               "load_average_start": [round(x, 2) for x in load_start],
               "load_average_end": [round(x, 2) for x in load_end],
               "failure_kinds": [f"{f['Method']} {f['Name']}: {f['Error'][:80]} x{f['Occurrences']}"
                                 for f in got["failures"]][:5]},
        notes="Locust (bench/locustfile.py): practitioners, managers, hub screeners (signed in with two-factor "
              "codes) and partner systems (OAuth) against gunicorn, PostgreSQL, Redis, a Celery worker and beat",
    ))
    if memory:
        rows += _memory(before, after_rss)
    if due:
        rows.append(Result(
            name="load.reminders_during_load", n=reminders_sent, target="every due reminder sent once",
            met=reminders_sent == expected and reminders_made == expected and once,
            extra={"due": arranged, "expected": expected, "recorded": reminders_made, "emailed": reminders_sent},
            notes="reviews made due before the load; beat's sweep and the worker sent them while it ran",
        ))
    if warm:
        rows[-1].extra["warmup_failures"] = warm["endpoints"].get("Aggregated", {}).get("failures")
    return rows


def find_rate(ctx: Context, steps: list[int], seconds: int, out: Path) -> tuple[int, list[dict]]:
    """A short run at each number of users; the one with the most requests
    per second and no failure."""
    tried = []
    for users in steps:
        rows = run_load(ctx, users=users, seconds=seconds, warmup=0, due=0, out=out / f"find-{users}")
        total = next(r for r in rows if r.name == "load.total")
        tried.append({"users": users, "rps": total.value, "p95_ms": total.p95_ms, "failures": total.extra["failures"]})
        print(f"  {users} users: {total.value} req/s, p95 {total.p95_ms} ms, failures {total.extra['failures']}",
              file=sys.stderr, flush=True)
    ok = [t for t in tried if t["failures"] == 0] or tried
    return max(ok, key=lambda t: t["rps"])["users"], tried


def run(ctx: Context) -> list[Result]:
    """For ``bench.run``: a short load at the size's clients (the CI size
    proves the harness; the ten-minute figures, memory included, come from
    ``python -m bench.load``)."""
    out = ROOT / ".local" / "bench" / f"load-{ctx.size.name}"
    return run_load(ctx, users=ctx.size.load_clients, seconds=max(20, int(ctx.size.load_seconds * 3)), warmup=0,
                    due=ctx.size.due_counts[0], out=out, memory=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The load test (Locust against the production shape)")
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--database-url", help="default: crossroads_bench_<size> on DATABASE_URL's server")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--users", type=int, help="concurrent users (default: --find-rate's choice, or 24)")
    parser.add_argument("--find-rate", action="store_true", help="first a minute at each of 8, 16, 24, 32 users")
    parser.add_argument("--due", type=int, default=None, help="reviews made due for the worker (default: the size's smallest due count)")
    parser.add_argument("--warmup", type=int, default=60, help="seconds of load before memory is first measured")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    from bench.common import database_url_for, django_setup, load_cast, machine
    from bench.run import write_report

    size = SIZES[args.size]
    url = args.database_url or database_url_for(size)
    django_setup(url)
    cast, spec = load_cast(size)
    ctx = Context(database_url=url, size=size, cast=cast, spec=spec)
    work = ROOT / ".local" / "bench" / f"load-{size.name}"
    started = time.monotonic()
    report = {"size": size.name, "command": "python -m bench.load " + " ".join(argv if argv is not None else sys.argv[1:]),
              "machine": machine(), "dataset": spec, "results": []}
    users = args.users or 24
    if args.find_rate:
        users, tried = find_rate(ctx, [8, 16, 24, 32], 60, work)
        report["find_rate"] = tried
    rows = run_load(ctx, users=users, seconds=int(args.minutes * 60), warmup=args.warmup,
                    due=size.due_counts[0] if args.due is None else args.due, out=work)
    if args.find_rate:
        rows.insert(0, Result(name="load.find_rate", n=len(report["find_rate"]), extra={
            "chosen_users": users, **{f"users_{t['users']}": f"{t['rps']} req/s, p95 {t['p95_ms']} ms, "
                                                             f"{t['failures']} failures" for t in report["find_rate"]}},
            notes="a minute at each number of users: the most requests per second with no failure"))
    report["results"] = [row.as_dict() for row in rows]
    write_report(report, args.out, f"load_{size.name}", started)
    return 0 if all(row.met is not False for row in rows) else 1


if __name__ == "__main__":
    random.seed(20_261_125)
    sys.exit(main())
