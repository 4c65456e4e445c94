"""Screening: the hub's screener reads a referral, checks the possible
matching records and decides (accept and allocate or join the open case,
signpost, or no further action). The referrer sees the decision on their
home page and the referral's page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.shortcuts import redirect, render

from agencies.models import Agency, Membership, Role
from referrals import dashboards, forms, services
from referrals.errors import DomainError
from referrals.models import Concern
from referrals.web import add_domain_error, page, posted
from safeguarding import access


def _agency_choices():
    return [("", "Choose the lead agency")] + [
        (str(a.pk), a.name) for a in Agency.objects.filter(is_active=True).order_by("name")
    ]


def _key_worker_choices():
    # One query for everyone who may hold cases, across the partnership;
    # the service checks the one chosen belongs to the lead agency.
    rows = (
        Membership.objects.filter(
            is_active=True, agency__is_active=True, user__is_active=True,
            role__in=[Role.PRACTITIONER, Role.MANAGER],
        )
        .select_related("user", "agency")
        .order_by("agency__name", "user__last_name", "user__first_name")
    )
    seen, choices = set(), [("", "Allocate later")]
    for m in rows:
        if (m.user_id, m.agency_id) in seen:
            continue
        seen.add((m.user_id, m.agency_id))
        choices.append((str(m.user_id), f"{m.user.get_full_name() or m.user.get_username()} ({m.agency.name})"))
    return choices


def matching_records(actor, referral) -> list:
    """Existing records that may be the referral's young person, best first,
    each with ``match`` (score, likely, reasons) from ``referrals.matching``."""
    from referrals import matching

    result = matching.referral_candidates(actor, referral=referral)
    ranked = {c.young_person_id: c for c in result.candidates}
    people = {p.pk: p for p in access.visible_young_people(actor).filter(pk__in=ranked)}
    found = []
    for person_id, candidate in ranked.items():
        if person_id in people:
            people[person_id].match = candidate
            found.append(people[person_id])
    return found


@page
def screening(request, referral_id: int):
    actor = request.actor
    referral = access.get_referral(actor, referral_id)
    if not access.may_screen(actor):
        raise access.NotAllowed("Only the hub's screeners decide referrals")
    person = referral.young_person
    candidates = matching_records(actor, referral)
    form = forms.DecisionForm(posted(request))
    form.fields["lead_agency"].choices = _agency_choices()
    form.fields["key_worker"].choices = _key_worker_choices()
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
        "concerns": [dict(Concern.choices).get(c, c) for c in referral.concerns],
    })


def _decide(actor, referral, data, candidates) -> str:
    decision = data["decision"]
    if decision == "accept":
        if not data["lead_agency"]:
            raise DomainError("Select the lead agency", field="lead_agency")
        lead = Agency.objects.filter(pk=data["lead_agency"]).first()
        worker = get_user_model().objects.filter(pk=data["key_worker"]).first() if data["key_worker"] else None
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
