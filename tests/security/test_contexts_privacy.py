"""A link to a case the viewer may not see never reveals the young person,
by any channel; a person of concern never reaches an agency its recorder
did not choose.

The world (``tests/security/conftest.py``): the case of Tyrone Okafor, led
by the owner agency and shared with the sharing (police) agency, is linked
to the Canal towpath; the expired, revoked, other, referrer and hub
agencies may see the towpath but not the case. The person of concern was
recorded by the police and kept to the police and the owner agency.
"""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from contexts import models as cm
from contextwork import selectors, services
from safeguarding import access
from safeguarding.models import AccessEvent
from tests.security.helpers import web_client

pytestmark = pytest.mark.django_db

UNSEEN = ("expired", "revoked", "other", "referrer", "hub")
SEEING = ("own", "shared")


def secrets_of(world) -> list[str]:
    case = world.case
    return [world.young_person.given_name, world.young_person.family_name, case.reference, f"/cases/{case.pk}/"]


def actor(world, rel, role="practitioner"):
    return access.actor_for_user(world.users[(rel, role)])


def network_json(html: str) -> dict:
    found = re.search(r'<script id="network-data" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(found.group(1))


@pytest.mark.parametrize("rel", UNSEEN)
def test_the_context_page_counts_an_unseen_case_and_names_nothing_of_it(world, rel):
    response = web_client(world, f"{rel}/practitioner").get(reverse("context-detail", args=[world.place.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for secret in secrets_of(world):
        assert secret not in html, secret
    assert "1 more young person is linked" in html
    graph = network_json(html)
    kinds = sorted(n["kind"] for n in graph["nodes"])
    assert kinds == ["anonymous", "context"]
    anonymous = next(n for n in graph["nodes"] if n["kind"] == "anonymous")
    assert anonymous["href"] == "" and anonymous["detail"] == "" and anonymous["id"] == "a1"


@pytest.mark.parametrize("rel", SEEING)
def test_those_who_may_see_the_case_see_the_young_person_and_the_grade(world, rel):
    html = web_client(world, f"{rel}/practitioner").get(reverse("context-detail", args=[world.place.pk])).content.decode()
    assert world.young_person.family_name in html and "2 / B / P" in html
    graph = network_json(html)
    assert any(n["kind"] == "case" and n["href"] == f"/cases/{world.case.pk}/" for n in graph["nodes"])


def test_the_access_log_names_the_case_only_for_those_shown_it(world):
    started = timezone.now()
    for rel in ("own", "other"):
        web_client(world, f"{rel}/practitioner").get(reverse("context-detail", args=[world.place.pk]))
    rows = AccessEvent.objects.filter(occurred_at__gte=started, object_type="case", case_id__isnull=True)
    by_agency = {row.agency_id: row.detail.get("ids", []) for row in rows}
    assert world.case.pk in by_agency[world.agencies["own"].pk]
    assert world.agencies["other"].pk not in by_agency  # nothing of a case shown: no case named


def test_a_peer_link_shows_the_other_young_person_only_to_those_who_may_see_that_case(world):
    services.peer_link_record(
        actor=actor(world, "own"), case=world.case, other_case=world.other_case, relationship="sibling",
        source="School records", information_date=timezone.localdate(), source_evaluation="1",
        intelligence_assessment="A",
    )
    shared = selectors.case_links(actor(world, "shared"), world.other_case).peers
    assert [row["case"].pk for row in shared] == [world.case.pk]
    # The expired agency sees neither case; its selector gives nothing at all.
    assert selectors.case_links(actor(world, "expired"), world.other_case).peers == []


@pytest.mark.parametrize("rel", ("expired", "revoked", "other", "referrer", "hub"))
def test_a_person_of_concern_never_reaches_an_agency_not_chosen(world, rel):
    client = web_client(world, f"{rel}/practitioner")
    assert client.get(reverse("context-detail", args=[world.person_of_concern.pk])).status_code == 404
    listing = client.get(reverse("context-list")).content.decode()
    assert world.person_of_concern.name not in listing
    assert not access.visible_contexts(actor(world, rel)).filter(pk=world.person_of_concern.pk).exists()


def test_a_person_of_concern_on_an_agenda_is_withheld_from_other_attendees(world):
    cm.PanelAgendaItem.objects.create(panel=world.panel, context=world.person_of_concern)
    cm.PanelAttendee.objects.create(panel=world.panel, user=world.users[("other", "practitioner")],
                                    agency=world.agencies["other"], added_by=world.users[("own", "manager")])
    other = actor(world, "other")
    services.panel_confidentiality_accept(actor=other, panel=world.panel)
    papers = selectors.panel_papers(other, world.panel.pk)
    assert [row.context_hidden for row in papers.agenda if row.item.context_id == world.person_of_concern.pk] == [True]
    html = web_client(world, "other/practitioner").get(reverse("panel-papers", args=[world.panel.pk])).content.decode()
    assert world.person_of_concern.name not in html
    for secret in secrets_of(world):
        assert secret not in html, secret
    assert "A young person whose case is not shared with Outsider School" in html


def test_papers_open_only_after_the_statement_and_every_opening_is_logged(world):
    client = web_client(world, "shared/practitioner")
    response = client.get(reverse("panel-papers", args=[world.panel.pk]))
    assert response.status_code == 302 and response["Location"].endswith("/confidentiality/")
    client.post(reverse("panel-confidentiality", args=[world.panel.pk]))
    started = timezone.now()
    for _ in range(2):
        html = client.get(reverse("panel-papers", args=[world.panel.pk])).content.decode()
    assert world.young_person.family_name in html  # the sharing agency may see the case
    openings = AccessEvent.objects.filter(occurred_at__gte=started, action="open_papers",
                                          agency=world.agencies["shared"])
    assert openings.count() == 2
    shown = AccessEvent.objects.filter(occurred_at__gte=started, object_type="case", detail__via="panel_papers")
    assert all(world.case.pk in row.detail["ids"] for row in shown) and shown.count() == 2


def _api(world, rel, path):
    from tests.security.helpers import new_client

    return new_client().get(path, HTTP_AUTHORIZATION=f"Bearer {world.tokens[rel]}")


@pytest.mark.parametrize("rel", UNSEEN)
def test_the_api_counts_an_unseen_case_and_lists_nothing_of_it(world, rel):
    detail = _api(world, rel, f"/api/v1/contexts/{world.place.pk}/")
    assert detail.status_code == 200
    assert (detail.json()["linked_cases_visible"], detail.json()["linked_cases_not_visible"]) == (0, 1)
    links = _api(world, rel, f"/api/v1/contexts/{world.place.pk}/links/")
    assert links.status_code == 200 and links.json()["results"] == []
    for response in (detail, links):
        for secret in secrets_of(world):
            assert secret not in response.content.decode()
    assert _api(world, rel, f"/api/v1/contexts/{world.person_of_concern.pk}/").status_code == 404
    listed = _api(world, rel, "/api/v1/contexts/?page_size=200").json()["results"]
    assert world.person_of_concern.pk not in {row["id"] for row in listed}


def test_the_api_shows_the_case_to_an_agency_that_may_see_it(world):
    links = _api(world, "shared", f"/api/v1/contexts/{world.place.pk}/links/").json()["results"]
    assert [row["case"]["reference"] for row in links] == [world.case.reference]
    assert _api(world, "shared", f"/api/v1/contexts/{world.person_of_concern.pk}/").status_code == 200
