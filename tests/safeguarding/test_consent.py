"""Consent by age and competence, and its withdrawal (issue 18).

Consent is taken from the young person only from the partnership's
competence age and when judged competent; "not sought" needs its lawful
basis and reason. Withdrawing it ends, in the same transaction, every share
resting on consent (in every channel: the policy, the caseload index, the
permission rows), leaves a share on another lawful basis alone, tells each
agency once in the app and once by e-mail, and is in the chronology and
the access log."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from partnerships.models import PartnershipRules
from referrals import models as rm
from lib.errors import DomainError
from reminders import services as reminders
from reminders import tasks
from reminders.models import Notification, NotificationKind
from safeguarding import access, consent
from safeguarding.models import (
    AccessEvent,
    CaseAccess,
    CaseGroupObjectPermission,
    ConsentRecord,
    ConsentWithdrawal,
    ShareGrant,
)
from tests import factories as f
from tests.reminders.conftest import eager  # noqa: F401 (a fixture)
from tests.safeguarding.conftest import share

NotVisible, NotAllowed = access.NotVisible, access.NotAllowed


def born_aged(years: int, days: int = 10) -> dt.date:
    today = timezone.localdate()
    return today.replace(year=today.year - years) - dt.timedelta(days=days)


@pytest.fixture
def case(cast):
    return f.CaseFactory(
        lead_agency=cast.owner, key_worker=cast.user("owner", "practitioner"),
        young_person=f.YoungPersonFactory(recorded_by=cast.owner, date_of_birth=born_aged(15)),
    )


def count_rows():
    return {m.__name__: m.objects.count() for m in (ConsentRecord, ConsentWithdrawal, rm.CaseNote, AccessEvent)}


# -- recording --------------------------------------------------------------------


def test_a_competent_young_person_of_fifteen_consents(cast, case):
    actor = cast.actor("owner", "manager")
    record = consent.consent_record(actor=actor, case=case, given_by="young_person", judged_competent=True)
    assert (record.age_when_recorded, record.competence_age, record.judged_competent) == (15, 13, True)
    assert record.recorded_by == cast.user("owner", "manager") and record.recorded_by_agency == cast.owner
    note = rm.CaseNote.objects.get(case=case)
    assert note.kind == rm.NoteKind.DECISION and "aged 15, judged competent" in note.text
    assert note.visibility == rm.NoteVisibility.CASE
    assert AccessEvent.objects.filter(action="record_consent", case_id=case.pk).count() == 1
    assert consent.consent_in_force(actor, case) == record


def test_below_the_competence_age_the_young_person_cannot_consent(cast):
    young = f.CaseFactory(lead_agency=cast.owner, young_person=f.YoungPersonFactory(
        recorded_by=cast.owner, date_of_birth=born_aged(12)))
    before = count_rows()
    with pytest.raises(DomainError) as info:
        consent.consent_record(actor=cast.actor("owner", "manager"), case=young, given_by="young_person",
                               judged_competent=True)
    assert info.value.field == "given_by" and info.value.code == "below_competence_age"
    assert "from 13" in info.value.message
    assert count_rows() == before
    # A parent or carer may.
    record = consent.consent_record(actor=cast.actor("owner", "manager"), case=young, given_by="parent_carer")
    assert record.age_when_recorded == 12


def test_the_partnerships_own_competence_age_applies(cast, case):
    PartnershipRules.objects.create(
        partnership=case.partnership, effective_from=timezone.now() - dt.timedelta(days=1),
        review_days_red=14, review_days_amber=28, review_days_green=56, retention_age_years=25,
        consent_competence_age=16,
    )
    with pytest.raises(DomainError) as info:
        consent.consent_record(actor=cast.actor("owner", "manager"), case=case, given_by="young_person",
                               judged_competent=True)
    assert "from 16" in info.value.message


def test_the_young_person_must_be_judged_competent(cast, case):
    with pytest.raises(DomainError) as info:
        consent.consent_record(actor=cast.actor("owner", "manager"), case=case, given_by="young_person")
    assert info.value.field == "judged_competent"


def test_not_sought_needs_a_lawful_basis_other_than_consent_and_a_reason(cast, case):
    actor = cast.actor("owner", "manager")
    for kwargs, field in (
        ({"lawful_basis": "safeguarding_children"}, "reason"),
        ({"reason": "Asking would put her at risk"}, "lawful_basis"),
        ({"lawful_basis": "consent", "reason": "Asking would put her at risk"}, "lawful_basis"),
    ):
        with pytest.raises(DomainError) as info:
            consent.consent_record(actor=actor, case=case, given_by="not_sought", **kwargs)
        assert info.value.field == field
    record = consent.consent_record(actor=actor, case=case, given_by="not_sought",
                                    lawful_basis="safeguarding_children", reason="Asking would put her at risk")
    assert record.lawful_basis == "safeguarding_children"
    # Bad values are refused, not stored.
    with pytest.raises(DomainError):
        consent.consent_record(actor=actor, case=case, given_by="the cat")


@pytest.mark.parametrize("who", [("owner", "hub_screener"), ("sharing", "manager"), ("sharing", "practitioner")])
def test_only_those_who_manage_the_case_record_consent(cast, case, who):
    share(case, cast.sharing, lawful_basis="consent")
    with pytest.raises(NotAllowed):
        consent.consent_record(actor=cast.actor(*who), case=case, given_by="parent_carer")


@pytest.mark.parametrize("who", [("outsider", "manager"), ("referrer", "practitioner"), ("owner", "dpo"),
                                 ("owner", "agency_admin"), ("hub", "hub_screener")])
def test_anyone_else_finds_no_case(cast, case, who):
    with pytest.raises(NotVisible):
        consent.consent_record(actor=cast.actor(*who), case=case, given_by="parent_carer")


def test_the_key_worker_records_consent_but_a_partner_system_may_not(cast, case):
    key_worker = access.actor_for_user(case.key_worker)
    assert consent.consent_record(actor=key_worker, case=case, given_by="parent_carer")
    # The lead agency's own partner system, with every scope.
    machine = dataclasses.replace(cast.actor("owner", "manager"), channel="api", api_client="client-x",
                                  scopes=frozenset(access.API_SCOPES))
    with pytest.raises(NotAllowed):
        consent.consent_record(actor=machine, case=case, given_by="parent_carer")


def test_a_consent_record_cannot_be_changed(cast, case):
    record = consent.consent_record(actor=cast.actor("owner", "manager"), case=case, given_by="parent_carer")
    with pytest.raises(Exception), transaction.atomic():
        ConsentRecord.objects.filter(pk=record.pk).update(reason="changed")


# -- withdrawal ---------------------------------------------------------------------


@pytest.fixture
def shared_under_consent(cast, case):
    """Consent from the young person; the police share rests on it, the
    referrer school's on safeguarding (another lawful basis)."""
    manager = cast.actor("owner", "manager")
    record = consent.consent_record(actor=manager, case=case, given_by="young_person", judged_competent=True)
    on_consent = share(case, cast.sharing, lawful_basis=rm.LawfulBasis.CONSENT, emergency_basis="",
                       agreement=cast.agreement)
    on_safeguarding = share(case, cast.referrer, lawful_basis=rm.LawfulBasis.SAFEGUARDING_CHILDREN,
                            emergency_basis="", agreement=cast.agreement)
    return record, on_consent, on_safeguarding


