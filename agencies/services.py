"""Write paths for the partners: agencies, their people and memberships.

These are system-administrator operations (the Django admin, management
commands, the demo seed). They touch no case data, so they take no ``actor``:
whoever can reach them is already trusted to configure the partnership. Each
validates before it writes, writes in one transaction, and raises
``DomainError`` naming the input at fault.

The invariant they keep: a person is in an agency's Django group exactly when
they hold at least one active membership of that agency. Object permissions
are granted to agency groups only, so this is what decides whose casework
reaches whom.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from agencies.models import Agency, AgencyKind, ApiClient, ApiScope, Membership, Role
from referrals.errors import DomainError

GROUP_PREFIX = "agency:"


def agency_group_name(slug: str) -> str:
    return f"{GROUP_PREFIX}{slug}"


def agency_create(*, name: str, kind: str, slug: str | None = None, email: str = "") -> Agency:
    """Create a partner agency and its Django group (``agency:<slug>``).

    Caller: a system administrator (admin site, ``create_agency``, the demo
    seed). Guarantees: the agency and its group are created together or not
    at all; the slug is derived from the name when not given; names, slugs
    and group names are unique.
    """
    name = (name or "").strip()
    if not name:
        raise DomainError("Enter the agency's name", field="name")
    if kind not in AgencyKind.values:
        raise DomainError(
            f"Unknown kind of agency {kind!r}; choose one of: {', '.join(AgencyKind.values)}", field="kind"
        )
    slug = (slug or "").strip() or slugify(name)[:80]
    if not slug or slugify(slug) != slug:
        raise DomainError("The slug may hold only lower-case letters, numbers and hyphens", field="slug")
    if len(slug) > Agency._meta.get_field("slug").max_length:
        raise DomainError("The slug is too long", field="slug")
    email = (email or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise DomainError("Enter a valid e-mail address", field="email") from None

    with transaction.atomic():
        if Agency.objects.filter(name__iexact=name).exists():
            raise DomainError(f"An agency called {name!r} already exists", field="name")
        if Agency.objects.filter(slug=slug).exists():
            raise DomainError(f"An agency with the slug {slug!r} already exists", field="slug")
        group_name = agency_group_name(slug)
        if Group.objects.filter(name=group_name).exists():
            # A leftover group could carry object permissions from elsewhere;
            # never hand it to a new agency silently.
            raise DomainError(f"A group called {group_name!r} already exists", field="slug")
        group = Group.objects.create(name=group_name)
        return Agency.objects.create(name=name, slug=slug, kind=kind, email=email, group=group)


def user_create(*, username: str, email: str, first_name: str, last_name: str, password: str | None = None):
    """Create a person's account.

    Caller: a system administrator (``add_member``, the demo seed).
    Guarantees: the username is free (case-insensitively), the e-mail address
    is valid, names are given, and the password passes the project's password
    validators; with ``password=None`` the account gets an unusable password
    (to be set through a reset). The account is not staff and not superuser.
    """
    User = get_user_model()
    username = (username or "").strip()
    email = (email or "").strip()
    first_name = (first_name or "").strip()
    last_name = (last_name or "").strip()
    if not username:
        raise DomainError("Enter a username", field="username")
    try:
        User.username_validator(username)
    except ValidationError as exc:
        raise DomainError(" ".join(exc.messages), field="username") from None
    if not first_name:
        raise DomainError("Enter the person's first name", field="first_name")
    if not last_name:
        raise DomainError("Enter the person's last name", field="last_name")
    try:
        validate_email(email)
    except ValidationError:
        raise DomainError("Enter a valid e-mail address", field="email") from None

    user = User(username=username, email=email, first_name=first_name, last_name=last_name)
    if password is None:
        user.set_unusable_password()
    else:
        try:
            password_validation.validate_password(password, user)
        except ValidationError as exc:
            raise DomainError(" ".join(exc.messages), field="password") from None
        user.set_password(password)

    with transaction.atomic():
        if User.objects.filter(username__iexact=username).exists():
            raise DomainError(f"The username {username!r} is taken", field="username")
        user.save()
    return user


def membership_add(*, agency: Agency, user, role: str, job_title: str = "") -> Membership:
    """Give a person a role in an agency, and put them in the agency's group.

    Caller: a system administrator (admin site, ``add_member``, the demo
    seed); later an agency administrator for their own agency. Idempotent: an
    existing membership for the same person, agency and role is returned
    (reactivated if it had ended, its job title updated when one is given),
    never duplicated.
    """
    if role not in Role.values:
        raise DomainError(f"Unknown role {role!r}; choose one of: {', '.join(Role.values)}", field="role")
    if agency is None or agency.pk is None:
        raise DomainError("Choose an agency", field="agency")
    if not agency.is_active:
        raise DomainError(f"{agency} is no longer active", field="agency")
    if user is None or user.pk is None:
        raise DomainError("Choose a person", field="user")
    if not user.is_active:
        raise DomainError(f"The account {user.get_username()!r} is deactivated", field="user")
    job_title = (job_title or "").strip()

    with transaction.atomic():
        membership, created = Membership.objects.select_for_update().get_or_create(
            user=user, agency=agency, role=role, defaults={"job_title": job_title}
        )
        changed = []
        if not membership.is_active:
            membership.is_active = True
            changed.append("is_active")
        if job_title and membership.job_title != job_title:
            membership.job_title = job_title
            changed.append("job_title")
        if changed:
            membership.save(update_fields=changed)
        user.groups.add(agency.group_id)
    return membership


def membership_end(*, membership: Membership) -> Membership:
    """End a person's role in an agency.

    Caller: a system administrator (later an agency administrator for their
    own agency). Guarantees: the membership is kept (inactive) for the
    record; the person leaves the agency's group, and so loses its casework
    at once, unless they hold another active role in the same agency.
    Ending an ended membership changes nothing.
    """
    if membership is None or membership.pk is None:
        raise DomainError("Choose a membership", field="membership")
    with transaction.atomic():
        membership = Membership.objects.select_for_update().select_related("agency", "user").get(pk=membership.pk)
        if membership.is_active:
            membership.is_active = False
            membership.save(update_fields=["is_active"])
        still_member = Membership.objects.filter(
            user_id=membership.user_id, agency_id=membership.agency_id, is_active=True
        ).exists()
        if not still_member:
            membership.user.groups.remove(membership.agency.group_id)
    return membership


# ---------------------------------------------------------------------------
# Partner systems' API clients
# ---------------------------------------------------------------------------


def _require_agency_admin(actor) -> None:
    from safeguarding import access

    if actor is None or actor.agency is None or not actor.has_role(Role.AGENCY_ADMIN):
        raise access.NotAllowed("Only the agency's administrators issue and revoke API clients")


def api_client_issue(*, actor, name: str, scopes: list[str]) -> tuple[ApiClient, str]:
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
    what it writes has a named author. The issue is in the access log.
    """
    from oauth2_provider.generators import generate_client_id, generate_client_secret
    from oauth2_provider.models import get_application_model

    from safeguarding import access

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
            agency=agency, application=application, service_user=service_user, name=name, scopes=cleaned,
            created_by=actor.user,
        )
        access.log_access(actor, "issue_api_client", client, detail={"scopes": cleaned})
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
    from oauth2_provider.generators import generate_client_secret
    from oauth2_provider.models import get_access_token_model, get_refresh_token_model

    from safeguarding import access

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
