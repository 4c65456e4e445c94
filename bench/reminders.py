"""The daily review-reminder sweep with 1,000, 10,000 and 100,000 reviews due
among all the cases held (the CI size uses 10, 100 and 300), and one worker
processing them.

The generated data has no review due on its day (``today`` in the record).
For each count, a fresh process (a Celery worker's stand-in, so its peak
memory is the sweep's own):

1. makes that many open cases' reviews due today (an ``UPDATE`` spread over
   the whole table, committed; the dates it replaced are kept in
   ``bench_reminders_restore`` and put back at the end, with the
   notifications it made removed, so the dataset stays as generated; with
   ``session_replication_role = replica``, so no history row or caseload
   index change is written either way);
2. runs ``reminders.services.review_sweep`` three times (it writes
   nothing): time, queries, how many cases it hands on, and its plan;
3. processes every case handed on as one worker would: in each partnership,
   in batches of ``reminders.tasks.BATCH_SIZE``, the body of
   ``reminders.tasks.review_remind_many`` (``review_reminders_record_many``
   then ``notifications_email_send``), outside any transaction, as the task
   runs; mail goes to Django's dummy backend. Its time, queries per case
   and the time of each batch;
4. sweeps again: a second run must hand on nothing and so send nothing.

Then, for the largest count, a real Celery worker (one process, the solo
pool, against a Redis of its own) is given the review sweep task and does
all of it, sweep, batches and e-mails, through the broker: the time from
queuing the sweep to the last notification e-mailed is the figure for
"100,000 due items processed by one worker in under 60 s".

Peak resident memory (sampled with psutil from outside) is the figure for
"a Celery worker sweeping 100,000 due items stays under 300 MB".
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


RESTORE_TABLE = "bench_reminders_restore"
PROCESS_TARGET_SECONDS = 60


def _restore() -> int:
    """Put back the review dates a run replaced and remove the notifications
    it made (also what a killed run left behind); returns the cases restored."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {RESTORE_TABLE} (id bigint PRIMARY KEY, next_review_due date,"
                       " notifications_after bigint NOT NULL)")
        cursor.execute(f"DELETE FROM agencies_notification WHERE id > (SELECT min(notifications_after)"
                       f" FROM {RESTORE_TABLE})")
        cursor.execute(f"UPDATE referrals_case c SET next_review_due = r.next_review_due FROM {RESTORE_TABLE} r"
                       " WHERE c.id = r.id")
        restored = cursor.rowcount
        cursor.execute(f"DELETE FROM {RESTORE_TABLE}")
        cursor.execute("SET session_replication_role = DEFAULT")
    return restored


def _arrange(due: int, today: dt.date) -> int:
    """Make ``due`` open cases' reviews fall due today, spread over the
    table, keeping what they were for ``_restore``."""
    from django.db import connection

    _restore()
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(
            f"INSERT INTO {RESTORE_TABLE} (id, next_review_due, notifications_after)"
            " SELECT id, next_review_due, (SELECT coalesce(max(id), 0) FROM agencies_notification)"
            " FROM referrals_case WHERE status = 'open' AND anonymised_at IS NULL"
            " ORDER BY (id * 2654435761) %% 1000003 LIMIT %s",
            [due],
        )
        cursor.execute(f"UPDATE referrals_case c SET next_review_due = %s FROM {RESTORE_TABLE} r WHERE c.id = r.id",
                       [today])
        arranged = cursor.rowcount
        cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute("ANALYZE referrals_case")
    return arranged


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


class _Cpu:
    """CPU seconds of this process and of its database backend over a block:
    the work itself, whatever else the (shared) machine is doing."""

    def __enter__(self) -> "_Cpu":
        import psutil
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.backend = psutil.Process(cursor.fetchone()[0])
        self.me = psutil.Process()
        self.start = (sum(self.me.cpu_times()[:2]), sum(self.backend.cpu_times()[:2]))
        return self

    def __exit__(self, *exc) -> None:
        self.worker = round(sum(self.me.cpu_times()[:2]) - self.start[0], 1)
        self.database = round(sum(self.backend.cpu_times()[:2]) - self.start[1], 1)