def withdraw(cast, case, record, **kwargs):
    return consent.consent_withdraw(actor=cast.actor("owner", "manager"), case=case, consent=record,
                                    withdrawn_by=kwargs.pop("withdrawn_by", "young_person"), **kwargs)


def test_withdrawal_ends_the_consent_share_in_the_same_transaction_before_any_task(
    cast, case, shared_under_consent, django_capture_on_commit_callbacks,
):
    record, on_consent, on_safeguarding = shared_under_consent
    police = cast.actor("sharing", "practitioner")
    school = cast.actor("referrer", "practitioner")
    assert access.may(police, access.Action.VIEW, case)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        with transaction.atomic():
            withdrawal = withdraw(cast, case, record, reason="She asked us to stop sharing with the police")
            # Still inside the transaction, no task has run: access has ended.
            assert not access.may(police, access.Action.VIEW, case)
            assert not access.visible_cases(police).filter(pk=case.pk).exists()
            assert not access.listed_cases(police).filter(pk=case.pk).exists()
            assert not CaseAccess.objects.filter(case=case, agency=cast.sharing).exists()
            assert not CaseGroupObjectPermission.objects.filter(content_object=case, group=cast.sharing.group).exists()
            with pytest.raises(NotVisible):
                access.get_case(police, case.pk)
    assert queued == []  # the service queues nothing: access did not wait for a task
    on_consent.refresh_from_db()
    assert on_consent.revoked_at is not None and "Consent withdrawn" in on_consent.revoke_reason
    assert on_consent.permissions_removed_at is not None
    assert list(withdrawal.ended_grants.all()) == [on_consent]
    # The share on another lawful basis survives.
    on_safeguarding.refresh_from_db()
    assert on_safeguarding.revoked_at is None and access.may(school, access.Action.VIEW, case)
    # Chronology and access log.
    entry = rm.CaseNote.objects.filter(case=case, text__startswith="Consent withdrawn").get()
    assert "Sharing Police" in entry.text and "Referrer School" not in entry.text
    assert AccessEvent.objects.filter(action="withdraw_consent", case_id=case.pk).count() == 1
    assert AccessEvent.objects.filter(action="revoke_share", object_id=str(on_consent.pk),
                                      detail__consent_withdrawn=withdrawal.pk).count() == 1
    assert consent.consent_in_force(cast.actor("owner", "manager"), case) is None


