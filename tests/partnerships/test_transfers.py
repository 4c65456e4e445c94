"""A case follows a young person who moves: the sending lead agency proposes
a transfer with a summary it chooses from the chronology; it arrives at the
receiving partnership's hub as a referral with the one-working-day clock;
the hub accepts it (a case opens there; the sending case closes, or stays
open jointly until an agreed day) or declines it with a reason. Every step
is in both chronologies and the access log, and neither partnership reads
the other's case."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from agencies.models import Role
from casework import services as casework
from casework import transfers
from lib.errors import DomainError
from referrals.models import (
    Case,
    CaseNote,
    CaseTransfer,
    NoteKind,
    NoteVisibility,
    Referral,
    ReferralStatus,
    TransferStatus,
    YoungPerson,
)
from reminders import services as reminders
from safeguarding import access
from safeguarding.models import AccessEvent
from tests import factories as f
from tests.partnerships.test_matrix import working_in
from tests.safeguarding.conftest import share


@pytest.fixture
def moving(boroughs, cast):
    """A case of the cast's borough (A) led by the owner youth service, with
    a key worker, shared with the police; chronology entries of its own, one
    the police keep to themselves. The young person has moved to Northbank."""
    key_worker = f.make_member(cast.owner, Role.PRACTITIONER, username="owner-key-worker")
    person = f.YoungPersonFactory(given_name="Jaden", family_name="Mensah", recorded_by=cast.owner,
                                  unique_pupil_number="A123456789012")
    case = f.CaseFactory(lead_agency=cast.owner, key_worker=key_worker, young_person=person)
    share(case, cast.sharing, agreement=cast.agreement, emergency_basis="")
    f.ReferralFactory(young_person=person, referring_agency=cast.referrer, status=ReferralStatus.ACCEPTED,
                      decided_at=timezone.now(), case=case, concerns=["weapon", "gang_association"])
    now = timezone.now()

    def note(agency_key, text, visibility=NoteVisibility.CASE):
        return CaseNote.objects.create(
            case=case, occurred_at=now - dt.timedelta(days=3), kind=NoteKind.CONTACT,
            author=cast.user(agency_key, Role.PRACTITIONER), agency=cast.agencies[agency_key], text=text,
            visibility=visibility,
        )

    return SimpleNamespace(
        case=case, key_worker=key_worker, person=person,
        visit=note("owner", "Home visit: Jaden talked about the move"),
        police_only=note("sharing", "POLICE ONLY: intelligence on an older associate", NoteVisibility.AGENCY),
        manager=cast.actor("owner", Role.MANAGER),
        hub=access.actor_for_user(boroughs.people[("hub_b", Role.HUB_SCREENER)], partnership=boroughs.b.pk),
    )


def propose(actor, case, to, **overrides):
    values = dict(
        to_partnership=to, reason="The family moved to Northbank last week",
        summary="Carried a knife twice this year; engages well with mentoring.", new_postcode="N1 7AA",
        consent="parent_carer", arrangement="close",
    )
    values.update(overrides)
    return transfers.transfer_propose(actor=actor, case=case, **values)


def test_a_proposal_arrives_at_the_receiving_hub_as_a_referral(moving, boroughs, cast):
    before = timezone.now()
    transfer = propose(moving.manager, moving.case, boroughs.b, note_ids=[moving.visit.pk])
    referral = Referral.objects.get(pk=transfer.referral_id)
    assert referral.partnership == boroughs.b and referral.status == ReferralStatus.SUBMITTED
    assert referral.referring_agency == cast.owner and referral.concerns == ["weapon", "gang_association"]
    assert referral.risk_level == moving.case.risk_level
    assert "moved to Northbank" in referral.account and "mentoring" in referral.account
    # The one-working-day clock of any referral.
    assert before < referral.decision_due_at <= before + dt.timedelta(days=4)
    record = referral.young_person
    assert record.partnership == boroughs.b and record.pk != moving.person.pk
    assert (record.given_name, record.family_name, record.date_of_birth) == (
        moving.person.given_name, moving.person.family_name, moving.person.date_of_birth)
    assert record.postcode == "N1 7AA" and record.unique_pupil_number == "A123456789012"
    # Exactly the chosen entry crossed, as it read.
    assert [e["text"] for e in transfer.chronology] == [moving.visit.text]
    # The sending chronology and the access log on both sides.
    note = moving.case.notes.order_by("-pk").first()
    assert note.kind == NoteKind.DECISION and "Transfer to Northbank proposed" in note.text
    assert AccessEvent.objects.filter(action="propose_transfer", case_id=moving.case.pk).exists()
    assert AccessEvent.objects.filter(action="submit", object_id=str(referral.pk),
                                      basis__startswith="Transfer from").exists()
    # The receiving hub sees the referral and what was sent, not the sending case.
    assert access.visible_referrals(moving.hub).filter(pk=referral.pk).exists()
    assert access.referral_transfer(moving.hub, referral) == transfer
    assert not access.visible_cases(moving.hub).filter(pk=moving.case.pk).exists()
    # The proposer does not see the receiving side's referral or record.
    assert not access.visible_referrals(moving.manager).filter(pk=referral.pk).exists()
    assert not access.visible_young_people(moving.manager).filter(pk=record.pk).exists()


def test_only_entries_the_proposer_may_read_cross(moving, boroughs):
    with pytest.raises(DomainError) as refused:
        propose(moving.manager, moving.case, boroughs.b, note_ids=[moving.visit.pk, moving.police_only.pk])
    assert refused.value.field == "note_ids"
    assert not CaseTransfer.objects.exists() and not Referral.objects.filter(partnership=boroughs.b,
                                                                             transfer__isnull=False).exists()


@pytest.mark.parametrize(("overrides", "field"), [
    ({"to_partnership": None}, "to_partnership"),
    ({"reason": ""}, "reason"),
    ({"summary": "  "}, "summary"),
    ({"arrangement": "joint", "joint_days": 0}, "joint_days"),
    ({"arrangement": "joint", "joint_days": 91}, "joint_days"),
    ({"arrangement": "joint"}, "joint_days"),
    ({"arrangement": "keep"}, "arrangement"),
    ({"consent": "not_sought"}, "lawful_basis"),
    ({"consent": "not_sought", "lawful_basis": "safeguarding_children"}, "consent_reason"),
    ({"note_ids": ["x"]}, "note_ids"),
    ({"new_postcode": "N1 7AA ABCDEFG"}, "new_postcode"),
])
def test_bad_proposals_write_nothing(moving, boroughs, overrides, field):
    rows = (Referral.objects.count(), YoungPerson.objects.count(), CaseNote.objects.count())
    with pytest.raises(DomainError) as refused:
        propose(moving.manager, moving.case, boroughs.b, **overrides)
    assert refused.value.field == field
    assert not CaseTransfer.objects.exists()
    assert (Referral.objects.count(), YoungPerson.objects.count(), CaseNote.objects.count()) == rows


def test_to_its_own_partnership_or_twice_is_refused(moving, boroughs):
    with pytest.raises(DomainError):
        propose(moving.manager, moving.case, boroughs.a)
    propose(moving.manager, moving.case, boroughs.b)
    with pytest.raises(DomainError) as twice:
        propose(moving.manager, moving.case, boroughs.b)
    assert twice.value.code == "already_proposed"


def test_who_may_propose(moving, boroughs, cast):
    key_worker = access.actor_for_user(moving.key_worker)
    for actor in (cast.actor("owner", Role.PRACTITIONER), cast.actor("sharing", Role.MANAGER),
                  cast.actor("owner", Role.DPO), cast.actor("hub", Role.HUB_SCREENER)):
        with pytest.raises((access.NotAllowed, access.NotVisible)):
            propose(actor, moving.case, boroughs.b)
    with pytest.raises(access.NotVisible):
        propose(cast.actor("outsider", Role.MANAGER), moving.case, boroughs.b)
    with pytest.raises(access.NotVisible):
        propose(moving.hub, moving.case, boroughs.b)
    assert propose(key_worker, moving.case, boroughs.b).status == TransferStatus.PROPOSED


def test_accepted_the_sending_case_closes_and_both_chronologies_say_so(moving, boroughs):
    transfer = propose(moving.manager, moving.case, boroughs.b, note_ids=[moving.visit.pk])
    referral = Referral.objects.get(pk=transfer.referral_id)
    access.enter_partnership(moving.hub)  # as the receiving hub's request would
    try:
        new_case = casework.referral_accept(actor=moving.hub, referral=referral, lead_agency=boroughs.youth_b)
        with connection.cursor() as cursor:  # the sending case is out of reach here
            cursor.execute("SELECT count(*) FROM referrals_case WHERE id = %s", [moving.case.pk])
            assert cursor.fetchone()[0] == 0
    finally:
        access.leave_partnership()
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.ACCEPTED and transfer.new_case == new_case
    assert new_case.partnership == boroughs.b and new_case.lead_agency == boroughs.youth_b
    opened = new_case.notes.get(kind=NoteKind.INFORMATION)
    assert "transfer from Test borough" in opened.text and moving.visit.text in opened.text
    moving.case.refresh_from_db()
    assert moving.case.status == "closed" and moving.case.closure_reason == "transferred"
    accepted = moving.case.notes.order_by("-pk").first()
    assert "Transfer accepted by Northbank's hub" in accepted.text and new_case.reference in accepted.text
    assert AccessEvent.objects.filter(action="accept_transfer", case_id=moving.case.pk).exists()
    assert AccessEvent.objects.filter(action="accept_transfer", case_id=new_case.pk).exists()
    # Neither side reads the other's case.
    assert not access.visible_cases(moving.hub).filter(pk=moving.case.pk).exists()
    assert not access.visible_cases(moving.manager).filter(pk=new_case.pk).exists()


def test_a_joint_period_keeps_the_sending_case_open_until_the_agreed_day(moving, boroughs):
    transfer = propose(moving.manager, moving.case, boroughs.b, arrangement="joint", joint_days=14)
    referral = Referral.objects.get(pk=transfer.referral_id)
    casework.referral_accept(actor=moving.hub, referral=referral, lead_agency=boroughs.youth_b)
    transfer.refresh_from_db()
    moving.case.refresh_from_db()
    assert moving.case.is_open and transfer.joint_until == timezone.localdate() + dt.timedelta(days=14)
    assert "stays open jointly until" in moving.case.notes.order_by("-pk").first().text

    handed: list[int] = []
    system = access.system_actor(partnership=boroughs.a.pk)
    later = timezone.now() + dt.timedelta(days=15)
    # Not yet over, or seen from the other partnership: nothing to do.
    assert reminders.transfer_joint_sweep(enqueue=handed.append, actor=system) == 0
    assert reminders.transfer_joint_sweep(enqueue=handed.append, actor=access.system_actor(partnership=boroughs.b.pk),
                                          now=later) == 0
    assert reminders.transfer_joint_sweep(enqueue=handed.append, actor=system, now=later) == 1
    assert transfers.transfer_end_joint_period(transfer_id=handed[0], today=later.date()) is True
    assert transfers.transfer_end_joint_period(transfer_id=handed[0], today=later.date()) is False
    moving.case.refresh_from_db()
    assert moving.case.status == "closed" and moving.case.closure_reason == "transferred"
    assert reminders.transfer_joint_sweep(enqueue=handed.append, actor=system, now=later) == 0  # nothing left
    assert len(handed) == 1


def test_declined_with_a_reason_the_sending_case_carries_on(moving, boroughs):
    transfer = propose(moving.manager, moving.case, boroughs.b)
    referral = Referral.objects.get(pk=transfer.referral_id)
    casework.referral_no_further_action(actor=moving.hub, referral=referral,
                                        reason="The family's new address is in Eastbank, not Northbank")
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.DECLINED and "Eastbank" in transfer.decision_reason
    moving.case.refresh_from_db()
    assert moving.case.is_open
    declined = moving.case.notes.order_by("-pk").first()
    assert "Transfer declined by Northbank's hub" in declined.text and "Eastbank" in declined.text
    # A new proposal may follow.
    assert propose(moving.manager, moving.case, boroughs.b).status == TransferStatus.PROPOSED


def test_withdrawn_before_the_decision_it_leaves_the_receiving_queue(moving, boroughs):
    transfer = propose(moving.manager, moving.case, boroughs.b)
    transfers.transfer_withdraw(actor=moving.manager, transfer=transfer, reason="The family came back")
    transfer.refresh_from_db()
    referral = Referral.objects.get(pk=transfer.referral_id)
    assert transfer.status == TransferStatus.WITHDRAWN and referral.status == ReferralStatus.WITHDRAWN
    assert not access.visible_referrals(moving.hub).filter(status__in=["submitted", "screening"]).filter(
        pk=referral.pk).exists()
    with pytest.raises(DomainError):
        transfers.transfer_withdraw(actor=moving.manager, transfer=transfer, reason="Again")
    with pytest.raises(access.NotVisible):  # gone from the hub: it can no longer decide it
        casework.referral_accept(actor=moving.hub, referral=referral, lead_agency=boroughs.youth_b)


def test_an_identifier_the_receiving_partnership_holds_is_left_off(moving, boroughs):
    f.YoungPersonFactory(partnership=boroughs.b, recorded_by=boroughs.youth_b, unique_pupil_number="A123456789012")
    transfer = propose(moving.manager, moving.case, boroughs.b)
    record = Referral.objects.get(pk=transfer.referral_id).young_person
    assert record.unique_pupil_number == ""
    assert AccessEvent.objects.filter(action="create", young_person_id=record.pk,
                                      detail__identifiers_withheld=["unique_pupil_number"]).exists()


def test_pages_across_the_transfer(client, moving, boroughs, cast):
    client.force_login(cast.user("owner", Role.MANAGER))
    case_url = reverse("case-detail", args=[moving.case.pk])
    assert "Transfer to another partnership" in client.get(case_url).content.decode()
    form = client.get(reverse("transfer-propose", args=[moving.case.pk])).content.decode()
    assert "Northbank" in form and "Home visit: Jaden" in form and "POLICE ONLY" not in form
    sent = client.post(reverse("transfer-propose", args=[moving.case.pk]), {
        "to_partnership": str(boroughs.b.pk), "reason": "Moved to Northbank", "summary": "Needs a mentor there",
        "note_ids": [str(moving.visit.pk)], "arrangement": "joint", "joint_days": "30", "consent": "young_person",
    })
    assert sent.status_code == 302
    transfer = CaseTransfer.objects.get()
    page = client.get(case_url).content.decode()
    assert "Transfers to another partnership" in page and "Proposed" in page
    # A sharing agency's practitioner may see the case but not move it.
    working_in(client, cast.user("sharing", Role.PRACTITIONER), boroughs.a)
    assert client.get(reverse("transfer-propose", args=[moving.case.pk])).status_code == 403
    client.force_login(cast.user("outsider", Role.MANAGER))
    assert client.get(reverse("transfer-propose", args=[moving.case.pk])).status_code == 404

    # The receiving hub screens it with what was sent in view, and accepts.
    working_in(client, boroughs.people[("hub_b", Role.HUB_SCREENER)], boroughs.b)
    screening = client.get(reverse("screening", args=[transfer.referral_id])).content.decode()
    assert "Transfer from Test borough" in screening and "Needs a mentor there" in screening
    assert "Home visit: Jaden" in screening and "POLICE ONLY" not in screening
    decided = client.post(reverse("screening", args=[transfer.referral_id]), {
        "decision": "accept", "lead_agency": str(boroughs.youth_b.pk), "reason": "Known to our youth service",
    })
    assert decided.status_code == 302
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.ACCEPTED
    assert client.get(case_url).status_code == 404  # the sending case stays out of reach
    new_case = Case.objects.get(pk=transfer.new_case_id)
    working_in(client, boroughs.people[("youth_b", Role.PRACTITIONER)], boroughs.b)
    assert "on the transfer from Test borough" in client.get(reverse("case-detail", args=[new_case.pk])).content.decode()
