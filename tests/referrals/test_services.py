"""The casework services: the happy path, each rule, the wrong actors, and
that a refused or failed call writes nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from agencies.models import AgencyKind, Role
from referrals import deadlines
from casework import services
from referrals import models as rm
from lib.errors import DomainError
from safeguarding import access
from safeguarding.models import AccessEvent, Channel
from tests import factories as f

from .conftest import grant_share

LONDON = ZoneInfo("Europe/London")
NotVisible, NotAllowed = access.NotVisible, access.NotAllowed


def superuser(cast):
    return access.actor_for_user(cast.superuser)


def api_client(agency, name="school-mis"):
    return access.Actor(agency=agency, api_client=name, channel=Channel.API, partnership=f.default_partnership())


def refused(rows, exc, call):
    """``call`` raises ``exc`` and leaves every counted table as it was."""
    before = rows()
    with pytest.raises(exc) as info:
        call()
    assert rows() == before
    return info.value


def events(action):
    return AccessEvent.objects.filter(action=action)


def submit(cast, actor=None, **kwargs):
    values = {
        "concerns": [rm.Concern.WEAPON],
        "risk_level": rm.RiskLevel.AMBER,
        "account": "Seen showing a knife to friends at the bus stop.",
        "consent": rm.Consent.YOUNG_PERSON,
    }
    values.update(kwargs)
    if "young_person" not in values and "person" not in values:
        values["person"] = {
            "given_name": "Sam", "family_name": "Okafor",
            "date_of_birth": timezone.localdate() - dt.timedelta(days=14 * 365),
        }
    return services.referral_submit(actor=actor or cast.actor("referrer", "practitioner"), **values)


def hub(cast):
    return cast.actor("hub", "hub_screener")


def second_screener(cast):
    """Another screener at the hub: only the hub's screeners decide referrals."""
    return access.actor_for_user(f.make_member(cast.hub, "hub_screener", username="hub-screener-2"))


# ---------------------------------------------------------------------------
# referral_submit
# ---------------------------------------------------------------------------


def test_submit_new_young_person(cast, person):
    actor = cast.actor("referrer", "practitioner")
    referral = services.referral_submit(
        actor=actor, concerns=[rm.Concern.WEAPON, rm.Concern.GANG_ASSOCIATION, rm.Concern.WEAPON],
        risk_level=rm.RiskLevel.RED, account="  Carrying a blade in his bag.  ", consent=rm.Consent.PARENT_CARER,
        partner_reference="SIMS-123", person=person,
    )
    referral.refresh_from_db()
    assert referral.status == rm.ReferralStatus.SUBMITTED
    assert referral.referring_agency == cast.referrer
    assert referral.referred_by == cast.user("referrer", "practitioner")
    assert referral.concerns == ["weapon", "gang_association"]
    assert referral.account == "Carrying a blade in his bag."
    assert referral.partner_reference == "SIMS-123"
    assert referral.decision_due_at == deadlines.decision_due_at(referral.received_at, "red")
    yp = referral.young_person
    assert (yp.given_name, yp.family_name, yp.preferred_name, yp.postcode) == ("Jordan", "Ellis", "JJ", "SE15 4QF")
    assert yp.recorded_by == cast.referrer
    assert events("create").get().young_person_id == yp.pk
    assert events("submit").get().object_id == str(referral.pk)
    # The referrer sees the referral and its young person, not other people's.
    assert referral in access.visible_referrals(actor)
    assert referral not in access.visible_referrals(cast.actor("outsider", "manager"))


def test_submit_for_an_existing_young_person_the_referrer_can_see(cast, rows):
    yp = f.YoungPersonFactory(recorded_by=cast.referrer)
    before = rows()
    referral = submit(cast, young_person=yp)
    assert referral.young_person == yp
    after = rows()
    assert after["YoungPerson"] == before["YoungPerson"]
    assert after["Referral"] == before["Referral"] + 1


def test_submit_for_a_young_person_the_referrer_cannot_see_is_not_found(cast, rows):
    yp = f.YoungPersonFactory(recorded_by=cast.outsider)
    refused(rows, NotVisible, lambda: submit(cast, young_person=yp))


@pytest.mark.parametrize("role", ["practitioner", "manager", "hub_screener"])
def test_any_casework_role_may_refer(cast, role):
    referral = submit(cast, actor=cast.actor("referrer", role))
    assert referral.referred_by == cast.user("referrer", role)


def test_a_partner_system_may_refer(cast):
    referral = submit(cast, actor=api_client(cast.referrer), partner_reference="MIS-9")
    assert referral.referred_by is None
    assert referral.referring_agency == cast.referrer
    assert referral.young_person.recorded_by == cast.referrer
    assert events("submit").get().api_client == "school-mis"


@pytest.mark.parametrize("role", ["agency_admin", "dpo"])
def test_admins_and_dpos_may_not_refer(cast, rows, role):
    refused(rows, NotAllowed, lambda: submit(cast, actor=cast.actor("referrer", role)))


def test_superuser_and_nobody_may_not_refer(cast, rows):
    refused(rows, NotAllowed, lambda: submit(cast, actor=superuser(cast)))
    refused(rows, NotAllowed, lambda: submit(cast, actor=access.NOBODY))
    refused(rows, NotAllowed, lambda: submit(cast, actor=access.Actor(agency=None, api_client="stray")))


