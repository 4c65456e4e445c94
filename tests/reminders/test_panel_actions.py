"""Panels end to end in the services and the reminder tasks: an action is
reminded to its owner exactly once per due date (a second sweep, a moved
due date), overdue actions go onto the next panel's agenda by themselves
(once), a decision on a case is written into its chronology, and minutes
are append-only with corrections."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.db import IntegrityError, transaction

from contexts import models as cm
from contextwork import selectors, services
from referrals.models import CaseNote, NoteKind
from reminders import tasks
from reminders.models import Notification, NotificationKind
from safeguarding import access
from tests import factories as f
from tests.reminders.conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def panel_world(cast, frozen):
    frozen(at(2026, 11, 2, 10))  # a Monday
    manager = cast.actor("owner", "manager")
    case = f.CaseFactory(lead_agency=cast.owner, key_worker=cast.user("owner", "practitioner"),
                         young_person=f.YoungPersonFactory(recorded_by=cast.owner, given_name="Tobias",
                                                           family_name="Quillfeather"))
    panel = services.panel_convene(actor=manager, title="Riverside MACE", meets_at=at(2026, 11, 2, 14))
    item = services.panel_agenda_add(actor=manager, panel=panel, case=case, reason="Missing episodes")
    return manager, case, panel, item


def _action(cast, manager, panel, item, due):
    return services.panel_action_record(
        actor=manager, panel=panel, item=item, description="Tobias: arrange a return home interview",
        owner_agency=cast.owner, owner=cast.user("owner", "practitioner"), due_on=due,
    )


def test_an_action_is_reminded_once_per_due_date(cast, panel_world, frozen, run):
    manager, case, panel, item = panel_world
    action = _action(cast, manager, panel, item, dt.date(2026, 11, 13))
    frozen(at(2026, 11, 5))  # due in more than three working days: nothing yet
    assert run(tasks.panel_action_sweep) == 0
    frozen(at(2026, 11, 10))  # Tuesday: the Friday due date is within three working days
    run(tasks.panel_action_sweep)
    run(tasks.panel_action_sweep)
    frozen(at(2026, 11, 16))  # overdue now: still the same due date, no second reminder
    run(tasks.panel_action_sweep)
    reminders = Notification.objects.filter(kind=NotificationKind.PANEL_ACTION_DUE)
    assert [(n.recipient.username, n.dedup_key) for n in reminders] == [
        ("owner-youth-service-practitioner", f"panel_action_due:action:{action.pk}:due:2026-11-13")]
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert f"/panels/{panel.pk}/actions/{action.pk}/" in message.body
    # The action's own words may name the young person: never in the e-mail.
    assert "Tobias" not in message.subject + message.body and "Quillfeather" not in message.body
    # The organisers move the due date: the new one is reminded, once.
    frozen(at(2026, 11, 16, 11))
    services.panel_action_update(actor=manager, action=action, status="in_progress", due_on=dt.date(2026, 11, 17))
    run(tasks.panel_action_sweep)
    run(tasks.panel_action_sweep)
    assert Notification.objects.filter(kind=NotificationKind.PANEL_ACTION_DUE).count() == 2
    # Done: nothing more, whatever the date.
    services.panel_action_update(actor=cast.actor("owner", "practitioner"), action=action, status="done")
    frozen(at(2026, 11, 30))
    assert run(tasks.panel_action_sweep) == 0


def test_overdue_actions_go_onto_the_next_panels_agenda_by_themselves_once(cast, panel_world, frozen, run):
    manager, case, panel, item = panel_world
    late = _action(cast, manager, panel, item, dt.date(2026, 11, 6))
    on_time = _action(cast, manager, panel, item, dt.date(2026, 12, 30))
    frozen(at(2026, 11, 3))
    next_panel = services.panel_convene(actor=manager, title="Riverside MACE", meets_at=at(2026, 12, 7, 14))
    assert not next_panel.agenda.filter(carried_action__isnull=False).exists()  # nothing overdue yet
    frozen(at(2026, 11, 9))
    run(tasks.panel_carry_sweep)
    run(tasks.panel_carry_sweep)
    carried = list(next_panel.agenda.filter(carried_action__isnull=False).values_list("carried_action", flat=True))
    assert carried == [late.pk] and on_time.pk not in carried
    assert run(tasks.panel_carry_sweep) == 0  # already carried: the sweep hands on nothing
    # A panel arranged after an action fell overdue takes it up at once.
    later = services.panel_convene(actor=manager, title="Extra panel", meets_at=at(2026, 11, 20, 10))
    assert list(later.agenda.values_list("carried_action", flat=True)) == [late.pk]
    # The next panel's page shows it (its text to those who may see the case).
    view = selectors.panel_page(manager, next_panel.pk)
    assert [row.action.pk for row in view.agenda if row.action] == [late.pk]
    assert late.pk in view.actions_readable


def test_a_decision_on_a_case_is_written_into_its_chronology_and_minutes_are_append_only(cast, panel_world):
    manager, case, panel, item = panel_world
    minute = services.panel_minute_add(actor=manager, panel=panel, kind="decision", item=item.pk,
                                       text="Refer to the exploitation strategy meeting")
    note = CaseNote.objects.get(case=case, kind=NoteKind.DECISION)
    assert "Refer to the exploitation strategy meeting" in note.text and note.visibility == "case"
    correction = services.panel_minute_correct(actor=manager, minute=minute,
                                               text="Refer to the strategy meeting on Thursday")
    assert correction.corrects_id == minute.pk
    corrected = CaseNote.objects.get(case=case, corrects__isnull=False)
    assert corrected.corrects_id == note.pk and "Thursday" in corrected.text
    with pytest.raises(Exception), transaction.atomic():
        cm.PanelMinute.objects.filter(pk=minute.pk).update(text="rewritten")
    with pytest.raises(IntegrityError), transaction.atomic():
        cm.PanelAgendaItem.objects.create(panel=panel, case=case)  # once per panel


def test_a_panel_of_another_partnership_is_not_carried_to(cast, panel_world, frozen, run):
    manager, case, panel, item = panel_world
    _action(cast, manager, panel, item, dt.date(2026, 11, 6))
    frozen(at(2026, 11, 9))
    other = f.PartnershipFactory()
    assert tasks.panel_carry.apply(args=(panel.pk, other.pk)).get() == 0


def test_only_attendees_who_accepted_open_the_papers(cast, panel_world):
    manager, case, panel, item = panel_world
    sharing = cast.actor("sharing", "practitioner")
    with pytest.raises(access.NotVisible):
        selectors.panel_papers(sharing, panel.pk)
    services.panel_attendee_add(actor=manager, panel=panel, user=cast.user("sharing", "practitioner"),
                                agency=cast.sharing)
    with pytest.raises(access.NotAllowed):
        selectors.panel_papers(sharing, panel.pk)
    services.panel_confidentiality_accept(actor=sharing, panel=panel)
    papers = selectors.panel_papers(sharing, panel.pk)
    # The case is not shared with the police: anonymous in their papers.
    assert [row.anonymous for row in papers.agenda] == [True] and papers.cases == {}
