"""Make a referral: the question pages, check your answers, confirmation."""

import datetime as dt

import pytest
from django.urls import reverse

from referrals.models import Referral, YoungPerson
from tests import factories as f
from tests.web.conftest import date_fields

DOB = dt.date(2010, 3, 27)


def _answer_questions(client):
    assert client.post(reverse("referral-concerns"), {"concerns": ["weapon", "gang_association"]}).status_code == 302
    assert client.post(reverse("referral-risk"), {"risk_level": "amber"}).status_code == 302
    assert client.post(reverse("referral-account"), {"account": "Seen with a blade at the bus stop"}).status_code == 302
    assert client.post(reverse("referral-consent"), {"consent": "young_person"}).status_code == 302


def test_new_young_person_referral_saves_nothing_until_submitted(client, cast):
    client.force_login(cast.user("referrer", "practitioner"))
    assert "call 999" in client.get(reverse("referral-start")).content.decode()
    response = client.post(reverse("referral-person"), {"given_name": "Jay", "family_name": "Mensah", **date_fields("date_of_birth", DOB)})
    assert response.status_code == 302, response.context["form"].errors
    assert response["Location"] == reverse("referral-person-choose")
    assert client.post(reverse("referral-person-choose"), {"young_person": "new"})["Location"] == reverse("referral-person-new")
    page = client.get(reverse("referral-person-new")).content.decode()
    assert 'value="Mensah"' in page and 'value="27"' in page
    response = client.post(reverse("referral-person-new"), {
        "given_name": "Jay", "family_name": "Mensah", "gender": "male", **date_fields("date_of_birth", DOB),
    })
    assert response["Location"] == reverse("referral-concerns")
    _answer_questions(client)
    assert Referral.objects.count() == 0 and not YoungPerson.objects.filter(family_name="Mensah").exists()
    check = client.get(reverse("referral-check")).content.decode()
    assert "Jay Mensah" in check and "Carrying a knife or weapon" in check
    response = client.post(reverse("referral-check"))
    referral = Referral.objects.get()
    assert response["Location"] == reverse("referral-submitted", args=[referral.pk])
    confirmation = client.get(response["Location"]).content.decode()
    assert referral.reference in confirmation and "govuk-panel--confirmation" in confirmation
    assert referral.referred_by == cast.user("referrer", "practitioner")
    assert referral.young_person.recorded_by == cast.referrer
    # The draft is gone: a second submit starts again.
    assert client.post(reverse("referral-check"))["Location"] == reverse("referral-person")


def test_existing_visible_young_person_is_offered_and_chosen(client, cast):
    person = f.YoungPersonFactory(given_name="Jay", family_name="Mensah", date_of_birth=DOB, recorded_by=cast.referrer)
    hidden = f.YoungPersonFactory(given_name="Jay", family_name="Mensahh", date_of_birth=DOB, recorded_by=cast.outsider)
    client.force_login(cast.user("referrer", "practitioner"))
    client.post(reverse("referral-person"), {"given_name": "jay", "family_name": "mensah", **date_fields("date_of_birth", DOB)})
    page = client.get(reverse("referral-person-choose"))
    assert [c.pk for c in page.context["candidates"]] == [person.pk]
    assert "Mensahh" not in page.content.decode()
    # A record the user may not see cannot be chosen by posting its id.
    assert client.post(reverse("referral-person-choose"), {"young_person": str(hidden.pk)}).status_code == 200
    assert client.post(reverse("referral-person-choose"), {"young_person": str(person.pk)}).status_code == 302
    _answer_questions(client)
    client.post(reverse("referral-check"))
    assert Referral.objects.get().young_person == person


