"""The OAuth server's view of API clients (django-oauth-toolkit hooks).

A token can carry only the scopes its client holds: DOT asks this backend
which scopes an application may request, and which it gets when it asks
for none. A revoked client, or an application with no ``ApiClient`` (one
made by hand in the admin, say), may request nothing.

``bearer_token`` reads a bearer token with its application's API client,
agency and service user in one query, for the API's authentication
(``api.auth``). ``expired_tokens_remove`` clears what has expired, for the
daily retention run.
"""

from __future__ import annotations

import functools
import hashlib

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connection, transaction
from django.db.models import Q
from django.utils import timezone
from oauth2_provider.models import (
    get_access_token_model,
    get_application_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
)
from oauth2_provider.scopes import BaseScopes
from oauth2_provider.settings import oauth2_settings

from agencies.models import Agency, ApiClient


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



def _columns(model, alias: str) -> list[str]:
    return [f'{alias}."{field.column}"' for field in model._meta.concrete_fields]


@functools.cache
def _converters(model) -> list[tuple]:
    """Each concrete field's attribute name and the converters the ORM runs
    on its column's value (a JSON field's parsing, say)."""
    found = []
    for field in model._meta.concrete_fields:
        column = field.get_col(model._meta.db_table)
        found.append((field.attname, column, [
            *connection.ops.get_db_converters(column), *field.get_db_converters(connection),
        ]))
    return found


def _load(model, values: list):
    """An instance of ``model`` from the first of ``values`` (taken off), as
    the ORM would make it from the same columns."""
    fields = _converters(model)
    mine = values[: len(fields)]
    del values[: len(fields)]
    for i, (_name, column, converters) in enumerate(fields):
        for convert in converters:
            mine[i] = convert(mine[i], column, connection)
    return model.from_db(DEFAULT_DB_ALIAS, [name for name, _column, _converters in fields], mine)


def _models() -> tuple:
    return get_access_token_model(), get_application_model(), ApiClient, Agency, get_user_model()


@functools.cache
def _bearer_sql() -> str:
    AccessToken, Application, ApiClient, Agency, User = _models()  # noqa: N806
    columns = [
        *_columns(AccessToken, "t"), *_columns(Application, "p"), *_columns(ApiClient, "c"),
        *_columns(Agency, "a"), *_columns(User, "u"),
    ]
    return (
        f"SELECT {', '.join(columns)} FROM {AccessToken._meta.db_table} t "
        f"JOIN {Application._meta.db_table} p ON p.id = t.application_id "
        f"JOIN {ApiClient._meta.db_table} c ON c.application_id = p.id "
        f"JOIN {Agency._meta.db_table} a ON a.id = c.agency_id "
        f"JOIN {User._meta.db_table} u ON u.id = c.service_user_id "
        "WHERE t.token_checksum = %s"
    )


def bearer_token(token: str) -> tuple:
    """The stored access token for a bearer token and the API client of its
    application (with the client's application, agency and service user), or
    (None, None) for a token that is unknown or belongs to no API client.

    Looked up as DOT looks it up, by the SHA-256 of the token (only the
    checksum is stored, and it is unique), in one statement whose columns are
    every concrete field of the five models, so the instances are complete,
    as ``select_related`` would make them. It is written out because the
    ORM's compilation of that five-way join cost more than running it (1.4
    ms against 0.5 ms, on every API request).
    """
    checksum = hashlib.sha256(token.encode("utf-8")).hexdigest()
    with connection.cursor() as cursor:
        cursor.execute(_bearer_sql(), [checksum])
        row = cursor.fetchone()
    if row is None:
        return None, None
    values = list(row)
    access_token, application, client, agency, service_user = (_load(model, values) for model in _models())
    access_token.application = client.application = application
    client.agency, client.service_user = agency, service_user
    return access_token, client


# Deleted a batch at a time, so a backlog (a partner system asking for a
# token per request, say) never loads every row at once.
_TOKEN_BATCH = 5000


def _delete_in_batches(queryset) -> int:
    model = queryset.model
    removed = 0
    while True:
        batch = list(queryset.order_by().values_list("pk", flat=True)[:_TOKEN_BATCH])
        if not batch:
            return removed
        _count, by_model = model.objects.filter(pk__in=batch).delete()
        removed += by_model.get(model._meta.label, 0)


def expired_tokens_remove(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Delete the OAuth rows that can no longer be used; return how many of
    each kind went.

    Who: the daily retention run (``safeguarding.retention``). Guarantees,
    in one transaction: access tokens past their expiry go (an expired token
    is refused anyway; its row only says which client worked when); refresh
    tokens that are revoked, or whose access token has expired or gone (the
    applications here may use the client-credentials grant only, which issues
    none, so no refresh token can be used once its access token is over);
    expired authorisation grants and ID tokens (none are issued here either).
    A token that is still valid is never touched.
    """
    now = now or timezone.now()
    AccessToken, RefreshToken = get_access_token_model(), get_refresh_token_model()  # noqa: N806
    with transaction.atomic():
        refresh = _delete_in_batches(RefreshToken.objects.filter(
            Q(revoked__isnull=False) | Q(access_token__isnull=True) | Q(access_token__expires__lt=now)
        ))
        access = _delete_in_batches(AccessToken.objects.filter(expires__lt=now))
        grants = _delete_in_batches(get_grant_model().objects.filter(expires__lt=now))
        # An ID token's access token goes with it (CASCADE): only those whose
        # access token has already gone.
        id_tokens = _delete_in_batches(
            get_id_token_model().objects.filter(expires__lt=now, access_token__isnull=True)
        )
    return {"access_tokens": access, "refresh_tokens": refresh, "grants": grants, "id_tokens": id_tokens}
