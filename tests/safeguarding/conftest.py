"""Fixtures for the access-policy tests: share grants made directly, without
the sharing service, and kept in step with ``access.sync_case_permissions``."""

from __future__ import annotations

import datetime as dt

import factory
from django.db import transaction
from django.utils import timezone

from referrals.models import LawfulBasis
from safeguarding import access
from safeguarding.models import ShareGrant
from tests import factories as f


class ShareGrantFactory(factory.django.DjangoModelFactory):
    """A grant row as the sharing service would write it. Creating one does
    not touch the permission rows: call ``share`` or sync yourself."""

    class Meta:
        model = ShareGrant

    case = factory.SubFactory(f.CaseFactory)
    agency = factory.SubFactory(f.AgencyFactory)
    purpose = "Joint safety planning after an incident near school"
    lawful_basis = LawfulBasis.SAFEGUARDING_CHILDREN
    emergency_basis = "Recorded emergency: risk of immediate harm"
    granted_by = factory.SubFactory(f.UserFactory)
    granted_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=10))
    expires_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=30))


def sync(case) -> None:
    with transaction.atomic():
        access.sync_case_permissions(case)


def share(case, agency, **kwargs) -> ShareGrant:
    """Grant ``agency`` access to ``case`` and bring the permission rows in step."""
    grant = ShareGrantFactory(case=case, agency=agency, **kwargs)
    sync(case)
    return grant
