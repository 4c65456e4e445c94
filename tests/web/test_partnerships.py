"""Choosing the partnership to work in, and the header that says which."""

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test import RequestFactory
from django.urls import reverse

from safeguarding import access
from tests import factories as f
from web.context_processors import working_partnership
from web.kit import PARTNERSHIP_SESSION_KEY

CHOOSE = "/partnership/"


@pytest.fixture
def west(cast):
    """A second borough, served by the cast's police unit ("sharing") too.
    By name it comes after the default "Test borough", so the police start
    in the default one."""
    borough = f.PartnershipFactory(name="Westside borough", slug="westside")
    cast.sharing.partnerships.add(borough)
    return borough


def west_case(cast, west):
    return f.CaseFactory(
        lead_agency=cast.sharing, key_worker=cast.user("sharing", "practitioner"),
        young_person=f.YoungPersonFactory(recorded_by=cast.sharing, partnership=west),
    )


def radio(body: str, partnership) -> str:
    """The radio input for a partnership (its whole tag)."""
    return re.search(rf'<input class="govuk-radios__input"[^>]*value="{partnership.pk}"[^>]*>', body).group(0)


def test_url_name():
    assert reverse("partnership-choose") == CHOOSE


def test_anonymous_is_sent_to_sign_in(client, db):
    response = client.get(CHOOSE)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")
    response = client.post(CHOOSE, {"partnership": str(f.default_partnership().pk)})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login") + "?next=")
    assert PARTNERSHIP_SESSION_KEY not in client.session


# -- one partnership ------------------------------------------------------------


def test_a_person_in_one_partnership_sees_it_as_the_only_one(client, cast):
    client.force_login(cast.user("owner", "practitioner"))
    response = client.get(CHOOSE)
    body = response.content.decode()
    assert response.status_code == 200
    assert "You are working in <strong>Test borough</strong>" in body
    assert "the only partnership your agency works in" in body
    assert "govuk-radios__input" not in body  # no question with one answer


def test_a_person_in_one_partnership_cannot_choose_another(client, cast):
    elsewhere = f.PartnershipFactory(name="Elsewhere borough", slug="elsewhere")
    client.force_login(cast.user("owner", "practitioner"))
    response = client.post(CHOOSE, {"partnership": str(elsewhere.pk)})
    body = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in body
    assert body.count("Choose a partnership you work in") == 2  # the summary and the field
    assert "<title>Error: " in body
    assert PARTNERSHIP_SESSION_KEY not in client.session
    # The person still works in their own partnership.
    assert "Working in Test borough" in client.get(reverse("home")).content.decode()


@pytest.mark.parametrize("value", ["", "not-a-number", "999999"])
def test_no_choice_or_a_made_up_one_is_an_error(client, cast, west, value):
    client.force_login(cast.user("sharing", "practitioner"))
    body = client.post(CHOOSE, {"partnership": value}).content.decode()
    expected = "Select the partnership you are working in" if value == "" else "Choose a partnership you work in"
    assert expected in body
    assert 'href="#id_partnership_0"' in body  # the summary links to the first radio
    assert PARTNERSHIP_SESSION_KEY not in client.session


# -- a police unit in two partnerships --------------------------------------


def test_a_person_in_two_partnerships_sees_both_as_radios_with_the_current_one_checked(client, cast, west):
    client.force_login(cast.user("sharing", "practitioner"))
    body = client.get(CHOOSE).content.decode()
    default = f.default_partnership()
    assert "checked" in radio(body, default)
    assert "checked" not in radio(body, west)
    # GOV.UK radios: a fieldset whose legend is the page's heading, a label per radio.
    assert '<fieldset class="govuk-fieldset"' in body
    assert re.search(r'<legend class="govuk-fieldset__legend govuk-fieldset__legend--l"><h1 class="govuk-fieldset__heading">'
                     r"Which partnership are you working in\?</h1></legend>", body)
    for partnership in (default, west):
        input_id = re.search(r'id="([^"]+)"', radio(body, partnership)).group(1)
        assert f'<label class="govuk-label govuk-radios__label" for="{input_id}">{partnership.name}</label>' in body
    assert body.count('<h1') == 1


def test_switching_partnership_changes_the_header_and_what_is_visible(client, cast, west):
    case = west_case(cast, west)
    default = f.default_partnership()
    client.force_login(cast.user("sharing", "practitioner"))
    case_url = reverse("case-detail", args=[case.pk])

    assert "Working in Test borough" in client.get(reverse("home")).content.decode()
    assert client.get(case_url).status_code == 404

    response = client.post(CHOOSE, {"partnership": str(west.pk)})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert client.session[PARTNERSHIP_SESSION_KEY] == west.pk
    body = client.get(response["Location"]).content.decode()
    assert "You are now working in Westside borough" in body
    assert "Working in Westside borough" in body and "Working in Test borough" not in body
    assert client.get(case_url).status_code == 200
    assert "checked" in radio(client.get(CHOOSE).content.decode(), west)

    client.post(CHOOSE, {"partnership": str(default.pk)})
    assert client.session[PARTNERSHIP_SESSION_KEY] == default.pk
    assert client.get(case_url).status_code == 404


