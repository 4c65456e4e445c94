"""Issuing and revoking API clients: the services and the management commands."""

from __future__ import annotations

import base64
import io

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import CommandError, call_command
from oauth2_provider.models import get_access_token_model

from agencies.models import AgencyKind, ApiClient, Membership, Role
from api.services import api_client_issue, api_client_revoke
from lib.errors import DomainError
from safeguarding import access
from safeguarding.models import AccessEvent
from tests import factories as f
from tests.api.conftest import bearer, http, issue


def test_an_agency_admin_issues_a_client_whose_secret_is_stored_hashed(cast):
    client, secret = issue(cast, "owner", ["referrals:write", "cases:read"], name="Riverside SIMS")
    application = client.application
    assert client.agency == cast.owner and client.scopes == ["cases:read", "referrals:write"]
    assert client.partnership == f.default_partnership()  # its agency's only one
    assert client.created_by == cast.user("owner", Role.AGENCY_ADMIN)
    assert secret and application.client_secret != secret
    assert check_password(secret, application.client_secret)
    assert application.hash_client_secret
    assert application.authorization_grant_type == application.GRANT_CLIENT_CREDENTIALS
    assert application.client_type == application.CLIENT_CONFIDENTIAL
    # The service user: named author of what the client writes, never a way in.
    user = client.service_user
    assert user.username == f"api:{application.client_id}"
    assert not user.is_active and not user.has_usable_password()
    assert not user.is_staff and not user.is_superuser
    assert Membership.objects.filter(user=user, agency=cast.owner, role=Role.PRACTITIONER, is_active=True).exists()
    assert access.actor_for_user(user) == access.NOBODY
    assert AccessEvent.objects.filter(action="issue_api_client", object_id=str(client.pk)).exists()


@pytest.mark.parametrize("role", [Role.PRACTITIONER, Role.MANAGER, Role.HUB_SCREENER, Role.DPO])
def test_only_agency_admins_issue_clients(cast, role):
    with pytest.raises(access.NotAllowed):
        api_client_issue(actor=cast.actor("owner", role), name="X", scopes=["cases:read"])
    assert not ApiClient.objects.exists()


def test_a_superuser_is_not_an_agency_admin(cast):
    with pytest.raises(access.NotAllowed):
        api_client_issue(actor=access.actor_for_user(cast.superuser), name="X", scopes=["cases:read"])


@pytest.mark.parametrize(
    ("name", "scopes", "field"),
    [
        ("", ["cases:read"], "name"),
        ("X", [], "scopes"),
        ("X", ["cases:delete"], "scopes"),
        ("X", ["cases:write"], "scopes"),  # writing needs reading
    ],
)
def test_issue_refuses_bad_input(cast, name, scopes, field):
    with pytest.raises(DomainError) as caught:
        api_client_issue(actor=cast.actor("owner", Role.AGENCY_ADMIN), name=name, scopes=scopes)
    assert caught.value.field == field
    assert not ApiClient.objects.exists()


def test_names_are_unique_among_an_agencys_live_clients(cast):
    first, _ = issue(cast, name="SIMS")
    with pytest.raises(DomainError):
        issue(cast, name="sims")
    api_client_revoke(actor=cast.actor("owner", Role.AGENCY_ADMIN), client=first)
    issue(cast, name="SIMS")  # the old one is revoked: the name is free again


def test_revoking_ends_the_clients_tokens_at_once(cast):
    client, _ = issue(cast)
    bearer(client)
    revoked = api_client_revoke(actor=cast.actor("owner", Role.AGENCY_ADMIN), client=client)
    assert revoked.revoked_at is not None and revoked.revoked_by == cast.user("owner", Role.AGENCY_ADMIN)
    assert not get_access_token_model().objects.filter(application=client.application).exists()
    assert not Membership.objects.filter(user=client.service_user, is_active=True).exists()
    assert access.actor_for_api_client(revoked) == access.NOBODY
    with pytest.raises(DomainError):
        api_client_revoke(actor=cast.actor("owner", Role.AGENCY_ADMIN), client=client)


def test_another_agencys_admin_cannot_revoke_or_even_find_a_client(cast):
    client, _ = issue(cast)
    with pytest.raises(access.NotVisible):
        api_client_revoke(actor=cast.actor("outsider", Role.AGENCY_ADMIN), client=client)
    with pytest.raises(access.NotAllowed):
        api_client_revoke(actor=cast.actor("owner", Role.MANAGER), client=client)
    client.refresh_from_db()
    assert client.revoked_at is None


def test_issue_and_revoke_commands(cast):
    out = io.StringIO()
    admin = cast.user("owner", Role.AGENCY_ADMIN).username
    call_command(
        "issue_api_client", cast.owner.slug, "Police RMS", "--scope", "cases:read", "--scope", "cases:write",
        "--by", admin, stdout=out,
    )
    client = ApiClient.objects.get(name="Police RMS")
    text = out.getvalue()
    assert client.application.client_id in text
    secret = text.split("client_secret:")[1].split()[0]
    assert check_password(secret, client.application.client_secret)

    call_command("revoke_api_client", client.application.client_id, "--by", admin, stdout=io.StringIO())
    client.refresh_from_db()
    assert client.revoked_at is not None


def test_commands_need_an_administrator_of_that_agency(cast):
    with pytest.raises(CommandError):
        call_command(
            "issue_api_client", cast.owner.slug, "X", "--scope", "cases:read",
            "--by", cast.user("owner", Role.MANAGER).username, stdout=io.StringIO(),
        )
    with pytest.raises(CommandError):
        call_command(
            "issue_api_client", cast.owner.slug, "X", "--scope", "cases:read",
            "--by", cast.user("outsider", Role.AGENCY_ADMIN).username, stdout=io.StringIO(),
        )
    client, _ = issue(cast)
    with pytest.raises(CommandError):
        call_command(
            "revoke_api_client", client.application.client_id,
            "--by", cast.user("outsider", Role.AGENCY_ADMIN).username, stdout=io.StringIO(),
        )
    assert not ApiClient.objects.exclude(pk=client.pk).exists()


