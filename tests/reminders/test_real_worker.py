"""A real Celery worker process against the machine's Redis: sweeps run
twice at once send each due reminder exactly once, and a worker killed
mid-send (SIGKILL) and restarted loses and doubles nothing.

Needs Redis on 127.0.0.1:6379 (CI and this machine have it); skipped, with
the reason, when nothing listens there.
"""

from __future__ import annotations

import datetime as dt
import email
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from celery import Celery
from django.db import connection
from django.utils import timezone

from reminders.models import Notification
from referrals import models as rm
from tests import factories as f

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("REMINDER_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
# A queue of this test run's own: two runs on one machine (and one Redis)
# never take each other's tasks, and each clears only its own queue.
QUEUE = f"reminders-test-{uuid.uuid4().hex[:12]}"


def _redis_listening() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


# CI sets REMINDER_TEST_REQUIRE_REDIS=1: there a missing Redis fails these
# tests instead of skipping them.
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not _redis_listening() and os.environ.get("REMINDER_TEST_REQUIRE_REDIS") != "1",
        reason="no Redis listening on 127.0.0.1:6379 for the real worker",
    ),
]


def _database_url() -> str:
    s = connection.settings_dict
    user = quote(s.get("USER") or "", safe="")
    password = quote(s.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = quote(s.get("HOST") or "", safe="")
    port = f":{s['PORT']}" if s.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{s['NAME']}"


def _wait(predicate, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    # ``what`` may be a callable, so the worker's log is read at the timeout.
    raise AssertionError(f"timed out after {timeout}s waiting for {what() if callable(what) else what}")


class Worker:
    """Starts and kills `celery -A config worker` processes for one test."""

    def __init__(self, tmp_path: Path, *, delay: float = 0.0, pool: str = "solo", concurrency: int = 1):
        self.mail = tmp_path / "mail"
        self.mail.mkdir()
        self.logs = tmp_path
        self.pool, self.concurrency = pool, concurrency
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.reminders.worker_settings",
            "DATABASE_URL": _database_url(),
            "CELERY_BROKER_URL": REDIS_URL,
            "REMINDER_TEST_QUEUE": QUEUE,
            "REMINDER_TEST_MAIL_DIR": str(self.mail),
            "REMINDER_TEST_MAIL_DELAY": str(delay),
            "REMINDERS_SWEEP_ON_START": "false",
            "PYTHONUNBUFFERED": "1",
        }
        self.processes: list[subprocess.Popen] = []

    def start(self, *, sweep_on_start: bool = False) -> subprocess.Popen:
        env = dict(self.env, REMINDERS_SWEEP_ON_START="true" if sweep_on_start else "false")
        log = open(self.logs / f"worker-{len(self.processes)}.log", "wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", f"--pool={self.pool}",
             f"--concurrency={self.concurrency}", "--loglevel=INFO", "--without-gossip", "--without-mingle",
             "--without-heartbeat", "-n", f"reminders-test-{uuid.uuid4().hex[:8]}@%h"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.processes.append(process)
        return process

    def kill(self, process: subprocess.Popen) -> None:
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            process.kill()

    def kill_all(self) -> None:
        for process in self.processes:
            self.kill(process)

    def sent(self) -> list[email.message.Message]:
        return [email.message_from_bytes(p.read_bytes()) for p in sorted(self.mail.glob("*.eml"))]

    def sending(self) -> int:
        return len(list(self.mail.glob("*.sending")))

    def log(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(self.logs.glob("worker-*.log")))


@pytest.fixture
def broker():
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.delete(QUEUE)
    # Never the current app: were it, every shared task the later tests in
    # this process call would go, not eager, to this test's queue.
    producer = Celery("reminders-test", broker=REDIS_URL, set_as_current=False)
    producer.conf.broker_transport_options = {"visibility_timeout": 8}
    producer.conf.task_default_queue = QUEUE
    yield producer
    producer.close()
    client.delete(QUEUE)
    client.close()


def _due_items(cast, overdue: int, soon: int = 0):
    today = timezone.localdate()
    manager = f.make_member(cast.owner, "manager", username="rw-manager")
    for i in range(overdue + soon):
        f.CaseFactory(
            lead_agency=cast.owner, key_worker=cast.user("owner", "practitioner"),
            next_review_due=today - dt.timedelta(days=10) if i < overdue else today,
            young_person=f.YoungPersonFactory(recorded_by=cast.owner),
        )
    return manager




def _assert_exactly_once(worker: Worker, expected: int) -> None:
    notifications = list(Notification.objects.select_related("recipient"))
    assert len(notifications) == expected
    assert len({(n.recipient_id, n.dedup_key) for n in notifications}) == expected
    assert all(n.emailed_at is not None for n in notifications)
    messages = worker.sent()
    pairs = sorted((m["To"], m["Subject"]) for m in messages)
    assert len(pairs) == expected, f"{len(pairs)} e-mails for {expected} notifications"
    assert len(set(pairs)) == expected, "an e-mail was sent twice"
    assert pairs == sorted((n.recipient.email, n.subject) for n in notifications)


def test_two_sweeps_at_once_send_each_reminder_once(cast, broker, tmp_path):
    _due_items(cast, overdue=6, soon=3)
    late = f.ReferralFactory(
        referring_agency=cast.referrer, young_person=f.YoungPersonFactory(recorded_by=cast.referrer),
        received_at=timezone.now() - dt.timedelta(days=3), decision_due_at=timezone.now() - dt.timedelta(days=1),
    )
    # 6 overdue x (key worker + 2 managers) + 3 due soon x key worker + the hub's screener and manager.
    expected = 6 * 3 + 3 + 2
    worker = Worker(tmp_path, pool="prefork", concurrency=4)
    try:
        worker.start()
        # Two sweeps at once, as from two beat processes.
        broker.send_task("reminders.reminders_sweep")
        broker.send_task("reminders.reminders_sweep")
        _wait(lambda: Notification.objects.filter(emailed_at__isnull=False).count() >= expected, 180,
              lambda: f"{expected} e-mailed notifications\n{worker.log()}")
        # And a third, late: it must find everything done.
        broker.send_task("reminders.reminders_sweep")
        time.sleep(4)
    finally:
        worker.kill_all()
    _assert_exactly_once(worker, expected)
    assert Notification.objects.filter(referral_id=late.pk).count() == 2
    assert rm.Case.objects.count() == 9


def test_a_worker_killed_mid_send_and_restarted_loses_and_doubles_nothing(cast, broker, tmp_path):
    _due_items(cast, overdue=5)
    expected = 5 * 3
    worker = Worker(tmp_path, delay=0.6)
    try:
        first = worker.start()
        broker.send_task("reminders.reminders_sweep")
        # Kill it while it is inside a send (after a few have gone).
        _wait(lambda: worker.sending() >= 4, 180, lambda: f"the fourth send to start\n{worker.log()}", interval=0.05)
        worker.kill(first)
        assert first.returncode == -signal.SIGKILL
        sent_before = len(worker.sent())
        assert 0 < sent_before < expected
        assert Notification.objects.filter(emailed_at__isnull=False).count() == sent_before
        # A new worker: it sweeps as it starts, and Redis hands back the
        # killed worker's unacknowledged message after its visibility timeout.
        worker.start(sweep_on_start=True)
        _wait(lambda: Notification.objects.filter(emailed_at__isnull=False).count() >= expected, 180,
              lambda: f"every notification e-mailed after the restart\n{worker.log()}")
        time.sleep(10)  # let any redelivered message run: it must send nothing
    finally:
        worker.kill_all()
    _assert_exactly_once(worker, expected)