def _dob(years, days=0):
    today = timezone.localdate()
    return today.replace(year=today.year - years) - dt.timedelta(days=days)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"concerns": []}, "concerns"),
        ({"concerns": "weapon"}, "concerns"),
        ({"concerns": ["weapon", "knife_crime"]}, "concerns"),
        ({"concerns": ["other"]}, "concerns_other"),
        ({"concerns": ["weapon"], "concerns_other": "Something else"}, "concerns_other"),
        ({"concerns": ["other"], "concerns_other": "x" * 201}, "concerns_other"),
        ({"risk_level": "purple"}, "risk_level"),
        ({"risk_level": ""}, "risk_level"),
        ({"account": ""}, "account"),
        ({"account": "   "}, "account"),
        ({"account": "x" * 10_001}, "account"),
        ({"consent": "maybe"}, "consent"),
        ({"consent": "not_sought", "consent_reason": "Would alert the exploiters"}, "lawful_basis"),
        ({"consent": "not_sought", "lawful_basis": "safeguarding_children"}, "consent_reason"),
        ({"consent": "not_sought", "lawful_basis": "because", "consent_reason": "Risk"}, "lawful_basis"),
        ({"partner_reference": "x" * 101}, "partner_reference"),
        (lambda: {"received_at": timezone.now() + dt.timedelta(hours=1)}, "received_at"),
        ({"received_at": dt.datetime(2026, 1, 5, 10, 0)}, "received_at"),
        ({"person": {"given_name": "", "family_name": "Ellis", "date_of_birth": _dob(15)}}, "person.given_name"),
        ({"person": {"given_name": "A", "family_name": "x" * 101, "date_of_birth": _dob(15)}}, "person.family_name"),
        ({"person": {"given_name": "A", "family_name": "B"}}, "person.date_of_birth"),
        (lambda: {"person": {"given_name": "A", "family_name": "B", "date_of_birth": _dob(0, -1)}},
         "person.date_of_birth"),
        (lambda: {"person": {"given_name": "A", "family_name": "B", "date_of_birth": _dob(26)}},
         "person.date_of_birth"),
        ({"person": {"given_name": "A", "family_name": "B", "date_of_birth": "15/03/2011"}}, "person.date_of_birth"),
        ({"person": {"given_name": "A", "family_name": "B", "date_of_birth": _dob(15), "gender": "x"}}, "person.gender"),
        ({"person": {"given_name": "A", "family_name": "B", "date_of_birth": _dob(15), "ethnicity": "x"}},
         "person.ethnicity"),
        ({"person": {"given_name": "A", "family_name": "B", "date_of_birth": _dob(15), "nhs_number": "12345"}},
         "person.nhs_number"),
        ({"person": {"given_name": "A", "family_name": "B", "date_of_birth": _dob(15), "nickname": "Blade"}},
         "person.nickname"),
        ({"person": "Sam Okafor"}, "person"),
    ],
)
def test_submit_rules(cast, rows, kwargs, field):
    # Values read from the clock are made when the test runs, not when it
    # is collected: "tomorrow" made before midnight is today after it.
    kwargs = kwargs() if callable(kwargs) else kwargs
    error = refused(rows, DomainError, lambda: submit(cast, **kwargs))
    assert error.field == field


def test_submit_needs_exactly_one_young_person(cast, rows, person):
    yp = f.YoungPersonFactory(recorded_by=cast.referrer)
    assert refused(rows, DomainError, lambda: submit(cast, young_person=yp, person=person)).field == "young_person"
    assert refused(rows, DomainError, lambda: submit(cast, person=None, young_person=None)).field == "young_person"


def test_submit_age_limit_is_under_26(cast, person):
    person["date_of_birth"] = _dob(26, -1)  # 25, the day before the 26th birthday
    assert submit(cast, person=person).young_person.date_of_birth == person["date_of_birth"]


def test_submit_school_must_be_a_school(cast, rows, person):
    person["school"] = cast.owner  # a youth service
    assert refused(rows, DomainError, lambda: submit(cast, person=person)).field == "person.school"
    person["school"] = cast.referrer
    assert submit(cast, person=person).young_person.school == cast.referrer


def test_submit_accepts_account_at_the_limit_and_referral_without_consent_with_basis(cast):
    referral = submit(
        cast, account="x" * 10_000, consent=rm.Consent.NOT_SOUGHT,
        lawful_basis=rm.LawfulBasis.SAFEGUARDING_CHILDREN, consent_reason="Asking would put him at risk",
        concerns=[rm.Concern.OTHER], concerns_other="Seen with older males at night",
    )
    assert referral.lawful_basis == "safeguarding_children"
    assert referral.concerns_other == "Seen with older males at night"


def test_submit_with_a_known_identifier_the_referrer_can_see_is_refused(cast, rows, person):
    f.YoungPersonFactory(recorded_by=cast.referrer, unique_pupil_number="A123456789012")
    person["unique_pupil_number"] = "a123456789012"
    error = refused(rows, DomainError, lambda: submit(cast, person=person))
    assert error.field == "person.unique_pupil_number"


def test_submit_with_a_known_identifier_the_referrer_cannot_see_reveals_nothing(cast, person):
    hidden = f.YoungPersonFactory(recorded_by=cast.outsider, nhs_number="9434765919")
    person["nhs_number"] = "943 476 5919"
    referral = submit(cast, person=person)
    assert referral.young_person != hidden
    assert referral.young_person.nhs_number == ""
    assert events("create").get().detail == {"identifiers_withheld": ["nhs_number"]}


def test_submit_received_at_sets_the_deadline(cast, settings):
    settings.REFERRAL_DECISION_HOURS = {"red": 2}
    with time_machine.travel(dt.datetime(2026, 12, 24, 23, 0, tzinfo=LONDON), tick=False):
        red = submit(cast, risk_level=rm.RiskLevel.RED)
        green = submit(cast, risk_level=rm.RiskLevel.GREEN)
    assert red.decision_due_at == dt.datetime(2026, 12, 29, 1, 0, tzinfo=LONDON)
    assert green.decision_due_at == dt.datetime(2026, 12, 29, 23, 0, tzinfo=LONDON)
    earlier = timezone.now() - dt.timedelta(hours=3)
    backdated = submit(cast, received_at=earlier, risk_level=rm.RiskLevel.AMBER)
    assert backdated.received_at == earlier
    assert backdated.decision_due_at == deadlines.decision_due_at(earlier, "amber")


# ---------------------------------------------------------------------------
# Screening
# ---------------------------------------------------------------------------


@pytest.fixture
def referral(cast):
    return submit(cast)


def test_start_screening(cast, referral):
    screened = services.referral_start_screening(actor=hub(cast), referral=referral)
    assert screened.status == rm.ReferralStatus.SCREENING
    assert screened.screener == cast.user("hub", "hub_screener")
    assert events("start_screening").count() == 1


def test_start_screening_refuses_the_wrong_actors(cast, rows, referral):
    for actor, exc in [
        (cast.actor("referrer", "practitioner"), NotAllowed),  # sees it, may not screen
        (cast.actor("referrer", "manager"), NotAllowed),
        (cast.actor("outsider", "practitioner"), NotVisible),
        (cast.actor("hub", "practitioner"), NotVisible),
        (cast.actor("hub", "dpo"), NotVisible),
        (superuser(cast), NotVisible),
    ]:
        refused(rows, exc, lambda: services.referral_start_screening(actor=actor, referral=referral))


