"""The agency administrator's API clients page: list, issue (secret shown once), revoke."""

import pytest
from django.urls import reverse

from agencies.models import AgencyKind, ApiClient, Role
from api import services
from tests import factories as f

ISSUE = {"name": "Police case system", "scopes": ["cases:read", "cases:write"]}


def issue(cast, agency_key="owner", name="Partner system"):
    client, _secret = services.api_client_issue(actor=cast.actor(agency_key, "agency_admin"), name=name,
                                                scopes=["referrals:read"])
    return client


def test_admin_sees_own_agencys_clients_only_and_home_link(client, cast):
    mine, theirs = issue(cast, "owner", "Owner system"), issue(cast, "sharing", "Sharing system")
    client.force_login(cast.user("owner", "agency_admin"))
    assert reverse("api-clients") in client.get(reverse("home")).content.decode()
    body = client.get(reverse("api-clients")).content.decode()
    assert mine.name in body and mine.application.client_id in body and "referrals:read" in body
    assert ">Partnership</th>" in body and f.default_partnership().name in body
    # One partnership: nothing to choose, the client works in that one.
    assert "Which partnership will it work in?" not in body and 'name="partnership"' not in body
    assert theirs.name not in body and theirs.application.client_id not in body
    assert 'type="checkbox" value="cases:read"' in body and 'class="govuk-checkboxes__input"' in body


@pytest.mark.parametrize("role", [r.value for r in Role if r != Role.AGENCY_ADMIN])
def test_other_roles_of_the_agency_are_refused(client, cast, role):
    mine = issue(cast)
    client.force_login(cast.user("owner", role))
    assert reverse("api-clients") not in client.get(reverse("home")).content.decode()
    assert client.get(reverse("api-clients")).status_code == 403
    assert client.post(reverse("api-clients"), ISSUE).status_code == 403
    assert client.post(reverse("api-client-revoke", args=[mine.pk])).status_code == 403
    assert not ApiClient.objects.filter(name=ISSUE["name"]).exists()
    mine.refresh_from_db()
    assert mine.revoked_at is None


def test_superuser_without_agency_is_refused(client, cast):
    mine = issue(cast)
    client.force_login(cast.superuser)
    assert client.get(reverse("api-clients")).status_code == 403
    assert client.post(reverse("api-clients"), ISSUE).status_code == 403
    assert client.post(reverse("api-client-revoke", args=[mine.pk])).status_code == 403


def test_another_agencys_admin_gets_404_for_our_client(client, cast):
    mine = issue(cast)
    client.force_login(cast.user("sharing", "agency_admin"))
    assert client.get(reverse("api-client-revoke", args=[mine.pk])).status_code == 404
    assert client.post(reverse("api-client-revoke", args=[mine.pk])).status_code == 404
    mine.refresh_from_db()
    assert mine.revoked_at is None


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(reverse("api-clients"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_issue_shows_the_secret_once(client, cast, caplog):
    client.force_login(cast.user("owner", "agency_admin"))
    response = client.post(reverse("api-clients"), ISSUE)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    issued = ApiClient.objects.get(name=ISSUE["name"], agency=cast.owner)
    assert issued.scopes == ["cases:read", "cases:write"]
    secret = response.context["secret"]
    body = response.content.decode()
    assert secret and secret in body and issued.application.client_id in body
    assert secret not in caplog.text
    assert all(secret not in str(value) for value in client.session.values())
    again = client.get(reverse("api-clients")).content.decode()
    assert secret not in again and issued.application.client_id in again


@pytest.mark.parametrize("data, field, message", [
    ({"name": "System", "scopes": []}, "scopes", "Choose at least one scope"),
    ({"name": "  ", "scopes": ["cases:read"]}, "name", "Enter a name for the client"),
    ({"name": "System", "scopes": ["cases:write"]}, "scopes", "cases:write needs cases:read"),
    ({"name": "System", "scopes": ["everything"]}, "scopes", "Select a valid choice"),
])
def test_bad_input_is_shown_on_its_field(client, cast, data, field, message):
    client.force_login(cast.user("owner", "agency_admin"))
    response = client.post(reverse("api-clients"), data)
    body = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in body and message in body
    assert response.context["form"].errors[field]
    assert f'href="#id_{field}' in body
    assert not ApiClient.objects.exists()


def test_duplicate_live_name_is_a_name_error(client, cast):
    issue(cast, name="Partner system")
    client.force_login(cast.user("owner", "agency_admin"))
    response = client.post(reverse("api-clients"), {"name": "Partner system", "scopes": ["cases:read"]})
    assert response.context["form"].errors["name"]
    assert ApiClient.objects.filter(agency=cast.owner).count() == 1


def test_revoke_asks_then_revokes(client, cast):
    mine = issue(cast)
    client.force_login(cast.user("owner", "agency_admin"))
    confirm = client.get(reverse("api-client-revoke", args=[mine.pk])).content.decode()
    assert "stop reaching the API" in confirm and "Revoke client" in confirm
    mine.refresh_from_db()
    assert mine.revoked_at is None
    response = client.post(reverse("api-client-revoke", args=[mine.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("api-clients")
    mine.refresh_from_db()
    assert mine.revoked_at is not None and mine.revoked_by == cast.user("owner", "agency_admin")
    body = client.get(reverse("api-clients")).content.decode()
    assert "Revoked" in body and "revoked: its tokens no longer work" in body
    again = client.post(reverse("api-client-revoke", args=[mine.pk]))
    assert again.status_code == 200 and "already been revoked" in again.content.decode()


# -- An agency in several partnerships chooses the client's ----------------------


@pytest.fixture
def police_admin(db):
    """The administrator of a police unit working in two partnerships."""
    police = f.make_agency("Two Borough Police", AgencyKind.POLICE)
    police.partnerships.add(f.PartnershipFactory(name="Zeta borough", slug="zeta-borough"))
    return police, f.make_member(police, Role.AGENCY_ADMIN)


def test_an_agency_in_several_partnerships_is_asked_which_one(client, police_admin):
    police, admin = police_admin
    client.force_login(admin)
    body = client.get(reverse("api-clients")).content.decode()
    assert "Which partnership will it work in?" in body
    for partnership in police.partnerships.all():
        assert f'type="radio" value="{partnership.pk}"' in body and partnership.name in body
    assert 'class="govuk-radios__input"' in body

    zeta = police.partnerships.get(slug="zeta-borough")
    response = client.post(reverse("api-clients"), {**ISSUE, "partnership": str(zeta.pk)})
    assert response.status_code == 200 and response.context["secret"]
    issued = ApiClient.objects.get(agency=police)
    assert issued.partnership == zeta
    listing = client.get(reverse("api-clients")).content.decode()
    assert issued.name in listing and "Zeta borough" in listing


@pytest.mark.parametrize("chosen, message", [
    (None, "choose the one the client will work in"),
    ("not-a-code", "Choose a partnership your agency works in"),
    ("other", "Choose a partnership your agency works in"),
])
def test_the_partnership_must_be_chosen_from_the_agencys(client, police_admin, chosen, message):
    _police, admin = police_admin
    if chosen == "other":
        chosen = str(f.PartnershipFactory(name="Elsewhere", slug="elsewhere").pk)
    client.force_login(admin)
    data = {**ISSUE, **({"partnership": chosen} if chosen is not None else {})}
    response = client.post(reverse("api-clients"), data)
    body = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in body and message in body
    assert response.context["form"].errors["partnership"]
    assert 'href="#id_partnership' in body
    assert not ApiClient.objects.exists()
