"""Fixtures for the casework service tests: a row counter to prove a refused
or failed call wrote nothing, a new person's details, and an open case led by
the owner agency (optionally shared with the sharing agency)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from contexts.models import Context, ContextLink
from referrals import models as rm
from safeguarding import access
from safeguarding.models import AccessEvent, CaseGroupObjectPermission, ShareGrant, SharingDecision
from tests import factories as f

COUNTED = [
    rm.YoungPerson, rm.Referral, rm.Case, rm.Review, rm.CaseNote, rm.Intervention,
    AccessEvent, ShareGrant, SharingDecision, CaseGroupObjectPermission, Context, ContextLink,
]


def count_rows() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


@pytest.fixture
def rows():
    """``before = rows()`` ... ``assert rows() == before``."""
    return count_rows


@pytest.fixture
def person():
    return {
        "given_name": "Jordan",
        "family_name": "Ellis",
        "preferred_name": "JJ",
        "date_of_birth": timezone.localdate() - dt.timedelta(days=15 * 365),
        "gender": rm.Gender.MALE,
        "ethnicity": rm.Ethnicity.BLACK_CARIBBEAN,
        "postcode": "se15 4qf",
        "ward": "Peckham",
    }


@pytest.fixture
def case(cast):
    """An open case led by the owner agency, its practitioner the key worker,
    with its first open review."""
    young_person = f.YoungPersonFactory(recorded_by=cast.owner)
    case = f.CaseFactory(
        young_person=young_person, lead_agency=cast.owner, key_worker=cast.user("owner", "practitioner"),
        opened_at=timezone.now() - dt.timedelta(days=30),
    )
    rm.Review.objects.create(case=case, due_on=case.next_review_due)
    return case


def grant_share(case, agency, *, granted_by, days: int = 30) -> ShareGrant:
    with transaction.atomic():
        grant = ShareGrant.objects.create(
            case=case, agency=agency, purpose="Joint safety planning",
            lawful_basis=rm.LawfulBasis.SAFEGUARDING_CHILDREN, emergency_basis="Test emergency",
            granted_by=granted_by, expires_at=timezone.now() + dt.timedelta(days=days),
        )
        access.sync_case_permissions(case)
    return grant


@pytest.fixture
def shared_case(cast, case):
    """``case``, with an active share to the sharing agency."""
    grant_share(case, cast.sharing, granted_by=cast.user("owner", "manager"))
    return case
