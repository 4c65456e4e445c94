"""The rules PostgreSQL holds itself, tried with direct ORM writes and raw
SQL that skip the services: they must hold whatever path a write takes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from referrals import models as rm
from tests import factories as f


def rejected(exc=IntegrityError):
    """Expect the database to refuse, inside a savepoint so the test's
    transaction survives."""
    return pytest.raises(exc)


@pytest.fixture
def case(cast):
    return f.CaseFactory(lead_agency=cast.owner, young_person=f.YoungPersonFactory(recorded_by=cast.owner))


def test_one_open_case_per_young_person(cast, case):
    with rejected(), transaction.atomic():
        rm.Case.objects.create(
            young_person=case.young_person, partnership=case.partnership, lead_agency=cast.sharing, risk_level="red",
        )
    # Once the first is closed, a new one may open.
    rm.Case.objects.filter(pk=case.pk).update(status="closed", closed_at=timezone.now(), closure_reason="other")
    second = rm.Case.objects.create(
        young_person=case.young_person, partnership=case.partnership, lead_agency=cast.sharing, risk_level="red",
    )
    # ...and reopening the first behind the services' back is refused.
    with rejected(), transaction.atomic():
        rm.Case.objects.filter(pk=case.pk).update(status="open", closed_at=None)
    assert second.is_open


def test_a_closed_case_needs_a_time_and_reason(case):
    with rejected(), transaction.atomic():
        rm.Case.objects.filter(pk=case.pk).update(status="closed")
    with rejected(), transaction.atomic():
        rm.Case.objects.filter(pk=case.pk).update(status="closed", closed_at=timezone.now())
    with rejected(), transaction.atomic():
        rm.Case.objects.filter(pk=case.pk).update(
            status="closed", closure_reason="other", closed_at=case.opened_at - dt.timedelta(days=1),
        )


@pytest.mark.parametrize("days", [1, 400])
def test_a_date_of_birth_in_the_future_is_refused(cast, days):
    with rejected(), transaction.atomic():
        rm.YoungPerson.objects.create(
            given_name="A", family_name="B", recorded_by=cast.owner, partnership=f.default_partnership(),
            date_of_birth=timezone.localdate() + dt.timedelta(days=days),
        )


def test_a_date_of_birth_in_the_future_is_refused_by_raw_sql(cast):
    person = f.YoungPersonFactory(recorded_by=cast.owner)
    with rejected(), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {rm.YoungPerson._meta.db_table} SET date_of_birth = CURRENT_DATE + 30 WHERE id = %s",
            [person.pk],
        )


def test_an_intervention_cannot_end_before_it_starts(cast, case):
    user = cast.user("owner", "practitioner")
    today = timezone.localdate()
    with rejected(), transaction.atomic():
        rm.Intervention.objects.create(
            case=case, provider_agency=cast.owner, kind="mentoring", goals="x", recorded_by=user,
            status="completed", started_on=today, ended_on=today - dt.timedelta(days=1),
        )
    ok = rm.Intervention.objects.create(
        case=case, provider_agency=cast.owner, kind="mentoring", goals="x", recorded_by=user,
        status="active", started_on=today,
    )
    with rejected(), transaction.atomic():
        rm.Intervention.objects.filter(pk=ok.pk).update(status="completed", ended_on=today - dt.timedelta(days=3))
    with rejected(), transaction.atomic():
        rm.Intervention.objects.filter(pk=ok.pk).update(status="completed")  # finished needs an end date
    with rejected(), transaction.atomic():
        rm.Intervention.objects.filter(pk=ok.pk).update(sessions_offered=1, sessions_attended=2)


def test_referral_rules_hold_in_the_database(cast):
    referral = f.ReferralFactory(referring_agency=cast.referrer, young_person__recorded_by=cast.referrer)
    with rejected(), transaction.atomic():
        rm.Referral.objects.filter(pk=referral.pk).update(decision_due_at=referral.received_at - dt.timedelta(hours=1))
    with rejected(), transaction.atomic():
        rm.Referral.objects.filter(pk=referral.pk).update(status="accepted", decided_at=timezone.now())  # no case
    with rejected(), transaction.atomic():
        rm.Referral.objects.filter(pk=referral.pk).update(status="signposted")  # no decision time
    with rejected(), transaction.atomic():
        rm.Referral.objects.filter(pk=referral.pk).update(concerns=["knife_crime"])
    with rejected(), transaction.atomic():
        rm.Referral.objects.filter(pk=referral.pk).update(concerns=[])
    with rejected(), transaction.atomic():
        rm.Referral.objects.filter(pk=referral.pk).update(consent="not_sought")  # no basis or reason


@pytest.fixture
def note(cast, case):
    return rm.CaseNote.objects.create(
        case=case, occurred_at=timezone.now(), kind="contact", author=cast.user("owner", "practitioner"),
        agency=cast.owner, text="Phoned mum.",
    )


def test_a_case_note_cannot_be_updated(note):
    note.text = "Rewritten"
    with rejected(DatabaseError), transaction.atomic():
        note.save()
    with rejected(DatabaseError), transaction.atomic():
        rm.CaseNote.objects.filter(pk=note.pk).update(text="Rewritten")
    with rejected(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {rm.CaseNote._meta.db_table} SET text = 'Rewritten' WHERE id = %s", [note.pk])
    assert rm.CaseNote.objects.get(pk=note.pk).text == "Phoned mum."


def test_a_case_note_cannot_be_deleted(note):
    with rejected(DatabaseError), transaction.atomic():
        note.delete()
    with rejected(DatabaseError), transaction.atomic():
        rm.CaseNote.objects.filter(pk=note.pk).delete()
    with rejected(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {rm.CaseNote._meta.db_table} WHERE id = %s", [note.pk])
    assert rm.CaseNote.objects.filter(pk=note.pk).exists()


def test_a_case_note_cannot_be_dated_after_it_was_recorded(cast, case):
    now = timezone.now()
    with rejected(), transaction.atomic():
        rm.CaseNote.objects.create(
            case=case, occurred_at=now + dt.timedelta(hours=1), recorded_at=now, kind="contact",
            author=cast.user("owner", "practitioner"), agency=cast.owner, text="From the future",
        )
