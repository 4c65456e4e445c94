"""Contexts and panels in a real browser: a manager looks at a place and
its network picture (by keyboard too), prepares a panel (agenda, an
attendee, the confidentiality statement, the papers), holds it, records a
decision and an action; a week later the action's owner has been reminded
once and the action has gone onto the next panel's agenda by itself. Every
page is scanned with axe-core, the network picture included."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from config.celery import app as celery_app
from contexts.models import PanelAction
from contextwork import services
from referrals.models import CaseNote
from reminders import tasks
from reminders.models import Notification, NotificationKind
from safeguarding import access
from tests import factories as f
from tests.e2e.test_journey import sign_in, sign_out

LONDON = zoneinfo.ZoneInfo("Europe/London")


@pytest.fixture
def eager():
    before = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = before


@pytest.fixture
def scene(cast):
    """A place with two young people linked: one led by the owner agency
    (its manager sees them), one led by the police and not shared (an
    anonymous node for the owner agency)."""
    owner_worker = cast.actor("owner", "practitioner")
    place = services.context_record(actor=owner_worker, kind="place", name="Canal towpath", risk_level="red",
                                    known="Young people gather under the bridge after school.")
    seen = f.CaseFactory(lead_agency=cast.owner, key_worker=cast.user("owner", "practitioner"),
                         young_person=f.YoungPersonFactory(given_name="Jayden", family_name="Marsh",
                                                           recorded_by=cast.owner))
    unseen = f.CaseFactory(lead_agency=cast.sharing, key_worker=cast.user("sharing", "practitioner"),
                           young_person=f.YoungPersonFactory(given_name="Zorastra", family_name="Quillon",
                                                             recorded_by=cast.sharing))
    grade = {"source": "Detached youth worker", "information_date": timezone.localdate(),
             "source_evaluation": "2", "intelligence_assessment": "B"}
    services.context_link_record(actor=owner_worker, context=place, case=seen, **grade)
    services.context_link_record(actor=cast.actor("sharing", "practitioner"), context=place, case=unseen, **grade)
    return place, seen, unseen


def fill_date(page, prefix: str, day: dt.date) -> None:
    page.locator(f"#id_{prefix}-day").fill(str(day.day))
    page.locator(f"#id_{prefix}-month").fill(str(day.month))
    page.locator(f"#id_{prefix}-year").fill(str(day.year))


def check_network(page) -> None:
    """The picture was drawn from our own static files, and the keyboard
    moves through it."""
    page.wait_for_selector("#network[data-ready='true']")
    page.focus("#network")
    first = page.locator("#network-status").inner_text()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowLeft")
    assert page.locator("#network-status").inner_text() != "" and "linked to" in first + page.locator(
        "#network-status").inner_text()


def test_prepare_hold_remind_and_carry_forward(live_server, context, scan, cast, scene, eager):
    place, seen, unseen = scene
    manager = cast.user("owner", "manager")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # 1. The context page: the young person the agency may see, the other counted.
    sign_in(page, live_server, manager)
    page.get_by_role("link", name="Contexts").first.click()
    scan(page, "contexts")
    page.get_by_role("link", name="Canal towpath").click()
    check_network(page)
    scan(page, "context-page-with-network")
    body = page.content()
    assert "Jayden Marsh" in body and "Zorastra" not in body and unseen.reference not in body
    assert "1 more young person is linked" in body
    assert page.locator("#network-table tbody th").get_by_text("A young person not shared with your agency (1)", exact=True).count() == 1

    # 2. Prepare a panel meeting in half an hour.
    meets = timezone.localtime(timezone.now() + dt.timedelta(minutes=30), LONDON)
    page.get_by_role("link", name="Panels").first.click()
    scan(page, "panels")
    page.get_by_role("link", name="Arrange a panel").click()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    scan(page, "arrange-panel-errors")
    page.get_by_label("Title").fill("Riverside MACE panel")
    fill_date(page, "meets_on", meets.date())
    page.get_by_label("Time").fill(meets.strftime("%H:%M"))
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("text=Panel arranged")
    scan(page, "panel")
    panel_url = page.url
    page.get_by_role("link", name="Add to the agenda").click()
    scan(page, "agenda-add")
    page.get_by_label("Case reference (or choose a context)").fill(seen.reference)
    page.get_by_role("button", name="Save").click()
    page.get_by_role("link", name="Add to the agenda").click()
    page.get_by_label("Context", exact=True).select_option(label="Canal towpath")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("link", name="Invite someone").click()
    page.get_by_label("Person (and the agency they attend for)").select_option(
        label=f"{cast.user('sharing', 'practitioner').get_full_name()} (Sharing Police)")
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("text=Attendee invited")

    # 3. The papers open after the confidentiality statement, for this agency.
    page.get_by_role("link", name="Accept the confidentiality statement").click()
    scan(page, "confidentiality")
    page.get_by_role("button", name="I accept: open the papers").click()
    check_network(page)
    scan(page, "papers-with-network")
    expect(page.locator("body")).to_contain_text("Jayden Marsh")
    assert "Zorastra" not in page.content()

    # 4. Hold it: a decision on the case, and an action.
    page.goto(panel_url)
    page.get_by_role("link", name="Record that it met").click()
    scan(page, "hold")
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_selector("text=The panel is recorded as held")
    page.get_by_role("link", name="Add to the minutes").click()
    scan(page, "minute-add")
    page.get_by_label("About").select_option(index=1)
    page.get_by_label("Decision").check()
    page.get_by_label("Minute").fill("Refer to the exploitation strategy meeting.")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("link", name="Record an action").click()
    scan(page, "action-add")
    owner = cast.user("owner", "practitioner")
    page.get_by_label("Action", exact=True).fill("Offer a mentor through the youth club.")
    page.get_by_label("Owner (and their agency)").select_option(label=f"{owner.get_full_name()} (Owner Youth Service)")
    due = timezone.localdate() + dt.timedelta(days=3)
    fill_date(page, "due_on", due)
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("text=Action recorded")
    scan(page, "panel-held-with-action")
    assert CaseNote.objects.filter(case=seen, kind="decision", text__contains="exploitation strategy").exists()
    action = PanelAction.objects.get(description="Offer a mentor through the youth club.")

    # 5. The next panel is arranged for three weeks' time.
    next_panel = services.panel_convene(actor=access.actor_for_user(manager), title="Riverside MACE panel",
                                        meets_at=timezone.now() + dt.timedelta(days=21))
    sign_out(page)

    # 6. A week later the action is overdue: the sweeps run (twice, as beat
    # would); the owner has one reminder, and the next panel has the action.
    with time_machine.travel(timezone.now() + dt.timedelta(days=7), tick=True):
        for _ in range(2):
            tasks.panel_action_sweep.apply().get()
            tasks.panel_carry_sweep.apply().get()
        reminders = Notification.objects.filter(kind=NotificationKind.PANEL_ACTION_DUE, recipient=owner)
        assert reminders.count() == 1
        assert next_panel.agenda.filter(carried_action=action).count() == 1

        sign_in(page, live_server, owner)
        scan(page, "owner-home-with-action")
        expect(page.locator("text=My panel actions (1)")).to_be_visible()
        expect(page.get_by_text("Overdue").first).to_be_visible()
        page.get_by_role("link", name="Notifications").first.click()
        scan(page, "owner-notifications")
        expect(page.locator("body")).to_contain_text("Your action from the panel of")
        page.goto(f"{live_server.url}/panels/{action.panel_id}/actions/{action.pk}/")
        scan(page, "action-update")
        page.get_by_label("In progress").check()
        page.get_by_label("Update (optional)").fill("Mentor found; first session next week.")
        page.get_by_role("button", name="Save").click()
        page.wait_for_selector("text=Action updated")
        sign_out(page)

        sign_in(page, live_server, manager)
        page.goto(f"{live_server.url}/panels/{next_panel.pk}/")
        scan(page, "next-panel-with-carried-action")
        agenda = page.locator("ol.govuk-list--number").inner_text()
        assert "Carried forward" in agenda and "Offer a mentor through the youth club." in agenda

    assert errors == []
    assert not scan.problems, "axe-core found serious or critical violations:\n" + "\n".join(scan.problems)


def test_the_network_picture_runs_under_the_content_security_policy(live_server, browser, cast, scene):
    """Without the journeys' CSP bypass: the picture is drawn, and the page
    raises not one violation (Cytoscape.js would inject a <style> element
    if the page did not already link one under the id it looks for)."""
    place, _seen, _unseen = scene
    strict = browser.new_context(viewport={"width": 1280, "height": 900})
    page = strict.new_page()
    problems = []
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text[:120]))
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    sign_in(page, live_server, cast.user("owner", "manager"))
    page.goto(f"{live_server.url}/contexts/{place.pk}/")
    check_network(page)
    assert page.evaluate("() => document.querySelectorAll('style').length") == 0
    strict.close()
    assert problems == []
