"""Consent and break-glass pages (issue 18).

Consent is recorded and withdrawn from the case page by those who manage
the case. A withdrawal ends the shares resting on consent in its own
transaction; the agencies are told in the same transaction (in the app)
and by e-mail once it has committed.

Break-glass is opened here, in the pages only (the partner API has no such
operation): the person gives the case reference and a reason, and is taken
to the case. The review queue is for managers (their agency's openings)
and data-protection officers (the partnership's)."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse

from lib.errors import DomainError
from reminders import services as reminders
from reminders import tasks
from safeguarding import access, break_glass, consent
from safeguarding.access import Action
from web import forms
from web.kit import add_domain_error, page, posted


@page
def consent_record(request, case_id: int):
    actor = request.actor
    case = access.get_case(actor, case_id, Action.MANAGE, log=False)
    form = forms.CaseConsentForm(posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            consent.consent_record(
                actor=actor, case=case, given_by=data["given_by"], judged_competent=data["judged_competent"] == "yes",
                lawful_basis=data["lawful_basis"], reason=data["reason"],
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, "Consent recorded")
            return redirect(reverse("case-detail", args=[case.pk]) + "#consent")
    return render(request, "referrals/case_form.html", {
        "case": case, "form": form, "title": "Record consent",
        "intro": "Record who consented to this work and to sharing, or that consent was not sought and why. "
                 "It is added to the chronology and cannot be changed: record again if it changes.",
    })


@page
def consent_withdraw(request, case_id: int, consent_id: int):
    actor = request.actor
    case = access.get_case(actor, case_id, Action.MANAGE, log=False)
    record = consent.withdrawable_consent(actor, case, consent_id)
    form = forms.ConsentWithdrawForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                withdrawal = consent.consent_withdraw(
                    actor=actor, case=case, consent=record, withdrawn_by=form.cleaned_data["withdrawn_by"],
                    reason=form.cleaned_data["reason"],
                )
                # Told in the app with the withdrawal; e-mailed once it commits.
                tasks.email_later(reminders.consent_withdrawn_record(withdrawal_id=withdrawal.pk))
        except DomainError as error:
            add_domain_error(form, error, aliases={"consent": "withdrawn_by"})
        else:
            ended = withdrawal.ended_grants.count()
            messages.success(request, f"Consent withdrawn: {ended} share{'s' if ended != 1 else ''} ended"
                             if ended else "Consent withdrawn: no share rested on it")
            return redirect(reverse("case-detail", args=[case.pk]) + "#consent")
    return render(request, "referrals/case_form.html", {
        "case": case, "form": form, "title": "Record that consent was withdrawn",
        "intro": f"Consent {record.get_given_by_display().lower()} on {record.recorded_at:%d %B %Y}. Every share "
                 "of this case that rests on consent ends at once, and those agencies are told. Shares on "
                 "another lawful basis stay.",
    })


@page
def break_glass_open(request):
    actor = request.actor
    if not access.may_break_glass(actor):
        raise access.NotAllowed("Break-glass access is for people working cases")
    form = forms.BreakGlassForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                opening = break_glass.break_glass_open(
                    actor=actor, case_reference=form.cleaned_data["case_reference"],
                    reason=form.cleaned_data["reason"],
                )
                tasks.email_later(reminders.break_glass_opened_record(opening_id=opening.pk))
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.warning(request, f"Break-glass access until {opening.expires_at:%H:%M on %d %B %Y}. "
                             "Your manager and the data-protection officer have been told.")
            return redirect("case-detail", opening.case_id)
    return render(request, "safeguarding/break_glass_open.html", {
        "form": form, "open": list(break_glass.my_openings(actor)),
    })


@page
def break_glass_queue(request):
    actor = request.actor
    if not (access.is_data_protection_officer(actor) or actor.has_role("manager")):
        raise access.NotAllowed("The review queue is for managers and data-protection officers")
    return render(request, "safeguarding/break_glass_queue.html", {
        "waiting": list(break_glass.review_queue(actor)), "reviewed": list(break_glass.reviewed(actor)[:50]),
    })


@page
def break_glass_queue_item(request, opening_id: int):
    actor = request.actor
    opening = break_glass.opening_for_review(actor, opening_id)
    may_review = access.may_review_break_glass(actor, opening) and not hasattr(opening, "review")
    if request.method == "POST" and not may_review:
        raise access.NotAllowed("A manager of the opener's agency, not the opener, reviews this opening")
    form = forms.BreakGlassReviewForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                review = break_glass.break_glass_review(
                    actor=actor, opening=opening, outcome=form.cleaned_data["outcome"], note=form.cleaned_data["note"],
                )
                tasks.email_later(reminders.break_glass_escalated_record(opening_id=opening.pk))
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, review.get_outcome_display())
            return redirect("break-glass-queue")
    return render(request, "safeguarding/break_glass_review.html", {
        "opening": opening, "form": form, "may_review": may_review,
        "review": getattr(opening, "review", None),
    })
