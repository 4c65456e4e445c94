"""Panels (multi-agency child exploitation meetings): arranging one,
inviting attendees, the agenda, the confidentiality statement, the papers
(each agency's part limited to what that agency may see, every opening in
the access log), holding it, minutes and their corrections, and actions.

Thin: each asks the access policy through ``contextwork`` and puts a
service's ``DomainError`` back on the form."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from agencies import selectors as agency_selectors
from contexts.models import CONFIDENTIALITY_STATEMENT
from contextwork import selectors, services
from lib.errors import DomainError
from safeguarding import access
from web import forms
from web.kit import page, paginate, posted
from web.views.contexts import form_page


def _panel_url(panel) -> str:
    return reverse("panel-detail", args=[panel.pk])


def _organised(actor, panel_id):
    panel = access.get_panel(actor, panel_id)
    if not access.may_organise_panel(actor, panel):
        raise access.NotAllowed("Only the panel's chair and its convening agency's managers do this")
    return panel


def _people_choices(partnership_id: int) -> list[tuple[str, str]]:
    """Everyone who may hold work in the partnership, as "user:agency"."""
    return [("", "Choose the person")] + [
        (f"{user_id}:{agency_id}", label) for user_id, agency_id, label in selectors.panel_people(partnership_id)
    ]


def _person_and_agency(value: str):
    user_id, _, agency_id = (value or "").partition(":")
    return agency_selectors.find_person(user_id), agency_selectors.find_agency(agency_id)


def _item_choices(view) -> list[tuple[str, str]]:
    choices = [("", "The panel as a whole")]
    for number, row in enumerate(view.agenda, start=1):
        if row.case is not None:
            label = f"{row.case.young_person.display_name} (case {row.case.reference})"
        elif row.anonymous:
            label = "A case not shared with your agency"
        elif row.context is not None:
            label = row.context.name
        elif row.action is not None:
            label = "An action carried forward"
        else:
            label = "A context not shared with your agency"
        choices.append((str(row.item.pk), f"{number}. {label}"))
    return choices


@page
def panel_list(request):
    actor = request.actor
    if not actor.works_cases:
        raise access.NotAllowed("Only people working cases take part in panels")
    return render(request, "panels/list.html", {
        "panels": paginate(request, selectors.panels(actor)), "may_convene": access.may_convene_panel(actor),
        "now": timezone.now(),
    })


@page
def panel_create(request):
    actor = request.actor
    if not access.may_convene_panel(actor):
        raise access.NotAllowed("Only managers and the hub's screeners convene panels")
    form = forms.PanelForm(posted(request), initial={"meets_time": "14:00"})
    form.fields["chair"].choices = [("", "You")] + [
        (str(user_id), label) for user_id, agency_id, label in selectors.panel_people(actor.partnership_id)
        if agency_id == actor.agency.pk
    ]

    def save(data):
        meets_at = timezone.make_aware(dt.datetime.combine(data["meets_on"], data["meets_time"]))
        panel = services.panel_convene(actor=actor, title=data["title"], meets_at=meets_at,
                                       chair=agency_selectors.find_person(data["chair"]), location=data["location"])
        return _panel_url(panel)

    return form_page(request, form, title="Arrange a panel", save=save, success="Panel arranged",
                     back=reverse("panel-list"), aliases={"meets_at": "meets_on"})


@page
def panel_detail(request, panel_id: int):
    actor = request.actor
    view = selectors.panel_page(actor, panel_id)
    return render(request, "panels/detail.html", {"view": view, "panel": view.panel, "now": timezone.now(),
                                                  "today": timezone.localdate()})


@page
def panel_attendee_add(request, panel_id: int):
    actor = request.actor
    panel = _organised(actor, panel_id)
    form = forms.PanelAttendeeForm(posted(request))
    form.fields["user"].choices = _people_choices(panel.partnership_id)

    def save(data):
        user, agency = _person_and_agency(data["user"])
        services.panel_attendee_add(actor=actor, panel=panel, user=user, agency=agency)

    return form_page(request, form, title="Invite someone to the panel", save=save, success="Attendee invited",
                     back=_panel_url(panel), caption=str(panel), aliases={"agency": "user"})


@page
def panel_agenda_add(request, panel_id: int):
    actor = request.actor
    panel = _organised(actor, panel_id)
    form = forms.PanelAgendaForm(posted(request))
    form.fields["context"].choices = [("", "No context: a case")] + [
        (str(c.pk), c.name) for c in selectors.contexts(actor)
    ]

    def save(data):
        case = None
        if data["case"].strip():
            case = selectors.visible_case_by_reference(actor, data["case"])
            if case is None:
                raise DomainError("No case with that reference is visible to your agency", field="case")
        services.panel_agenda_add(actor=actor, panel=panel, case=case, context=data["context"] or None,
                                  reason=data["reason"])

    return form_page(request, form, title="Add to the agenda", save=save, success="Added to the agenda",
                     back=_panel_url(panel), caption=str(panel))


@page
def panel_confidentiality(request, panel_id: int):
    actor = request.actor
    panel = access.get_panel(actor, panel_id)
    attendance = access.panel_attendance(actor, panel)
    if attendance is None:
        raise access.NotAllowed("Only the panel's attendees accept its confidentiality statement")
    if request.method == "POST":
        services.panel_confidentiality_accept(actor=actor, panel=panel)
        messages.success(request, "Confidentiality statement accepted: the papers are open to you")
        return redirect(reverse("panel-papers", args=[panel.pk]))
    return render(request, "panels/confidentiality.html", {
        "panel": panel, "statement": CONFIDENTIALITY_STATEMENT, "attendance": attendance,
    })


@page
def panel_papers(request, panel_id: int):
    actor = request.actor
    panel = access.get_panel(actor, panel_id)
    if access.panel_attendance(actor, panel) is not None and not access.may_open_papers(actor, panel):
        return redirect(reverse("panel-confidentiality", args=[panel.pk]))
    papers = selectors.panel_papers(actor, panel.pk)
    return render(request, "panels/papers.html", {
        "papers": papers, "panel": papers.panel, "graph": papers.network.as_dict(), "rows": papers.network.rows(),
    })


@page
def panel_hold(request, panel_id: int):
    actor = request.actor
    panel = _organised(actor, panel_id)
    form = forms.ConfirmForm(posted(request))

    def save(data):
        services.panel_hold(actor=actor, panel=panel)

    return form_page(request, form, title="Record that the panel met", save=save,
                     success="The panel is recorded as held", back=_panel_url(panel), caption=str(panel))


@page
def panel_minute_add(request, panel_id: int):
    actor = request.actor
    _organised(actor, panel_id)
    view = selectors.panel_page(actor, panel_id)
    form = forms.PanelMinuteForm(posted(request))
    form.fields["item"].choices = _item_choices(view)

    def save(data):
        services.panel_minute_add(actor=actor, panel=view.panel, kind=data["kind"], text=data["text"],
                                  item=data["item"] or None)

    return form_page(request, form, title="Add to the minutes", save=save, success="Minute added",
                     back=_panel_url(view.panel), caption=str(view.panel))


@page
def panel_minute_correct(request, panel_id: int, minute_id: int):
    actor = request.actor
    view = selectors.panel_page(actor, panel_id)
    if not view.may_organise:
        raise access.NotAllowed("Only the panel's chair and its convening agency's managers do this")
    minute = selectors.panel_minute(actor, view.panel, minute_id)
    readable = dict((m.pk, ok) for m, ok in view.minutes).get(minute.pk, False)
    form = forms.PanelMinuteCorrectForm(posted(request), initial={"text": minute.text if readable else ""})

    def save(data):
        services.panel_minute_correct(actor=actor, minute=minute, text=data["text"])

    return form_page(request, form, title="Correct a minute", save=save, success="Correction added to the minutes",
                     back=_panel_url(view.panel), caption=str(view.panel),
                     extra={"original": minute if readable else None})


@page
def panel_action_add(request, panel_id: int):
    actor = request.actor
    _organised(actor, panel_id)
    view = selectors.panel_page(actor, panel_id)
    form = forms.PanelActionForm(posted(request))
    form.fields["item"].choices = _item_choices(view)
    form.fields["owner"].choices = _people_choices(view.panel.partnership_id)

    def save(data):
        owner, agency = _person_and_agency(data["owner"])
        services.panel_action_record(actor=actor, panel=view.panel, description=data["description"],
                                     owner_agency=agency, owner=owner, due_on=data["due_on"],
                                     item=data["item"] or None)

    return form_page(request, form, title="Record an action", save=save, success="Action recorded",
                     back=_panel_url(view.panel), caption=str(view.panel), aliases={"owner_agency": "owner"})


@page
def panel_action_update(request, panel_id: int, action_id: int):
    actor = request.actor
    panel = access.get_panel(actor, panel_id)
    action = selectors.panel_action(actor, panel, action_id)
    if not access.may_update_action(actor, action):
        raise access.NotAllowed("Only the action's owner, their managers or the panel's organisers update it")
    form = forms.PanelActionUpdateForm(posted(request), initial={"status": action.status, "update": action.update})

    def save(data):
        services.panel_action_update(actor=actor, action=action, status=data["status"], update=data["update"])

    return form_page(request, form, title="Update an action", save=save, success="Action updated",
                     back=_panel_url(panel), caption=str(panel))
