"""Fixtures for the partner API: API clients issued through the service to
the cast's agencies, bearer tokens for them, and cases in each relation to
the owner agency (lead, shared, expired share, revoked share, none)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from oauth2_provider.models import get_access_token_model
from rest_framework.test import APIClient

from agencies.models import ApiScope
from api.services import api_client_issue
from referrals import models as rm
from safeguarding.models import ShareGrant
from tests import factories as f
from tests.safeguarding.conftest import share

ALL_SCOPES = tuple(ApiScope.values)


@pytest.fixture(autouse=True)
def _api_routes(settings):
    settings.ROOT_URLCONF = "tests.api.urls"


def issue(cast, agency_key: str = "owner", scopes=ALL_SCOPES, name: str = "Partner system"):
    """An API client of a cast agency, issued by its administrator; returns
    (client, plaintext secret)."""
    return api_client_issue(actor=cast.actor(agency_key, "agency_admin"), name=name, scopes=list(scopes))


def bearer(client, scopes=None, *, expires_in: int = 600) -> str:
    """An access token for the client, as /o/token/ would issue it."""
    token = get_access_token_model().objects.create(
        application=client.application,
        token=f"token-{client.pk}-{timezone.now().timestamp()}-{' '.join(scopes or client.scopes)}".replace(" ", "+"),
        expires=timezone.now() + dt.timedelta(seconds=expires_in),
        scope=" ".join(scopes if scopes is not None else client.scopes),
    )
    return token.token


def http(token: str | None = None) -> APIClient:
    client = APIClient()
    if token:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def api_as(cast):
    """``api_as("owner", ["cases:read"])`` → an HTTP client acting as a new API
    client of that agency with those scopes (default: all)."""
    made = {}

    def make(agency_key: str = "owner", scopes=ALL_SCOPES):
        key = (agency_key, tuple(sorted(scopes)))
        if key not in made:
            client, _secret = issue(cast, agency_key, scopes, name=f"System {len(made)}")
            made[key] = client
        return http(bearer(made[key]))

    return make


@pytest.fixture
def case(cast):
    """An open case led by the owner agency, with case-wide and agency-only
    notes by the owner and the sharing agency, an intervention and a review."""
    now = timezone.now()
    young_person = f.YoungPersonFactory(recorded_by=cast.owner)
    case = f.CaseFactory(
        young_person=young_person, lead_agency=cast.owner, key_worker=cast.user("owner", "practitioner"),
        opened_at=now - dt.timedelta(days=30),
    )
    rm.Review.objects.create(case=case, due_on=case.next_review_due)
    for key in ("owner", "sharing"):
        for visibility in rm.NoteVisibility.values:
            rm.CaseNote.objects.create(
                case=case, occurred_at=now - dt.timedelta(days=2), kind=rm.NoteKind.CONTACT,
                author=cast.user(key, "practitioner"), agency=cast.agencies[key],
                text=f"{key} {visibility} note", visibility=visibility,
            )
    rm.Intervention.objects.create(
        case=case, provider_agency=cast.owner, kind=rm.InterventionKind.MENTORING, goals="Weekly mentoring",
        recorded_by=cast.user("owner", "practitioner"),
    )
    return case


def set_relation(cast, case, relation: str) -> None:
    """Put the sharing agency in ``relation`` to the owner's case."""
    if relation == "none":
        return
    grant = share(case, cast.sharing, agreement=cast.agreement, emergency_basis="")
    if relation == "expired":
        ShareGrant.objects.filter(pk=grant.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    elif relation == "revoked":
        ShareGrant.objects.filter(pk=grant.pk).update(
            revoked_at=timezone.now(), revoked_by=cast.user("owner", "manager"), revoke_reason="Done",
        )
    else:
        assert relation == "shared", relation


# Relations of an agency to a case that must be refused (404), and how to
# reach each: (agency key, relation of the sharing agency).
REFUSED = {
    "other_agency": ("outsider", "none"),
    "expired_share": ("sharing", "expired"),
    "revoked_share": ("sharing", "revoked"),
    "referrer_without_share": ("referrer", "none"),
}


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, getattr(response, "data", None))
    assert response["Content-Type"].startswith("application/problem+json"), response["Content-Type"]
    body = response.json()
    assert body["status"] == status
    assert {"type", "title", "detail"} <= set(body)
    return body
