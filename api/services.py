"""Partner systems' API clients: issued and revoked by an agency's
administrators. The client rows live with the agencies (``ApiClient``);
issuing and revoking check the access policy and write the access log, so
they sit here, above it."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from oauth2_provider.generators import generate_client_id, generate_client_secret
from oauth2_provider.models import (
    get_access_token_model,
    get_application_model,
    get_refresh_token_model,
)

from agencies.models import ApiClient, ApiScope, Membership, Partnership, Role
from lib.errors import DomainError
from safeguarding import access


def _require_agency_admin(actor) -> None:
    if not access.may_manage_api_clients(actor):
        raise access.NotAllowed("Only the agency's administrators manage API clients")


def _client_partnership(agency, partnership) -> Partnership:
    """The partnership a new client of ``agency`` will work in: the one
    asked for (a ``Partnership``, its pk or its slug), if the agency works in
    it; with none asked for, the agency's only one."""
    mine = access.partnerships_of(agency)
    if partnership is None or partnership == "":
        if len(mine) == 1:
            return mine[0]
        if not mine:
            raise DomainError(f"{agency.name} works in no partnership, so a client would reach nothing",
                              field="partnership")
        raise DomainError(
            f"{agency.name} works in several partnerships: choose the one the client will work in "
            f"({', '.join(p.name for p in mine)})", field="partnership",
        )
    for candidate in mine:
        if (isinstance(partnership, Partnership) and candidate.pk == partnership.pk) or (
            not isinstance(partnership, Partnership) and str(partnership) in (str(candidate.pk), candidate.slug)
        ):
            return candidate
    raise DomainError(
        f"{agency.name} does not work in that partnership: choose one of "
        f"{', '.join(p.name for p in mine) or 'its partnerships'}", field="partnership",
    )


def api_client_issue(*, actor, name: str, scopes: list[str], partnership=None) -> tuple[ApiClient, str]:
    """Issue an API client to a partner system of the actor's agency.

    Who: an agency administrator, for their own agency (``actor`` is a
    ``safeguarding.access.Actor``); anyone else gets ``NotAllowed``.
    Returns the client and its plaintext secret: the secret is stored only
    hashed (django-oauth-toolkit hashes client secrets with the project's
    password hasher), so this is the one time anyone sees it.

    Guarantees, in one transaction: ``name`` is given and not used by another
    live client of the agency; ``scopes`` are from ``ApiScope``, at least one,
    and ``cases:write`` comes with ``cases:read`` (a client cannot add to a
    case it cannot read); the OAuth application is confidential and may use
    the client-credentials grant only; the client's service user
    (``api:<client id>``) has no usable password, is inactive so it can never
    sign in to the web app, and is a practitioner member of the agency, so
    what it writes has a named author; the client works in ``partnership``
    (a ``Partnership``, its pk or slug), which must be an active one the
    agency works in (else a ``DomainError`` on the field ``partnership``);
    with none given, the agency's only partnership, and for an agency in
    several a ``DomainError`` on ``partnership`` asking to choose one. The
    issue is in the access log.
    """
    _require_agency_admin(actor)
    agency = actor.agency
    name = (name or "").strip()
    if not name:
        raise DomainError("Enter a name for the client, e.g. the partner system's name", field="name")
    if len(name) > ApiClient._meta.get_field("name").max_length:
        raise DomainError("The name must be 100 characters or fewer", field="name")
    if not isinstance(scopes, (list, tuple, set, frozenset)) or not scopes:
        raise DomainError("Choose at least one scope", field="scopes")
    cleaned = sorted(set(scopes))
    unknown = [scope for scope in cleaned if scope not in ApiScope.values]
    if unknown:
        raise DomainError(
            f"Unknown scope {unknown[0]!r}; choose from: {', '.join(ApiScope.values)}", field="scopes",
        )
    if ApiScope.CASES_WRITE in cleaned and ApiScope.CASES_READ not in cleaned:
        raise DomainError("cases:write needs cases:read as well", field="scopes")
    working = _client_partnership(agency, partnership)

    Application = get_application_model()
    User = get_user_model()
    secret = generate_client_secret()
    with transaction.atomic():
        if ApiClient.objects.filter(agency=agency, name__iexact=name, revoked_at__isnull=True).exists():
            raise DomainError(f"{agency.name} already has a client called {name!r}", field="name")
        client_id = generate_client_id()
        application = Application.objects.create(
            name=f"{agency.name}: {name}"[:255],
            client_id=client_id,
            client_secret=secret,
            hash_client_secret=True,
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
            redirect_uris="",
            skip_authorization=False,
        )
        service_user = User(username=f"api:{client_id}", first_name=name[:150], last_name=f"(API client, {agency.name})"[:150],
                            is_active=False)
        service_user.set_unusable_password()
        service_user.save()
        Membership.objects.create(user=service_user, agency=agency, role=Role.PRACTITIONER, job_title="API client")
        service_user.groups.add(agency.group_id)
        client = ApiClient.objects.create(
            agency=agency, partnership=working, application=application, service_user=service_user, name=name,
            scopes=cleaned, created_by=actor.user,
        )
        access.log_access(actor, "issue_api_client", client, detail={"scopes": cleaned, "partnership": working.slug})
    return client, secret


def api_client_revoke(*, actor, client: ApiClient) -> ApiClient:
    """Revoke an API client: its tokens stop working when this commits.

    Who: an agency administrator of the client's agency (others get
    ``NotAllowed``). Guarantees: ``revoked_at``/``revoked_by`` are set, every
    access and refresh token of its application is deleted, its service
    user's membership ends and its application's secret is replaced by one
    nobody knows (no new tokens); the row, its service user and everything
    they wrote are kept. Revoking a revoked client is a ``DomainError``.
    """
    _require_agency_admin(actor)
    if client is None or client.pk is None:
        raise DomainError("Choose a client", field="client")
    with transaction.atomic():
        current = ApiClient.objects.select_for_update().filter(pk=client.pk, agency=actor.agency).first()
        if current is None:
            raise access.NotVisible("No such API client")
        if current.revoked_at is not None:
            raise DomainError("This client has already been revoked", field="client", code="already_revoked")
        current.revoked_at = timezone.now()
        current.revoked_by = actor.user
        current.save(update_fields=["revoked_at", "revoked_by"])
        # No more tokens either: the application's secret becomes one nobody
        # knows (hashed on save), so /o/token/ answers invalid_client.
        application = current.application
        application.client_secret = generate_client_secret()
        application.save(update_fields=["client_secret"])
        get_refresh_token_model().objects.filter(application_id=current.application_id).delete()
        get_access_token_model().objects.filter(application_id=current.application_id).delete()
        Membership.objects.filter(user_id=current.service_user_id, is_active=True).update(is_active=False)
        current.service_user.groups.remove(current.agency.group_id)
        access.log_access(actor, "revoke_api_client", current)
    return current