# -- A police unit serving two boroughs -------------------------------------------


@pytest.fixture
def two_borough_police(db):
    """A police unit working in partnerships A (the default) and B, with its
    administrator, and a case of its in each."""
    a, b = f.default_partnership(), f.PartnershipFactory(name="Zeta borough", slug="zeta-borough")
    police = f.make_agency("Two Borough Police", AgencyKind.POLICE)
    police.partnerships.add(b)
    admin = f.make_member(police, Role.AGENCY_ADMIN)
    cases = {
        p.slug: f.CaseFactory(lead_agency=police, young_person=f.YoungPersonFactory(recorded_by=police, partnership=p))
        for p in (a, b)
    }
    return police, access.actor_for_user(admin), a, b, cases


def _token_for(client, secret) -> str:
    basic = base64.b64encode(f"{client.application.client_id}:{secret}".encode()).decode()
    response = http().post(
        "/o/token/", {"grant_type": "client_credentials"}, format="multipart", HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def test_a_client_of_a_police_unit_in_two_partnerships_works_in_the_one_it_was_issued_for(two_borough_police):
    _police, admin, a, b, cases = two_borough_police
    client, secret = api_client_issue(actor=admin, name="Police RMS", scopes=["cases:read"], partnership=b)
    assert client.partnership == b
    actor = access.actor_for_api_client(client)
    assert actor.partnership_id == b.pk and actor.spans_partnerships

    api = http(_token_for(client, secret))
    assert api.get(f"/api/v1/cases/{cases[b.slug].pk}/").status_code == 200
    assert api.get(f"/api/v1/cases/{cases[a.slug].pk}/").status_code == 404
    listed = api.get("/api/v1/cases/")
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["results"]] == [cases[b.slug].pk]


def test_a_client_works_in_no_partnership_once_its_agency_leaves_it_or_it_closes(two_borough_police):
    police, admin, a, b, cases = two_borough_police
    client, secret = api_client_issue(actor=admin, name="Police RMS", scopes=["cases:read"], partnership="zeta-borough")
    token = _token_for(client, secret)
    police.partnerships.remove(b)
    client.refresh_from_db()
    actor = access.actor_for_api_client(client)
    assert actor.agency == police and actor.partnership is None  # not its agency's other one
    assert http(token).get(f"/api/v1/cases/{cases[b.slug].pk}/").status_code == 404
    assert http(token).get(f"/api/v1/cases/{cases[a.slug].pk}/").status_code == 404

    police.partnerships.add(b)
    type(b).objects.filter(pk=b.pk).update(is_active=False)
    assert access.actor_for_api_client(client).partnership is None
    assert http(token).get(f"/api/v1/cases/{cases[b.slug].pk}/").status_code == 404


def test_issuing_in_a_partnership_the_agency_does_not_work_in_is_a_partnership_error(two_borough_police):
    _police, admin, _a, _b, _cases = two_borough_police
    elsewhere = f.PartnershipFactory(name="Elsewhere", slug="elsewhere")
    for wanted in (elsewhere, elsewhere.pk, "elsewhere", "no-such-borough"):
        with pytest.raises(DomainError) as caught:
            api_client_issue(actor=admin, name="X", scopes=["cases:read"], partnership=wanted)
        assert caught.value.field == "partnership" and "does not work in" in caught.value.message
    assert not ApiClient.objects.exists()


def test_an_agency_in_several_partnerships_must_choose_one(two_borough_police):
    _police, admin, a, b, _cases = two_borough_police
    with pytest.raises(DomainError) as caught:
        api_client_issue(actor=admin, name="X", scopes=["cases:read"])
    assert caught.value.field == "partnership" and "choose" in caught.value.message
    assert a.name in caught.value.message and b.name in caught.value.message
    assert not ApiClient.objects.exists()


def test_an_agency_in_one_partnership_may_name_it_but_no_other(cast):
    mine = f.default_partnership()
    client, _ = api_client_issue(
        actor=cast.actor("owner", Role.AGENCY_ADMIN), name="X", scopes=["cases:read"], partnership=mine,
    )
    assert client.partnership == mine
    with pytest.raises(DomainError) as caught:
        api_client_issue(
            actor=cast.actor("owner", Role.AGENCY_ADMIN), name="Y", scopes=["cases:read"],
            partnership=f.PartnershipFactory(),
        )
    assert caught.value.field == "partnership"


def test_the_issue_command_takes_the_partnership(two_borough_police):
    police, admin, _a, b, _cases = two_borough_police
    username = admin.user.username
    with pytest.raises(CommandError, match="partnership"):
        call_command("issue_api_client", police.slug, "RMS", "--scope", "cases:read", "--by", username,
                     stdout=io.StringIO())
    with pytest.raises(CommandError, match="partnership"):
        call_command("issue_api_client", police.slug, "RMS", "--scope", "cases:read", "--by", username,
                     "--partnership", "elsewhere", stdout=io.StringIO())
    assert not ApiClient.objects.exists()
    out = io.StringIO()
    call_command("issue_api_client", police.slug, "RMS", "--scope", "cases:read", "--by", username,
                 "--partnership", b.slug, stdout=out)
    assert ApiClient.objects.get(name="RMS").partnership == b
    assert b.name in out.getvalue()
