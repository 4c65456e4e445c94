"""The case page and its actions: each role; own, other and shared agency;
expired share; bad input."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from referrals.models import CaseNote, CaseStatus, Intervention, InterventionStatus, NoteKind, Review
from safeguarding.models import ShareGrant
from tests import factories as f
from tests.web.conftest import date_fields, share

NOTE = {"kind": "contact", "text": "Met at the youth centre", "visibility": "case"}


def _note(case, user, agency, text="Original entry", visibility="case"):
    return CaseNote.objects.create(case=case, occurred_at=timezone.now(), kind=NoteKind.CONTACT, author=user,
                                   agency=agency, text=text, visibility=visibility)


ACTION_PAGES = ["note-add", "intervention-add", "review-complete", "share-add", "share-decline", "case-close",
                "case-reassign"]


@pytest.mark.parametrize("name", ACTION_PAGES + ["case-detail"])
@pytest.mark.parametrize("agency_key", ["outsider", "referrer", "hub", "sharing"])
def test_other_agencies_get_404_on_every_case_page(client, cast, owned_case, name, agency_key):
    client.force_login(cast.user(agency_key, "manager"))
    url = reverse(name, args=[owned_case.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, NOTE).status_code == 404


@pytest.mark.parametrize("name,allowed", [
    ("note-add", {"practitioner", "manager", "hub_screener"}),
    ("intervention-add", {"practitioner", "manager", "hub_screener"}),
    ("review-complete", {"practitioner", "manager"}),  # the key worker or a manager
    ("share-add", {"practitioner", "manager"}),
    ("share-decline", {"practitioner", "manager"}),
    ("case-close", {"manager"}),
    ("case-reassign", {"manager"}),
])
@pytest.mark.parametrize("role", ["practitioner", "manager", "hub_screener", "agency_admin", "dpo"])
def test_own_agency_roles(client, cast, owned_case, name, allowed, role):
    client.force_login(cast.user("owner", role))
    status = client.get(reverse(name, args=[owned_case.pk])).status_code
    if role in allowed:
        assert status == 200
    elif role in ("agency_admin", "dpo"):
        assert status == 404  # no case content by virtue of the role
    else:
        assert status == 403


def test_practitioner_who_is_not_key_worker_cannot_complete_review(client, cast, owned_case):
    colleague = f.make_member(cast.owner, "practitioner", username="colleague")
    client.force_login(colleague)
    assert client.get(reverse("review-complete", args=[owned_case.pk])).status_code == 403


def test_add_note_and_filter_chronology(client, cast, owned_case):
    client.force_login(cast.user("owner", "practitioner"))
    response = client.post(reverse("note-add", args=[owned_case.pk]), NOTE)
    assert response.status_code == 302
    CaseNote.objects.create(case=owned_case, occurred_at=timezone.now(), kind=NoteKind.MEETING,
                            author=cast.user("owner", "manager"), agency=cast.owner, text="Strategy meeting")
    body = client.get(reverse("case-detail", args=[owned_case.pk]), {"kind": "contact", "agency": cast.owner.pk}).content.decode()
    assert "Met at the youth centre" in body and "Strategy meeting" not in body
    body = client.get(reverse("case-detail", args=[owned_case.pk]), {"agency": cast.outsider.pk}).content.decode()
    assert "Met at the youth centre" not in body
    assert client.get(reverse("case-detail", args=[owned_case.pk]), {"kind": "incident"}).content.decode().count(
        "crossroads-timeline__item") == 0


def test_bad_note_keeps_input_and_shows_error_summary(client, cast, owned_case):
    client.force_login(cast.user("owner", "practitioner"))
    body = client.post(reverse("note-add", args=[owned_case.pk]), {"kind": "contact", "text": "   ", "visibility": "case"}).content.decode()
    assert "govuk-error-summary" in body and "Enter the entry" in body
    body = client.post(reverse("note-add", args=[owned_case.pk]), {"kind": "nonsense", "text": "Kept text", "visibility": "case"}).content.decode()
    assert "govuk-error-summary" in body and "Kept text" in body
    assert not CaseNote.objects.filter(case=owned_case).exists()


def test_correct_note_adds_a_correction_and_keeps_the_original(client, cast, owned_case):
    note = _note(owned_case, cast.user("owner", "practitioner"), cast.owner)
    client.force_login(cast.user("owner", "manager"))
    url = reverse("note-correct", args=[owned_case.pk, note.pk])
    assert "The correction is the same" in client.post(url, {"text": "Original entry"}).content.decode()
    assert client.post(url, {"text": "Corrected entry"}).status_code == 302
    assert CaseNote.objects.get(corrects=note).text == "Corrected entry"
    assert CaseNote.objects.get(pk=note.pk).text == "Original entry"


def test_shared_agency_cannot_correct_owner_note_nor_see_owner_only_note(client, cast, owned_case):
    note = _note(owned_case, cast.user("owner", "practitioner"), cast.owner)
    private = _note(owned_case, cast.user("owner", "practitioner"), cast.owner, text="Owner only", visibility="agency")
    share(cast, owned_case, cast.sharing)
    client.force_login(cast.user("sharing", "practitioner"))
    assert client.get(reverse("note-correct", args=[owned_case.pk, note.pk])).status_code == 403
    assert client.get(reverse("note-correct", args=[owned_case.pk, private.pk])).status_code == 404
    # ...but may contribute its own entry.
    assert client.post(reverse("note-add", args=[owned_case.pk]), NOTE).status_code == 302


def test_expired_share_loses_every_page(client, cast, owned_case):
    grant = share(cast, owned_case, cast.sharing)
    ShareGrant.objects.filter(pk=grant.pk).update(granted_at=timezone.now() - dt.timedelta(days=60),
                                                  expires_at=timezone.now() - dt.timedelta(seconds=1))
    client.force_login(cast.user("sharing", "practitioner"))
    for name in ("case-detail", "note-add", "intervention-add"):
        assert client.get(reverse(name, args=[owned_case.pk])).status_code == 404
    assert client.post(reverse("note-add", args=[owned_case.pk]), NOTE).status_code == 404


def test_intervention_add_update_and_complete(client, cast, owned_case):
    client.force_login(cast.user("owner", "practitioner"))
    today = timezone.localdate()
    response = client.post(reverse("intervention-add", args=[owned_case.pk]), {
        "provider_agency": cast.owner.pk, "kind": "mentoring", "goals": "Weekly mentoring", "status": "active",
        "sessions_offered": "6", **date_fields("started_on", today),
    })
    assert response.status_code == 302
    intervention = Intervention.objects.get(case=owned_case)
    url = reverse("intervention-update", args=[owned_case.pk, intervention.pk])
    bad = client.post(url, {"status": "completed", "sessions_offered": "6", "sessions_attended": "7",
                            **date_fields("started_on", today)}).content.decode()
    assert "govuk-error-summary" in bad and "Give the date the intervention ended" in bad
    bad = client.post(url, {"status": "completed", "sessions_offered": "6", "sessions_attended": "7",
                            **date_fields("started_on", today), **date_fields("ended_on", today)}).content.decode()
    assert "Sessions attended cannot be more than sessions offered" in bad
    ok = client.post(url, {"status": "completed", "sessions_offered": "6", "sessions_attended": "5", "outcome": "Done",
                           **date_fields("started_on", today), **date_fields("ended_on", today)})
    assert ok.status_code == 302
    intervention.refresh_from_db()
    assert intervention.status == InterventionStatus.COMPLETED


def test_intervention_of_another_case_is_404(client, cast, owned_case):
    other = f.CaseFactory(lead_agency=cast.outsider)
    hidden = Intervention.objects.create(case=other, provider_agency=cast.outsider, kind="mentoring", goals="x",
                                         recorded_by=cast.user("outsider", "practitioner"))
    client.force_login(cast.user("owner", "practitioner"))
    assert client.get(reverse("intervention-update", args=[owned_case.pk, hidden.pk])).status_code == 404


def test_key_worker_completes_review_which_sets_next_date(client, cast, owned_case):
    client.force_login(cast.user("owner", "practitioner"))
    response = client.post(reverse("review-complete", args=[owned_case.pk]),
                           {"risk_after": "green", "decision": "continue", "summary": "Engaging well"})
    assert response.status_code == 302
    owned_case.refresh_from_db()
    assert owned_case.risk_level == "green"
    assert owned_case.next_review_due > timezone.localdate()
    assert Review.objects.filter(case=owned_case, completed_at__isnull=False).count() == 1
    assert "Select decision" in client.post(reverse("review-complete", args=[owned_case.pk]),
                                            {"risk_after": "green", "summary": "x"}).content.decode()


def test_manager_shares_and_revokes(client, cast, owned_case):
    client.force_login(cast.user("owner", "manager"))
    form = {"agency": cast.sharing.pk, "purpose": "Joint safety plan", "lawful_basis": "safeguarding_children",
            "consent_sought": "no", "consent_reason": "Would increase risk",
            **date_fields("expires_on", timezone.localdate() + dt.timedelta(days=30))}
    too_long = {**form, **date_fields("expires_on", timezone.localdate() + dt.timedelta(days=800))}
    assert "at most 12 months" in client.post(reverse("share-add", args=[owned_case.pk]), too_long).content.decode()
    assert client.post(reverse("share-add", args=[owned_case.pk]), form).status_code == 302
    grant = ShareGrant.objects.get(case=owned_case)
    client.force_login(cast.user("sharing", "practitioner"))
    assert client.get(reverse("case-detail", args=[owned_case.pk])).status_code == 200
    assert client.get(reverse("share-revoke", args=[owned_case.pk, grant.pk])).status_code == 403
    client.force_login(cast.user("owner", "manager"))
    assert "Enter a reason" in client.post(reverse("share-revoke", args=[owned_case.pk, grant.pk]), {}).content.decode()
    assert client.post(reverse("share-revoke", args=[owned_case.pk, grant.pk]), {"reason": "No longer needed"}).status_code == 302
    client.force_login(cast.user("sharing", "practitioner"))
    assert client.get(reverse("case-detail", args=[owned_case.pk])).status_code == 404


def test_manager_reassigns_and_closes(client, cast, owned_case):
    client.force_login(cast.user("owner", "manager"))
    url = reverse("case-reassign", args=[owned_case.pk])
    assert "govuk-error-summary" in client.post(url, {"key_worker": cast.user("outsider", "practitioner").pk}).content.decode()
    assert client.post(url, {"key_worker": cast.user("owner", "manager").pk}).status_code == 302
    owned_case.refresh_from_db()
    assert owned_case.key_worker == cast.user("owner", "manager")
    close = reverse("case-close", args=[owned_case.pk])
    assert "Enter the outcome" in client.post(close, {"reason": "outcomes_met"}).content.decode()
    assert client.post(close, {"reason": "outcomes_met", "outcome": "Back in school"}).status_code == 302
    owned_case.refresh_from_db()
    assert owned_case.status == CaseStatus.CLOSED


def test_case_page_queries_do_not_grow_with_rows(client, cast, owned_case, django_assert_max_num_queries):
    worker = cast.user("owner", "practitioner")
    for i in range(30):
        _note(owned_case, worker, cast.owner, text=f"Entry {i}")
        Intervention.objects.create(case=owned_case, provider_agency=cast.owner, kind="mentoring", goals="x",
                                    recorded_by=worker)
    client.force_login(cast.user("owner", "manager"))
    # 30 before the case page showed its links to contexts and young people
    # (one policy check, one query for each) and its transfers to other
    # partnerships (one query): a fixed number, however many rows. Issue 18:
    # the chronology and the interventions fetch their withheld passages, the
    # page its consent records and the referral's consent while there are
    # none (one query each, for the whole page).
    with django_assert_max_num_queries(37):
        assert client.get(reverse("case-detail", args=[owned_case.pk])).status_code == 200


def test_decision_not_to_share_is_recorded(client, cast, owned_case):
    from safeguarding.models import SharingDecision

    client.force_login(cast.user("owner", "manager"))
    url = reverse("share-decline", args=[owned_case.pk])
    body = client.post(url, {"agency": cast.sharing.pk, "purpose": "Asked for the chronology"}).content.decode()
    assert "Enter the reason for not sharing" in body and "Asked for the chronology" in body
    assert client.post(url, {"agency": cast.sharing.pk, "purpose": "Asked for the chronology",
                             "reason": "Not necessary for their purpose", "consent_sought": "yes",
                             "consent_reason": "Young person asked us not to"}).status_code == 302
    decision = SharingDecision.objects.get(case=owned_case)
    assert decision.outcome == "not_shared" and decision.decided_by == cast.user("owner", "manager")
    client.force_login(cast.user("sharing", "practitioner"))
    assert client.get(reverse("case-detail", args=[owned_case.pk])).status_code == 404
