"""Read paths of the partner API part that the pages share: an agency's
API clients, for its administrators."""

from __future__ import annotations

from django.db.models import QuerySet

from agencies.models import ApiClient
from safeguarding import access


def agency_api_clients(actor: access.Actor) -> QuerySet[ApiClient]:
    """The actor's agency's API clients, live ones first, by name.

    Who: the agency's administrators (``access.may_manage_api_clients``);
    anyone else gets ``access.NotAllowed``, before anything is listed.
    """
    if not access.may_manage_api_clients(actor):
        raise access.NotAllowed("Only the agency's administrators manage API clients")
    return ApiClient.objects.filter(agency=actor.agency).select_related("application", "partnership").order_by("revoked_at", "name")


def agency_api_client(actor: access.Actor, client_id) -> ApiClient:
    """One of the actor's agency's API clients; another agency's, or none, is
    ``access.NotVisible``."""
    client = agency_api_clients(actor).filter(pk=client_id).first() if str(client_id).isdigit() else None
    if client is None:
        raise access.NotVisible("No such API client")
    return client