def test_switching_drops_a_referral_started_in_the_other_partnership(client, cast, west):
    client.force_login(cast.user("sharing", "practitioner"))
    session = client.session
    session["referral_draft"] = {"search": {"given_name": "Sam", "family_name": "Lee", "date_of_birth": "2010-01-01"}}
    session.save()
    client.post(CHOOSE, {"partnership": str(f.default_partnership().pk)})  # the one they are in: kept
    assert "referral_draft" in client.session
    client.post(CHOOSE, {"partnership": str(west.pk)})
    assert "referral_draft" not in client.session


def test_another_agencys_partnership_is_refused_to_a_police_unit_too(client, cast, west):
    elsewhere = f.PartnershipFactory(name="Elsewhere borough", slug="elsewhere")
    client.force_login(cast.user("sharing", "practitioner"))
    body = client.post(CHOOSE, {"partnership": str(elsewhere.pk)}).content.decode()
    assert "Choose a partnership you work in" in body
    assert PARTNERSHIP_SESSION_KEY not in client.session


def test_a_choice_the_agency_no_longer_works_in_is_asked_again(client, cast, west):
    client.force_login(cast.user("sharing", "practitioner"))
    client.post(CHOOSE, {"partnership": str(west.pk)})
    cast.sharing.partnerships.remove(f.default_partnership())
    third = f.PartnershipFactory(name="Eastside borough", slug="eastside")
    cast.sharing.partnerships.add(third)
    west.is_active = False
    west.save()
    body = client.get(reverse("home")).content.decode()
    assert "Working in" not in body
    assert "Choose a partnership" in body
    page = client.get(CHOOSE).content.decode()
    assert "checked" not in radio(page, third)
    client.post(CHOOSE, {"partnership": str(third.pk)})
    assert "Working in Eastside borough" in client.get(reverse("home")).content.decode()


def test_a_stale_choice_of_a_police_unit_is_asked_again_with_nothing_checked(client, cast, west):
    elsewhere = f.PartnershipFactory(name="Elsewhere borough", slug="elsewhere")
    client.force_login(cast.user("sharing", "practitioner"))
    session = client.session
    session[PARTNERSHIP_SESSION_KEY] = elsewhere.pk  # e.g. a borough the unit has since left
    session.save()
    home = client.get(reverse("home")).content.decode()
    assert "Working in" not in home and "Choose a partnership" in home
    page = client.get(CHOOSE).content.decode()
    assert "checked" not in radio(page, west) and "checked" not in radio(page, f.default_partnership())


# -- the header -----------------------------------------------------------------


@pytest.mark.parametrize(("agency_key", "role", "spans"), [
    ("owner", "practitioner", False),
    ("owner", "manager", False),
    ("hub", "hub_screener", False),
    ("sharing", "practitioner", True),
    ("sharing", "manager", True),
])
def test_change_partnership_is_offered_only_to_people_whose_agency_spans_partnerships(client, cast, west, agency_key,
                                                                                       role, spans):
    client.force_login(cast.user(agency_key, role))
    for url in (reverse("home"), reverse("notifications"), CHOOSE):
        body = client.get(url).content.decode()
        assert "Working in Test borough" in body
        assert ("Change partnership" in body) is spans
        assert (f'href="{CHOOSE}"' in body) is spans


def test_someone_of_no_agency_sees_no_partnership(client, cast):
    client.force_login(cast.superuser)
    body = client.get(reverse("home")).content.decode()
    assert "Working in" not in body and "Change partnership" not in body
    page = client.get(CHOOSE).content.decode()
    assert "You are not working in any partnership" in page


def test_the_sign_in_page_has_no_partnership(client):
    body = client.get(reverse("login")).content.decode()
    assert "Working in" not in body and "Change partnership" not in body


# -- the context processor ------------------------------------------------------


def _request(user, session=None):
    request = RequestFactory().get("/")
    request.user = user
    request.session = session if session is not None else {}
    return request


def test_the_context_processor_queries_nothing_for_an_anonymous_visitor(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert working_partnership(_request(AnonymousUser())) == {}


def test_the_context_processor_reuses_the_requests_actor(cast, django_assert_num_queries):
    user = cast.user("owner", "practitioner")
    request = _request(user)
    request.actor = access.actor_for_user(user)
    with django_assert_num_queries(0):
        context = working_partnership(request)
        assert context["working_partnership"].name == "Test borough"
        assert not context["spans_partnerships"]
        assert not context["partnership_unchosen"]


def test_the_context_processor_asks_the_policy_without_entering_the_partnership(cast, west):
    request = _request(cast.user("sharing", "practitioner"), {PARTNERSHIP_SESSION_KEY: west.pk})
    context = working_partnership(request)
    assert context["working_partnership"].pk == west.pk
    assert context["spans_partnerships"] and not context["partnership_unchosen"]
    assert not getattr(connection, "crossroads_boundary", False)
