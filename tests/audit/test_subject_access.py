"""Subject access: the data-protection officer records a request (due one
calendar month later) and exports everything held about the young person,
agency-only notes and the access log included, as JSON and as a readable
document; each export is logged. Nobody else may."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from agencies.models import Role
from reminders.models import Notification, NotificationKind
from lib.errors import DomainError
from reports import subject_access
from safeguarding import access, retention
from safeguarding.models import AccessEvent, SubjectAccessRequest, subject_access_due_on
from tests.audit.conftest import signed_in


@pytest.mark.parametrize(("received", "due"), [
    (dt.date(2027, 1, 31), dt.date(2027, 2, 28)),
    (dt.date(2028, 1, 31), dt.date(2028, 2, 29)),
    (dt.date(2028, 1, 29), dt.date(2028, 2, 29)),
    (dt.date(2026, 3, 31), dt.date(2026, 4, 30)),
    (dt.date(2026, 3, 15), dt.date(2026, 4, 15)),
    (dt.date(2026, 12, 31), dt.date(2027, 1, 31)),
])
def test_the_clock_is_one_calendar_month(received, due):
    assert subject_access_due_on(received) == due


def _record(cast, case, received_on=None, agency="owner"):
    return subject_access.subject_access_request_record(
        actor=cast.actor(agency, Role.DPO), young_person=case.young_person,
        received_on=received_on or timezone.localdate(), notes="By letter from the young person's mother",
    )


@pytest.mark.parametrize(("agency", "role"), [
    ("owner", Role.MANAGER), ("owner", Role.PRACTITIONER), ("owner", Role.AGENCY_ADMIN), ("owner", Role.HUB_SCREENER),
    ("hub", Role.HUB_SCREENER), ("sharing", Role.MANAGER),
])
def test_only_a_data_protection_officer_may(cast, case, agency, role):
    sar = _record(cast, case)
    client = signed_in(cast.user(agency, role))
    for name, args in [("subject-access-list", []), ("subject-access-new", []), ("subject-access-detail", [sar.pk]),
                       ("subject-access-export-json", [sar.pk]), ("subject-access-export-document", [sar.pk])]:
        assert client.get(reverse(name, args=args)).status_code == 403, name
    with pytest.raises(access.NotAllowed):
        subject_access.subject_access_export(actor=cast.actor(agency, role), sar=sar, format="json")
    assert not access.young_people_for_subject_access(cast.actor(agency, role)).exists()
    assert SubjectAccessRequest.objects.get(pk=sar.pk).exported_at is None


def test_the_superuser_may_not(cast, case):
    sar = _record(cast, case)
    assert signed_in(cast.superuser).get(reverse("subject-access-export-json", args=[sar.pk])).status_code == 403


def test_the_officer_finds_the_young_person_and_records_the_request(cast, case):
    person = case.young_person
    client = signed_in(cast.user("referrer", Role.DPO))
    url = reverse("subject-access-new")

    found = client.get(url, {"q": person.family_name})
    assert found.status_code == 200 and person.display_name in found.content.decode()
    by_id = client.get(url, {"q": str(person.pk)})
    assert [p.pk for p in by_id.context["people"]] == [person.pk]
    response = client.post(url, {
        "q": str(person.pk), "young_person": str(person.pk),
        "received_on-day": "31", "received_on-month": "1", "received_on-year": "2026", "notes": "By e-mail",
    })

    sar = SubjectAccessRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("subject-access-detail", args=[sar.pk])
    assert (sar.young_person, sar.received_on, sar.due_on) == (person, dt.date(2026, 1, 31), dt.date(2026, 2, 28))
    assert sar.recorded_by == cast.user("referrer", Role.DPO)
    assert AccessEvent.objects.filter(action="search_young_people", detail__ids=[person.pk]).exists()
    row = AccessEvent.objects.get(action="record_subject_access_request")
    assert row.young_person_id == person.pk and row.basis == f"Subject access request #{sar.pk}: Data-protection officer (Referrer School)"


def test_a_date_in_the_future_is_a_field_error(cast, case):
    person = case.young_person
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    response = signed_in(cast.user("owner", Role.DPO)).post(reverse("subject-access-new"), {
        "q": str(person.pk), "young_person": str(person.pk), "received_on-day": str(tomorrow.day),
        "received_on-month": str(tomorrow.month), "received_on-year": str(tomorrow.year),
    })
    assert response.status_code == 200
    assert response.context["form"].errors["received_on"] == ["The date the request was received must be today or in the past"]
    assert not SubjectAccessRequest.objects.exists()
    with pytest.raises(DomainError):
        subject_access.subject_access_request_record(actor=cast.actor("owner", Role.DPO), young_person=None,
                                                     received_on=timezone.localdate())


def test_the_list_shows_due_dates_and_overdue_requests(cast, case):
    overdue = _record(cast, case, received_on=timezone.localdate() - dt.timedelta(days=40))
    current = _record(cast, case)
    response = signed_in(cast.user("owner", Role.DPO)).get(reverse("subject-access-list"))
    page = response.content.decode()
    assert [s.pk for s in response.context["requests"]] == [overdue.pk, current.pk]
    assert page.count("govuk-tag--red") == 1 and "Overdue" in page
    assert f"{current.due_on:%-d %b %Y}" in page


def test_the_json_export_holds_everything_and_is_logged(cast, shared_case):
    person = shared_case.young_person
    Notification.objects.create(recipient=cast.user("owner", Role.PRACTITIONER), kind=NotificationKind.values[0],
                                subject="Review due", body="A review is due", case_id=shared_case.pk, dedup_key="k1")
    signed_in(cast.user("sharing", Role.PRACTITIONER)).get(reverse("case-detail", args=[shared_case.pk]))
    sar = _record(cast, shared_case)

    response = signed_in(cast.user("owner", Role.DPO)).get(
        reverse("subject-access-export-json", args=[sar.pk]), HTTP_X_REQUEST_ID="req-sar-1")

    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="subject-access-{sar.pk}.json"'
    data = json.loads(response.content)
    assert data["young_person"]["given_name"] == person.given_name and data["anonymised"] is False
    notes = {note["text"] for note in data["cases"][0]["notes"]}
    assert notes == {"owner case note", "owner agency note", "sharing case note", "sharing agency note"}
    assert data["cases"][0]["interventions"][0]["goals"] == "Weekly mentoring"
    assert data["cases"][0]["share_grants"][0]["agency"] == cast.sharing.pk
    assert data["notifications"][0]["subject"] == "Review due"
    assert any(change["record_type"] == "case" for change in data["history"])
    actions = [(row["action"], row["agency"]) for row in data["access_log"]]
    assert ("view", cast.sharing.name) in actions
    assert data["access_log"][-1]["action"] == "subject_access_export"
    assert data["access_log"][-1]["request_id"] == "req-sar-1"
    row = AccessEvent.objects.get(action="subject_access_export")
    assert (row.young_person_id, row.request_id, row.detail) == (person.pk, "req-sar-1", {"request": sar.pk, "format": "json"})
    assert row.basis == f"Subject access request #{sar.pk}: Data-protection officer (Owner Youth Service)"
    assert SubjectAccessRequest.objects.get(pk=sar.pk).exported_at is not None


def test_the_readable_document_has_headings_and_tables(cast, shared_case):
    sar = _record(cast, shared_case)
    response = signed_in(cast.user("owner", Role.DPO)).get(reverse("subject-access-export-document", args=[sar.pk]))

    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    for heading in ["<h1>Everything held about one young person</h1>", "<h2>The young person</h2>",
                    "<h2>Referrals</h2>", "<h2>Cases</h2>", "<h2>Change history</h2>", "<h2>Access log</h2>",
                    f"<h3>Case {shared_case.reference}</h3>"]:
        assert heading in page, heading
    assert "sharing agency note" in page and "<table>" in page
    assert AccessEvent.objects.filter(action="subject_access_export", detail__format="html").count() == 1


def test_an_anonymised_person_exports_what_remains_and_says_so(cast, case):
    from referrals.models import Case, ClosureReason, YoungPerson

    YoungPerson.objects.filter(pk=case.young_person_id).update(date_of_birth=dt.date(1990, 5, 1))
    Case.objects.filter(pk=case.pk).update(status="closed", closed_at=timezone.now(),
                                           closure_reason=ClosureReason.values[0])
    assert retention.case_anonymise(case_id=case.pk)
    sar = _record(cast, case)

    data = subject_access.subject_access_export(actor=cast.actor("owner", Role.DPO), sar=sar, format="json")

    assert data["anonymised"] is True
    assert data["anonymised_statement"].startswith("This record was anonymised on")
    assert data["young_person"]["data"]["given_name"] != case.young_person.given_name
    page = signed_in(cast.user("owner", Role.DPO)).get(
        reverse("subject-access-export-document", args=[sar.pk])).content.decode()
    assert "Anonymised record." in page


def test_marking_a_request_answered(cast, case):
    sar = _record(cast, case, received_on=timezone.localdate() - dt.timedelta(days=3))
    client = signed_in(cast.user("owner", Role.DPO))
    today = timezone.localdate()
    response = client.post(reverse("subject-access-detail", args=[sar.pk]), {
        "completed_on-day": str(today.day), "completed_on-month": str(today.month), "completed_on-year": str(today.year),
    })
    assert response.status_code == 302
    assert SubjectAccessRequest.objects.get(pk=sar.pk).completed_on == today
    with pytest.raises(DomainError):
        subject_access.subject_access_request_complete(actor=cast.actor("owner", Role.DPO), sar=sar, completed_on=today)
