"""An agency-only chronology entry never leaves its agency, by any channel.

The world's case has a case-wide entry by the lead (owner) agency, an
agency-only entry by the owner and an agency-only entry by the sharing
agency. Each channel is tried as everyone who can reach it: the case page
(and its filters), the chronology API, corrections, the manager's export,
notifications and their e-mails (every kind of reminder), the dashboards
and the digest (whose "no activity" lists were counting other agencies'
entries), matching, the referral pages, the admin, the API's schema and the
access log.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from reminders.models import Notification
from casework import selectors
from referrals import models as rm
from reminders import services as reminders
from safeguarding import access
from safeguarding.models import AccessEvent
from tests import factories as f
from tests.safeguarding.conftest import share
from tests.security import url_table as t
from tests.security.helpers import new_client
from tests.security.conftest import CASE_WIDE_TEXT, OWNER_PRIVATE_TEXT, SHARING_PRIVATE_TEXT

pytestmark = pytest.mark.django_db

PRIVATE = {"own": OWNER_PRIVATE_TEXT, "shared": SHARING_PRIVATE_TEXT}


def signed_in(user) -> Client:
    client = new_client()
    if user is not None:
        client.force_login(user)
    return client


def api(world, relation: str) -> Client:
    client = signed_in(None)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {world.tokens[relation]}"
    return client


def text_of(response) -> str:
    return b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()


def assert_no_private(text: str, *, except_agency: str | None = None) -> None:
    for relation, private in PRIVATE.items():
        if relation != except_agency:
            assert private not in text, f"{relation}'s agency-only entry leaked"


# -- the case page --------------------------------------------------------------


@pytest.mark.parametrize("subject", sorted(t.CASE_TEAM))
@pytest.mark.parametrize("query", ["", "?agency={other}", "?kind=contact", "?page=1"])
def test_case_page_shows_only_own_agency_only_entries(world, subject, query):
    relation = "own" if subject.split("/")[0] in ("own", "key_worker") else "shared"
    other = world.agencies["shared" if relation == "own" else "own"]
    user = world.key_worker if subject.startswith("key_worker") else world.users[tuple(subject.split("/"))]
    body = text_of(signed_in(user).get(f"/cases/{world.case.pk}/{query.format(other=other.pk)}"))
    assert_no_private(body, except_agency=relation)
    if query in ("", "?kind=contact", "?page=1"):
        assert CASE_WIDE_TEXT in body and PRIVATE[relation] in body


def test_chronology_filter_does_not_list_an_agency_known_only_by_its_private_entries(world):
    """The sharing agency's only entry is agency-only: the owner's agency
    filter must not offer it (that would tell the owner it wrote something)."""
    body = text_of(signed_in(world.users[("own", "practitioner")]).get(f"/cases/{world.case.pk}/"))
    assert f'<option value="{world.agencies["shared"].pk}"' not in body
    assert f'<option value="{world.agencies["own"].pk}"' in body


def test_correcting_another_agencys_private_entry_is_a_404_everywhere(world):
    note = world.notes.sharing_private
    owner = signed_in(world.users[("own", "manager")])
    assert owner.get(f"/cases/{world.case.pk}/notes/{note.pk}/correct/").status_code == 404
    response = api(world, "own").post(
        f"/api/v1/cases/{world.case.pk}/notes/{note.pk}/correct/", json.dumps({"text": "Guessing"}),
        content_type="application/json",
    )
    assert response.status_code == 404
    assert not rm.CaseNote.objects.filter(corrects=note).exists()


def test_a_correction_of_a_private_entry_stays_private(world):
    response = api(world, "shared").post(
        f"/api/v1/cases/{world.case.pk}/notes/{world.notes.sharing_private.pk}/correct/",
        json.dumps({"text": "SHARING-ONLY corrected: a second county-lines contact"}), content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["visibility"] == "agency"
    page = text_of(signed_in(world.users[("own", "manager")]).get(f"/cases/{world.case.pk}/"))
    listed = text_of(api(world, "own").get(f"/api/v1/cases/{world.case.pk}/notes/"))
    assert "second county-lines contact" not in page + listed


# -- the chronology API ---------------------------------------------------------


@pytest.mark.parametrize("relation", ["own", "shared"])
def test_chronology_api_lists_only_own_private_entries(world, relation):
    response = api(world, relation).get(f"/api/v1/cases/{world.case.pk}/notes/")
    assert response.status_code == 200
    texts = [n["text"] for n in response.json()["results"]]
    assert CASE_WIDE_TEXT in texts and PRIVATE[relation] in texts
    assert_no_private(json.dumps(texts), except_agency=relation)


@pytest.mark.parametrize("relation", ["expired", "revoked", "other", "referrer", "hub"])
def test_chronology_api_refuses_everyone_else(world, relation):
    response = api(world, relation).get(f"/api/v1/cases/{world.case.pk}/notes/")
    assert response.status_code == 404
    assert_no_private(text_of(response))


# -- every page a person can reach -------------------------------------------------


def _pages(world):
    return [
        "/", "/notifications/", "/caseload.csv", "/referrals/new/", f"/referrals/{world.accepted_referral.pk}/",
        f"/referrals/{world.open_referral.pk}/", f"/screening/{world.open_referral.pk}/", f"/cases/{world.case.pk}/",
        f"/cases/{world.case.pk}/review/", f"/cases/{world.case.pk}/shares/add/",
        f"/cases/{world.case.pk}/notes/{world.notes.owner_case.pk}/correct/",
        f"/cases/{world.case.pk}/interventions/{world.intervention.pk}/", "/agency/api-clients/",
    ]


EVERYBODY = sorted(t.who(t.ALL_RELATIONS, ["practitioner", "manager"]) | {"hub/hub_screener", "own/dpo", "superuser"})


@pytest.mark.parametrize("subject", EVERYBODY)
def test_no_page_shows_another_agencys_private_entry(world, subject):
    """Every page of the site, as everybody: the owner's agency-only entry
    appears only to the owner agency, the sharing agency's only to it."""
    user = world.superuser if subject == "superuser" else (
        world.key_worker if subject.startswith("key_worker") else world.users[tuple(subject.split("/"))])
    relation = subject.split("/")[0]
    own_agency = {"own": "own", "key_worker": "own", "shared": "shared"}.get(relation)
    client = signed_in(user)
    for path in _pages(world):
        assert_no_private(text_of(client.get(path)), except_agency=own_agency)


