"""Break-glass (issue 18): a person opens a case outside their access with a
reason, for the partnership's break-glass hours, alone, to read, in the
pages only; the lead agency's managers and the DPOs are told at once; a
manager of the opener's agency signs it off or escalates it; every access-log
row read under it is marked. And the relations "consent withdrawn",
"break-glass open" and "break-glass expired" by channel: page, API, export
(the caseload CSV) and panel papers."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from django.utils import timezone

from lib.errors import DomainError
from partnerships.models import PartnershipRules
from referrals import models as rm
from reminders import services as reminders
from reminders import tasks
from reminders.models import Notification, NotificationKind
from safeguarding import access, break_glass, consent
from safeguarding.models import AccessEvent, BreakGlassAccess, BreakGlassReview, Channel
from tests import factories as f
from tests.api.conftest import bearer, issue
from tests.reminders.conftest import eager  # noqa: F401 (a fixture)
from tests.safeguarding.conftest import share

NotVisible, NotAllowed = access.NotVisible, access.NotAllowed
REASON = "Reported missing tonight; need the family's contacts now"


@pytest.fixture
def case(cast):
    """Led by the owner youth service; the outsider school has no share."""
    made = f.CaseFactory(lead_agency=cast.owner, key_worker=cast.user("owner", "practitioner"),
                         young_person=f.YoungPersonFactory(recorded_by=cast.owner))
    for agency, text in ((cast.owner, "OWNER-ONLY: informant"), (cast.sharing, "POLICE-ONLY: intelligence")):
        rm.CaseNote.objects.create(case=made, occurred_at=timezone.now(), kind="contact", author=cast.user(
            "owner" if agency == cast.owner else "sharing", "practitioner"), agency=agency, text=text,
            visibility=rm.NoteVisibility.AGENCY)
    rm.CaseNote.objects.create(case=made, occurred_at=timezone.now(), kind="contact",
                               author=cast.user("owner", "practitioner"), agency=cast.owner,
                               text="Case-wide: met at the youth centre", visibility=rm.NoteVisibility.CASE)
    return made


def open_glass(cast, case, who=("outsider", "practitioner"), reason=REASON):
    with transaction.atomic():
        return break_glass.break_glass_open(actor=cast.actor(*who), case_reference=case.reference, reason=reason)


# -- opening ---------------------------------------------------------------------


def test_a_practitioner_opens_a_case_for_four_hours_to_read_only(cast, case):
    opener = cast.actor("outsider", "practitioner")
    assert not access.may(opener, access.Action.VIEW, case)
    opening = open_glass(cast, case)
    assert opening.expires_at - opening.opened_at == dt.timedelta(hours=4)
    assert access.get_case(opener, case.pk).pk == case.pk
    assert access.may(opener, access.Action.VIEW, case)
    for action in (access.Action.CONTRIBUTE, access.Action.MANAGE, access.Action.CLOSE):
        assert not access.may(opener, action, case)
        with pytest.raises(NotAllowed):
            access.get_case(opener, case.pk, action)
    # No more than an ordinary share: the case-wide chronology, no agency's own notes.
    texts = set(access.visible_notes(opener, case).values_list("text", flat=True))
    assert texts == {"Case-wide: met at the youth centre"}
    # Not in lists, exports or anything built on the caseload.
    assert not access.visible_cases(opener).filter(pk=case.pk).exists()
    assert not access.listed_cases(opener).filter(pk=case.pk).exists()
    assert access.visible_case_ids(opener, [case.pk]) == set()


def test_every_access_log_row_under_break_glass_is_marked(cast, case, client):
    open_glass(cast, case)
    client.force_login(cast.user("outsider", "practitioner"))
    assert client.get(f"/cases/{case.pk}/").status_code == 200
    assert client.get(f"/cases/{case.pk}/history/").status_code == 200
    rows = AccessEvent.objects.filter(case_id=case.pk, user=cast.user("outsider", "practitioner"))
    assert {r.action for r in rows} >= {"break_glass_open", "view", "view_history"}
    assert all(r.break_glass and r.basis.startswith("Break-glass #") for r in rows)
    # Nobody else's rows are marked.
    client.force_login(cast.user("owner", "manager"))
    client.get(f"/cases/{case.pk}/")
    assert not AccessEvent.objects.filter(user=cast.user("owner", "manager"), break_glass=True).exists()
    # The lead agency's manager sees the marked rows in "who has seen this record".
    log = client.get(f"/cases/{case.pk}/access-log/").content.decode()
    assert log.count('govuk-tag--orange">Break-glass</strong>') == rows.count()


def test_the_partnerships_break_glass_hours_apply(cast, case):
    PartnershipRules.objects.create(
        partnership=case.partnership, effective_from=timezone.now() - dt.timedelta(days=1), review_days_red=14,
        review_days_amber=28, review_days_green=56, retention_age_years=25, break_glass_hours=2,
    )
    opening = open_glass(cast, case)
    assert opening.expires_at - opening.opened_at == dt.timedelta(hours=2)


def test_access_ends_when_the_hours_are_up_and_is_renewed_only_with_a_new_reason(cast, case):
    opener = cast.actor("outsider", "practitioner")
    opening = open_glass(cast, case)
    with time_machine.travel(opening.expires_at + dt.timedelta(seconds=1), tick=False):
        with pytest.raises(NotVisible):
            access.get_case(opener, case.pk)
        assert not access.may(opener, access.Action.VIEW, case)
        with pytest.raises(DomainError) as info:
            open_glass(cast, case, reason="  reported MISSING tonight; need the family's contacts now ")
        assert info.value.code == "not_new" and info.value.field == "reason"
        renewed = open_glass(cast, case, reason="Seen with an adult of concern at the station just now")
        assert access.get_case(opener, case.pk).pk == case.pk
    assert BreakGlassAccess.objects.filter(case=case).count() == 2 and renewed.pk != opening.pk


def test_only_the_opener_colleagues_and_other_roles_get_nothing(cast, case):
    open_glass(cast, case)
    for who in (("outsider", "manager"), ("outsider", "hub_screener"), ("outsider", "dpo")):
        with pytest.raises(NotVisible):
            access.get_case(cast.actor(*who), case.pk)


@pytest.mark.parametrize("role", ["agency_admin", "dpo", "partnership_admin"])
def test_roles_that_work_no_cases_cannot_break_glass(cast, case, role):
    with pytest.raises(NotAllowed):
        open_glass(cast, case, who=("outsider", role))
    assert not BreakGlassAccess.objects.exists()


def test_partner_systems_and_the_api_channel_cannot_break_glass(cast, case):
    person = cast.actor("outsider", "practitioner")
    for actor in (dataclasses.replace(person, channel=Channel.API),
                  dataclasses.replace(person, channel=Channel.API, api_client="school-sims",
                                      scopes=frozenset(access.API_SCOPES))):
        with pytest.raises(NotAllowed):
            break_glass.break_glass_open(actor=actor, case_reference=case.reference, reason=REASON)
    # And an opening made in the pages does not reach the API channel.
    open_glass(cast, case)
    with pytest.raises(NotVisible):
        access.get_case(dataclasses.replace(person, channel=Channel.API), case.pk)


def test_bad_openings_are_refused_with_the_field_at_fault(cast, case):
    other_borough = f.PartnershipFactory(name="Other borough", slug="other-borough")
    elsewhere = f.CaseFactory(young_person=f.YoungPersonFactory(partnership=other_borough))
    cases = [
        ("C-NOPE-NOPE", REASON, "case_reference", "not_found"),
        (elsewhere.reference, REASON, "case_reference", "not_found"),  # another partnership's case
        (case.reference, "urgent", "reason", "min_length"),
        (case.reference, "", "reason", "required"),
        ("", REASON, "case_reference", "required"),
    ]
    for reference, reason, field, code in cases:
        with pytest.raises(DomainError) as info:
            break_glass.break_glass_open(actor=cast.actor("outsider", "practitioner"), case_reference=reference,
                                         reason=reason)
        assert (info.value.field, info.value.code) == (field, code)
    with pytest.raises(DomainError) as info:  # a case they can already see
        break_glass.break_glass_open(actor=cast.actor("owner", "practitioner"), case_reference=case.reference,
                                     reason=REASON)
    assert info.value.code == "already_visible"
    assert not BreakGlassAccess.objects.exists()


# -- telling and reviewing -----------------------------------------------------------


def test_the_lead_managers_and_the_dpos_are_told_at_once_and_emailed_once(
    cast, case, eager, django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            opening = open_glass(cast, case)
            tasks.email_later(reminders.break_glass_opened_record(opening_id=opening.pk))
            told = {n.recipient for n in Notification.objects.filter(kind=NotificationKind.BREAK_GLASS_OPENED)}
            assert told == {cast.user("owner", "manager"), cast.user("owner", "dpo"), cast.user("outsider", "dpo")}
            assert mail.outbox == []
    assert len(mail.outbox) == 3
    assert all(case.reference in m.subject and REASON not in m.body for m in mail.outbox)
    ids = list(Notification.objects.filter(kind=NotificationKind.BREAK_GLASS_OPENED).values_list("pk", flat=True))
    reminders.break_glass_opened_record(opening_id=opening.pk)
    tasks.notification_email_many.apply(args=[ids]).get()
    tasks.notification_email_many.apply(args=[ids]).get()
    assert len(mail.outbox) == 3 and Notification.objects.filter(kind=NotificationKind.BREAK_GLASS_OPENED).count() == 3


def test_a_manager_of_the_openers_agency_signs_it_off(cast, case):
    opening = open_glass(cast, case)
    manager = cast.actor("outsider", "manager")
    assert list(break_glass.review_queue(manager)) == [opening]
    # The DPOs of the partnership see it too; nobody else.
    assert list(break_glass.review_queue(cast.actor("owner", "dpo"))) == [opening]
    for who in (("owner", "manager"), ("outsider", "practitioner"), ("sharing", "manager")):
        assert not break_glass.review_queue(cast.actor(*who)).exists()
    review = break_glass.break_glass_review(actor=manager, opening=opening, outcome="signed_off",
                                           note="Justified: she was missing")
    assert review.reviewed_by == cast.user("outsider", "manager")
    assert not break_glass.review_queue(manager).exists()
    assert list(break_glass.reviewed(manager)) == [opening]
    with pytest.raises(DomainError):
        break_glass.break_glass_review(actor=manager, opening=opening, outcome="escalated", note="Again")
    assert AccessEvent.objects.filter(action="break_glass_review").count() == 1


def test_nobody_else_reviews_and_a_manager_not_their_own_opening(cast, case):
    opening = open_glass(cast, case, who=("outsider", "manager"))
    with pytest.raises(NotAllowed):  # the opener
        break_glass.break_glass_review(actor=cast.actor("outsider", "manager"), opening=opening,
                                       outcome="signed_off", note="Fine")
    with pytest.raises(NotAllowed):  # a DPO sees it, but a manager decides
        break_glass.break_glass_review(actor=cast.actor("owner", "dpo"), opening=opening, outcome="signed_off",
                                       note="Fine")
    with pytest.raises(NotVisible):  # the lead agency's manager is told, but reviews not
        break_glass.break_glass_review(actor=cast.actor("owner", "manager"), opening=opening,
                                       outcome="signed_off", note="Fine")
    assert not BreakGlassReview.objects.exists()


def test_an_escalation_tells_the_dpos_once(cast, case, eager, django_capture_on_commit_callbacks):
    opening = open_glass(cast, case)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        break_glass.break_glass_review(actor=cast.actor("outsider", "manager"), opening=opening,
                                       outcome="escalated", note="No sign she was missing: check this")
        tasks.email_later(reminders.break_glass_escalated_record(opening_id=opening.pk))
    told = {n.recipient for n in Notification.objects.filter(kind=NotificationKind.BREAK_GLASS_ESCALATED)}
    assert told == {cast.user("outsider", "dpo"), cast.user("owner", "dpo")}
    assert reminders.break_glass_escalated_record(opening_id=opening.pk) == []
    assert len([m for m in mail.outbox if "escalated" in m.subject]) == 2


# -- the relations by channel ---------------------------------------------------------

RELATIONS = ("consent_withdrawn", "break_glass_open", "break_glass_expired")


def enter(cast, case, relation: str) -> str:
    """Put the outsider school in the relation; return its agency key."""
    if relation == "consent_withdrawn":
        manager = cast.actor("owner", "manager")
        given = consent.consent_record(actor=manager, case=case, given_by="parent_carer")
        share(case, cast.outsider, agreement=cast.agreement, emergency_basis="", lawful_basis="consent")
        with transaction.atomic():
            consent.consent_withdraw(actor=manager, case=case, consent=given, withdrawn_by="parent_carer")
    elif relation == "break_glass_open":
        open_glass(cast, case, who=("outsider", "manager"))
    else:
        BreakGlassAccess.objects.create(
            partnership=case.partnership, case=case, user=cast.user("outsider", "manager"), agency=cast.outsider,
            reason=REASON, opened_at=timezone.now() - dt.timedelta(hours=5),
            expires_at=timezone.now() - dt.timedelta(hours=1),
        )
    return "outsider"


@pytest.mark.parametrize("relation", RELATIONS)
def test_by_channel(cast, case, relation, client, settings):
    key = enter(cast, case, relation)
    manager = cast.user(key, "manager")
    client.force_login(manager)
    # Page: only an open break-glass reads it.
    page = client.get(f"/cases/{case.pk}/").status_code
    assert page == (200 if relation == "break_glass_open" else 404)
    # Export: the caseload CSV never holds it.
    export = client.get("/caseload.csv")
    assert export.status_code == 200
    assert case.reference not in b"".join(export.streaming_content).decode()
    # Panel papers: what the agency may see, never a break-glass case.
    assert access.visible_case_ids(cast.actor(key, "manager"), [case.pk]) == set()
    # The partner API: nothing, whatever the relation.
    settings.ROOT_URLCONF = "tests.api.urls"
    api_client, _ = issue(cast, key)
    response = client.get(f"/api/v1/cases/{case.pk}/", HTTP_AUTHORIZATION=f"Bearer {bearer(api_client)}")
    assert response.status_code == 404
    # (The lead agency's own system reads it at that address.)
    owner_client, _ = issue(cast, "owner")
    response = client.get(f"/api/v1/cases/{case.pk}/", HTTP_AUTHORIZATION=f"Bearer {bearer(owner_client)}")
    assert response.status_code == 200


def test_a_share_on_another_lawful_basis_survives_in_every_channel(cast, case, client):
    manager = cast.actor("owner", "manager")
    given = consent.consent_record(actor=manager, case=case, given_by="parent_carer")
    share(case, cast.sharing, agreement=cast.agreement, emergency_basis="", lawful_basis="safeguarding_children")
    with transaction.atomic():
        consent.consent_withdraw(actor=manager, case=case, consent=given, withdrawn_by="parent_carer")
    police = cast.actor("sharing", "manager")
    assert access.listed_cases(police).filter(pk=case.pk).exists()
    assert access.visible_case_ids(police, [case.pk]) == {case.pk}
    client.force_login(cast.user("sharing", "manager"))
    assert client.get(f"/cases/{case.pk}/").status_code == 200


def test_break_glass_tables_keep_to_their_partnership(cast, case):
    from tests.partnerships.test_row_security import count_as_app

    open_glass(cast, case)
    given = consent.consent_record(actor=cast.actor("owner", "manager"), case=case, given_by="parent_carer")
    with transaction.atomic():
        consent.consent_withdraw(actor=cast.actor("owner", "manager"), case=case, consent=given,
                                 withdrawn_by="parent_carer")
    other = f.PartnershipFactory(name="Elsewhere", slug="elsewhere")
    for table in ("safeguarding_breakglassaccess", "safeguarding_consentrecord", "safeguarding_consentwithdrawal"):
        assert count_as_app(table, None) == 0
        assert count_as_app(table, other.pk) == 0
        assert count_as_app(table, case.partnership_id) == 1



def test_the_subject_access_export_holds_consent_and_break_glass(cast, case, client):
    from reports import subject_access

    manager = cast.actor("owner", "manager")
    given = consent.consent_record(actor=manager, case=case, given_by="parent_carer")
    with transaction.atomic():
        consent.consent_withdraw(actor=manager, case=case, consent=given, withdrawn_by="parent_carer",
                                 reason="Mother withdrew it")
    opening = open_glass(cast, case)
    break_glass.break_glass_review(actor=cast.actor("outsider", "manager"), opening=opening, outcome="signed_off",
                                   note="Justified")
    client.force_login(cast.user("outsider", "practitioner"))
    client.get(f"/cases/{case.pk}/")
    sar = subject_access.subject_access_request_record(
        actor=cast.actor("owner", "dpo"), young_person=case.young_person, received_on=timezone.localdate())
    data = subject_access.subject_access_export(actor=cast.actor("owner", "dpo"), sar=sar, format="json")
    section = data["cases"][0]
    assert [c["data"]["given_by"] for c in section["consents"]] == ["parent_carer"]
    assert section["consent_withdrawals"][0]["data"]["reason"] == "Mother withdrew it"
    assert section["break_glass_openings"][0]["data"]["reason"] == REASON
    assert section["break_glass_reviews"][0]["data"]["outcome"] == "signed_off"
    marked = [row for row in data["access_log"] if row["break_glass"]]
    assert {row["action"] for row in marked} >= {"break_glass_open", "view"}
    assert all(row["username"] == cast.user("outsider", "practitioner").username for row in marked)
    client.force_login(cast.user("owner", "dpo"))
    page = client.get(f"/subject-access/{sar.pk}/export.html").content.decode()
    assert "Consent withdrawn (1)" in page and "Emergency (break-glass) openings (1)" in page
    assert "Review of a break-glass opening" in page
