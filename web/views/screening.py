"""Screening: the hub's screener reads a referral, checks the possible
matching records and decides (accept and allocate or join the open case,
signpost, or no further action). The referrer sees the decision on their
home page and the referral's page."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render

from agencies import selectors as agency_selectors
from casework import selectors, services
from lib.errors import DomainError
from partnerships import vocabulary
from safeguarding import access
from web import forms
from web.kit import add_domain_error, page, posted


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
