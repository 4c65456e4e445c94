"""The OAuth server's view of API clients (django-oauth-toolkit hooks).

A token can carry only the scopes its client holds: DOT asks this backend
which scopes an application may request, and which it gets when it asks
for none. A revoked client, or an application with no ``ApiClient`` (one
made by hand in the admin, say), may request nothing.
"""

from __future__ import annotations

from oauth2_provider.scopes import BaseScopes
from oauth2_provider.settings import oauth2_settings

from agencies.models import ApiClient


def _client_scopes(application) -> list[str]:
    if application is None:
        return []
    client = ApiClient.objects.filter(application=application, revoked_at__isnull=True).only("scopes").first()
    return sorted(client.scopes) if client is not None else []


class ApiClientScopes(BaseScopes):
    def get_all_scopes(self):
        return oauth2_settings.SCOPES

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        return _client_scopes(application)

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        return _client_scopes(application)
