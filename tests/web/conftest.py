import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from safeguarding import access
from safeguarding.models import ShareGrant
from tests import factories as f


def date_fields(name: str, day: dt.date) -> dict:
    return {f"{name}-day": str(day.day), f"{name}-month": str(day.month), f"{name}-year": str(day.year)}


def share(cast, case, agency, *, days=30):
    with transaction.atomic():
        grant = ShareGrant.objects.create(
            case=case, agency=agency, purpose="Joint safety plan", lawful_basis="safeguarding_children",
            agreement=cast.agreement, granted_by=cast.user("owner", "manager"),
            expires_at=timezone.now() + dt.timedelta(days=days),
        )
        access.sync_case_permissions(case)
    return grant


@pytest.fixture
def owned_case(cast):
    """An open case led by the owner agency, its practitioner the key worker."""
    return f.CaseFactory(
        lead_agency=cast.owner, key_worker=cast.user("owner", "practitioner"),
        young_person__given_name="Tyrone", young_person__family_name="Okafor",
        young_person__recorded_by=cast.owner,
    )
