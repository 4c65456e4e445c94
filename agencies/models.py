"""Who the partners are: agencies, their people and their sharing agreements."""

from __future__ import annotations

import pghistory
from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone


class AgencyKind(models.TextChoices):
    POLICE = "police", "Police"
    SCHOOL = "school", "School"
    YOUTH_SERVICE = "youth_service", "Youth service"
    CHILDRENS_SOCIAL_CARE = "childrens_social_care", "Children's social care"
    YOUTH_JUSTICE = "youth_justice", "Youth justice"
    HEALTH = "health", "Health"
    HOUSING = "housing", "Housing"
    VOLUNTARY = "voluntary", "Voluntary sector"
    HUB = "hub", "Community safety / multi-agency hub"


class Partnership(models.Model):
    """A borough's community-safety partnership: the boundary of its data.

    Every young person, referral and case belongs to one; an agency works in
    one or more (a police unit serving several boroughs, a hospital, a
    charity), and its people choose which one they are working in. Nothing
    of one partnership is visible in another (``safeguarding.access``, and
    PostgreSQL row-level security under it)."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Agency(models.Model):
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    kind = models.CharField(max_length=32, choices=AgencyKind.choices)
    # Object permissions are granted to this group, never to single users, so
    # that a person's access follows their membership.
    group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="agency")
    email = models.EmailField(blank=True)
    # The partnerships the agency works in: one for most, several for a
    # police unit or a hospital serving neighbouring boroughs.
    partnerships = models.ManyToManyField(Partnership, related_name="agencies", blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "agencies"
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=AgencyKind.values), name="agency_kind_valid"),
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    PRACTITIONER = "practitioner", "Practitioner"
    HUB_SCREENER = "hub_screener", "Hub screener"
    MANAGER = "manager", "Manager"
    AGENCY_ADMIN = "agency_admin", "Agency administrator"
    DPO = "dpo", "Data-protection officer"
    # Edits the partnership's own rules, vocabulary and agreement templates;
    # held in the partnership's community-safety hub, it means nothing in
    # another kind of agency. No case content comes with it.
    PARTNERSHIP_ADMIN = "partnership_admin", "Partnership administrator"
    # Reads the partnership's monitoring (``monitoring``): pseudonymised,
    # suppressed figures only. No case records, no young person's name.
    REPORTING = "reporting", "Reporting analyst"


@pghistory.track()
class Membership(models.Model):
    """A person's role in an agency. A person may hold several roles."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=32, choices=Role.choices)
    job_title = models.CharField(max_length=120, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["agency__name", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["user", "agency", "role"], name="membership_unique_role"),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()}, {self.agency}"


class InformationSharingAgreement(models.Model):
    """A signed agreement under which its parties may share case information."""

    title = models.CharField(max_length=200)
    reference = models.CharField(max_length=60, unique=True)
    parties = models.ManyToManyField(Agency, related_name="agreements")
    purpose = models.TextField()
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    # Signed by agencies of neighbouring partnerships: a case may then be
    # shared across the borough line with a party that works only next door
    # (``safeguarding.services.share_case``). Nothing else crosses it.
    cross_border = models.BooleanField(
        default=False, db_default=False,
        help_text="A cross-border agreement: its parties may share cases across partnerships",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="agreement_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.reference})"

    def in_force_on(self, day) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)


# ---------------------------------------------------------------------------
# Partner systems' API clients (the REST API, issue 4)
# ---------------------------------------------------------------------------


class ApiScope(models.TextChoices):
    """What an API client may do. The vocabulary is fixed: the access policy
    (``safeguarding.access.API_SCOPES``) and the OAuth server use it."""

    REFERRALS_READ = "referrals:read", "Follow the referrals the agency made"
    REFERRALS_WRITE = "referrals:write", "Make referrals"
    CASES_READ = "cases:read", "Read cases the agency may see"
    CASES_WRITE = "cases:write", "Add chronology entries and interventions to those cases"
    CONTEXTS_READ = "contexts:read", "Read places, groups and persons of concern, and links to visible cases"
    CONTEXTS_WRITE = "contexts:write", "Record contexts and link visible cases to them"


class ApiClient(models.Model):
    """A partner system's client of the REST API, acting for one agency.

    It authenticates with OAuth 2.0 client credentials through its
    ``application`` (django-oauth-toolkit; the secret is stored hashed and
    shown once, when issued). ``service_user`` is an account that cannot sign
    in (no usable password, inactive), member of the agency as a
    practitioner: it is the named author of the chronology entries,
    interventions and referrals the client writes, so the authorship columns
    keep pointing at a user. Revoking sets ``revoked_at``; the row is kept for
    the record. It works in one ``partnership``, one its agency works in (a
    police unit serving several boroughs issues a client per borough): while
    the agency still works there, the client reaches that partnership's data
    and no other's.
    """

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="api_clients")
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="api_clients")
    application = models.OneToOneField(
        "oauth2_provider.Application", on_delete=models.PROTECT, related_name="api_client",
    )
    service_user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_client",
    )
    name = models.CharField(max_length=100)
    scopes = ArrayField(models.CharField(max_length=32, choices=ApiScope.choices))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
    )

    class Meta:
        ordering = ["agency__name", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(scopes__len__gt=0) & Q(scopes__contained_by=ApiScope.values),
                name="api_client_scopes_from_vocabulary",
            ),
            models.UniqueConstraint(
                fields=["agency", "name"], condition=Q(revoked_at__isnull=True), name="api_client_name_unique_live",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.agency})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
