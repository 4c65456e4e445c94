"""Contexts: the list, recording one, its page (what is known, the linked
cases the person may see, interventions, chronology and the network
picture with its table), and what people add to it: links from cases,
links between young people, interventions and chronology entries.

Thin, like the case pages: each asks the access policy first
(``access.get_context`` / ``get_case``), then calls a ``contextwork``
service or selector, whose ``DomainError`` goes back on the form."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse

from agencies import selectors as agency_selectors
from contexts.models import ContextKind
from contextwork import selectors, services
from lib.errors import DomainError
from safeguarding import access
from web import forms
from web.kit import add_domain_error, page, paginate, posted

LINKED_PER_PAGE = 50
GRADING_FIELDS = ("source", "information_date", "source_evaluation", "intelligence_assessment", "handling_code",
                  "handling_conditions")


def form_page(request, form, *, title: str, save, success: str, back: str, caption: str = "", extra=None,
              aliases=None):
    """Show a form; on a valid POST call ``save`` (a service) and go back,
    or put its ``DomainError`` on the field it names."""
    if request.method == "POST" and form.is_valid():
        try:
            target = save(form.cleaned_data)
        except DomainError as error:
            add_domain_error(form, error, aliases)
        else:
            messages.success(request, success)
            return redirect(target or back)
    return render(request, "contexts/form.html", {
        "form": form, "title": title, "back": back, "caption": caption, **(extra or {}),
    })


def _context_url(context) -> str:
    return reverse("context-detail", args=[context.pk])


def _agency_or_none(value):
    return agency_selectors.find_agency(value)


@page
def context_list(request):
    actor = request.actor
    if not actor.works_cases:
        raise access.NotAllowed("Only people working cases see contexts")
    kind = request.GET.get("kind", "")
    search = request.GET.get("q", "")[:100]
    found = selectors.contexts(actor, kind=kind if kind in ContextKind.values else None, search=search)
    return render(request, "contexts/list.html", {
        "contexts": paginate(request, found), "kinds": ContextKind.choices, "kind": kind, "q": search,
        "may_record": access.may_record_context(actor),
    })


@page
def context_create(request):
    actor = request.actor
    if not access.may_record_context(actor):
        raise access.NotAllowed("Only people working cases record contexts")
    form = forms.ContextForm(posted(request))
    form.fields["lead_agency"].choices = forms.agency_choices("Your agency", partnership=actor.partnership_id)
    form.fields["restricted_to"].choices = forms.agency_choices(
        "", partnership=actor.partnership_id, exclude=actor.agency.pk)[1:]

    def save(data):
        context = services.context_record(
            actor=actor, kind=data["kind"], name=data["name"], known=data["known"], risk_level=data["risk_level"],
            lead_agency=_agency_or_none(data["lead_agency"]), ward=data["ward"], latitude=data["latitude"],
            longitude=data["longitude"], street_names=data["street_names"],
            restricted_to=[_agency_or_none(a) for a in data["restricted_to"]],
        )
        return _context_url(context)

    return form_page(request, form, title="Record a context", save=save, success="Context recorded",
                     back=reverse("context-list"))


def detail_context(request, view) -> dict:
    """What the context page's template is given (the benchmark renders the
    page with the same)."""
    return {
        "page": view, "context": view.context, "notes": paginate(request, view.notes, per_page=20),
        "linked": paginate(request, view.linked, per_page=LINKED_PER_PAGE, param="linked"),
        "graph": view.network.as_dict(), "rows": view.network.rows(), "actor_agency_id": request.actor.agency.pk,
    }


@page
def context_detail(request, context_id: int):
    view = selectors.context_page(request.actor, context_id)
    return render(request, "contexts/detail.html", detail_context(request, view))


@page
def context_share(request, context_id: int):
    actor = request.actor
    context = access.get_context(actor, context_id, log=False)
    if not access.may_share_context(actor, context):
        raise access.NotAllowed("Only the agency that recorded a person of concern chooses who sees it")
    form = forms.ContextShareForm(posted(request), initial={
        "agencies": [str(a) for a in context.restricted_to.exclude(pk=actor.agency.pk).values_list("pk", flat=True)],
    })
    form.fields["agencies"].choices = forms.agency_choices(
        "", partnership=actor.partnership_id, exclude=actor.agency.pk)[1:]

    def save(data):
        services.context_share(actor=actor, context=context, agencies=[_agency_or_none(a) for a in data["agencies"]])

    return form_page(request, form, title="Choose who sees this person of concern", save=save,
                     success="The agencies who see this person of concern are changed", back=_context_url(context),
                     caption=context.name)


@page
def case_context_link_add(request, case_id: int):
    actor = request.actor
    case = access.get_case(actor, case_id, access.Action.CONTRIBUTE, log=False)
    form = forms.ContextLinkForm(posted(request), initial={"handling_code": "P"})
    form.fields["context"].choices = [("", "Choose the place, group or person")] + [
        (str(c.pk), f"{c.name} ({c.get_kind_display().lower()})") for c in selectors.contexts(actor)
    ]

    def save(data):
        services.context_link_record(actor=actor, context=data["context"], case=case,
                                     **{name: data[name] for name in GRADING_FIELDS})

    return form_page(request, form, title="Link to a place, group or person", save=save, success="Linked",
                     back=reverse("case-detail", args=[case.pk]),
                     caption=f"Case {case.reference}: {case.young_person.display_name}")


@page
def peer_link_add(request, case_id: int):
    actor = request.actor
    case = access.get_case(actor, case_id, access.Action.CONTRIBUTE, log=False)
    form = forms.PeerLinkForm(posted(request), initial={"handling_code": "P"})

    def save(data):
        other = selectors.visible_case_by_reference(actor, data["other_case"])
        if other is None:
            raise DomainError("No case with that reference is visible to your agency", field="other_case")
        services.peer_link_record(actor=actor, case=case, other_case=other, relationship=data["relationship"],
                                  **{name: data[name] for name in GRADING_FIELDS})

    return form_page(request, form, title="Link this young person to another", save=save,
                     success="Young people linked", back=reverse("case-detail", args=[case.pk]),
                     caption=f"Case {case.reference}: {case.young_person.display_name}")


@page
def context_intervention_add(request, context_id: int):
    actor = request.actor
    context = access.get_context(actor, context_id, log=False)
    if not access.may_work_on_context(actor, context):
        raise access.NotAllowed("You may not add to this context")
    form = forms.ContextInterventionForm(posted(request), initial={"owner_agency": str(actor.agency.pk)})
    form.fields["owner_agency"].choices = forms.agency_choices("Choose the owner agency",
                                                               partnership=context.partnership_id)

    def save(data):
        services.context_intervention_record(
            actor=actor, context=context, kind=data["kind"], description=data["description"],
            owner_agency=_agency_or_none(data["owner_agency"]), status=data["status"],
            started_on=data["started_on"], owner=actor.user if data["owner_agency"] == str(actor.agency.pk) else None,
        )

    return form_page(request, form, title="Add work aimed at this context", save=save, success="Intervention added",
                     back=_context_url(context), caption=context.name)


@page
def context_intervention_update(request, context_id: int, intervention_id: int):
    actor = request.actor
    context = access.get_context(actor, context_id, log=False)
    intervention = selectors.context_intervention(actor, context, intervention_id)
    if not access.may_change_context_intervention(actor, intervention):
        raise access.NotAllowed("Only the owning agency or the context's lead agency updates this")
    form = forms.ContextInterventionUpdateForm(posted(request), initial={
        "status": intervention.status, "started_on": intervention.started_on, "ended_on": intervention.ended_on,
    })

    def save(data):
        services.context_intervention_update(actor=actor, intervention=intervention, **data)

    return form_page(request, form, title=f"Update: {intervention.get_kind_display()}", save=save,
                     success="Intervention updated", back=_context_url(context), caption=context.name)


@page
def context_note_add(request, context_id: int):
    actor = request.actor
    context = access.get_context(actor, context_id, log=False)
    if not access.may_work_on_context(actor, context):
        raise access.NotAllowed("You may not add to this context")
    form = forms.ContextNoteForm(posted(request))

    def save(data):
        services.context_note_add(actor=actor, context=context, kind=data["kind"], text=data["text"])

    return form_page(request, form, title="Add a chronology entry", save=save, success="Chronology entry added",
                     back=_context_url(context), caption=context.name)


@page
def context_note_correct(request, context_id: int, note_id: int):
    actor = request.actor
    context = access.get_context(actor, context_id, log=False)
    note = selectors.context_note(actor, context, note_id)
    if not access.may_correct_context_note(actor, note):
        raise access.NotAllowed("Only the author's agency may correct this entry")
    form = forms.CorrectNoteForm(posted(request), initial={"text": note.text})

    def save(data):
        services.context_note_correct(actor=actor, note=note, text=data["text"])

    return form_page(request, form, title="Correct a chronology entry", save=save,
                     success="Correction added to the chronology", back=_context_url(context), caption=context.name,
                     extra={"original": note})