def test_withdrawal_is_refused_twice_and_for_consent_not_sought(cast, case, shared_under_consent):
    record, *_ = shared_under_consent
    withdraw(cast, case, record)
    with pytest.raises(NotVisible):
        withdraw(cast, case, record)
    not_sought = consent.consent_record(actor=cast.actor("owner", "manager"), case=case, given_by="not_sought",
                                        lawful_basis="public_task", reason="Statutory duty")
    with pytest.raises(NotVisible):
        withdraw(cast, case, not_sought)
    with pytest.raises(DomainError):
        withdraw(cast, case, consent.consent_record(actor=cast.actor("owner", "manager"), case=case,
                                                    given_by="parent_carer"), withdrawn_by="not_sought")


@pytest.mark.parametrize("who", [("sharing", "manager"), ("owner", "hub_screener")])
def test_withdrawal_only_by_those_who_manage_the_case(cast, case, shared_under_consent, who):
    record, on_consent, _ = shared_under_consent
    with pytest.raises((NotAllowed, NotVisible)):
        consent.consent_withdraw(actor=cast.actor(*who), case=case, consent=record, withdrawn_by="young_person")
    on_consent.refresh_from_db()
    assert on_consent.revoked_at is None


def test_each_agency_is_told_once_in_the_app_and_once_by_email(
    cast, case, shared_under_consent, eager, django_capture_on_commit_callbacks,
):
    record, *_ = shared_under_consent
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            withdrawal = withdraw(cast, case, record)
            tasks.email_later(reminders.consent_withdrawn_record(withdrawal_id=withdrawal.pk))
            told = Notification.objects.filter(kind=NotificationKind.CONSENT_WITHDRAWN)
            # In the app at once, with the withdrawal.
            assert {n.recipient for n in told} == {cast.user("sharing", "manager"), cast.user("sharing", "dpo")}
            assert mail.outbox == []
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [cast.user("sharing", "manager").email, cast.user("sharing", "dpo").email])
    assert all(case.reference in m.subject and case.young_person.family_name not in m.body for m in mail.outbox)
    # Recording again, and the e-mail task run twice: nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        again = reminders.consent_withdrawn_record(withdrawal_id=withdrawal.pk)
        tasks.email_later(again)
    ids = list(Notification.objects.filter(kind=NotificationKind.CONSENT_WITHDRAWN).values_list("pk", flat=True))
    tasks.notification_email_many.apply(args=[ids]).get()
    tasks.notification_email_many.apply(args=[ids]).get()
    assert Notification.objects.filter(kind=NotificationKind.CONSENT_WITHDRAWN).count() == 2
    assert len(mail.outbox) == 2
    # The school, whose share rests on safeguarding, is not told.
    assert not Notification.objects.filter(recipient=cast.user("referrer", "manager")).exists()


def test_an_ended_share_is_no_longer_reminded_of(cast, case, shared_under_consent):
    """The reminders channel: a share about to expire is reminded of to the
    granting agency; once consent is withdrawn there is nothing to remind."""
    record, on_consent, on_safeguarding = shared_under_consent
    soon = timezone.now() + dt.timedelta(days=3)
    ShareGrant.objects.filter(pk__in=[on_consent.pk, on_safeguarding.pk]).update(expires_at=soon)
    handed: list[int] = []
    reminders.share_expiring_sweep(enqueue=handed.append)
    assert set(handed) == {on_consent.pk, on_safeguarding.pk}
    withdraw(cast, case, record)
    handed.clear()
    reminders.share_expiring_sweep(enqueue=handed.append)
    assert handed == [on_safeguarding.pk]
    assert ShareGrant.objects.get(pk=on_consent.pk).revoked_by == cast.user("owner", "manager")
