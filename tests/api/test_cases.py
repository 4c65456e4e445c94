"""/api/v1/cases/: list with filters and read one; what reaches the log; the
cost of a page."""

from __future__ import annotations

import datetime as dt
import json

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from referrals import models as rm
from api.serializers import CaseOut
from safeguarding.models import AccessEvent
from tests import factories as f
from tests.api.conftest import assert_problem, set_relation
from tests.safeguarding.conftest import share


def _ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_the_list_holds_cases_led_and_shared_and_nothing_else(cast, case, api_as):
    shared_elsewhere = f.CaseFactory(lead_agency=cast.sharing, young_person=f.YoungPersonFactory(recorded_by=cast.hub))
    share(shared_elsewhere, cast.owner, agreement=cast.agreement, emergency_basis="")
    f.CaseFactory(lead_agency=cast.outsider, young_person=f.YoungPersonFactory(recorded_by=cast.hub))
    expired = f.CaseFactory(lead_agency=cast.sharing, young_person=f.YoungPersonFactory(recorded_by=cast.hub))
    grant = share(expired, cast.owner, agreement=cast.agreement, emergency_basis="")
    grant.__class__.objects.filter(pk=grant.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert sorted(_ids(api_as("owner").get("/api/v1/cases/"))) == sorted([case.pk, shared_elsewhere.pk])


def test_filters(cast, case, api_as):
    other = f.CaseFactory(
        lead_agency=cast.owner, young_person=f.YoungPersonFactory(recorded_by=cast.owner), risk_level="red",
        key_worker=cast.user("owner", "manager"), next_review_due=timezone.localdate() + dt.timedelta(days=3),
    )
    client = api_as("owner")
    assert _ids(client.get("/api/v1/cases/?risk=red")) == [other.pk]
    assert _ids(client.get(f"/api/v1/cases/?key_worker={cast.user('owner', 'manager').pk}")) == [other.pk]
    before = (timezone.localdate() + dt.timedelta(days=10)).isoformat()
    assert _ids(client.get(f"/api/v1/cases/?review_due_before={before}")) == [other.pk]
    assert sorted(_ids(client.get("/api/v1/cases/?status=open"))) == sorted([case.pk, other.pk])
    assert _ids(client.get("/api/v1/cases/?status=closed")) == []
    rm.Case.objects.filter(pk=case.pk).update(updated_at=timezone.now() - dt.timedelta(days=9))
    since = (timezone.now() - dt.timedelta(days=1)).isoformat()
    assert _ids(client.get("/api/v1/cases/", {"updated_since": since})) == [other.pk]


def test_bad_filters_are_400s_naming_each(cast, api_as):
    problem = assert_problem(
        api_as("owner").get("/api/v1/cases/?risk=pink&key_worker=abc&review_due_before=soon"), 400,
    )
    assert {e["field"] for e in problem["errors"]} == {"risk", "key_worker", "review_due_before"}


def test_read_a_case_and_the_read_is_logged(cast, case, api_as):
    response = api_as("owner").get(f"/api/v1/cases/{case.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["reference"] == case.reference and body["lead_agency"]["id"] == cast.owner.pk
    event = AccessEvent.objects.get(action="view", object_type="case", object_id=str(case.pk))
    assert event.channel == "api" and event.case_id == case.pk and event.username.startswith("api:")


def test_listing_logs_the_ids_on_the_page(cast, case, api_as):
    api_as("owner").get("/api/v1/cases/")
    event = AccessEvent.objects.filter(action="list", object_type="case").latest("id")
    assert event.detail == {"ids": [case.pk]} and event.channel == "api"


def test_cursor_pagination_walks_every_case_once(cast, api_as):
    made = {
        f.CaseFactory(lead_agency=cast.owner, young_person=f.YoungPersonFactory(recorded_by=cast.owner)).pk
        for _ in range(5)
    }
    client = api_as("owner")
    seen, url = [], "/api/v1/cases/?page_size=2"
    while url:
        body = client.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert sorted(seen) == sorted(made) and len(seen) == len(made)


def test_a_page_costs_the_same_queries_for_one_case_or_many(cast, api_as, django_assert_max_num_queries):
    def one_page():
        response = client.get("/api/v1/cases/")
        assert response.status_code == 200
        return len(response.json()["results"])

    client = api_as("owner")
    f.CaseFactory(lead_agency=cast.owner, young_person=f.YoungPersonFactory(recorded_by=cast.owner))
    with django_assert_max_num_queries(12):
        assert one_page() == 1
    for _ in range(20):
        case = f.CaseFactory(
            lead_agency=cast.sharing, young_person=f.YoungPersonFactory(recorded_by=cast.owner),
            key_worker=cast.user("sharing", "practitioner"),
        )
        share(case, cast.owner, agreement=cast.agreement, emergency_basis="")
    with django_assert_max_num_queries(12):
        assert one_page() == 21


def test_a_closed_case_stays_readable_by_its_agencies(cast, case, api_as):
    set_relation(cast, case, "shared")
    rm.Case.objects.filter(pk=case.pk).update(
        status="closed", closed_at=timezone.now(), closure_reason="outcomes_met", next_review_due=None,
    )
    assert api_as("sharing").get(f"/api/v1/cases/{case.pk}/").json()["status"] == "closed"


def test_every_page_gives_the_total_of_the_filtered_list(cast, api_as):
    mine = [
        f.CaseFactory(lead_agency=cast.owner, young_person=f.YoungPersonFactory(recorded_by=cast.owner),
                      risk_level="red" if i < 2 else "green")
        for i in range(5)
    ]
    shared = f.CaseFactory(lead_agency=cast.sharing, young_person=f.YoungPersonFactory(recorded_by=cast.owner))
    share(shared, cast.owner, agreement=cast.agreement, emergency_basis="")
    f.CaseFactory(lead_agency=cast.outsider, young_person=f.YoungPersonFactory(recorded_by=cast.owner))
    rm.Case.objects.filter(pk=mine[0].pk).update(status="closed", closed_at=timezone.now(), closure_reason="other")
    client = api_as("owner")
    seen, url = [], "/api/v1/cases/?page_size=2"
    while url:
        body = client.get(url).json()
        assert body["count"] == 6
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert seen == sorted([c.pk for c in mine] + [shared.pk], reverse=True)  # newest first, each once
    assert client.get("/api/v1/cases/?status=open").json()["count"] == 5
    assert client.get("/api/v1/cases/?status=closed").json()["count"] == 1
    assert client.get("/api/v1/cases/?risk=red").json()["count"] == 2
    assert api_as("outsider").get("/api/v1/cases/").json()["count"] == 1


def test_walking_back_from_the_last_page_gives_the_same_pages(cast, api_as):
    made = [
        f.CaseFactory(lead_agency=cast.owner, young_person=f.YoungPersonFactory(recorded_by=cast.owner)).pk
        for _ in range(5)
    ]
    shared = f.CaseFactory(lead_agency=cast.sharing, young_person=f.YoungPersonFactory(recorded_by=cast.owner))
    share(shared, cast.owner, agreement=cast.agreement, emergency_basis="")
    client = api_as("owner")
    pages, url = [], "/api/v1/cases/?page_size=2"
    while url:
        body = client.get(url).json()
        pages.append([row["id"] for row in body["results"]])
        last, url = body, body["next"]
    assert [i for page in pages for i in page] == sorted([*made, shared.pk], reverse=True)
    back, url = [], last["previous"]
    while url:
        body = client.get(url).json()
        assert body["count"] == 6
        back.insert(0, [row["id"] for row in body["results"]])
        url = body["previous"]
    assert back == pages[:-1]


def test_an_agency_that_sees_nothing_gets_an_empty_page_and_a_zero_count(cast, api_as):
    expired = f.CaseFactory(lead_agency=cast.owner, young_person=f.YoungPersonFactory(recorded_by=cast.owner))
    grant = share(expired, cast.outsider, agreement=cast.agreement, emergency_basis="")
    grant.__class__.objects.filter(pk=grant.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    body = api_as("outsider").get("/api/v1/cases/").json()
    assert body["count"] == 0 and body["results"] == [] and body["next"] is None


def test_list_and_read_render_a_case_exactly_as_its_schema(cast, case, api_as):
    """The caseload is rendered from plain values (``CaseRows``) for speed;
    it must match ``CaseOut``, the serializer the schema is made from, field
    for field: with and without a key worker, open and closed."""
    closed = f.CaseFactory(
        lead_agency=cast.owner, young_person=f.YoungPersonFactory(recorded_by=cast.owner, preferred_name="Jay"),
        key_worker=None, opened_at=timezone.now() - dt.timedelta(days=40),
    )
    rm.Case.objects.filter(pk=closed.pk).update(
        status="closed", closed_at=timezone.now() - dt.timedelta(hours=3), closure_reason="outcomes_met",
        outcome="Back in school", next_review_due=None,
    )
    worker = cast.user("owner", "practitioner")
    worker.first_name, worker.last_name = "", ""
    worker.save(update_fields=["first_name", "last_name"])
    client = api_as("owner")
    listed = {row["id"]: row for row in client.get("/api/v1/cases/").json()["results"]}
    for made in (case, closed):
        expected = json.loads(json.dumps(CaseOut(rm.Case.objects.get(pk=made.pk)).data, cls=DjangoJSONEncoder))
        assert listed[made.pk] == expected
        assert client.get(f"/api/v1/cases/{made.pk}/").json() == expected
    assert listed[case.pk]["key_worker"]["name"] == worker.username and listed[closed.pk]["key_worker"] is None
