"""Fixtures for the reminder tests: Celery run in-process (eager), frozen
time, and a case led by the owner agency with the owner's practitioner as
key worker."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.core.mail.backends import locmem

from config.celery import app as celery_app
from referrals import models as rm
from tests import factories as f

LONDON = zoneinfo.ZoneInfo("Europe/London")


def at(year, month, day, hour=9, minute=0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=LONDON)


@pytest.fixture
def eager():
    """Tasks run in this process when queued (after commit)."""
    before = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield celery_app
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = before


@pytest.fixture
def frozen():
    """``frozen(moment)``: travel to a moment and stay there (re-callable)."""
    travellers = []

    def go(moment: dt.datetime):
        if travellers:
            travellers.pop().stop()
        traveller = time_machine.travel(moment, tick=False)
        traveller.start()
        travellers.append(traveller)

    yield go
    while travellers:
        travellers.pop().stop()


@pytest.fixture
def run(eager, django_capture_on_commit_callbacks):
    """``run(task, *args)``: run a task as beat would, with everything it
    queues on commit run too; returns the task's result."""

    def go(task, *args):
        with django_capture_on_commit_callbacks(execute=True):
            return task.apply(args=args).get()

    return go


@pytest.fixture
def make_case(cast):
    def go(*, due: dt.date, key_worker=None, **kwargs):
        return f.CaseFactory(
            lead_agency=cast.owner,
            key_worker=key_worker or cast.user("owner", "practitioner"),
            next_review_due=due,
            young_person=f.YoungPersonFactory(recorded_by=cast.owner, given_name="Tobias", family_name="Quillfeather"),
            **kwargs,
        )

    return go


@pytest.fixture
def mail_fails_on(monkeypatch):
    """``mail_fails_on(*calls)``: those sends (counted from 1) raise, as a
    mail server that went away would; the others go to the outbox.
    Returns the list of calls made so far (one entry each)."""
    real_send = locmem.EmailBackend.send_messages

    def go(*failing: int, error: Exception = ConnectionRefusedError("mail server down")) -> list:
        calls = []

        def send(backend, messages):
            calls.append(1)
            if len(calls) in failing:
                raise error
            return real_send(backend, messages)

        monkeypatch.setattr(locmem.EmailBackend, "send_messages", send)
        return calls

    return go
