"""API calls carry a request id (X-Request-ID in and out) onto the access
log, with the client and the basis of the read."""

from __future__ import annotations

import uuid

from agencies.models import ApiClient
from safeguarding.models import AccessEvent
from tests.api.conftest import set_relation


def test_an_api_read_keeps_the_callers_request_id(cast, case, api_as):
    response = api_as("owner").get(f"/api/v1/cases/{case.pk}/", HTTP_X_REQUEST_ID="school-mis-8812")

    assert response.status_code == 200
    assert response["X-Request-ID"] == "school-mis-8812"
    row = AccessEvent.objects.filter(case_id=case.pk, action="view").latest("id")
    assert row.request_id == "school-mis-8812"
    assert row.api_client == ApiClient.objects.get(agency=cast.owner).application.client_id
    assert row.channel == "api" and row.basis == "Lead agency (Owner Youth Service)"


def test_a_shared_agencys_api_read_records_the_grant_it_rests_on(cast, case, api_as):
    set_relation(cast, case, "shared")

    response = api_as("sharing").get(f"/api/v1/cases/{case.pk}/", HTTP_X_REQUEST_ID="bad id")

    assert response.status_code == 200
    returned = response["X-Request-ID"]
    assert str(uuid.UUID(returned)) == returned
    row = AccessEvent.objects.filter(case_id=case.pk, action="view").latest("id")
    grant = case.share_grants.get()
    assert row.request_id == returned
    assert row.basis.startswith(f"Share grant #{grant.pk} under agreement {cast.agreement.reference} until ")


def test_refusals_carry_the_request_id(cast, case, api_as):
    response = api_as("outsider").get(f"/api/v1/cases/{case.pk}/", HTTP_X_REQUEST_ID="req-refused")

    assert response.status_code == 404
    assert response["X-Request-ID"] == "req-refused"
