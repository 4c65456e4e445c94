"""Every web request, API call and Celery task has one request id: a
well-formed incoming X-Request-ID is kept, anything else replaced; it goes
back as a response header, onto access-log rows, into the change history's
context and onto every structured log line."""

from __future__ import annotations

import datetime as dt
import logging
import uuid

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_structlog.celery.receivers import CeleryReceiver

from agencies.models import Membership, Role
from config.celery import app as celery_app
from referrals.models import Intervention
from reminders import tasks
from safeguarding.models import AccessEvent
from tests import factories as f
from tests.safeguarding.conftest import share


@pytest.fixture
def owned_case(cast):
    return f.CaseFactory(lead_agency=cast.owner, key_worker=cast.user("owner", Role.PRACTITIONER))


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_well_formed_incoming_request_id_is_kept_and_returned_and_logged(cast, owned_case):
    client = signed_in(cast.user("owner", Role.PRACTITIONER))

    response = client.get(reverse("case-detail", args=[owned_case.pk]), HTTP_X_REQUEST_ID="lb-7f3a:42")

    assert response.status_code == 200
    assert response["X-Request-ID"] == "lb-7f3a:42"
    row = AccessEvent.objects.filter(case_id=owned_case.pk, action="view").latest("id")
    assert row.request_id == "lb-7f3a:42"
    assert row.basis == "Lead agency (Owner Youth Service)"


@pytest.mark.parametrize("incoming", ["", "has spaces in it", "x" * 65, "<script>", "semi;colon"])
def test_a_malformed_or_missing_request_id_is_replaced_by_a_new_uuid(cast, owned_case, incoming):
    client = signed_in(cast.user("owner", Role.PRACTITIONER))
    extra = {"HTTP_X_REQUEST_ID": incoming} if incoming else {}

    response = client.get(reverse("case-detail", args=[owned_case.pk]), **extra)

    returned = response["X-Request-ID"]
    assert returned != incoming
    assert str(uuid.UUID(returned)) == returned
    assert AccessEvent.objects.filter(case_id=owned_case.pk).latest("id").request_id == returned


def test_each_request_gets_its_own_id(cast, owned_case):
    client = signed_in(cast.user("owner", Role.PRACTITIONER))
    url = reverse("case-detail", args=[owned_case.pk])

    first, second = client.get(url)["X-Request-ID"], client.get(url)["X-Request-ID"]

    assert first != second
    assert set(AccessEvent.objects.filter(case_id=owned_case.pk).values_list("request_id", flat=True)) == {first, second}


def test_pages_without_case_data_and_refusals_carry_the_header_too(cast, owned_case):
    outsider = signed_in(cast.user("outsider", Role.MANAGER))

    response = outsider.get(reverse("case-detail", args=[owned_case.pk]), HTTP_X_REQUEST_ID="req-404")

    assert response.status_code == 404
    assert response["X-Request-ID"] == "req-404"
    assert Client().get(reverse("health"))["X-Request-ID"]


def test_the_change_history_names_the_user_agency_and_request(cast, owned_case):
    user = cast.user("owner", Role.PRACTITIONER)
    client = signed_in(user)

    response = client.post(
        reverse("intervention-add", args=[owned_case.pk]),
        {"provider_agency": str(cast.owner.pk), "kind": "mentoring", "goals": "Weekly mentoring",
         "status": "planned", "planned_start-day": "1", "planned_start-month": "1",
         "planned_start-year": str(timezone.localdate().year + 1), "sessions_offered": "6"},
        HTTP_X_REQUEST_ID="req-history-1",
    )

    assert response.status_code == 302, response.content
    event = Intervention.pgh_event_model.objects.filter(pgh_obj__case=owned_case).select_related("pgh_context").get()
    metadata = event.pgh_context.metadata
    assert metadata["user"] == user.pk
    assert metadata["request_id"] == "req-history-1"
    assert metadata["agency_id"] == cast.owner.pk
    assert metadata["url"] == reverse("intervention-add", args=[owned_case.pk])


def test_memberships_keep_their_history(cast):
    membership = Membership.objects.get(user=cast.user("sharing", Role.PRACTITIONER))

    membership.job_title = "Detective constable"
    membership.save()

    events = Membership.pgh_event_model.objects.filter(pgh_obj=membership).order_by("pgh_id")
    assert [e.pgh_label for e in events] == ["insert", "update"]
    assert (events[0].job_title, events[1].job_title) == ("", "Detective constable")


def test_structured_log_lines_carry_the_request_id(cast, owned_case, caplog):
    client = signed_in(cast.user("owner", Role.PRACTITIONER))

    with caplog.at_level(logging.INFO, logger="django_structlog"):
        client.get(reverse("case-detail", args=[owned_case.pk]), HTTP_X_REQUEST_ID="req-log-1")

    lines = [r.msg for r in caplog.records if isinstance(r.msg, dict)]
    assert {line["event"] for line in lines} >= {"request_started", "request_finished"}
    assert all(line["request_id"] == "req-log-1" for line in lines if line["event"].startswith("request_"))


@pytest.fixture
def task_logging():
    """The worker's django-structlog receivers, as DjangoStructLogInitStep
    connects them in a real worker, around eager tasks."""
    before = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = celery_app.conf.task_eager_propagates = True
    receiver = CeleryReceiver()
    receiver.connect_worker_signals()
    yield
    from celery import signals

    for name in ("before_task_publish", "after_task_publish", "task_prerun", "task_retry", "task_success",
                 "task_failure", "task_revoked", "task_unknown", "task_rejected"):
        signal = getattr(signals, name)
        signal.disconnect(getattr(receiver, f"receiver_{name}"))
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = before


def test_a_task_writes_its_own_id_as_the_request_id(cast, owned_case, task_logging, django_capture_on_commit_callbacks):
    grant = share(owned_case, cast.sharing, granted_at=timezone.now() - dt.timedelta(days=40),
                  expires_at=timezone.now() - dt.timedelta(minutes=1))

    result = tasks.share_expire.apply(args=[grant.pk, owned_case.partnership_id], task_id="task-0001-expire")

    assert result.successful()
    row = AccessEvent.objects.filter(action="share_expired", object_id=str(grant.pk)).get()
    assert row.request_id == "task-0001-expire"
    assert row.channel == "task" and row.basis == "Scheduled task"
