"""Retention: closed cases of people past RETENTION_AGE_YEARS are anonymised,
and each run is recorded."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from referrals import models as rm
from reminders import tasks as safeguarding_tasks
from safeguarding.models import AccessEvent, RetentionRun
from safeguarding.retention import REDACTED
from tests import factories as f
from tests.reminders.conftest import at

pytestmark = pytest.mark.django_db


def closed_case(cast, born: dt.date, **person):
    n = rm.YoungPerson.objects.count()
    yp = f.YoungPersonFactory(
        recorded_by=cast.owner, given_name="Marigold", family_name="Penhaligon", preferred_name="Goldie",
        date_of_birth=born, unique_pupil_number=f"A12345678901{n}", nhs_number=f"943476591{n}",
        police_reference="01/234567/26", ward="Peckham", **person,
    )
    case = f.CaseFactory(
        lead_agency=cast.owner, young_person=yp, status="closed", opened_at=at(2019, 1, 7),
        closed_at=at(2020, 3, 2), closure_reason="outcomes_met", outcome="Marigold is at college.",
        next_review_due=None,
    )
    f.ReferralFactory(young_person=yp, referring_agency=cast.referrer, status="accepted", case=case,
                      received_at=at(2019, 1, 2), decision_due_at=at(2019, 1, 3), decided_at=at(2019, 1, 3),
                      account="Marigold was seen with a knife.")
    rm.CaseNote.objects.create(
        case=case, occurred_at=at(2019, 2, 1), recorded_at=at(2019, 2, 1), kind="contact",
        author=cast.user("owner", "practitioner"), agency=cast.owner, text="Met Marigold at home.",
    )
    return case


def test_a_closed_case_past_retention_is_anonymised_and_the_run_recorded(cast, frozen, run):
    frozen(at(2026, 11, 25, 2, 30))
    old = closed_case(cast, born=dt.date(2001, 6, 14))  # 25 on 14 June 2026
    young = closed_case(cast, born=dt.date(2003, 6, 14))  # 23
    run_id = run(safeguarding_tasks.retention_run)

    record = RetentionRun.objects.get(pk=run_id)
    assert record.cases_anonymised == 1 and record.finished_at is not None
    assert record.detail["case_ids"] == [old.pk]

    old.refresh_from_db()
    person = old.young_person
    person.refresh_from_db()
    assert old.anonymised_at is not None and old.outcome == ""
    assert (person.given_name, person.family_name, person.preferred_name) == ("Anonymised", "Anonymised", "")
    assert person.date_of_birth == dt.date(2001, 1, 1)
    assert (person.unique_pupil_number, person.nhs_number, person.police_reference, person.ward, person.postcode) == (
        "", "", "", "", "")
    assert person.anonymised_at is not None and person.display_name == "Anonymised record"
    assert list(old.notes.values_list("text", flat=True)) == [REDACTED]
    assert list(person.referrals.values_list("account", flat=True)) == [REDACTED]
    # No trace of the name left in the change history either.
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM referrals_youngpersonevent WHERE pgh_obj_id = %s "
                       "AND (given_name = 'Marigold' OR family_name = 'Penhaligon')", [person.pk])
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT count(*) FROM referrals_referralevent WHERE account LIKE '%%Marigold%%'"
                       " AND young_person_id = %s", [person.pk])
        assert cursor.fetchone()[0] == 0
    assert AccessEvent.objects.filter(action="anonymise", case_id=old.pk, channel="task").count() == 1

    young.refresh_from_db()
    assert young.anonymised_at is None and young.young_person.given_name == "Marigold"
    assert young.notes.get().text == "Met Marigold at home."

    # The chronology stays append-only for everyone else.
    with pytest.raises(Exception), connection.cursor() as cursor:
        cursor.execute("UPDATE referrals_casenote SET text = 'x' WHERE case_id = %s", [young.pk])


def test_a_second_run_finds_nothing_and_says_so(cast, frozen, run):
    frozen(at(2026, 11, 25, 2, 30))
    closed_case(cast, born=dt.date(2000, 1, 1))
    run(safeguarding_tasks.retention_run)
    second = RetentionRun.objects.get(pk=run(safeguarding_tasks.retention_run))
    assert second.cases_anonymised == 0 and second.finished_at is not None
    assert RetentionRun.objects.count() == 2


def test_an_open_case_keeps_the_person(cast, frozen, run):
    frozen(at(2026, 11, 25, 2, 30))
    old = closed_case(cast, born=dt.date(2000, 1, 1))
    f.CaseFactory(lead_agency=cast.owner, young_person=old.young_person)
    run(safeguarding_tasks.retention_run)
    old.refresh_from_db()
    old.young_person.refresh_from_db()
    assert old.anonymised_at is not None
    assert old.young_person.anonymised_at is None and old.young_person.given_name == "Marigold"


def test_retention_age_is_configuration(cast, frozen, run, settings):
    settings.RETENTION_AGE_YEARS = 30
    frozen(at(2026, 11, 25, 2, 30))
    closed_case(cast, born=dt.date(2000, 1, 1))
    assert RetentionRun.objects.get(pk=run(safeguarding_tasks.retention_run)).cases_anonymised == 0


def test_the_run_removes_sign_in_records_older_than_their_days_and_keeps_the_rest(settings):
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    from safeguarding.retention import retention_run

    settings.SIGN_IN_RECORD_DAYS = 90
    now = at(2026, 11, 25)
    common = {"user_agent": "test", "ip_address": "192.0.2.7", "http_accept": "*/*", "path_info": "/accounts/login/"}
    for model, extra in ((AccessLog, {}), (AccessFailureLog, {"locked_out": False}),
                         (AccessAttempt, {"get_data": "", "post_data": "", "failures_since_start": 1})):
        for days, name in ((91, "old"), (89, "recent")):
            row = model.objects.create(username=f"{name}-{model.__name__}", **common, **extra)
            model.objects.filter(pk=row.pk).update(attempt_time=now - dt.timedelta(days=days))
    run = retention_run(now=now)
    assert run.detail["sign_in_records_removed"] == {"accesslog": 1, "accessfailurelog": 1, "accessattempt": 1}
    for model in (AccessLog, AccessFailureLog, AccessAttempt):
        assert [r.username for r in model.objects.all()] == [f"recent-{model.__name__}"]


def test_the_run_removes_old_idempotency_records_and_expired_tokens_and_counts_them(cast, frozen, run, settings):
    """The partner API's stored responses go after API_IDEMPOTENCY_DAYS and
    expired OAuth tokens (with refresh tokens that can no longer be used)
    go at once; what is recent or still valid stays. The counts are in the
    run's record, written by the daily task."""
    from oauth2_provider.models import get_access_token_model, get_refresh_token_model

    from api.models import IdempotencyRecord
    from api.services import api_client_issue

    AccessToken, RefreshToken = get_access_token_model(), get_refresh_token_model()  # noqa: N806
    settings.API_IDEMPOTENCY_DAYS = 7
    now = at(2026, 11, 25, 2, 30)
    frozen(now)
    client, _secret = api_client_issue(actor=cast.actor("owner", "agency_admin"), name="SIMS", scopes=["cases:read"])
    for key, days in (("old", 8), ("edge", 7.01), ("recent", 6.9)):
        IdempotencyRecord.objects.create(
            client=client, key=key, request_hash="0" * 64, status_code=201,
            response_body={"young_person": {"given_name": "Marigold"}}, created_at=now - dt.timedelta(days=days),
        )

    def token(name, expires_in_minutes):
        return AccessToken.objects.create(
            application=client.application, token=name, scope="cases:read",
            expires=now + dt.timedelta(minutes=expires_in_minutes),
        )

    token("expired", -1)
    token("long-expired", -60 * 24 * 30)
    valid = token("valid", 10)
    RefreshToken.objects.create(application=client.application, token="r-expired", user=client.service_user,
                                access_token=token("expired-with-refresh", -5))
    RefreshToken.objects.create(application=client.application, token="r-valid", user=client.service_user, access_token=valid)
    RefreshToken.objects.create(application=client.application, token="r-orphan", user=client.service_user, access_token=None)

    record = RetentionRun.objects.get(pk=run(safeguarding_tasks.retention_run))

    assert record.detail["idempotency_records_removed"] == {"records": 2}
    assert record.detail["oauth_tokens_removed"] == {
        "access_tokens": 3, "refresh_tokens": 2, "grants": 0, "id_tokens": 0,
    }
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["recent"]
    assert list(AccessToken.objects.values_list("token", flat=True)) == ["valid"]
    assert list(RefreshToken.objects.values_list("token", flat=True)) == ["r-valid"]

    # A second run finds nothing more.
    again = RetentionRun.objects.get(pk=run(safeguarding_tasks.retention_run))
    assert again.detail["idempotency_records_removed"] == {"records": 0}
    assert set(again.detail["oauth_tokens_removed"].values()) == {0}


def test_the_idempotency_records_are_registered_with_the_run():
    from safeguarding.retention import registered_disposals

    assert "idempotency_records" in registered_disposals()