def test_errors_use_the_error_summary_and_keep_what_was_typed(client, cast):
    client.force_login(cast.user("referrer", "practitioner"))
    response = client.post(reverse("referral-person"), {"given_name": "Jay", "family_name": "", **date_fields("date_of_birth", dt.date(2010, 2, 1)) | {"date_of_birth-day": "31", "date_of_birth-month": "2"}})
    body = response.content.decode()
    assert response.status_code == 200
    assert "govuk-error-summary" in body and "Enter a last name" in body and "must be a real date" in body
    assert 'value="Jay"' in body and 'value="31"' in body
    assert body.count("<title>Error:") == 1


def test_consent_not_sought_needs_lawful_basis_and_reason(client, cast):
    client.force_login(cast.user("referrer", "practitioner"))
    session = client.session
    session["referral_draft"] = {"person": {"id": 0, "name": "x", "date_of_birth": "2010-01-01"}}
    session.save()
    body = client.post(reverse("referral-consent"), {"consent": "not_sought"}).content.decode()
    assert "Select the lawful basis" in body and "Say why consent was not sought" in body
    assert client.post(reverse("referral-consent"), {
        "consent": "not_sought", "lawful_basis": "safeguarding_children", "consent_reason": "Would put him at risk",
    }).status_code == 302


def test_other_concern_needs_a_description(client, cast):
    client.force_login(cast.user("referrer", "practitioner"))
    session = client.session
    session["referral_draft"] = {"person": {"id": 0, "name": "x", "date_of_birth": "2010-01-01"}}
    session.save()
    assert "Describe the other concern" in client.post(reverse("referral-concerns"), {"concerns": ["other"]}).content.decode()
    assert "Select at least one concern" in client.post(reverse("referral-concerns"), {}).content.decode()


def test_questions_before_the_person_send_you_back(client, cast):
    client.force_login(cast.user("referrer", "practitioner"))
    assert client.get(reverse("referral-risk"))["Location"] == reverse("referral-person")
    assert client.get(reverse("referral-check"))["Location"] == reverse("referral-person")


@pytest.mark.parametrize("role", ["agency_admin", "dpo"])
def test_roles_without_casework_cannot_refer(client, cast, role):
    client.force_login(cast.user("referrer", role))
    assert client.get(reverse("referral-start")).status_code == 403
    assert client.post(reverse("referral-person"), {}).status_code == 403


def test_superuser_cannot_refer(client, cast):
    client.force_login(cast.superuser)
    assert client.get(reverse("referral-start")).status_code == 403


def test_anonymous_is_sent_to_sign_in(client):
    assert reverse("login") in client.get(reverse("referral-start"))["Location"]


def test_forms_are_csrf_protected(cast):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.user("referrer", "practitioner"))
    assert client.post(reverse("referral-person"), {"given_name": "x"}).status_code == 403


def test_referral_page_shows_the_referrer_the_decision_and_hides_it_from_others(client, cast):
    referral = f.ReferralFactory(referring_agency=cast.referrer, referred_by=cast.user("referrer", "practitioner"))
    client.force_login(cast.user("referrer", "practitioner"))
    assert client.get(reverse("referral-detail", args=[referral.pk])).status_code == 200
    for key, role in [("outsider", "manager"), ("owner", "practitioner"), ("referrer", "agency_admin")]:
        client.force_login(cast.user(key, role))
        assert client.get(reverse("referral-detail", args=[referral.pk])).status_code == 404


def test_a_likely_record_beyond_the_referrers_reach_is_flagged_without_details(client, cast):
    from casework.matching import HIDDEN_RECORD_MESSAGE

    f.YoungPersonFactory(given_name="Jay", family_name="Mensah", date_of_birth=DOB, recorded_by=cast.outsider)
    client.force_login(cast.user("referrer", "practitioner"))
    client.post(reverse("referral-person"), {"given_name": "Jay", "family_name": "Mensah", **date_fields("date_of_birth", DOB)})
    page = client.get(reverse("referral-person-choose"))
    assert page.context["candidates"] == []
    body = page.content.decode()
    assert HIDDEN_RECORD_MESSAGE in body
    assert "Outsider School" not in body
