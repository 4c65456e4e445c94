"""Fault drills: the production shape under load while something it needs
goes away, each scripted and repeatable.

    python -m bench.faults postgres-restart     # PostgreSQL stopped for 20 s during the load, then started
    python -m bench.faults redis-stop           # Redis (broker and cache) stopped for 120 s during a sweep
    python -m bench.faults worker-kill          # the Celery worker killed (SIGKILL) during a sweep
    python -m bench.faults all                  # the three, one after another; writes bench/results/faults.md

Every drill runs on servers of its own, never the machine's shared ones: a
throwaway PostgreSQL cluster (``bench.stack.PostgresCluster``, PostgreSQL
18 on a free port, the small dataset generated into it), a Redis of its
own, gunicorn (three workers, persistent connections), a Celery worker
and beat (sweeps every minute), as ``bench.load.Stack`` runs them, with
the load test's users (``bench/locustfile.py``) at a steady rate.

Before each drill ``--due`` open cases' reviews are made due today, and a
review sweep is queued; mail goes to a file per message
(``bench/mail.py``, ``BENCH_MAIL_DELAY`` seconds apiece so the fault
strikes while e-mails are going out). A drill then waits until every due
reminder is e-mailed (or gives up after ``--settle`` seconds) and reports:

* requests: how many, how many failed, by status and content type (a 503
  page or problem document is the expected answer while the database is
  down; a 500 or a dropped connection is a bug), and the recovery time:
  from the service's return to the first and last failure after it;
* reminders: expected, recorded, e-mailed, lost (due but never e-mailed)
  and doubled (an e-mail sent twice); both must be zero.
"""

from __future__ import annotations

import argparse
import datetime as dt
import email
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from bench.common import SIZES, Context, Result

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DRILLS = ["postgres-restart", "redis-stop", "worker-kill"]


class Drill:
    """One drill's stack, load and measurements."""

    def __init__(self, ctx: Context, cluster, *, users: int, due: int, mail_delay: float, settle: int):
        self.ctx, self.cluster, self.users, self.due, self.mail_delay, self.settle = (
            ctx, cluster, users, due, mail_delay, settle)
        self.work = Path(tempfile.mkdtemp(prefix="crossroads-drill-", dir=ROOT / ".local" / "bench"))
        self.mail = self.work / "mail"
        self.mail.mkdir()
        self.timeline = self.work / "timeline.jsonl"
        self.events: dict[str, float] = {}

    def mark(self, event: str) -> None:
        self.events[event] = time.time()
        print(f"    {event}", file=sys.stderr, flush=True)

    def run(self, name: str, fault, seconds: int) -> Result:
        from django.utils import timezone

        from bench import reminders
        from bench.load import Stack, locust, prepare
        from reminders.models import Notification

        config = self.work / "load-config.json"
        config.write_text(json.dumps(prepare(self.ctx, self.users)))
        arranged = reminders._arrange(self.due, timezone.localdate())
        expected = reminders._expected_reminders()
        after = Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        env = {"BENCH_MAIL_DIR": str(self.mail), "BENCH_MAIL_DELAY": str(self.mail_delay)}
        try:
            with Stack(self.ctx.database_url, env=env) as stack:
                self.stack = stack
                load = threading.Thread(target=lambda: setattr(self, "load", locust(
                    stack.host, config, self.users, seconds, self.work, timeline=self.timeline)))
                load.start()
                self.mark("load started")
                fault(self)
                load.join()
                self.mark("load ended")
                new = Notification.objects.filter(pk__gt=after, kind="review_due_soon")
                deadline = time.monotonic() + self.settle
                while time.monotonic() < deadline and (
                        new.count() < expected or new.filter(emailed_at__isnull=True).exists()):
                    time.sleep(2)
                self.mark("reminders settled")
                recorded, emailed_rows = new.count(), new.filter(emailed_at__isnull=False).count()
        finally:
            reminders._restore()
        return self.report(name, seconds, arranged, expected, recorded, emailed_rows)

    def queue_sweep(self) -> None:
        from celery import Celery as Producer

        producer = Producer("drill", broker=self.stack.redis.url(0))
        producer.send_task("reminders.review_sweep")
        producer.close()
        self.mark("review sweep queued")

    def sent(self) -> list[tuple[str, str]]:
        pairs = []
        for path in self.mail.glob("*.eml"):
            message = email.message_from_bytes(path.read_bytes())
            if str(message["Subject"]).startswith("Review of case"):
                pairs.append((str(message["To"]), str(message["Subject"])))
        return pairs

    def report(self, name: str, seconds: int, arranged: int, expected: int, recorded: int, emailed_rows: int) -> Result:
        lines = [json.loads(line) for line in self.timeline.read_text().splitlines() if line.strip()]
        failed = [line for line in lines if not (200 <= line[2] < 400)]
        kinds = Counter(f"{line[2] or line[4]} {line[3]}".strip() for line in failed)
        back = self.events.get("service back")
        after_back = [line for line in failed if back and line[0] >= back]
        ok_after_back = [line for line in lines if back and line[0] >= back and 200 <= line[2] < 400]
        pairs = self.sent()
        doubled = len(pairs) - len(set(pairs))
        lost = expected - len(set(pairs))
        start = self.events["load started"]
        timeline = {event: round(at - start, 1) for event, at in self.events.items()}
        recovery = {
            "first_success_after_return_s": round(ok_after_back[0][0] - back, 1) if ok_after_back else None,
            "last_failure_after_return_s": round(after_back[-1][0] - back, 1) if after_back else 0.0,
        } if back else {}
        if "reminders settled" in self.events and back:
            recovery["reminders_all_sent_after_return_s"] = round(self.events["reminders settled"] - back, 1)
        server_errors = sum(count for kind, count in kinds.items() if kind.split()[0] in {"500", "502", "504", "0"}
                            or kind.split()[0].isalpha())
        return Result(
            name=f"faults.{name}", n=len(lines), value=float(len(failed)), unit="failed requests",
            target="no 500 or dropped connection; no reminder lost or doubled; recovers by itself",
            met=server_errors == 0 and doubled == 0 and lost == 0 and recorded == expected == emailed_rows,
            extra={"requests": len(lines), "failed": len(failed), "failed_by_kind": dict(kinds),
                   "server_errors_or_dropped": server_errors, **recovery,
                   "reminders_expected": expected, "recorded": recorded, "emailed_rows": emailed_rows,
                   "emails_sent": len(pairs), "lost": lost, "doubled": doubled, "due": arranged,
                   "load_seconds": seconds, "users": self.users, "events_s": timeline},
        )