def test_start_screening_twice_or_after_a_decision(cast, rows, referral):
    services.referral_start_screening(actor=hub(cast), referral=referral)
    error = refused(rows, DomainError, lambda: services.referral_start_screening(actor=hub(cast), referral=referral))
    assert error.code == "already_screening"
    services.referral_no_further_action(actor=hub(cast), referral=referral, reason="Already known to YOT")
    error = refused(rows, DomainError, lambda: services.referral_start_screening(actor=hub(cast), referral=referral))
    assert error.code == "already_decided"


def test_accept_opens_a_case(cast, referral, settings):
    settings.CASE_REVIEW_INTERVAL_DAYS = 42
    key_worker = cast.user("owner", "practitioner")
    with time_machine.travel(dt.datetime(2026, 11, 13, 15, 0, tzinfo=LONDON), tick=False):
        services.referral_start_screening(actor=hub(cast), referral=referral)
        case = services.referral_accept(
            actor=hub(cast), referral=referral, lead_agency=cast.owner, key_worker=key_worker,
            reason="Weapon carrying and gang links",
        )
    referral.refresh_from_db()
    assert referral.status == rm.ReferralStatus.ACCEPTED
    assert referral.case == case
    assert referral.decided_by == cast.user("hub", "hub_screener")
    assert referral.decision_reason == "Weapon carrying and gang links"
    assert (case.lead_agency, case.key_worker, case.risk_level) == (cast.owner, key_worker, referral.risk_level)
    assert case.review_interval_days == 42
    # 13 Nov + 42 days is Christmas Day: the review falls due on Tuesday 29th.
    assert case.next_review_due == dt.date(2026, 12, 29)
    review = case.reviews.get()
    assert (review.due_on, review.completed_at) == (dt.date(2026, 12, 29), None)
    note = case.notes.get()
    assert note.kind == rm.NoteKind.DECISION
    assert (note.author, note.agency) == (cast.user("hub", "hub_screener"), cast.hub)
    assert referral.reference in note.text and "Weapon carrying" in note.text
    # Permissions follow the lead agency; the referrer sees the outcome, not the case.
    assert access.agencies_with_permission(case) == {cast.owner.pk}
    assert list(access.visible_cases(cast.actor("owner", "practitioner"))) == [case]
    assert list(access.visible_cases(cast.actor("referrer", "manager"))) == []
    assert list(access.visible_cases(cast.actor("hub", "hub_screener"))) == []
    assert referral in access.visible_referrals(cast.actor("referrer", "practitioner"))
    assert {e.action for e in AccessEvent.objects.filter(case_id=case.pk)} >= {"open_case", "accept", "add_note"}


def test_accept_without_screening_first_and_without_key_worker(cast, referral):
    case = services.referral_accept(actor=hub(cast), referral=referral, lead_agency=cast.owner)
    assert case.key_worker is None
    referral.refresh_from_db()
    assert referral.screener == cast.user("hub", "hub_screener")


def test_accept_joins_the_open_case(cast, case, rows):
    referral = submit(cast)
    # The hub links the new referral to the record that already has a case.
    duplicate = referral.young_person
    before = rows()
    joined = services.referral_accept(
        actor=hub(cast), referral=referral, lead_agency=cast.sharing, young_person=case.young_person,
        key_worker=cast.user("sharing", "practitioner"),
    )
    assert joined == case
    case.refresh_from_db()
    assert case.lead_agency == cast.owner  # unchanged
    assert case.key_worker == cast.user("owner", "practitioner")
    referral.refresh_from_db()
    assert referral.young_person == case.young_person
    assert referral.case == case
    after = rows()
    assert after["Case"] == before["Case"] and after["Review"] == before["Review"]
    assert after["CaseNote"] == before["CaseNote"] + 1
    assert "unchanged" in case.notes.get().text
    link = events("link_young_person").get()
    assert link.detail == {"from_young_person": duplicate.pk, "to_young_person": case.young_person.pk}
    assert access.agencies_with_permission(case) == {cast.owner.pk}


def test_accept_after_the_case_closed_opens_a_new_one(cast, case):
    services.case_close(actor=cast.actor("owner", "manager"), case=case, reason="outcomes_met", outcome="Engaged well")
    referral = submit(cast, young_person=case.young_person, actor=cast.actor("owner", "practitioner"))
    new_case = services.referral_accept(actor=hub(cast), referral=referral, lead_agency=cast.sharing)
    assert new_case != case and new_case.lead_agency == cast.sharing
    assert access.agencies_with_permission(new_case) == {cast.sharing.pk}


@pytest.mark.parametrize("who", [("sharing", "practitioner"), ("owner", "agency_admin"), ("owner", "dpo")])
def test_accept_key_worker_must_be_assignable_in_the_lead_agency(cast, rows, referral, who):
    error = refused(rows, DomainError, lambda: services.referral_accept(
        actor=hub(cast), referral=referral, lead_agency=cast.owner, key_worker=cast.user(*who),
    ))
    assert error.field == "key_worker"


def test_accept_lead_agency_must_be_active(cast, rows, referral):
    cast.sharing.is_active = False
    cast.sharing.save()
    error = refused(rows, DomainError, lambda: services.referral_accept(
        actor=hub(cast), referral=referral, lead_agency=cast.sharing,
    ))
    assert error.field == "lead_agency"


def test_accept_refuses_the_wrong_actors(cast, rows, referral):
    for actor, exc in [
        (cast.actor("referrer", "practitioner"), NotAllowed),
        (cast.actor("referrer", "manager"), NotAllowed),
        (cast.actor("owner", "manager"), NotVisible),
        (cast.actor("outsider", "practitioner"), NotVisible),
        (cast.actor("hub", "agency_admin"), NotVisible),
        (superuser(cast), NotVisible),
    ]:
        refused(rows, exc, lambda: services.referral_accept(actor=actor, referral=referral, lead_agency=cast.owner))


def test_a_decided_referral_cannot_be_decided_again(cast, rows, referral):
    services.referral_accept(actor=hub(cast), referral=referral, lead_agency=cast.owner)
    other_screener = second_screener(cast)
    for call in [
        lambda: services.referral_accept(actor=other_screener, referral=referral, lead_agency=cast.sharing),
        lambda: services.referral_signpost(actor=hub(cast), referral=referral, signposted_to="GP", reason="x"),
        lambda: services.referral_no_further_action(actor=hub(cast), referral=referral, reason="x"),
        lambda: services.referral_withdraw(actor=cast.actor("referrer", "practitioner"), referral=referral, reason="x"),
    ]:
        assert refused(rows, DomainError, call).code == "already_decided"


