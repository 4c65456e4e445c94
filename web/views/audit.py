"""Audit pages: a case's change history, who has seen a case or a young
person, and the data-protection officer's subject-access requests.

Thin, like every page: the access policy (``safeguarding.access``) decides
through the selectors and services; each read of case or audit data writes
an access-log row."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from lib.errors import DomainError
from reports import subject_access
from safeguarding import access, history, redaction, selectors
from safeguarding.access import Action
from web.forms import (
    CompleteSubjectAccessRequestForm,
    FindYoungPersonForm,
    SubjectAccessRequestForm,
)
from web.kit import add_domain_error, page, paginate, posted

ACCESS_LOG_PAGE_SIZE = 50


@page
def case_history(request, case_id: int):
    """Who changed what on the case, its referrals, young person,
    interventions, reviews (and, for those who manage the case, its shares)."""
    actor = request.actor
    case = access.get_case(actor, case_id, log=False)
    may_manage = access.may(actor, Action.MANAGE, case)
    access.log_access(actor, "view_history", case)
    changes = redaction.shown_in_history(
        actor, history.changes(case, case.young_person, include_shares=may_manage),
        redaction.passages_about([case.pk], case.referrals.values_list("pk", flat=True)),
    )
    return render(request, "safeguarding/case_history.html", {
        "case": case, "changes": paginate(request, changes, per_page=25), "shows_shares": may_manage,
    })


@page
def case_access_log(request, case_id: int):
    actor = request.actor
    case = selectors.case_for_access_log(actor, case_id)
    rows = selectors.case_access_log(actor, case)
    return render(request, "safeguarding/access_log.html", {
        "subject": f"Case {case.reference}", "name": case.young_person.display_name,
        "rows": paginate(request, rows, per_page=ACCESS_LOG_PAGE_SIZE),
        "back": reverse("case-detail", args=[case.pk]) if access.may(actor, Action.VIEW, case) else "",
    })


@page
def young_person_access_log(request, young_person_id: int):
    actor = request.actor
    person = selectors.young_person_for_access_log(actor, young_person_id)
    rows = selectors.young_person_access_log(actor, person)
    return render(request, "safeguarding/access_log.html", {
        "subject": f"Young person #{person.pk}", "name": person.display_name,
        "rows": paginate(request, rows, per_page=ACCESS_LOG_PAGE_SIZE),
        "limited": access.access_log_case_ids(actor, person) is not None, "back": "",
    })


@page
def subject_access_list(request):
    actor = request.actor
    requests = selectors.subject_access_requests(actor)
    return render(request, "safeguarding/subject_access_list.html", {
        "requests": paginate(request, requests, per_page=25), "today": timezone.localdate(),
    })


def _matches(actor, query: str):
    people = access.young_people_for_subject_access(actor)
    words = query.split()
    condition = Q(pk=int(query)) if query.isdigit() else Q()
    for word in words if not query.isdigit() else []:
        condition &= Q(given_name__icontains=word) | Q(family_name__icontains=word) | Q(preferred_name__icontains=word)
    return list(people.filter(condition).order_by("family_name", "given_name", "pk")[:20])


@page
def subject_access_new(request):
    """Find the young person (by record number or name), then record the
    request against them."""
    actor = request.actor
    if not access.may_export_subject_access(actor):
        raise access.NotAllowed("Only a data-protection officer handles subject access requests")
    find = FindYoungPersonForm(request.GET or None)
    query = find.cleaned_data["q"].strip() if find.is_valid() else request.POST.get("q", "").strip()
    people = _matches(actor, query) if query else []
    if query:
        access.log_access(actor, "search_young_people", object_type="youngperson",
                          detail={"ids": [p.pk for p in people]}, basis=access.access_log_basis(actor))
    form = SubjectAccessRequestForm(posted(request))
    form.fields["young_person"].choices = [
        (str(p.pk), f"#{p.pk} {p.display_name}, born {p.date_of_birth:%-d %B %Y}") for p in people
    ]
    if request.method == "POST" and form.is_valid():
        chosen = next((p for p in people if str(p.pk) == form.cleaned_data["young_person"]), None)
        try:
            sar = subject_access.subject_access_request_record(
                actor=actor, young_person=chosen, received_on=form.cleaned_data["received_on"],
                notes=form.cleaned_data["notes"],
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"Request recorded: due {sar.due_on:%-d %B %Y}")
            return redirect("subject-access-detail", sar.pk)
    return render(request, "safeguarding/subject_access_new.html", {
        "find": find, "form": form, "query": query, "people": people,
    })


@page
def subject_access_detail(request, request_id: int):
    actor = request.actor
    sar = selectors.get_subject_access_request(actor, request_id)
    form = CompleteSubjectAccessRequestForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            subject_access.subject_access_request_complete(
                actor=actor, sar=sar, completed_on=form.cleaned_data["completed_on"])
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, "Request marked as answered")
            return redirect("subject-access-detail", sar.pk)
    return render(request, "safeguarding/subject_access_detail.html", {
        "sar": sar, "form": form, "today": timezone.localdate(),
    })


def _data_only(value):
    """The export's records without their display words: JSON for machines."""
    if isinstance(value, dict):
        if set(value) == {"data", "fields"}:
            return value["data"]
        return {key: _data_only(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_data_only(item) for item in value]
    return value


def _download(body: str, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@page
def subject_access_export_json(request, request_id: int):
    actor = request.actor
    sar = selectors.get_subject_access_request(actor, request_id)
    export = subject_access.subject_access_export(actor=actor, sar=sar, format="json")
    body = json.dumps(_data_only(export), cls=DjangoJSONEncoder, indent=2, ensure_ascii=False)
    return _download(body, "application/json; charset=utf-8", f"subject-access-{sar.pk}.json")


@page
def subject_access_export_document(request, request_id: int):
    actor = request.actor
    sar = selectors.get_subject_access_request(actor, request_id)
    export = subject_access.subject_access_export(actor=actor, sar=sar, format="html")
    body = render_to_string("safeguarding/subject_access_document.html", {"export": export, "sar": sar})
    return _download(body, "text/html; charset=utf-8", f"subject-access-{sar.pk}.html")