# ---------------------------------------------------------------------------
# The faults
# ---------------------------------------------------------------------------


def _outage(*, lead: float, mails: int, stop, down: float, start):
    """A fault: after ``lead`` seconds of load, queue a review sweep; once
    ``mails`` e-mails have gone out, ``stop(drill)``, stay down ``down``
    seconds, then ``start(drill)``."""
    def fault(drill: Drill) -> None:
        time.sleep(lead)
        drill.queue_sweep()
        _wait_for_mail(drill, mails)
        stop(drill)
        drill.mark("service down")
        time.sleep(down)
        start(drill)
        drill.mark("service back")
    return fault


def _postgres_back(drill: Drill) -> None:
    from django.db import connections

    drill.cluster.start()
    connections.close_all()  # this process's own connection went with the server


def _worker_back(drill: Drill) -> None:
    # As a supervisor (docker's restart policy) starts another.
    drill.stack.worker = drill.stack.new_worker()


def postgres_restart(down: float, lead: float):
    """PostgreSQL stopped (fast shutdown: sessions cut) while reminders go out, then started."""
    return _outage(lead=lead, mails=10, stop=lambda d: d.cluster.stop(), down=down, start=_postgres_back)


def redis_stop(down: float, lead: float):
    """Redis (broker and cache) stopped while reminders go out, then started (its queue kept on disk)."""
    return _outage(lead=lead, mails=10, stop=lambda d: d.stack.redis.stop(), down=down,
                   start=lambda d: d.stack.redis.start())


def worker_kill(lead: float):
    """The Celery worker killed (SIGKILL of its whole group) while reminders go out; another started."""
    return _outage(lead=lead, mails=20, stop=lambda d: d.stack.worker.kill(), down=5, start=_worker_back)


def _wait_for_mail(drill: Drill, n: int) -> None:
    deadline = time.monotonic() + 300
    while len(list(drill.mail.glob("*.eml"))) < n and time.monotonic() < deadline:
        time.sleep(0.1)
    drill.mark(f"{len(list(drill.mail.glob('*.eml')))} e-mails sent")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fault drills under load (servers of their own)")
    parser.add_argument("drill", choices=[*DRILLS, "all"])
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--due", type=int, default=300, help="reviews made due before each drill")
    parser.add_argument("--postgres-down", type=float, default=20.0)
    parser.add_argument("--redis-down", type=float, default=120.0)
    parser.add_argument("--settle", type=int, default=420, help="seconds to wait for every reminder afterwards")
    parser.add_argument("--mail-delay", type=float, default=0.05, help="seconds per e-mail")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    from bench.common import django_setup, load_cast, machine
    from bench.run import write_report
    from bench.stack import PostgresCluster

    started = time.monotonic()
    size = SIZES["small"]
    results = []
    with PostgresCluster() as cluster:
        url = cluster.url(size.database)
        print(f"PostgreSQL cluster of its own on port {cluster.port}; loading the small dataset", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "bench.generate", url, "--size", "small"], cwd=ROOT, check=True,
                       env={k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"})
        django_setup(url)
        cast, spec = load_cast(size)
        ctx = Context(database_url=url, size=size, cast=cast, spec=spec)
        report = {"size": "small", "command": "python -m bench.faults " + " ".join(argv if argv is not None else sys.argv[1:]),
                  "machine": machine(), "dataset": spec, "results": []}
        plans = {
            "postgres-restart": (postgres_restart(args.postgres_down, 40), int(40 + args.postgres_down + 60)),
            "redis-stop": (redis_stop(args.redis_down, 20), int(20 + args.redis_down + 60)),
            "worker-kill": (worker_kill(20), 120),
        }
        for name in DRILLS if args.drill == "all" else [args.drill]:
            print(f"bench.faults: {name}", file=sys.stderr, flush=True)
            fault, seconds = plans[name]
            drill = Drill(ctx, cluster, users=args.users, due=args.due, mail_delay=args.mail_delay, settle=args.settle)
            result = drill.run(name, fault, seconds)
            print(f"  {result.name}: met {result.met}; {json.dumps(result.extra)}", file=sys.stderr, flush=True)
            results.append(result)
        report["results"] = [result.as_dict() for result in results]
        report["when"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        from django.db import connections

        connections.close_all()
    write_report(report, args.out, "faults" if args.drill == "all" else f"faults_{args.drill}", started)
    return 0 if all(result.met for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
