"""Screening: the hub's screener reads a referral, checks the possible
matching records and decides (accept and allocate or join the open case,
signpost, or no further action). The referrer sees the decision on their
home page and the referral's page."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render

from agencies import selectors as agency_selectors
from casework import enquiries, selectors, services
from lib.errors import DomainError
from partnerships import vocabulary
from safeguarding import access
from web import forms
from web.kit import add_domain_error, page, paginate, posted


@page
def screening(request, referral_id: int):
    actor = request.actor
    referral = access.get_referral(actor, referral_id)
    if not access.may_screen(actor):
        raise access.NotAllowed("Only the hub's screeners decide referrals")
    person = referral.young_person
    candidates = selectors.referral_candidate_records(actor, referral)
    form = forms.DecisionForm(posted(request))
    form.fields["lead_agency"].choices = forms.agency_choices(
        "Choose the lead agency", partnership=referral.partnership_id,
    )
    form.fields["key_worker"].choices = [("", "Allocate later")] + selectors.key_worker_choices(partnership=referral.partnership_id)
    form.fields["young_person"].choices = [("", f"Keep the referral's record ({person.display_name})")] + [
        (str(c.pk), f"{c.display_name}, born {c.date_of_birth:%d %B %Y}") for c in candidates
    ]
    if request.method == "POST" and referral.is_open and form.is_valid():
        data = form.cleaned_data
        try:
            decided = _decide(actor, referral, data, candidates)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, decided)
            return redirect("home")
    return render(request, "referrals/screening.html", {
        "referral": referral, "form": form, "candidates": candidates,
        "transfer": selectors.referral_transfer(actor, referral),
        "elsewhere": enquiries.records_elsewhere(actor, referral) if referral.is_open else [],
        "enquiries": list(selectors.referral_enquiries(actor, referral)),
        "concerns": vocabulary.concern_names(referral.partnership_id, referral.concerns),
        # What the referrer ticked, to inform (never to set) the risk rating.
        "indicators": vocabulary.indicator_texts(referral.indicators), "show_indicator_hint": True,
    })


def _decide(actor, referral, data, candidates) -> str:
    decision = data["decision"]
    if decision == "accept":
        if not data["lead_agency"]:
            raise DomainError("Select the lead agency", field="lead_agency")
        lead = agency_selectors.find_agency(data["lead_agency"])
        worker = agency_selectors.find_person(data["key_worker"])
        match = next((c for c in candidates if str(c.pk) == data["young_person"]), None)
        case = services.referral_accept(
            actor=actor, referral=referral, lead_agency=lead, key_worker=worker, young_person=match,
            reason=data["reason"],
        )
        return f"Referral {referral.reference} accepted: case {case.reference}"
    if decision == "signpost":
        services.referral_signpost(actor=actor, referral=referral, signposted_to=data["signposted_to"],
                                   reason=data["reason"])
        return f"Referral {referral.reference} signposted to {data['signposted_to']}"
    services.referral_no_further_action(actor=actor, referral=referral, reason=data["reason"])
    return f"Referral {referral.reference}: no further action"


@page
def screening_ask(request, referral_id: int, partnership_id: int):
    """Ask another partnership's hub about a likely record it holds."""
    actor = request.actor
    referral = access.get_referral(actor, referral_id, log=False)
    if not access.may_screen(actor, referral):
        raise access.NotAllowed("Only the hub's screeners ask another partnership")
    asked = next((p for p in enquiries.records_elsewhere(actor, referral) if p.pk == partnership_id), None)
    if asked is None:
        raise access.NotVisible("No likely record there")
    form = forms.EnquiryForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            enquiries.enquiry_send(actor=actor, referral=referral, to_partnership=asked,
                                   message=form.cleaned_data["message"])
        except DomainError as error:
            add_domain_error(form, error, {"to_partnership": "message"})
        else:
            messages.success(request, f"Your question has gone to {asked.name}'s hub")
            return redirect("screening", referral_id=referral.pk)
    return render(request, "referrals/enquiry_ask.html", {"referral": referral, "asked": asked, "form": form})


@page
def enquiry_list(request):
    """Enquiries from other partnerships' hubs, for this hub's screeners."""
    actor = request.actor
    if not actor.screens_referrals:
        raise access.NotAllowed("Only the hub's screeners answer enquiries")
    return render(request, "referrals/enquiries.html", {"enquiries": paginate(request, selectors.enquiries_received(actor))})


@page
def enquiry_detail(request, enquiry_id: int):
    actor = request.actor
    if not actor.screens_referrals:
        raise access.NotAllowed("Only the hub's screeners answer enquiries")
    enquiry = selectors.enquiry_received(actor, enquiry_id)
    form = forms.EnquiryAnswerForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            enquiries.enquiry_answer(actor=actor, enquiry=enquiry, answer=form.cleaned_data["answer"])
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"Your answer has gone to {enquiry.from_partnership.name}'s hub")
            return redirect("enquiries")
    return render(request, "referrals/enquiry_detail.html", {"enquiry": enquiry, "form": form})