def test_accept_with_a_stale_instance_reads_the_locked_row(cast, rows, referral):
    stale = rm.Referral.objects.get(pk=referral.pk)
    services.referral_signpost(actor=hub(cast), referral=referral, signposted_to="Youth club", reason="Low risk")
    assert stale.status == rm.ReferralStatus.SUBMITTED
    refused(rows, DomainError, lambda: services.referral_accept(actor=hub(cast), referral=stale, lead_agency=cast.owner))


def test_accept_links_only_to_a_real_young_person(cast, rows, referral):
    anonymised = f.YoungPersonFactory(recorded_by=cast.owner, anonymised_at=timezone.now())
    error = refused(rows, DomainError, lambda: services.referral_accept(
        actor=hub(cast), referral=referral, lead_agency=cast.owner, young_person=anonymised,
    ))
    assert error.field == "young_person"


def test_signpost(cast, referral, rows):
    decided = services.referral_signpost(
        actor=hub(cast), referral=referral, signposted_to="Local boxing club", reason="Low risk; wants activities",
    )
    assert decided.status == rm.ReferralStatus.SIGNPOSTED
    assert decided.signposted_to == "Local boxing club"
    assert decided.decided_at is not None and decided.case is None
    assert events("signpost").count() == 1


@pytest.mark.parametrize("kwargs, field", [
    ({"signposted_to": "", "reason": "Low risk"}, "signposted_to"),
    ({"signposted_to": "Club", "reason": "  "}, "reason"),
    ({"signposted_to": "x" * 201, "reason": "Low risk"}, "signposted_to"),
])
def test_signpost_rules(cast, referral, rows, kwargs, field):
    error = refused(rows, DomainError, lambda: services.referral_signpost(actor=hub(cast), referral=referral, **kwargs))
    assert error.field == field


def test_no_further_action(cast, referral, rows):
    assert refused(rows, DomainError, lambda: services.referral_no_further_action(
        actor=hub(cast), referral=referral, reason="",
    )).field == "reason"
    decided = services.referral_no_further_action(actor=hub(cast), referral=referral, reason="Already open to CSC")
    assert decided.status == rm.ReferralStatus.NO_FURTHER_ACTION
    assert decided.decision_reason == "Already open to CSC"


def test_signpost_and_nfa_refuse_the_wrong_actors(cast, rows, referral):
    for actor, exc in [
        (cast.actor("referrer", "manager"), NotAllowed),
        (cast.actor("outsider", "manager"), NotVisible),
        (superuser(cast), NotVisible),
        (api_client(cast.referrer), NotAllowed),
    ]:
        refused(rows, exc, lambda: services.referral_signpost(
            actor=actor, referral=referral, signposted_to="GP", reason="Low risk",
        ))
        refused(rows, exc, lambda: services.referral_no_further_action(actor=actor, referral=referral, reason="No"))


# ---------------------------------------------------------------------------
# Withdrawal
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["practitioner", "manager"])
def test_referrer_or_their_manager_may_withdraw(cast, referral, role):
    withdrawn = services.referral_withdraw(
        actor=cast.actor("referrer", role), referral=referral, reason="Family moved away",
    )
    assert withdrawn.status == rm.ReferralStatus.WITHDRAWN
    assert withdrawn.decided_by == cast.user("referrer", role)
    assert events("withdraw").count() == 1


def test_withdraw_while_screening(cast, referral):
    services.referral_start_screening(actor=hub(cast), referral=referral)
    assert services.referral_withdraw(
        actor=cast.actor("referrer", "practitioner"), referral=referral, reason="Sent in error",
    ).status == rm.ReferralStatus.WITHDRAWN


def test_a_partner_system_withdraws_its_own_referral(cast, rows):
    referral = submit(cast, actor=api_client(cast.referrer))
    # A practitioner did not make it; another agency's system cannot see it.
    refused(rows, NotVisible, lambda: services.referral_withdraw(
        actor=cast.actor("referrer", "practitioner"), referral=referral, reason="x",
    ))
    refused(rows, NotVisible, lambda: services.referral_withdraw(
        actor=api_client(cast.outsider, "other-mis"), referral=referral, reason="x",
    ))
    withdrawn = services.referral_withdraw(actor=api_client(cast.referrer), referral=referral, reason="Duplicate")
    assert withdrawn.status == rm.ReferralStatus.WITHDRAWN and withdrawn.decided_by is None


def test_withdraw_refuses_the_wrong_actors(cast, rows, referral):
    colleague = f.make_member(cast.referrer, Role.PRACTITIONER, username="referrer-colleague")
    for actor, exc in [
        (access.actor_for_user(colleague), NotVisible),  # another practitioner: not their referral
        (hub(cast), NotAllowed),  # the hub sees it but decides it; it does not withdraw it
        (cast.actor("referrer", "hub_screener"), NotVisible),
        (cast.actor("referrer", "dpo"), NotVisible),
        (cast.actor("outsider", "manager"), NotVisible),
        (superuser(cast), NotVisible),
    ]:
        refused(rows, exc, lambda: services.referral_withdraw(actor=actor, referral=referral, reason="x"))
    assert refused(rows, DomainError, lambda: services.referral_withdraw(
        actor=cast.actor("referrer", "practitioner"), referral=referral, reason=" ",
    )).field == "reason"


# ---------------------------------------------------------------------------
# Allocation and lead agency
# ---------------------------------------------------------------------------


def test_allocate(cast, case):
    manager = cast.actor("owner", "manager")
    colleague = f.make_member(cast.owner, Role.PRACTITIONER, username="owner-colleague")
    allocated = services.case_allocate(actor=manager, case=case, key_worker=colleague)
    assert allocated.key_worker == colleague
    event = events("allocate").get()
    assert event.detail == {"key_worker": colleague.pk, "previous": cast.user("owner", "practitioner").pk}
    assert services.case_allocate(actor=manager, case=case, key_worker=cast.user("owner", "manager")).key_worker \
        == cast.user("owner", "manager")


def test_allocating_the_same_key_worker_writes_nothing(cast, case, rows):
    before = rows()
    services.case_allocate(actor=cast.actor("owner", "manager"), case=case, key_worker=case.key_worker)
    assert rows() == before


@pytest.mark.parametrize("who", [("sharing", "practitioner"), ("owner", "dpo"), ("owner", "hub_screener")])
def test_allocate_key_worker_must_be_assignable(cast, case, rows, who):
    error = refused(rows, DomainError, lambda: services.case_allocate(
        actor=cast.actor("owner", "manager"), case=case, key_worker=cast.user(*who),
    ))
    assert error.field == "key_worker"


