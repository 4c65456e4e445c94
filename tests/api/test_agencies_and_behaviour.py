"""The directory, idempotent POSTs, throttling and the problem shape."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from referrals import models as rm
from tests.api.conftest import assert_problem, http
from tests.api.operations import referral_body


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()
    yield
    cache.clear()


def test_the_directory_lists_active_agencies(cast, api_as):
    cast.outsider.is_active = False
    cast.outsider.save(update_fields=["is_active"])
    body = api_as("owner", ["cases:read"]).get("/api/v1/agencies/").json()
    names = [row["name"] for row in body["results"]]
    assert names == sorted(names) and "Owner Youth Service" in names and "Outsider School" not in names


def test_a_retry_with_the_same_key_returns_the_first_response(cast, api_as):
    client = api_as("owner")
    first = client.post("/api/v1/referrals/", referral_body(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post("/api/v1/referrals/", referral_body(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again["Idempotent-Replayed"] == "true"
    assert rm.Referral.objects.count() == 1 and rm.YoungPerson.objects.count() == 1


def test_the_same_key_with_another_body_is_a_409(cast, case, api_as):
    client = api_as("owner")
    client.post("/api/v1/referrals/", referral_body(), format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    changed = {**referral_body(), "risk_level": "red"}
    problem = assert_problem(
        client.post("/api/v1/referrals/", changed, format="json", HTTP_IDEMPOTENCY_KEY="k-2"), 409,
    )
    assert "Idempotency-Key" in problem["detail"]
    # ... and on another endpoint.
    assert_problem(
        client.post(f"/api/v1/cases/{case.pk}/notes/", {"kind": "contact", "text": "x"}, format="json",
                    HTTP_IDEMPOTENCY_KEY="k-2"),
        409,
    )
    assert rm.Referral.objects.count() == 1


def test_a_failed_request_does_not_use_up_its_key(cast, api_as):
    client = api_as("owner")
    bad = {**referral_body(), "risk_level": "purple"}
    assert_problem(client.post("/api/v1/referrals/", bad, format="json", HTTP_IDEMPOTENCY_KEY="k-3"), 400)
    good = client.post("/api/v1/referrals/", referral_body(), format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    assert good.status_code == 201


def test_keys_belong_to_one_client(cast, api_as):
    first = api_as("owner").post("/api/v1/referrals/", referral_body(), format="json", HTTP_IDEMPOTENCY_KEY="k-4")
    second = api_as("sharing").post("/api/v1/referrals/", referral_body(), format="json", HTTP_IDEMPOTENCY_KEY="k-4")
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]


def test_an_idempotent_note_is_added_once(cast, case, api_as):
    client = api_as("owner")
    url = f"/api/v1/cases/{case.pk}/notes/"
    before = rm.CaseNote.objects.count()
    for _ in range(3):
        response = client.post(url, {"kind": "contact", "text": "Once"}, format="json", HTTP_IDEMPOTENCY_KEY="n-1")
        assert response.status_code == 201
    assert rm.CaseNote.objects.count() == before + 1


def test_an_overlong_key_is_a_400(cast, api_as):
    problem = assert_problem(
        api_as("owner").post("/api/v1/referrals/", referral_body(), format="json", HTTP_IDEMPOTENCY_KEY="k" * 300),
        400,
    )
    assert problem["errors"][0]["field"] == "Idempotency-Key"


def test_throttling_is_per_client_with_retry_after(cast, api_as, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api_client": "3/minute"}}
    busy, other = api_as("owner", ["cases:read"]), api_as("sharing", ["cases:read"])
    for _ in range(3):
        assert busy.get("/api/v1/cases/").status_code == 200
    response = busy.get("/api/v1/cases/")
    problem = assert_problem(response, 429)
    assert int(response["Retry-After"]) > 0 and problem["type"].endswith("throttled")
    assert other.get("/api/v1/cases/").status_code == 200


def test_problem_shape(cast, api_as):
    problem = assert_problem(api_as("owner").get("/api/v1/cases/999999/"), 404)
    assert problem == {
        "type": "urn:crossroads:problem:not-found", "title": "Not found", "status": 404,
        "detail": "No such resource.", "instance": "/api/v1/cases/999999/",
    }


def test_head_needs_the_same_scope_as_get(cast, case, api_as):
    assert api_as("owner", ["referrals:read"]).head(f"/api/v1/cases/{case.pk}/").status_code == 403
    assert api_as("owner", ["cases:read"]).head(f"/api/v1/cases/{case.pk}/").status_code == 200


def test_an_unsupported_method_is_a_405_problem(cast, case, api_as):
    assert_problem(api_as("owner").delete(f"/api/v1/cases/{case.pk}/notes/"), 405)


def test_ids_that_cannot_be_ids_and_unknown_paths_are_404_problems(cast, api_as):
    client = api_as("owner")
    for url in ("/api/v1/cases/-5/", "/api/v1/cases/99999999999999999999999/", "/api/v1/nothing-here/"):
        assert_problem(client.get(url), 404)
    assert_problem(http().get("/api/v1/nothing-here/"), 401)
