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
from django.utils.text import slugify

from agencies.models import Agency, AgencyKind, Membership, Partnership, Role
from lib.errors import DomainError

GROUP_PREFIX = "agency:"


def agency_group_name(slug: str) -> str:
    return f"{GROUP_PREFIX}{slug}"


def partnership_create(*, name: str, slug: str | None = None) -> Partnership:
    """Create a partnership (a borough's data boundary).

    Caller: a system administrator (admin site, ``create_partnership``, the
    demo seed). Guarantees: a name, and a slug derived from it when not given;
    both unique.
    """
    name = (name or "").strip()
    if not name:
        raise DomainError("Enter the partnership's name", field="name")
    slug = (slug or "").strip() or slugify(name)[:80]
    if not slug or slugify(slug) != slug:
        raise DomainError("The slug may hold only lower-case letters, numbers and hyphens", field="slug")
    with transaction.atomic():
        if Partnership.objects.filter(name__iexact=name).exists():
            raise DomainError(f"A partnership called {name!r} already exists", field="name")
        if Partnership.objects.filter(slug=slug).exists():
            raise DomainError(f"A partnership with the slug {slug!r} already exists", field="slug")
        return Partnership.objects.create(name=name, slug=slug)


def agency_create(
    *, name: str, kind: str, slug: str | None = None, email: str = "", partnerships: list[Partnership] | None = None,
) -> Agency:
    """Create a partner agency and its Django group (``agency:<slug>``), working
    in the partnerships given (where the deployment has just one partnership
    and none is given, in that one).

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
        agency = Agency.objects.create(name=name, slug=slug, kind=kind, email=email, group=group)
        if partnerships is None:
            only = list(Partnership.objects.all()[:2])
            partnerships = only if len(only) == 1 else []
        agency.partnerships.set(partnerships)
        return agency


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