def test_allocate_to_an_inactive_member_is_refused(cast, case, rows):
    leaver = f.make_member(cast.owner, Role.PRACTITIONER, username="owner-leaver")
    leaver.memberships.update(is_active=False)
    refused(rows, DomainError, lambda: services.case_allocate(
        actor=cast.actor("owner", "manager"), case=case, key_worker=leaver,
    ))


def case_actors_refused_management(cast):
    """Actors who may not allocate, transfer or close the shared case."""
    return [
        (cast.actor("owner", "practitioner"), NotAllowed),  # the key worker, not a manager
        (cast.actor("sharing", "manager"), NotAllowed),  # shares it, does not lead it
        (cast.actor("hub", "hub_screener"), NotVisible),
        (cast.actor("outsider", "manager"), NotVisible),
        (cast.actor("referrer", "manager"), NotVisible),
        (cast.actor("owner", "agency_admin"), NotVisible),
        (cast.actor("owner", "dpo"), NotVisible),
        (superuser(cast), NotVisible),
    ]


def test_allocate_refuses_the_wrong_actors(cast, shared_case, rows):
    other = cast.user("owner", "manager")
    for actor, exc in case_actors_refused_management(cast):
        refused(rows, exc, lambda: services.case_allocate(actor=actor, case=shared_case, key_worker=other))


def test_allocate_on_a_closed_case_is_refused(cast, case, rows):
    services.case_close(actor=cast.actor("owner", "manager"), case=case, reason="moved_away", outcome="Left borough")
    refused(rows, DomainError, lambda: services.case_allocate(
        actor=cast.actor("owner", "manager"), case=case, key_worker=cast.user("owner", "manager"),
    ))


def test_transfer_lead(cast, shared_case):
    new_worker = cast.user("sharing", "practitioner")
    case = services.case_transfer_lead(
        actor=cast.actor("owner", "manager"), case=shared_case, lead_agency=cast.sharing, key_worker=new_worker,
    )
    case.refresh_from_db()
    assert (case.lead_agency, case.key_worker) == (cast.sharing, new_worker)
    # The new lead holds the lead permissions; the old lead has no grant, so loses the case.
    assert access.agencies_with_permission(case, "manage_case") == {cast.sharing.pk}
    assert access.agencies_with_permission(case) == {cast.sharing.pk}
    assert list(access.visible_cases(cast.actor("owner", "manager"))) == []
    assert access.may(cast.actor("sharing", "manager"), access.Action.CLOSE, case)
    assert events("transfer_lead").get().detail["to_agency"] == cast.sharing.pk


def test_transfer_lead_without_key_worker_leaves_it_unallocated(cast, case):
    moved = services.case_transfer_lead(actor=cast.actor("owner", "manager"), case=case, lead_agency=cast.referrer)
    assert moved.key_worker is None and moved.lead_agency == cast.referrer


def test_transfer_lead_rules(cast, case, rows):
    manager = cast.actor("owner", "manager")
    assert refused(rows, DomainError, lambda: services.case_transfer_lead(
        actor=manager, case=case, lead_agency=cast.owner,
    )).field == "lead_agency"
    assert refused(rows, DomainError, lambda: services.case_transfer_lead(
        actor=manager, case=case, lead_agency=cast.sharing, key_worker=cast.user("owner", "practitioner"),
    )).field == "key_worker"
    cast.outsider.is_active = False
    cast.outsider.save()
    assert refused(rows, DomainError, lambda: services.case_transfer_lead(
        actor=manager, case=case, lead_agency=cast.outsider,
    )).field == "lead_agency"


def test_transfer_lead_refuses_the_wrong_actors(cast, shared_case, rows):
    for actor, exc in case_actors_refused_management(cast):
        refused(rows, exc, lambda: services.case_transfer_lead(actor=actor, case=shared_case, lead_agency=cast.hub))


# ---------------------------------------------------------------------------
# Chronology
# ---------------------------------------------------------------------------


def test_note_add_by_lead_and_shared_agencies(cast, shared_case):
    when = timezone.now() - dt.timedelta(days=2)
    note = services.case_note_add(
        actor=cast.actor("owner", "practitioner"), case=shared_case, kind="contact",
        text="Home visit; mum present.", occurred_at=when,
    )
    assert (note.author, note.agency, note.occurred_at, note.visibility) == (
        cast.user("owner", "practitioner"), cast.owner, when, "case",
    )
    police = services.case_note_add(
        actor=cast.actor("sharing", "practitioner"), case=shared_case, kind="incident",
        text="Stop and search, nothing found.", visibility="agency",
    )
    assert police.agency == cast.sharing
    # An agency-only entry stays with its agency.
    assert police not in access.visible_notes(cast.actor("owner", "manager"), shared_case)
    assert events("add_note").count() == 2


@pytest.mark.parametrize("kwargs, field", [
    ({"kind": "gossip"}, "kind"),
    ({"text": ""}, "text"),
    ({"text": "x" * 20_001}, "text"),
    ({"occurred_at": timezone.now() + dt.timedelta(days=1)}, "occurred_at"),
    ({"occurred_at": dt.datetime(2026, 1, 1, 10, 0)}, "occurred_at"),
    ({"visibility": "everyone"}, "visibility"),
])
def test_note_add_rules(cast, case, rows, kwargs, field):
    values = {"kind": "contact", "text": "Phoned school."}
    values.update(kwargs)
    error = refused(rows, DomainError, lambda: services.case_note_add(
        actor=cast.actor("owner", "practitioner"), case=case, **values,
    ))
    assert error.field == field


def test_note_add_at_the_length_limit(cast, case):
    assert len(services.case_note_add(
        actor=cast.actor("owner", "practitioner"), case=case, kind="meeting", text="x" * 20_000,
    ).text) == 20_000


def test_note_add_refuses_the_wrong_actors(cast, case, rows):
    for actor, exc in [
        (cast.actor("sharing", "practitioner"), NotVisible),  # not shared with them (this case)
        (cast.actor("outsider", "practitioner"), NotVisible),
        (cast.actor("referrer", "practitioner"), NotVisible),
        (cast.actor("hub", "hub_screener"), NotVisible),
        (cast.actor("owner", "dpo"), NotVisible),
        (cast.actor("owner", "agency_admin"), NotVisible),
        (superuser(cast), NotVisible),
        (api_client(cast.owner), NotVisible),  # an API client has no casework role in access.py
    ]:
        refused(rows, exc, lambda: services.case_note_add(actor=actor, case=case, kind="contact", text="Hello"))


