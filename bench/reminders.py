"""The daily review-reminder sweep with 1,000, 10,000 and 100,000 reviews due
among all the cases held (the CI size uses 10, 100 and 1,000).

The generated data has no review due on its day (``today`` in the record).
For each count, a fresh process (a Celery worker's stand-in, so its peak
memory is the sweep's own) does, in one transaction that it rolls back at
the end so the dataset stays as generated:

1. makes that many open cases' reviews due today (an ``UPDATE`` spread over
   the whole table);
2. runs ``reminders.services.review_sweep`` three times (it writes
   nothing): time, queries, how many cases it hands on, and its plan;
3. does what the per-case tasks do for every case handed on
   (``review_reminders_record`` then ``notification_email_send`` for each
   notification, exactly the bodies of ``reminders.tasks.review_remind``),
   timing each case; mail goes to Django's dummy backend;
4. sweeps again: a second run must hand on nothing and so send nothing.

At the full size the per-case work is done for at most ``Size.process_cap``
cases of each count (the sweep, its queries and its memory are measured on
all of them): the second run must then hand on exactly the cases not yet
processed, and none of those processed.

Its peak resident memory (sampled with psutil from outside) is the figure for "a Celery worker
sweeping 100,000 due items stays under 300 MB".
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import time
from array import array

from bench.common import Context, PeakRss, Result, count_queries, rss_mb, summarise

MEMORY_TARGET_MB = 300


def _arrange(due: int, today: dt.date) -> int:
    """Make ``due`` open cases' reviews fall due today, spread over the table."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE referrals_case SET next_review_due = %s WHERE id IN ("
            " SELECT id FROM referrals_case WHERE status = 'open' AND anonymised_at IS NULL"
            " ORDER BY (id * 2654435761) %% 1000003 LIMIT %s)",
            [today, due],
        )
        return cursor.rowcount


def _plan(now: dt.datetime) -> str:
    """The sweep query's plan, as PostgreSQL would run it (EXPLAIN of the
    statement the sweep sends, caught on its way to the database)."""
    from django.db import connection

    from reminders import services as reminders

    sent = []

    def catch(execute, sql, params, many, context):
        sent.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(catch):
        reminders.review_sweep(enqueue=lambda _: None, now=now)
    sql, params = sent[0]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def child(due: int, now: dt.datetime, cap: int | None = None) -> dict:
    """One measured sweep in this process (run by ``python -m bench.reminders --child``)."""
    from django.db import transaction

    from reminders import services as reminders
    from reminders.models import Notification

    today = now.date()
    started_rss = rss_mb()
    out: dict = {"due": due}
    with transaction.atomic():
        out["arranged"] = _arrange(due, today)
        out["plan"] = _plan(now)
        sweeps = []
        for _ in range(3):
            handed = array("q")  # what the sweep task would queue: ids only
            with count_queries() as counted:
                started = time.perf_counter()
                reminders.review_sweep(enqueue=handed.append, now=now)
                sweeps.append((time.perf_counter() - started) * 1000)
        out["sweep_ms"], out["sweep_queries"], out["handed_on"] = sweeps, counted.count, len(handed)
        before = Notification.objects.count()
        per_case, sent = [], 0
        with count_queries() as counted:
            started = time.perf_counter()
            processed = handed[:cap] if cap else handed
            for case_id in processed:
                t = time.perf_counter()
                for notification_id in reminders.review_reminders_record(case_id=case_id, now=now):
                    sent += reminders.notification_email_send(notification_id=notification_id)
                per_case.append((time.perf_counter() - t) * 1000)
            out["process_seconds"] = round(time.perf_counter() - started, 2)
        out["process_queries"], out["per_case_ms"] = counted.count, per_case
        out["notifications"], out["emails"] = Notification.objects.count() - before, sent
        second = array("q")
        with count_queries() as counted:
            started = time.perf_counter()
            reminders.review_sweep(enqueue=second.append, now=now)
            out["second_sweep_ms"] = (time.perf_counter() - started) * 1000
        # Cases the first run did not process (over the cap) are still due and
        # handed on again; none of those it processed may be.
        done = set(processed)
        again = [case_id for case_id in second if case_id in done]
        resent = 0
        for case_id in again:
            for notification_id in reminders.review_reminders_record(case_id=case_id, now=now):
                resent += reminders.notification_email_send(notification_id=notification_id)
        out["processed"], out["second_handed_on"], out["second_again"] = len(processed), len(second), len(again)
        out["second_queries"], out["second_emails"] = counted.count, resent
        out["second_notifications"] = Notification.objects.count() - before - out["notifications"]
        transaction.set_rollback(True)
    out["rss_start_mb"] = round(started_rss, 1)
    out["rss_end_mb"] = round(rss_mb(), 1)
    return out


