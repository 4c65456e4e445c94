"""How a partner system's client is recognised, limited and throttled.

A request carries ``Authorization: Bearer <token>``, a short-lived token
from ``/o/token/`` (OAuth 2.0 client credentials). The token must belong to
an ``agencies.ApiClient`` that is not revoked, of an active agency; the
request then acts as ``access.actor_for_api_client(client)``, with the scopes
both the client and the token hold.
"""

from __future__ import annotations

import dataclasses

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from rest_framework import exceptions
from rest_framework.permissions import BasePermission
from rest_framework.throttling import SimpleRateThrottle

from agencies import oauth
from lib import request_ids
from lib.client_address import client_address
from safeguarding import access


class ApiClientAuthentication(OAuth2Authentication):
    """A valid bearer token of a live API client, else no authentication (401).

    The resource-server check of django-oauth-toolkit, made directly: the
    token from the ``Authorization`` header only (RFC 9700: never from the
    query or body), looked up by its checksum with its client in one query
    (``agencies.oauth.bearer_token``), then DOT's own rules on the stored
    token: not expired (``is_valid``) and, if it names resources, issued for
    this one (``allows_audience``). DOT's own route wraps every request in
    an oauthlib request first, which cost more than the lookup itself
    (1.2 ms of an 11 ms caseload page). The challenge on a 401 is DOT's.
    """

    www_authenticate_realm = "crossroads"
    INVALID = {"error": "invalid_token", "error_description": "The access token is invalid, expired or revoked."}

    def authenticate(self, request):
        scheme, _, credentials = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        credentials = credentials.strip()
        if scheme.lower() != "bearer" or not credentials:
            return None
        token, client = oauth.bearer_token(credentials)
        if token is None or not token.is_valid() or (
            token.resource and not token.allows_audience(request.build_absolute_uri(request.path))
        ):
            request.oauth2_error = self.INVALID
            return None
        if client.revoked_at is not None or not client.agency.is_active:
            raise exceptions.AuthenticationFailed("This API client has been revoked")
        request.api_client = client
        return client.service_user, token


class IsApiClient(BasePermission):
    """Only requests authenticated as an API client reach the API."""

    def has_permission(self, request, view) -> bool:
        return getattr(request, "api_client", None) is not None and request.auth is not None


def actor_for_request(request) -> access.Actor:
    """The access-policy actor for an authenticated API request: the client's
    agency, narrowed to the scopes both the client and its token hold."""
    actor = access.actor_for_api_client(
        request.api_client, ip_address=client_address(request), request_id=request_ids.current(),
    )
    request_ids.bind_actor(agency=actor.agency, api_client=actor.api_client)
    token_scopes = frozenset((request.auth.scope or "").split())
    actor = dataclasses.replace(actor, scopes=actor.scopes & token_scopes)
    access.enter_partnership(actor)
    return actor


class ApiClientThrottle(SimpleRateThrottle):
    """A request budget per API client (``API_THROTTLE_RATE``); over it, 429
    with ``Retry-After``."""

    scope = "api_client"

    def get_rate(self):
        return settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][self.scope]

    def get_cache_key(self, request, view):
        client = getattr(request, "api_client", None)
        if client is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": client.pk}


class ApiClientAuthenticationScheme(OpenApiAuthenticationExtension):
    """The OAuth 2.0 client-credentials scheme in the OpenAPI document, with
    the scope each operation needs."""

    target_class = ApiClientAuthentication
    name = "oauth2ClientCredentials"

    def get_security_definition(self, auto_schema):
        return {
            "type": "oauth2",
            "description": (
                "OAuth 2.0 client credentials. POST `grant_type=client_credentials` to `/o/token/` with "
                "your client id and secret (HTTP Basic), then send `Authorization: Bearer <access_token>`. "
                f"Tokens last {settings.OAUTH2_PROVIDER['ACCESS_TOKEN_EXPIRE_SECONDS']} seconds."
            ),
            "flows": {
                "clientCredentials": {
                    "tokenUrl": "/o/token/",
                    "scopes": dict(settings.OAUTH2_PROVIDER["SCOPES"]),
                }
            },
        }

    def get_security_requirement(self, auto_schema):
        scope_for = getattr(auto_schema.view, "scope_for", None)
        scope = scope_for(auto_schema.method) if scope_for else None
        return {self.name: [scope] if scope else []}