def test_note_add_after_the_share_expires_is_refused(cast, case, rows):
    grant_share(case, cast.sharing, granted_by=cast.user("owner", "manager"), days=1)
    with time_machine.travel(timezone.now() + dt.timedelta(days=2)):
        refused(rows, NotVisible, lambda: services.case_note_add(
            actor=cast.actor("sharing", "practitioner"), case=case, kind="contact", text="Late",
        ))


def test_note_add_on_a_closed_case_is_refused(cast, case, rows):
    services.case_close(actor=cast.actor("owner", "manager"), case=case, reason="other", outcome="Done")
    assert refused(rows, DomainError, lambda: services.case_note_add(
        actor=cast.actor("owner", "practitioner"), case=case, kind="contact", text="Hello",
    )).code == "case_closed"


def test_note_correct(cast, shared_case):
    original = services.case_note_add(
        actor=cast.actor("owner", "practitioner"), case=shared_case, kind="meeting", text="Met at schol.",
        occurred_at=timezone.now() - dt.timedelta(hours=5), visibility="agency",
    )
    correction = services.case_note_correct(actor=cast.actor("owner", "manager"), note=original, text="Met at school.")
    assert correction.corrects == original
    assert (correction.kind, correction.occurred_at, correction.visibility) == (
        original.kind, original.occurred_at, original.visibility,
    )
    assert (correction.author, correction.agency) == (cast.user("owner", "manager"), cast.owner)
    original.refresh_from_db()
    assert original.text == "Met at schol."
    assert events("correct_note").get().detail == {"corrects": original.pk}


def test_note_correct_rules_and_actors(cast, shared_case, rows):
    owner_note = services.case_note_add(
        actor=cast.actor("owner", "practitioner"), case=shared_case, kind="contact", text="Phoned mum.",
    )
    private = services.case_note_add(
        actor=cast.actor("owner", "practitioner"), case=shared_case, kind="contact", text="Private.",
        visibility="agency",
    )
    assert refused(rows, DomainError, lambda: services.case_note_correct(
        actor=cast.actor("owner", "practitioner"), note=owner_note, text=" Phoned mum. ",
    )).code == "unchanged"
    assert refused(rows, DomainError, lambda: services.case_note_correct(
        actor=cast.actor("owner", "practitioner"), note=owner_note, text="",
    )).field == "text"
    for actor, note, exc in [
        (cast.actor("sharing", "manager"), owner_note, NotAllowed),  # sees it, not their agency's entry
        (cast.actor("sharing", "manager"), private, NotVisible),  # cannot see the owner's own entry
        (cast.actor("outsider", "manager"), owner_note, NotVisible),
        (cast.actor("owner", "dpo"), owner_note, NotVisible),
        (superuser(cast), owner_note, NotVisible),
    ]:
        refused(rows, exc, lambda: services.case_note_correct(actor=actor, note=note, text="Changed"))


def test_note_correct_on_a_closed_case(cast, case):
    note = services.case_note_add(actor=cast.actor("owner", "practitioner"), case=case, kind="contact", text="Wrng")
    services.case_close(actor=cast.actor("owner", "manager"), case=case, reason="other", outcome="Done")
    assert services.case_note_correct(actor=cast.actor("owner", "practitioner"), note=note, text="Wrong").corrects == note


# ---------------------------------------------------------------------------
# Interventions
# ---------------------------------------------------------------------------


def test_intervention_record_and_update(cast, shared_case):
    voluntary = f.make_agency("Boxing Club", AgencyKind.VOLUNTARY)
    today = timezone.localdate()
    intervention = services.intervention_record(
        actor=cast.actor("sharing", "practitioner"), case=shared_case, provider_agency=voluntary,
        kind="positive_activities", goals="Attend weekly sessions", planned_start=today + dt.timedelta(days=7),
        sessions_offered=10,
    )
    assert intervention.status == "planned"
    assert intervention.recorded_by == cast.user("sharing", "practitioner")
    started = services.intervention_update(
        actor=cast.actor("owner", "practitioner"), intervention=intervention,
        status="active", started_on=today - dt.timedelta(days=3), sessions_attended=1,
    )
    assert started.status == "active" and started.sessions_attended == 1
    done = services.intervention_update(
        actor=cast.actor("owner", "practitioner"), intervention=intervention,
        status="completed", ended_on=today, sessions_attended=9, outcome="Attended nearly all sessions",
    )
    done.refresh_from_db()
    assert (done.status, done.ended_on, done.sessions_attended) == ("completed", today, 9)
    assert events("record_intervention").count() == 1
    assert [e.detail for e in events("update_intervention").order_by("pk")] == [
        {"fields": ["sessions_attended", "started_on", "status"]},
        {"fields": ["ended_on", "outcome", "sessions_attended", "status"]},
    ]


def _today(days=0):
    return timezone.localdate() + dt.timedelta(days=days)


@pytest.mark.parametrize("kwargs, field", [
    ({"kind": "boot_camp"}, "kind"),
    ({"goals": ""}, "goals"),
    ({"status": "paused"}, "status"),
    ({"status": "completed", "started_on": _today(-10)}, "ended_on"),
    ({"status": "ended_early", "started_on": _today(-10)}, "ended_on"),
    ({"status": "completed", "started_on": _today(-10), "ended_on": _today(-11)}, "ended_on"),
    ({"status": "active"}, "started_on"),
    ({"status": "active", "started_on": _today(-3), "ended_on": _today(-1)}, "ended_on"),
    ({"status": "active", "started_on": _today(2)}, "started_on"),
    ({"status": "completed", "started_on": _today(-3), "ended_on": _today(2)}, "ended_on"),
    ({"sessions_offered": 2, "sessions_attended": 3}, "sessions_attended"),
    ({"sessions_offered": -1}, "sessions_offered"),
    ({"sessions_offered": "5"}, "sessions_offered"),
    ({"started_on": "yesterday"}, "started_on"),
])
def test_intervention_record_rules(cast, case, rows, kwargs, field):
    values = {"provider_agency": cast.owner, "kind": "mentoring", "goals": "Weekly mentoring"}
    values.update(kwargs)
    error = refused(rows, DomainError, lambda: services.intervention_record(
        actor=cast.actor("owner", "practitioner"), case=case, **values,
    ))
    assert error.field == field