def _process(handed: dict[int, array], now: dt.datetime, cap: int | None) -> dict:
    """What one worker does with what the sweep handed on: each
    partnership's cases in batches, the body of ``review_remind_many``
    (record the reminders; their e-mails are handed on), then the e-mails,
    in batches, the body of ``notification_email_many``."""
    from reminders import services as reminders
    from reminders.tasks import BATCH_SIZE
    from safeguarding import access

    per_batch, processed, pending = [], [], []
    with count_queries() as counted, _Cpu() as cpu:
        started = time.perf_counter()
        for partnership_id, ids in handed.items():
            ids = ids[:max(0, cap - len(processed))] if cap else ids
            for at in range(0, len(ids), BATCH_SIZE):
                batch = list(ids[at:at + BATCH_SIZE])
                t = time.perf_counter()
                actor = access.system_actor(label="reminders", partnership=partnership_id)
                with access.within_partnership(actor):
                    pending += reminders.review_reminders_record_many(case_ids=batch, now=now, actor=actor)
                per_batch.append((time.perf_counter() - t) * 1000)
                processed += batch
        seconds = time.perf_counter() - started
    sent = 0
    with count_queries() as emailing, _Cpu() as email_cpu:
        started = time.perf_counter()
        with access.within_partnership(access.system_actor(label="reminders")):
            for at in range(0, len(pending), BATCH_SIZE):
                sent += reminders.notifications_email_send(notification_ids=pending[at:at + BATCH_SIZE])
        email_seconds = time.perf_counter() - started
    return {"processed": processed, "seconds": round(seconds, 2), "queries": counted.count, "per_batch_ms": per_batch,
            "notifications": len(pending), "cpu_worker_s": cpu.worker, "cpu_database_s": cpu.database,
            "emails": sent, "email_seconds": round(email_seconds, 2), "email_queries": emailing.count,
            "email_cpu_worker_s": email_cpu.worker, "email_cpu_database_s": email_cpu.database}


def _sweep_each(now: dt.datetime) -> dict[int, array]:
    """The review sweep in each partnership, as the sweep task runs it."""
    from reminders import services as reminders
    from safeguarding import access

    handed = {}
    for partnership_id in access.task_partnership_ids():
        actor = access.system_actor(label="reminders", partnership=partnership_id)
        ids = array("q")
        with access.within_partnership(actor):
            reminders.review_sweep(enqueue=ids.append, now=now, actor=actor)
        if ids:
            handed[partnership_id] = ids
    return handed


def child(due: int, now: dt.datetime, cap: int | None = None) -> dict:
    """One measured sweep in this process (run by ``python -m bench.reminders --child``)."""
    from reminders import services as reminders
    from reminders.models import Notification

    today = now.date()
    started_rss = rss_mb()
    out: dict = {"due": due}
    try:
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
        processing = _process(_sweep_each(now), now, cap)
        processed = processing.pop("processed")
        out.update({f"process_{k}": v for k, v in processing.items()})
        out["notifications"] = Notification.objects.count() - before
        out["emails"] = processing["emails"]
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
            resent += reminders.notifications_email_send(
                notification_ids=reminders.review_reminders_record(case_id=case_id, now=now))
        out["processed"], out["second_handed_on"], out["second_again"] = len(processed), len(second), len(again)
        out["second_queries"], out["second_emails"] = counted.count, resent
        out["second_notifications"] = Notification.objects.count() - before - out["notifications"]
    finally:
        _restore()
    out["rss_start_mb"] = round(started_rss, 1)
    out["rss_end_mb"] = round(rss_mb(), 1)
    return out