def run(ctx: Context) -> list[Result]:
    now = dt.datetime.fromisoformat(ctx.spec["now"])
    results, sweeps = [], {}
    for due in ctx.size.due_counts:
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.reminders", "--child", str(due), "--now", now.isoformat(),
             "--database-url", ctx.database_url, *(["--cap", str(ctx.size.process_cap)] if ctx.size.process_cap else [])],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        # Sampled from outside: Linux carries ru_maxrss across exec, so the
        # child's own figure would be this (bigger) process's.
        with PeakRss([process.pid]) as peaks:
            stdout, stderr = process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"the sweep of {due} failed: {stderr[-2000:]}")
        got = json.loads(stdout.strip().splitlines()[-1])
        got["peak_rss_mb"] = peaks.peak
        sweeps[due] = got
        plan = got["plan"]
        by_index = "Seq Scan on referrals_case" not in plan
        results.append(Result.from_samples(
            f"reminders.sweep_{due}", got["sweep_ms"], target="cost grows with what is due (index scan, no scan "
            "of all cases)", met=by_index and got["handed_on"] == got["arranged"],
            extra={"handed_on": got["handed_on"], "queries": got["sweep_queries"],
                   "plan": " / ".join(line.strip(" ->") for line in plan.splitlines()
                                      if "Cond" not in line and "Filter" not in line)},
            notes=f"review_sweep with {due:,} due among {ctx.spec['counts']['referrals_case']:,} cases",
        ))
        results.append(Result.from_samples(
            f"reminders.process_{due}", got["per_case_ms"], value=got["process_seconds"], unit="s",
            extra={"processed": got["processed"], "queries": got["process_queries"],
                   "queries_per_case": round(got["process_queries"] / max(got["processed"], 1), 1),
                   "notifications": got["notifications"], "emails": got["emails"]},
            notes="per case: review_reminders_record + notification_email_send (the review_remind task body)",
        ))
        second_ok = (got["second_again"] == 0 and got["second_notifications"] == 0 and got["second_emails"] == 0
                     and got["second_handed_on"] == got["handed_on"] - got["processed"])
        results.append(Result(
            name=f"reminders.second_run_{due}", median_ms=round(got["second_sweep_ms"], 2), n=1,
            target="a second run sends nothing", met=second_ok,
            extra={"handed_on": got["second_handed_on"], "handed_on_again": got["second_again"],
                   "notifications": got["second_notifications"],
                   "emails": got["second_emails"], "queries": got["second_queries"]},
        ))
        results.append(Result(
            name=f"reminders.worker_peak_rss_{due}", value=got["peak_rss_mb"], unit="MB",
            target=f"< {MEMORY_TARGET_MB} MB at 100,000 due" if due == max(ctx.size.due_counts) else "",
            met=got["peak_rss_mb"] < MEMORY_TARGET_MB if due == max(ctx.size.due_counts) else None,
            extra={"rss_after_setup_mb": got["rss_start_mb"], "rss_at_end_mb": got["rss_end_mb"]},
            notes="peak RSS of the process that swept and processed them (psutil, every 50 ms)",
        ))
    low, high = min(sweeps), max(sweeps)
    sweep_low, sweep_high = summarise(sweeps[low]["sweep_ms"])[0], summarise(sweeps[high]["sweep_ms"])[0]
    process_low, process_high = sweeps[low]["process_seconds"], sweeps[high]["process_seconds"]
    results.append(Result(
        name="reminders.scaling", n=len(sweeps),
        ratios={"due": round(high / low, 1), "sweep_time": round(sweep_high / max(sweep_low, 1e-3), 1),
                "process_time": round(process_high / max(process_low, 1e-3), 1), "cases_held": 1.0},
        notes=f"{high:,} due vs {low:,} due among the same cases: the cost follows what is due",
    ))
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="One measured review sweep (used by bench.run)")
    parser.add_argument("--child", type=int, required=True, help="how many reviews to make due")
    parser.add_argument("--now", required=True, help="the moment to sweep at (ISO 8601)")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--cap", type=int, help="process at most this many of the cases handed on")
    args = parser.parse_args(argv)
    from bench.common import django_setup

    django_setup(args.database_url)
    print(json.dumps(child(args.child, dt.datetime.fromisoformat(args.now), args.cap)))


if __name__ == "__main__":
    main()