def test_intervention_provider_must_be_an_active_agency(cast, case, rows):
    cast.outsider.is_active = False
    cast.outsider.save()
    assert refused(rows, DomainError, lambda: services.intervention_record(
        actor=cast.actor("owner", "practitioner"), case=case, provider_agency=cast.outsider,
        kind="mentoring", goals="x",
    )).field == "provider_agency"


def test_intervention_update_rules(cast, case, rows):
    actor = cast.actor("owner", "practitioner")
    intervention = services.intervention_record(
        actor=actor, case=case, provider_agency=cast.owner, kind="mentoring", goals="Weekly",
        status="active", started_on=_today(-5), sessions_offered=4, sessions_attended=2,
    )
    for changes, field in [
        ({"kind": "diversion"}, "kind"),
        ({"case": case}, "case"),
        ({"recorded_by": cast.user("owner", "manager")}, "recorded_by"),
        ({"sessions_attended": 5}, "sessions_attended"),
        ({"status": "completed"}, "ended_on"),
        ({"ended_on": _today(-6), "status": "ended_early"}, "ended_on"),
        ({"goals": " "}, "goals"),
    ]:
        error = refused(rows, DomainError, lambda: services.intervention_update(
            actor=actor, intervention=intervention, **changes,
        ))
        assert error.field == field
    services.intervention_update(actor=actor, intervention=intervention, status="ended_early", ended_on=_today())
    assert refused(rows, DomainError, lambda: services.intervention_update(
        actor=actor, intervention=intervention, status="active", ended_on=None,
    )).field == "status"
    # Nothing changed: nothing written.
    refused_nothing = rows()
    services.intervention_update(actor=actor, intervention=intervention, goals="Weekly")
    assert rows() == refused_nothing


def test_intervention_refuses_the_wrong_actors(cast, case, rows):
    intervention = services.intervention_record(
        actor=cast.actor("owner", "practitioner"), case=case, provider_agency=cast.owner, kind="mentoring",
        goals="Weekly",
    )
    for actor, exc in [
        (cast.actor("sharing", "practitioner"), NotVisible),
        (cast.actor("outsider", "manager"), NotVisible),
        (cast.actor("owner", "dpo"), NotVisible),
        (cast.actor("hub", "hub_screener"), NotVisible),
        (superuser(cast), NotVisible),
        (api_client(cast.owner), NotVisible),  # an API client has no casework role in access.py
    ]:
        refused(rows, exc, lambda: services.intervention_record(
            actor=actor, case=case, provider_agency=cast.owner, kind="mentoring", goals="x",
        ))
        refused(rows, (NotVisible, NotAllowed), lambda: services.intervention_update(
            actor=actor, intervention=intervention, goals="Changed",
        ))


def test_intervention_on_a_closed_case_is_refused(cast, case, rows):
    services.case_close(actor=cast.actor("owner", "manager"), case=case, reason="other", outcome="Done")
    refused(rows, DomainError, lambda: services.intervention_record(
        actor=cast.actor("owner", "practitioner"), case=case, provider_agency=cast.owner,
        kind="mentoring", goals="x",
    ))


# ---------------------------------------------------------------------------
# Reviews
# ---------------------------------------------------------------------------


def test_review_complete(cast, case):
    first = case.reviews.get()
    with time_machine.travel(dt.datetime(2026, 11, 13, 11, 0, tzinfo=LONDON), tick=False):
        review = services.review_complete(
            actor=cast.actor("owner", "manager"), case=case, risk_after="green",
            summary="Engaging with mentoring; no further incidents.", decision="step_down",
        )
    assert review == first
    review.refresh_from_db()
    assert review.completed_by == cast.user("owner", "manager")
    assert (review.risk_after, review.decision) == ("green", "step_down")
    assert review.next_review_due == dt.date(2026, 12, 29)  # 13 Nov + 42 days is Christmas Day
    case.refresh_from_db()
    assert case.risk_level == "green"
    assert case.next_review_due == dt.date(2026, 12, 29)
    open_reviews = case.reviews.filter(completed_at__isnull=True)
    assert [r.due_on for r in open_reviews] == [dt.date(2026, 12, 29)]
    assert events("complete_review").get().case_id == case.pk


def test_key_worker_completes_the_earliest_open_review(cast, case):
    later = rm.Review.objects.create(case=case, due_on=case.next_review_due + dt.timedelta(days=42))
    earliest = case.reviews.exclude(pk=later.pk).get()
    review = services.review_complete(
        actor=cast.actor("owner", "practitioner"), case=case, risk_after="amber", summary="Steady",
        decision="continue", completed_at=timezone.now() - dt.timedelta(days=1),
    )
    assert review == earliest


def test_review_without_an_open_row_creates_one_due_today(cast, case):
    case.reviews.all().delete()
    review = services.review_complete(
        actor=cast.actor("owner", "manager"), case=case, risk_after="red", summary="Escalating",
        decision="escalate",
    )
    assert review.due_on == timezone.localdate()
    assert case.reviews.count() == 2


def test_a_decision_to_close_leaves_the_case_open(cast, case):
    services.review_complete(
        actor=cast.actor("owner", "practitioner"), case=case, risk_after="green", summary="Goals met",
        decision="close",
    )
    case.refresh_from_db()
    assert case.is_open


@pytest.mark.parametrize("kwargs, field", [
    ({"risk_after": "black"}, "risk_after"),
    ({"summary": ""}, "summary"),
    ({"decision": "maybe"}, "decision"),
    ({"completed_at": timezone.now() + dt.timedelta(hours=2)}, "completed_at"),
    ({"completed_at": timezone.now() - dt.timedelta(days=365)}, "completed_at"),  # before the case opened
])
def test_review_rules(cast, case, rows, kwargs, field):
    values = {"risk_after": "amber", "summary": "Steady", "decision": "continue"}
    values.update(kwargs)
    error = refused(rows, DomainError, lambda: services.review_complete(
        actor=cast.actor("owner", "manager"), case=case, **values,
    ))
    assert error.field == field


def test_review_refuses_the_wrong_actors(cast, shared_case, rows):
    colleague = f.make_member(cast.owner, Role.PRACTITIONER, username="owner-colleague")
    for actor, exc in [
        (access.actor_for_user(colleague), NotAllowed),  # lead agency, not the key worker or a manager
        (cast.actor("sharing", "manager"), NotAllowed),
        (cast.actor("outsider", "manager"), NotVisible),
        (cast.actor("owner", "dpo"), NotVisible),
        (superuser(cast), NotVisible),
    ]:
        refused(rows, exc, lambda: services.review_complete(
            actor=actor, case=shared_case, risk_after="amber", summary="x", decision="continue",
        ))