def _expected_reminders() -> int:
    """How many "due soon" reminders the arranged cases make: one for each
    whose key worker is active."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {RESTORE_TABLE} r JOIN referrals_case c ON c.id = r.id"
                       " JOIN auth_user u ON u.id = c.key_worker_id WHERE u.is_active")
        return cursor.fetchone()[0]


def worker_run(database_url: str, due: int) -> dict:
    """A real Celery worker (one process) given the review sweep task with
    ``due`` reviews due today: the time until every reminder is e-mailed."""
    from django.utils import timezone

    from bench.stack import Celery, RedisServer, wait_for
    from reminders.models import Notification

    try:
        arranged = _arrange(due, timezone.localdate())
        after = Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        expected = _expected_reminders()
        with RedisServer() as redis, Celery(database_url, redis.url(), pool="solo", concurrency=1) as worker:
            from celery import Celery as Producer

            producer = Producer("bench", broker=redis.url())
            new = Notification.objects.filter(pk__gt=after)
            with PeakRss(worker.pids) as peaks:
                started = time.monotonic()
                producer.send_task("reminders.review_sweep")
                wait_for(lambda: new.count() >= expected, 1800, f"{expected} reminders recorded", interval=0.25)
                recorded = time.monotonic() - started
                wait_for(lambda: not new.filter(emailed_at__isnull=True).exists(), 1800,
                         f"{expected} reminders e-mailed", interval=0.25)
                seconds = time.monotonic() - started
            producer.close()
            notifications, emailed = new.count(), new.filter(emailed_at__isnull=False).count()
            batches = worker.log.read_text().count("reminders.review_remind_many[")
    finally:
        _restore()
    return {"arranged": arranged, "expected": expected, "seconds": round(seconds, 1), "recorded_seconds": round(recorded, 1),
            "notifications": notifications, "emailed": emailed,
            "peak_rss_mb": peaks.peak, "batch_tasks": batches // 2}


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
        processed = max(got["processed"], 1)
        results.append(Result.from_samples(
            f"reminders.process_{due}", got["process_per_batch_ms"], value=got["process_seconds"], unit="s",
            target=f"< {PROCESS_TARGET_SECONDS} s for 100,000" if due == 100_000 else "",
            met=got["process_seconds"] < PROCESS_TARGET_SECONDS if due == 100_000 else None,
            extra={"processed": got["processed"], "queries": got["process_queries"],
                   "queries_per_case": round(got["process_queries"] / processed, 3),
                   "cases_per_second": round(got["processed"] / max(got["process_seconds"], 1e-3)),
                   "cpu_worker_s": got["process_cpu_worker_s"], "cpu_database_s": got["process_cpu_database_s"],
                   "notifications": got["notifications"]},
            notes="one worker's work in process: each partnership's cases in batches, the body of "
                  "review_remind_many (review_reminders_record_many: the reminders are in the app; their "
                  "e-mails handed on); median/p95 per batch",
        ))
        emails = max(got["emails"], 1)
        results.append(Result(
            name=f"reminders.email_{due}", value=got["process_email_seconds"], unit="s", n=got["emails"],
            extra={"emails": got["emails"], "queries": got["process_email_queries"],
                   "queries_per_email": round(got["process_email_queries"] / emails, 3),
                   "emails_per_second": round(got["emails"] / max(got["process_email_seconds"], 1e-3)),
                   "cpu_worker_s": got["process_email_cpu_worker_s"],
                   "cpu_database_s": got["process_email_cpu_database_s"]},
            notes="then their e-mails in batches, the body of notification_email_many (one statement per e-mail, "
                  "Django's dummy mail backend: a real mail service sets the pace)",
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
    high_due = max(sweeps)
    worker = worker_run(ctx.database_url, high_due)
    results.append(Result(
        name=f"reminders.worker_{high_due}", value=worker["recorded_seconds"], unit="s", n=worker["emailed"],
        target=f"< {PROCESS_TARGET_SECONDS} s for 100,000" if high_due == 100_000 else "",
        met=(worker["recorded_seconds"] < PROCESS_TARGET_SECONDS and worker["emailed"] == worker["expected"])
        if high_due == 100_000 else worker["emailed"] == worker["expected"],
        extra={"all_recorded_s": worker["recorded_seconds"], "all_emailed_s": worker["seconds"],
               "due": worker["arranged"], "reminders_expected": worker["expected"],
               "notifications": worker["notifications"], "emailed": worker["emailed"],
               "batch_tasks": worker["batch_tasks"], "worker_peak_rss_mb": worker["peak_rss_mb"]},
        notes="a real Celery worker (solo pool, one process) with a Redis broker of its own, given "
              "reminders.review_sweep: value, the time until every due case's reminder is recorded (in the app, "
              "its e-mail queued); all_emailed_s, until the last is e-mailed too (dummy mail backend)",
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
