"""The monitoring's pages and exports: the reporting analyst reads them,
nobody else does; every page and export is in the access log; no page or
export carries a direct identifier; another borough's analyst sees only
their own borough's figures."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.urls import reverse
from django.utils import timezone

from agencies.models import Role
from monitoring import figures
from monitoring.models import ReportingKey, Ward
from safeguarding import access
from safeguarding.models import AccessEvent
from tests import factories as f
from tests.monitoring.conftest import refresh_as_task

pytestmark = pytest.mark.django_db
REPORTS = ("referrals", "cases", "interventions", "disproportionality", "contexts")


@pytest.fixture
def analyst(client, world, panels):
    refresh_as_task(world.partnership.pk)
    client.force_login(world.analyst)
    return client


def identifiers(world, panels) -> list[str]:
    found = []
    for person in world.people:
        # Whole names: a family name alone may be a word of the page ("White").
        found += [f"{person.given_name} {person.family_name}", person.display_name, person.postcode,
                  person.postcode.replace(" ", ""),
                  person.date_of_birth.isoformat(), person.date_of_birth.strftime("%d/%m/%Y")]
    found += [r.reference for r in world.referrals] + [c.reference for c in world.cases]
    found += [str(k) for k in ReportingKey.objects.values_list("key", flat=True)]
    for context in [*panels.contexts, *panels.persons]:
        found += [context.name, context.known, *context.street_names]
    found += [action.description for action in panels.actions] + [panels.panel.title]
    for user in (panels.recorder, panels.manager):
        found += [user.username, user.get_full_name(), user.email]
    return found


def ods_text(content: bytes) -> str:
    return zipfile.ZipFile(io.BytesIO(content)).read("content.xml").decode()


def test_no_page_or_export_carries_a_direct_identifier(analyst, world, panels):
    wanted = identifiers(world, panels)
    for name in REPORTS:
        page = analyst.get(reverse("monitoring-report", args=[name])).content.decode()
        csv = b"".join(analyst.get(reverse("monitoring-export", args=[name, "csv"])).streaming_content).decode()
        ods = ods_text(analyst.get(reverse("monitoring-export", args=[name, "ods"])).content)
        for text in (page, csv, ods):
            assert not [w for w in wanted if w in text], name
        assert "Ward not known" in page or name != "referrals"


def test_the_analyst_reads_every_report_with_charts_tables_and_the_map(analyst, world):
    page = analyst.get(reverse("monitoring-report", args=["referrals"])).content.decode()
    assert "Referrals by ward" in page and "North Ward" in page and "<svg" in page and "crossroads-map__ward" in page
    assert "fewer than 5" in page
    for name in REPORTS:
        response = analyst.get(reverse("monitoring-report", args=[name]))
        assert response.status_code == 200
        assert response.content.decode().count('class="govuk-table"') >= 2


def test_a_ward_filter_narrows_the_figures(analyst, world):
    north = Ward.objects.get(partnership=world.partnership, name="North Ward")
    year = world.years[-1]
    page = analyst.get(reverse("monitoring-report", args=["referrals"]), {"year": year, "ward": north.pk}).content.decode()
    table = page.split('id="table-ward"')[1].split("</table>")[0]
    assert "North Ward" in table and "South Ward" not in table
    assert f"?year={year}&amp;ward={north.pk}" in page  # the exports keep the filters


def test_bad_filters_are_a_form_error_and_the_defaults(analyst, world):
    response = analyst.get(reverse("monitoring-report", args=["referrals"]), {"year": "1999", "ward": "x"})
    page = response.content.decode()
    assert response.status_code == 200 and "govuk-error-summary" in page
    assert analyst.get(reverse("monitoring-report", args=["nothing"])).status_code == 404
    assert analyst.get(reverse("monitoring-export", args=["referrals", "xlsx"])).status_code == 404


@pytest.mark.parametrize("name", ["cases", "contexts"])
def test_every_page_and_export_is_logged(analyst, world, name):
    before = AccessEvent.objects.count()
    analyst.get(reverse("monitoring-report", args=[name]), {"year": world.years[-1]})
    analyst.get(reverse("monitoring-export", args=[name, "csv"]))
    analyst.get(reverse("monitoring-export", args=[name, "ods"]))
    events = list(AccessEvent.objects.order_by("pk")[before:])
    assert [(e.action, e.detail["format"]) for e in events] == [("view", "page"), ("export", "csv"), ("export", "ods")]
    assert all(e.user == world.analyst and e.object_type == "monitoring report" and e.case_id is None for e in events)
    assert all(e.detail["report"] == name for e in events)


def test_nobody_else_reads_the_monitoring(client, world, panels, cast):
    refresh_as_task(world.partnership.pk)
    for role in Role.values:
        actor = access.actor_for_user(cast.user("hub", role), partnership=world.partnership.pk)
        assert access.may_read_monitoring(actor) == (role == Role.REPORTING)
        if role == Role.REPORTING:
            # ... and the reporting role opens no case record, context or panel.
            assert not access.visible_cases(actor).exists() and not access.visible_referrals(actor).exists()
            assert not access.visible_young_people(actor).exists()
            assert not access.visible_contexts(actor).exists() and not access.visible_panels(actor).exists()
            continue
        client.force_login(cast.user("hub", role))
        for name in ("referrals", "contexts"):
            assert client.get(reverse("monitoring-report", args=[name])).status_code == 403
            for kind in ("csv", "ods"):
                assert client.get(reverse("monitoring-export", args=[name, kind])).status_code == 403
    client.force_login(cast.superuser)
    assert client.get(reverse("monitoring-report", args=["referrals"])).status_code == 403
    assert client.get(reverse("monitoring-report", args=["contexts"])).status_code == 403


def test_anonymous_is_sent_to_sign_in(client):
    for url in (reverse("monitoring-report", args=["contexts"]), reverse("monitoring-export", args=["contexts", "csv"])):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]


def test_another_boroughs_analyst_sees_only_their_own(client, world, panels, boroughs):
    other = f.make_member(boroughs.hub_b, Role.REPORTING)
    refresh_as_task(world.partnership.pk)
    refresh_as_task(boroughs.b.pk)
    client.force_login(other)
    for name in ("referrals", "contexts"):
        page = client.get(reverse("monitoring-report", args=[name])).content.decode()
        assert "North Ward" not in page  # the test borough's wards
        csv = b"".join(client.get(reverse("monitoring-export", args=[name, "csv"])).streaming_content).decode()
        assert "North Ward" not in csv
    # None of the test borough's contexts or actions is counted in Northbank's.
    actor = access.actor_for_user(other, partnership=boroughs.b.pk)
    year = figures.financial_year(timezone.localdate())
    built = figures.contexts_report(actor, figures.Filters(year=year))
    assert [t.protected.total.count for t in built.tables] == [0, 0]
    assert figures.contexts_report(world.analyst_actor, figures.Filters(year=year)).tables[0].protected.total.count


def test_the_contexts_page_draws_the_share_and_says_the_concern_filter_does_not_apply(analyst, world):
    page = analyst.get(reverse("monitoring-report", args=["contexts"])).content.decode()
    assert "Places, peer groups and online spaces known on" in page and 'id="table-context_wards"' in page
    assert 'id="table-panel_actions"' in page and 'id="on-time"' in page and 'aria-labelledby="on-time-title' in page
    assert "All kinds" in page and "Ward not known" in page
    assert "The concern filter does not apply to contexts and panels" in page
    chosen = {"year": figures.financial_year(timezone.localdate()), "concern": "weapon"}
    narrowed = analyst.get(reverse("monitoring-report", args=["contexts"]), chosen).content.decode()
    assert "does not narrow these figures" in narrowed
    csv = b"".join(analyst.get(reverse("monitoring-export", args=["contexts", "csv"]), chosen)
                   .streaming_content).decode()
    assert "does not narrow these figures" in csv and "Share of panel actions completed on time" in csv
    assert '"Ward","Place","Peer group or gang","Online space","All kinds"' in csv
    # The navigation of every report lists it.
    for name in REPORTS:
        listed = analyst.get(reverse("monitoring-report", args=[name])).content.decode()
        assert "Contexts and panels" in listed.split('id="monitoring-reports"')[1].split("</ul>")[0]