def test_the_managers_export_carries_no_chronology(world):
    response = signed_in(world.users[("own", "manager")]).get("/caseload.csv")
    assert response.status_code == 200
    body = text_of(response)
    assert world.case.reference in body
    assert_no_private(body)
    assert CASE_WIDE_TEXT not in body


# -- notifications, e-mails, reminders, the digest and the dashboards -----------------


def test_reminders_and_their_emails_carry_no_private_entry(world, settings):
    """Every kind of reminder about the case, recorded and e-mailed: none
    carries chronology text, let alone an agency-only entry."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    now = timezone.now()
    case = world.case
    rm.Case.objects.filter(pk=case.pk).update(next_review_due=timezone.localdate() - dt.timedelta(days=1))
    rm.Review.objects.filter(pk=world.review.pk).update(due_on=timezone.localdate() - dt.timedelta(days=1))
    rm.Referral.objects.filter(pk=world.open_referral.pk).update(
        received_at=now - dt.timedelta(days=3), decision_due_at=now - dt.timedelta(days=2))
    world.grants["shared"].__class__.objects.filter(pk=world.grants["shared"].pk).update(
        expires_at=now + dt.timedelta(days=2))
    ids = [
        *reminders.review_reminders_record(case_id=case.pk, now=now),
        *reminders.screening_reminders_record(referral_id=world.open_referral.pk, now=now),
        *reminders.share_expiring_reminders_record(grant_id=world.grants["shared"].pk, now=now),
    ]
    for relation in ("own", "shared", "hub"):
        manager = world.users[(relation, "manager")]
        ids += reminders.manager_digest_record(user_id=manager.pk, agency_id=world.agencies[relation].pk, now=now)
    assert len(ids) >= 4, "the reminders under test were not recorded"
    mail.outbox.clear()
    for notification_id in ids:
        reminders.notification_email_send(notification_id=notification_id)
    assert mail.outbox, "no e-mail was sent"
    for notification in Notification.objects.all():
        assert_no_private(notification.subject + notification.body)
        assert CASE_WIDE_TEXT not in notification.body
    for message in mail.outbox:
        assert_no_private(message.subject + message.body + "".join(str(a[0]) for a in message.alternatives))


@pytest.fixture
def quiet_case(world):
    """An owner case, shared with the sharing agency, quiet for 40 days by
    everything the owner may read; the sharing agency wrote an agency-only
    entry about it yesterday."""
    now = timezone.now()
    case = f.CaseFactory(
        lead_agency=world.agencies["own"], key_worker=world.key_worker, opened_at=now - dt.timedelta(days=90),
        young_person=f.YoungPersonFactory(recorded_by=world.agencies["own"]),
    )
    share(case, world.agencies["shared"], agreement=world.agreement, emergency_basis="")
    old = now - dt.timedelta(days=40)
    for rel, when, visibility, text in (
        ("own", old, rm.NoteVisibility.CASE, "Last home visit"),
        ("shared", now - dt.timedelta(days=1), rm.NoteVisibility.AGENCY, "SHARING-ONLY: stop and search yesterday"),
    ):
        rm.CaseNote.objects.create(
            case=case, occurred_at=when, recorded_at=when, kind=rm.NoteKind.CONTACT,
            author=world.users[(rel, "practitioner")], agency=world.agencies[rel], text=text, visibility=visibility,
        )
    return case, old


def test_quiet_cases_ignore_other_agencies_private_entries(world, quiet_case):
    """Regression: the lead agency's 'no entries in 30 days' list counted the
    sharing agency's agency-only entries, so the case dropped off the list
    and its 'last entry' date was the private entry's: both told the lead
    agency that another agency had written something it may not read."""
    case, old = quiet_case
    actor = access.actor_for_user(world.users[("own", "manager")])
    listed = {c.pk: c for c in selectors.quiet_cases(actor)}
    assert case.pk in listed
    assert listed[case.pk].last_entry == old
    body = text_of(signed_in(world.users[("own", "manager")]).get("/"))
    assert f"last entry {timezone.localtime(old):%-d %b %Y}" in body


def test_the_digest_ignores_other_agencies_private_entries(world, quiet_case):
    case, _old = quiet_case
    manager = world.users[("own", "manager")]
    ids = reminders.manager_digest_record(user_id=manager.pk, agency_id=world.agencies["own"].pk)
    bodies = " ".join(Notification.objects.filter(pk__in=ids).values_list("body", flat=True))
    assert "Open cases with no activity in 30 days" in bodies and case.reference in bodies


# -- matching, the admin, the schema and the access log ---------------------------------


@pytest.mark.parametrize("relation", ["own", "shared", "referrer", "hub"])
def test_matching_returns_no_chronology(world, relation):
    body = {"given_name": "Tyrone", "family_name": "Okafor", "date_of_birth": world.young_person.date_of_birth.isoformat()}
    response = api(world, relation).post("/api/v1/young-people/matches/", json.dumps(body), content_type="application/json")
    assert response.status_code == 200
    assert_no_private(text_of(response))
    assert CASE_WIDE_TEXT not in text_of(response)


def test_the_admin_shows_no_chronology(world):
    client = signed_in(world.superuser)
    assert client.get("/admin/referrals/casenote/").status_code == 404
    for path in ("/admin/", f"/admin/auth/user/{world.users[('shared', 'practitioner')].pk}/change/",
                 f"/admin/agencies/agency/{world.agencies['shared'].pk}/change/",
                 f"/admin/auth/user/?q={SHARING_PRIVATE_TEXT[:12]}"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_no_private(text_of(response))


def test_the_schema_examples_carry_no_chronology(world):
    body = text_of(signed_in(None).get("/api/schema/"))
    assert "Crossroads partner API" in body
    assert_no_private(body)
    assert CASE_WIDE_TEXT not in body


def test_the_access_log_records_ids_not_text(world):
    signed_in(world.users[("own", "practitioner")]).get(f"/cases/{world.case.pk}/")
    api(world, "shared").get(f"/api/v1/cases/{world.case.pk}/notes/")
    assert AccessEvent.objects.filter(case_id=world.case.pk).count() >= 2
    for detail in AccessEvent.objects.values_list("detail", flat=True):
        assert_no_private(json.dumps(detail))