# ---------------------------------------------------------------------------
# Closure
# ---------------------------------------------------------------------------


def test_close(cast, case):
    actor = cast.actor("owner", "practitioner")
    planned = services.intervention_record(actor=actor, case=case, provider_agency=cast.owner, kind="mentoring",
                                           goals="Mentoring")
    active = services.intervention_record(actor=actor, case=case, provider_agency=cast.owner, kind="diversion",
                                          goals="Diversion", status="active", started_on=_today(-10))
    completed = services.intervention_record(actor=actor, case=case, provider_agency=cast.owner, kind="therapeutic",
                                             goals="CBT", status="completed", started_on=_today(-20),
                                             ended_on=_today(-2))
    closed = services.case_close(
        actor=cast.actor("owner", "manager"), case=case, reason="outcomes_met", outcome="No incidents for 3 months",
    )
    closed.refresh_from_db()
    assert closed.status == "closed" and closed.closed_at is not None
    assert (closed.closed_by, closed.closure_reason) == (cast.user("owner", "manager"), "outcomes_met")
    assert closed.next_review_due is None
    for intervention, status, ended in [
        (planned, "ended_early", _today()), (active, "ended_early", _today()), (completed, "completed", _today(-2)),
    ]:
        intervention.refresh_from_db()
        assert (intervention.status, intervention.ended_on) == (status, ended)
    # Open review rows are kept, not deleted; they are moot once the case is closed.
    assert case.reviews.filter(completed_at__isnull=True).count() == 1
    assert sorted(events("close").get().detail["interventions_ended"]) == sorted([planned.pk, active.pk])
    # The lead agency still sees the closed case.
    assert closed in access.visible_cases(cast.actor("owner", "practitioner"))


def test_close_rules(cast, case, rows):
    manager = cast.actor("owner", "manager")
    assert refused(rows, DomainError, lambda: services.case_close(
        actor=manager, case=case, reason="bored", outcome="x",
    )).field == "reason"
    assert refused(rows, DomainError, lambda: services.case_close(
        actor=manager, case=case, reason="other", outcome="  ",
    )).field == "outcome"
    services.case_close(actor=manager, case=case, reason="other", outcome="Done")
    assert refused(rows, DomainError, lambda: services.case_close(
        actor=manager, case=case, reason="other", outcome="Again",
    )).code == "case_closed"


def test_close_refuses_the_wrong_actors(cast, shared_case, rows):
    for actor, exc in case_actors_refused_management(cast):
        refused(rows, exc, lambda: services.case_close(actor=actor, case=shared_case, reason="other", outcome="x"))


def test_services_never_touch_guardian_directly():
    source = Path(services.__file__).read_text()
    assert "import guardian" not in source and "from guardian" not in source


# ---------------------------------------------------------------------------
# Two screeners at once (real transactions, two connections)
# ---------------------------------------------------------------------------


def _overlap(first, second, hold: float = 1.0):
    """Run ``first`` in a transaction that stays open for ``hold`` seconds
    after it returns, and start ``second`` in another connection meanwhile.
    Return (what first returned or raised, what second returned or raised)."""
    import threading
    import time

    from django.db import connections

    started = threading.Event()
    results = [None, None]

    def run_first():
        try:
            with transaction.atomic():
                results[0] = first()
                started.set()
                time.sleep(hold)  # the second screener acts while this is uncommitted
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test asserts on
            results[0] = exc
        finally:
            started.set()
            connections.close_all()

    def run_second():
        try:
            started.wait(30)
            results[1] = second()
        except Exception as exc:  # noqa: BLE001
            results[1] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run_first), threading.Thread(target=run_second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


@pytest.mark.django_db(transaction=True)
def test_two_screeners_deciding_at_once_decide_once(cast):
    referral = submit(cast)
    one, two = cast.actor("hub", "hub_screener"), second_screener(cast)
    accepted, refused_second = _overlap(
        lambda: services.referral_accept(actor=one, referral=referral, lead_agency=cast.owner),
        lambda: services.referral_no_further_action(actor=two, referral=referral, reason="Known to CSC"),
    )
    assert isinstance(accepted, rm.Case), accepted
    assert isinstance(refused_second, DomainError) and refused_second.code == "already_decided", refused_second
    referral.refresh_from_db()
    assert (referral.status, referral.case) == (rm.ReferralStatus.ACCEPTED, accepted)


@pytest.mark.django_db(transaction=True)
def test_two_referrals_for_one_young_person_accepted_at_once_share_one_case(cast):
    yp = f.YoungPersonFactory(recorded_by=cast.referrer)
    first, second = submit(cast, young_person=yp), submit(cast, young_person=yp)
    one, two = cast.actor("hub", "hub_screener"), second_screener(cast)
    opened, joined = _overlap(
        lambda: services.referral_accept(actor=one, referral=first, lead_agency=cast.owner),
        lambda: services.referral_accept(actor=two, referral=second, lead_agency=cast.sharing),
    )
    assert isinstance(opened, rm.Case) and isinstance(joined, rm.Case), (opened, joined)
    assert opened == joined and joined.lead_agency == cast.owner
    assert rm.Case.objects.filter(young_person=yp).count() == 1


@pytest.mark.django_db(transaction=True)
def test_linking_a_duplicate_while_another_referral_is_accepted_still_gives_one_case(cast):
    yp = f.YoungPersonFactory(recorded_by=cast.referrer)
    duplicate = f.YoungPersonFactory(recorded_by=cast.referrer, given_name=yp.given_name, family_name=yp.family_name)
    about_duplicate, about_yp = submit(cast, young_person=duplicate), submit(cast, young_person=yp)
    one, two = cast.actor("hub", "hub_screener"), second_screener(cast)
    opened, joined = _overlap(
        lambda: services.referral_accept(actor=one, referral=about_duplicate, lead_agency=cast.owner, young_person=yp),
        lambda: services.referral_accept(actor=two, referral=about_yp, lead_agency=cast.sharing),
    )
    assert isinstance(opened, rm.Case) and isinstance(joined, rm.Case), (opened, joined)
    assert opened == joined
    assert rm.Case.objects.filter(young_person=yp).count() == 1
    assert not rm.Case.objects.filter(young_person=duplicate).exists()
