"""Issuing and revoking API clients: the services and the management commands."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import CommandError, call_command
from oauth2_provider.models import get_access_token_model

from agencies.models import ApiClient, Membership, Role
from api.services import api_client_issue, api_client_revoke
from lib.errors import DomainError
from safeguarding import access
from safeguarding.models import AccessEvent
from tests.api.conftest import bearer, issue


def test_an_agency_admin_issues_a_client_whose_secret_is_stored_hashed(cast):
    client, secret = issue(cast, "owner", ["referrals:write", "cases:read"], name="Riverside SIMS")
    application = client.application
    assert client.agency == cast.owner and client.scopes == ["cases:read", "referrals:write"]
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
