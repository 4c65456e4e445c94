"""Authentication: OAuth 2.0 client credentials at /o/token/, bearer tokens,
revocation, and tokens that carry only the client's scopes."""

from __future__ import annotations

import base64
import datetime as dt

from django.utils import timezone
from oauth2_provider.models import get_access_token_model
from rest_framework.test import APIClient

from agencies.models import Role
from api.services import api_client_revoke
from tests.api.conftest import assert_problem, bearer, http, issue


def _basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def _token(client, secret, **data):
    return http().post(
        "/o/token/", {"grant_type": "client_credentials", **data}, format="multipart",
        HTTP_AUTHORIZATION=_basic(client.application.client_id, secret),
    )


def test_no_token_is_a_401_problem_with_a_bearer_challenge():
    body = assert_problem(http().get("/api/v1/cases/"), 401)
    assert body["type"].endswith("unauthenticated")


def test_the_challenge_names_bearer():
    response = http().get("/api/v1/agencies/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_unknown_or_expired_token_is_a_401(cast):
    assert_problem(http("not-a-token").get("/api/v1/cases/"), 401)
    client, _ = issue(cast)
    expired = bearer(client, expires_in=-1)
    assert_problem(http(expired).get("/api/v1/cases/"), 401)


def test_a_real_token_from_client_credentials_works(cast, case):
    client, secret = issue(cast, "owner", ["cases:read"])
    response = _token(client, secret)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "cases:read"
    assert body["expires_in"] == 900  # short-lived
    assert "refresh_token" not in body
    # Stored hashed (RFC 9700): the table does not hold the token itself.
    assert not get_access_token_model().objects.filter(token=body["access_token"]).exists()
    cases = http(body["access_token"]).get(f"/api/v1/cases/{case.pk}/")
    assert cases.status_code == 200


def test_a_token_never_carries_a_scope_the_client_lacks(cast):
    client, secret = issue(cast, "owner", ["cases:read"])
    response = _token(client, secret, scope="cases:read cases:write")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_a_token_may_ask_for_fewer_scopes_and_is_held_to_them(cast, case):
    client, secret = issue(cast, "owner", ["cases:read", "cases:write"])
    response = _token(client, secret, scope="cases:read")
    token = response.json()["access_token"]
    assert http(token).get(f"/api/v1/cases/{case.pk}/").status_code == 200
    body = assert_problem(
        http(token).post(f"/api/v1/cases/{case.pk}/notes/", {"kind": "contact", "text": "x"}, format="json"), 403,
    )
    assert "cases:write" in body["detail"]


def test_a_wrong_secret_gets_no_token(cast):
    client, _secret = issue(cast)
    response = _token(client, "wrong")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_a_revoked_client_gets_no_token_and_its_tokens_stop(cast, case):
    client, secret = issue(cast)
    token = bearer(client)
    assert http(token).get("/api/v1/cases/").status_code == 200
    api_client_revoke(actor=cast.actor("owner", Role.AGENCY_ADMIN), client=client)
    assert_problem(http(token).get("/api/v1/cases/"), 401)
    refused = _token(client, secret)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"


def test_a_token_of_a_revoked_client_left_in_the_table_is_refused(cast):
    # Belt and braces: even if a token row survived revocation, it opens nothing.
    client, _ = issue(cast)
    api_client_revoke(actor=cast.actor("owner", Role.AGENCY_ADMIN), client=client)
    token = get_access_token_model().objects.create(
        application=client.application, token="leftover", scope="cases:read",
        expires=timezone.now() + dt.timedelta(minutes=5),
    )
    assert_problem(http(token.token).get("/api/v1/cases/"), 401)


def test_an_application_without_an_api_client_opens_nothing(cast):
    from oauth2_provider.models import get_application_model

    Application = get_application_model()
    app = Application.objects.create(
        name="Made in the admin", client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
    )
    token = get_access_token_model().objects.create(
        application=app, token="stray", scope="cases:read", expires=timezone.now() + dt.timedelta(minutes=5),
    )
    assert_problem(http(token.token).get("/api/v1/cases/"), 401)


def test_the_token_lookup_reads_what_the_orm_would(cast):
    """``agencies.oauth.bearer_token`` reads the token, application, client,
    agency and service user in one written-out statement: every field of
    each must be what the ORM reads (JSON and array columns included)."""
    from oauth2_provider.models import get_application_model

    from agencies.models import ApiClient
    from agencies.oauth import bearer_token

    client, _ = issue(cast, "owner", ["cases:read", "referrals:write"])
    token_model = get_access_token_model()
    plaintext = bearer(client)
    token = token_model.objects.get(token=plaintext)
    token_model.objects.filter(pk=token.pk).update(resource=["https://crossroads.example/api/"])
    found, found_client = bearer_token(plaintext)
    assert found_client.pk == client.pk

    def fields(instance):
        return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}

    expected_client = ApiClient.objects.select_related("agency", "service_user", "application").get(pk=client.pk)
    assert fields(found) == fields(token_model.objects.get(pk=token.pk))
    assert found.resource == ["https://crossroads.example/api/"]
    assert fields(found_client) == fields(expected_client)
    assert fields(found_client.agency) == fields(expected_client.agency)
    assert fields(found_client.service_user) == fields(expected_client.service_user)
    assert fields(found.application) == fields(get_application_model().objects.get(pk=client.application_id))
    assert found_client.application is found.application
    assert bearer_token("no-such-token") == (None, None)


def test_a_token_for_another_resource_is_refused(cast):
    client, _ = issue(cast)
    token = bearer(client)
    get_access_token_model().objects.filter(token=token).update(resource=["https://elsewhere.example/api/"])
    response = http(token).get("/api/v1/cases/")
    assert_problem(response, 401)
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_the_bearer_scheme_is_case_insensitive_and_nothing_else_authenticates(cast):
    client, _ = issue(cast)
    token = bearer(client)
    assert APIClient(HTTP_AUTHORIZATION=f"bearer {token}").get("/api/v1/agencies/").status_code == 200
    for header in (f"Basic {token}", f"Token {token}", "Bearer", "Bearer  ", token):
        assert_problem(APIClient(HTTP_AUTHORIZATION=header).get("/api/v1/agencies/"), 401)
    # Never from the query string (RFC 9700).
    assert_problem(http().get("/api/v1/agencies/", {"access_token": token}), 401)
