"""POST /api/v1/young-people/matches/: the matcher's answer for the
client's agency (candidates only among young people it may see, else only
the flag), field-level 400s, the scope, and the access-log row."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from casework import matching
from safeguarding.models import AccessEvent
from tests import factories as f
from tests.api.conftest import assert_problem, http

URL = "/api/v1/young-people/matches/"
BORN = dt.date(2010, 4, 12)
DETAILS = {"given_name": "Jordan", "family_name": "Ellis", "date_of_birth": "2010-04-12", "postcode": "SE15 4QF"}


def _person(agency, **overrides):
    values = {
        "given_name": "Jordan", "family_name": "Ellis", "date_of_birth": BORN, "postcode": "SE15 4QF",
        "recorded_by": agency, **overrides,
    }
    return f.YoungPersonFactory(**values)


def test_a_record_the_agency_recorded_is_returned_with_reasons(cast, api_as):
    person = _person(cast.owner, given_name="Jordon")
    response = api_as("owner", ["referrals:write"]).post(URL, DETAILS, format="json")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["possible_existing_record"] is False and body["message"] == ""
    [candidate] = body["candidates"]
    assert candidate["id"] == person.pk
    assert candidate["likely"] is True and candidate["score"] >= matching.MATCH_THRESHOLD
    assert candidate["reasons"] and all(isinstance(r, str) for r in candidate["reasons"])
    assert {k: candidate[k] for k in ("given_name", "family_name", "date_of_birth", "postcode")} == {
        "given_name": "Jordon", "family_name": "Ellis", "date_of_birth": "2010-04-12", "postcode": "SE15 4QF",
    }
    assert set(candidate) == {
        "id", "score", "likely", "reasons", "given_name", "family_name", "preferred_name", "date_of_birth",
        "postcode",
    }


def test_a_likely_record_of_another_agency_gives_only_the_flag(cast, api_as):
    person = _person(cast.sharing, preferred_name="JJ")
    response = api_as("outsider", ["referrals:write"]).post(URL, DETAILS, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body == {
        "possible_existing_record": True, "message": matching.HIDDEN_RECORD_MESSAGE, "candidates": [],
    }
    text = response.content.decode()
    assert str(person.pk) not in text and "JJ" not in text


def test_the_answer_is_exactly_the_matchers(cast, api_as):
    _person(cast.owner)
    _person(cast.owner, given_name="Jordan", family_name="Elis", postcode="SE15 4QG")
    response = api_as("owner", ["referrals:write"]).post(URL, DETAILS, format="json")
    from safeguarding import access

    client = cast.owner.api_clients.first()
    expected = matching.young_person_candidates(access.actor_for_api_client(client), details=DETAILS)
    body = response.json()
    assert [c["id"] for c in body["candidates"]] == [c.young_person_id for c in expected.candidates]
    assert [c["score"] for c in body["candidates"]] == [c.score for c in expected.candidates]
    assert [c["reasons"] for c in body["candidates"]] == [list(c.reasons) for c in expected.candidates]


def test_without_referrals_write_it_is_a_403(cast, api_as):
    _person(cast.owner)
    before = AccessEvent.objects.filter(action="match_search").count()
    body = assert_problem(
        api_as("owner", ["referrals:read", "cases:read", "cases:write"]).post(URL, DETAILS, format="json"), 403,
    )
    assert body["type"].endswith("missing-scope") and "referrals:write" in body["detail"]
    assert AccessEvent.objects.filter(action="match_search").count() == before


def test_without_a_token_it_is_a_401(cast):
    _person(cast.owner)
    response = http().post(URL, DETAILS, format="json")
    assert_problem(response, 401)
    assert "WWW-Authenticate" in response
    assert not AccessEvent.objects.filter(action="match_search").exists()


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"given_name", "family_name", "date_of_birth"}),
        ({"given_name": "Jordan", "family_name": "Ellis"}, {"date_of_birth"}),
        ({"date_of_birth": "2010-04-12"}, {"given_name", "family_name"}),
        ({"given_name": "Jordan", "date_of_birth": "2010-02-30"}, {"date_of_birth"}),
        ({**DETAILS, "school": "Riverside"}, {"school"}),
        ({**DETAILS, "gender": "unknown-value"}, {"gender"}),
        ({**DETAILS, "postcode": "SE15 4QF SE15 4QF"}, {"postcode"}),
        ({"given_name": "'", "date_of_birth": "2010-04-12"}, {None}),
    ],
    ids=["empty", "no-dob", "no-name", "bad-date", "bad-school", "bad-gender", "long-postcode", "no-name-letters"],
)
def test_bad_input_is_a_400_naming_the_fields(cast, api_as, body, fields):
    response = api_as("owner", ["referrals:write"]).post(URL, body, format="json")
    problem = assert_problem(response, 400)
    assert problem["type"].endswith("invalid-input")
    assert {e["field"] for e in problem["errors"]} == fields, problem["errors"]


def test_an_identifier_alone_is_enough(cast, api_as):
    person = _person(cast.owner, unique_pupil_number="A123456789012")
    response = api_as("owner", ["referrals:write"]).post(URL, {"unique_pupil_number": "a123456789012"}, format="json")
    assert response.status_code == 200, response.content
    assert [c["id"] for c in response.json()["candidates"]] == [person.pk]


def test_the_search_is_in_the_access_log_without_personal_data(cast, api_as):
    _person(cast.owner)
    _person(cast.sharing, given_name="Jordan", family_name="Ellis", preferred_name="Jay")
    response = api_as("owner", ["referrals:write"]).post(
        URL, {**DETAILS, "nhs_number": "943 476 5919"}, format="json", HTTP_X_REQUEST_ID="match-1",
    )
    assert response.status_code == 200, response.content
    [event] = AccessEvent.objects.filter(action="match_search")
    assert event.channel == "api"
    assert event.agency_id == cast.owner.pk and event.api_client and event.request_id == "match-1"
    assert event.object_type == "young_person" and event.object_id == "" and event.young_person_id is None
    assert set(event.detail) == {"candidates_shown", "likely_shown", "withheld_flag", "blocked"}
    assert all(isinstance(v, (int, bool)) for v in event.detail.values())
    row = json.dumps(
        {f.name: str(getattr(event, f.attname)) for f in AccessEvent._meta.fields}, ensure_ascii=False,
    ).lower()
    for value in ("jordan", "ellis", "2010-04-12", "20100412", "se15", "9434765919", "943 476 5919", "jay"):
        assert value not in row, value


def test_it_is_not_idempotency_keyed_and_writes_nothing_else(cast, api_as):
    from tests.referrals.conftest import count_rows

    _person(cast.owner)
    client = api_as("owner", ["referrals:write"])
    before = count_rows()
    first = client.post(URL, DETAILS, format="json", HTTP_IDEMPOTENCY_KEY="same")
    second = client.post(URL, DETAILS, format="json", HTTP_IDEMPOTENCY_KEY="same")
    assert first.status_code == second.status_code == 200
    assert "Idempotent-Replayed" not in second
    after = count_rows()
    assert after["AccessEvent"] == before["AccessEvent"] + 2
    assert {k: v for k, v in after.items() if k != "AccessEvent"} == {
        k: v for k, v in before.items() if k != "AccessEvent"
    }
