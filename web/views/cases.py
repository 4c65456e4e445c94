"""The case page and what people do on it: chronology entries and their
corrections, interventions, reviews, sharing, reassignment and closure.

Each action page first asks the access policy for the case with the action
it needs (``access.get_case(..., Action.X)``): a case out of sight is a 404,
an action out of reach a 403. The service then checks again, in its own
transaction, and its ``DomainError`` goes back on the form."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from agencies import selectors as agency_selectors
from casework import selectors, services, transfers
from contextwork import selectors as context_selectors
from lib.errors import DomainError
from referrals.models import NoteKind
from safeguarding import access, consent, redaction
from safeguarding import selectors as audit
from safeguarding import services as sharing
from safeguarding.access import Action
from web import forms
from web.kit import add_domain_error, page, paginate, posted


def _back(case) -> str:
    return reverse("case-detail", args=[case.pk])


@page
def case_detail(request, case_id: int):
    actor = request.actor
    agency_filter, kind_filter = request.GET.get("agency", ""), request.GET.get("kind", "")
    file = selectors.case_file(
        actor, case_id,
        note_agency=int(agency_filter) if agency_filter.isdigit() else None,
        note_kind=kind_filter if kind_filter in NoteKind.values else None,
    )
    today = timezone.localdate()
    consents = list(consent.case_consents(actor, file.case, may_view=True))
    context = {
        "case": file.case,
        "notes": paginate(request, file.notes, per_page=20),
        "interventions": file.interventions,
        "reviews": file.reviews,
        "may_contribute": file.may_contribute,
        "may_manage": file.may_manage,
        "may_allocate": file.may_allocate,
        "may_close": file.may_close,
        "may_see_access_log": file.may_see_access_log,
        "actor_agency_id": actor.agency.pk,
        "may_withhold": file.may_contribute and access.withholds_passages(actor),
        "agencies_in_chronology": file.chronology_agencies,
        "kinds": NoteKind.choices,
        "agency_filter": agency_filter,
        "kind_filter": kind_filter,
        "today": today,
        "due_soon": today + dt.timedelta(days=selectors.DUE_SOON_DAYS),
        "shares": list(audit.case_shares(actor, file.case)),
        "cross_border": access.is_cross_border(actor, file.case),
        "transfers": list(selectors.case_transfers(actor, file.case)),
        "may_propose_transfer": file.may_propose_transfer,
        "links": context_selectors.case_links(actor, file.case),
        "now": timezone.now(),
        # Consent and break-glass (issue 18)
        # (the case was read through get_case: the actor may see it)
        "consents": consents,
        "referral_consent": "" if consents else consent.referral_consent(actor, file.case, may_view=True),
        # Someone who may contribute holds the case by lead or share, not break-glass.
        "break_glass": None if file.may_contribute else access.break_glass_opening(actor, file.case),
    }
    return render(request, "referrals/case_detail.html", context)


def _action_page(request, case, form, template: str, title: str, save, success: str, aliases=None, extra=None):
    if request.method == "POST" and form.is_valid():
        try:
            save(form.cleaned_data)
        except DomainError as error:
            add_domain_error(form, error, aliases)
        else:
            messages.success(request, success)
            return redirect(_back(case))
    return render(request, template, {"case": case, "form": form, "title": title, **(extra or {})})


@page
def note_add(request, case_id: int):
    actor = request.actor
    case = access.get_case(actor, case_id, Action.CONTRIBUTE, log=False)
    form = forms.NoteForm(posted(request), initial={"visibility": "case"})

    def save(data):
        services.case_note_add(actor=actor, case=case, kind=data["kind"], text=data["text"], visibility=data["visibility"])

    return _action_page(request, case, form, "referrals/case_form.html", "Add a chronology entry", save,
                        "Chronology entry added")


@page
def note_correct(request, case_id: int, note_id: int):
    actor = request.actor
    case = access.get_case(actor, case_id, log=False)
    note = selectors.case_note(actor, case, note_id)
    if not access.may_correct_note(actor, note):
        raise access.NotAllowed("Only the author's agency may correct this entry")
    form = forms.CorrectNoteForm(posted(request), initial={"text": note.text})

    def save(data):
        services.case_note_correct(actor=actor, note=note, text=data["text"])

    return _action_page(request, case, form, "referrals/case_form.html", "Correct a chronology entry", save,
                        "Correction added to the chronology", extra={"original": note})


@page
def intervention_add(request, case_id: int):
    actor = request.actor
    case = access.get_case(actor, case_id, Action.CONTRIBUTE, log=False)
    form = forms.InterventionForm(posted(request), initial={"provider_agency": str(actor.agency.pk)})
    form.fields["provider_agency"].choices = forms.agency_choices("Choose the provider", partnership=case.partnership_id)
    if access.is_cross_border(actor, case):
        # An agency working the case across a border may provide support itself.
        form.fields["provider_agency"].choices.append((str(actor.agency.pk), actor.agency.name))

    def save(data):
        services.intervention_record(
            actor=actor, case=case, provider_agency=agency_selectors.find_agency(data["provider_agency"]),
            kind=data["kind"], goals=data["goals"], status=data["status"], planned_start=data["planned_start"],
            started_on=data["started_on"], sessions_offered=data["sessions_offered"] or 0,
        )

    return _action_page(request, case, form, "referrals/case_form.html", "Add an intervention", save,
                        "Intervention added")


@page
def intervention_update(request, case_id: int, intervention_id: int):
    actor = request.actor
    case = access.get_case(actor, case_id, Action.CONTRIBUTE, log=False)
    intervention = selectors.case_intervention(actor, case, intervention_id)
    form = forms.InterventionUpdateForm(posted(request), initial={
        name: getattr(intervention, name)
        for name in ("status", "started_on", "ended_on", "sessions_offered", "sessions_attended", "outcome")
    })

    def save(data):
        services.intervention_update(actor=actor, intervention=intervention, **data)

    return _action_page(request, case, form, "referrals/case_form.html",
                        f"Update the intervention: {intervention.get_kind_display()}", save, "Intervention updated")


@page
def review_complete(request, case_id: int):
    actor = request.actor
    case = access.get_case(actor, case_id, Action.MANAGE, log=False)
    form = forms.ReviewForm(posted(request), initial={"risk_after": case.risk_level})

    def save(data):
        review = services.review_complete(actor=actor, case=case, risk_after=data["risk_after"],
                                          summary=data["summary"], decision=data["decision"])
        messages.info(request, f"Next review due {review.next_review_due:%d %B %Y}")

    return _action_page(request, case, form, "referrals/case_form.html", "Complete the review", save,
                        "Review completed")


@page
def share_add(request, case_id: int):
    actor = request.actor
    case = access.get_case(actor, case_id, Action.MANAGE, log=False)
    form = forms.ShareForm(posted(request))
    form.fields["agency"].choices = forms.share_recipient_choices(
        "Choose the agency", case=case, day=timezone.localdate(),
    )
    form.fields["agreement"].choices = [("", "The agreement in force with that agency")] + [
        (str(a.pk), f"{a.title} ({a.reference})")
        for a in agency_selectors.agreements_of(case.lead_agency_id)
    ]

    def save(data):
        expires = timezone.make_aware(dt.datetime.combine(data["expires_on"], dt.time(23, 59)))
        sharing.share_case(
            actor=actor, case=case, agency=agency_selectors.find_agency(data["agency"]),
            purpose=data["purpose"], lawful_basis=data["lawful_basis"],
            consent_sought=data["consent_sought"] == "yes", consent_reason=data["consent_reason"],
            expires_at=expires,
            agreement=agency_selectors.find_agreement(data["agreement"]),
            emergency_basis=data["emergency_basis"],
        )

    return _action_page(request, case, form, "referrals/case_form.html", "Share this case with an agency", save,
                        "Case shared", aliases={"expires_at": "expires_on"})


@page
def share_decline(request, case_id: int):
    """Record a decision not to share: it is a sharing decision too."""
    actor = request.actor
    case = access.get_case(actor, case_id, Action.MANAGE, log=False)
    form = forms.DeclineShareForm(posted(request))
    form.fields["agency"].choices = forms.share_recipient_choices(
        "Choose the agency", case=case, day=timezone.localdate(),
    )

    def save(data):
        sharing.decline_to_share(
            actor=actor, case=case, agency=agency_selectors.find_agency(data["agency"]),
            purpose=data["purpose"], reason=data["reason"], lawful_basis=data["lawful_basis"],
            consent_sought=data["consent_sought"] == "yes", consent_reason=data["consent_reason"],
        )

    return _action_page(request, case, form, "referrals/case_form.html", "Record a decision not to share", save,
                        "Decision not to share recorded")


@page
def share_revoke(request, case_id: int, grant_id: int):
    actor = request.actor
    case = access.get_case(actor, case_id, Action.MANAGE, log=False)
    grant = audit.case_share(actor, case, grant_id)
    form = forms.RevokeForm(posted(request))

    def save(data):
        sharing.revoke_share(actor=actor, grant=grant, reason=data["reason"])

    return _action_page(request, case, form, "referrals/case_form.html", f"Stop sharing with {grant.agency.name}",
                        save, f"{grant.agency.name} can no longer see this case", aliases={"grant": "reason"})


@page
def case_close(request, case_id: int):
    actor = request.actor
    case = access.get_case(actor, case_id, Action.CLOSE, log=False)
    form = forms.CloseForm(posted(request))

    def save(data):
        services.case_close(actor=actor, case=case, reason=data["reason"], outcome=data["outcome"])

    return _action_page(request, case, form, "referrals/case_form.html", "Close the case", save, "Case closed",
                        aliases={"case": "reason"})


@page
def case_reassign(request, case_id: int):
    actor = request.actor
    case = access.get_case(actor, case_id, Action.ALLOCATE, log=False)
    form = forms.ReassignForm(posted(request), initial={"key_worker": str(case.key_worker_id or "")})
    form.fields["key_worker"].choices = [("", "Choose a key worker")] + selectors.key_worker_choices(case.lead_agency)

    def save(data):
        worker = agency_selectors.find_person(data["key_worker"])
        services.case_allocate(actor=actor, case=case, key_worker=worker)

    return _action_page(request, case, form, "referrals/case_form.html", "Change the key worker", save,
                        "Key worker changed", aliases={"case": "key_worker"})


# Transfers to another partnership (the young person moved) ------------------


@page
def transfer_propose(request, case_id: int):
    actor = request.actor
    case = access.get_case(actor, case_id, Action.VIEW, log=False)
    if not access.may_propose_transfer(actor, case):
        raise access.NotAllowed("Only the lead agency's managers and the key worker propose a transfer")
    form = forms.TransferForm(posted(request))
    form.fields["to_partnership"].choices = [
        (str(p.pk), p.name) for p in access.transfer_destinations(actor, case)
    ]
    form.fields["note_ids"].choices = [
        (str(n.pk), f"{n.occurred_at:%d %b %Y}, {n.get_kind_display()}, {n.agency.name}: {redaction.shown(actor, n, 'text')[:120]}")
        for n in selectors.case_notes(actor, case).order_by("-occurred_at", "-pk")[:transfers.CHRONOLOGY_MAX_ENTRIES * 4]
    ]

    def save(data):
        transfer = transfers.transfer_propose(
            actor=actor, case=case, to_partnership=data["to_partnership"], reason=data["reason"],
            summary=data["summary"], note_ids=data["note_ids"], new_postcode=data["new_postcode"],
            consent=data["consent"], lawful_basis=data["lawful_basis"], consent_reason=data["consent_reason"],
            arrangement=data["arrangement"], joint_days=data["joint_days"],
        )
        messages.info(request, f"{transfer.to_partnership.name}'s hub has it as referral {transfer.referral.reference}")

    return _action_page(request, case, form, "referrals/case_form.html", "Propose a transfer to another partnership",
                        save, "Transfer proposed")


@page
def transfer_withdraw(request, case_id: int, transfer_id: int):
    actor = request.actor
    case = access.get_case(actor, case_id, Action.VIEW, log=False)
    transfer = selectors.case_transfer(actor, case, transfer_id)
    if not access.may_propose_transfer(actor, case):
        raise access.NotAllowed("Only the lead agency's managers and the key worker withdraw a transfer")
    form = forms.WithdrawTransferForm(posted(request))

    def save(data):
        transfers.transfer_withdraw(actor=actor, transfer=transfer, reason=data["reason"])

    return _action_page(request, case, form, "referrals/case_form.html",
                        f"Withdraw the transfer to {transfer.to_partnership.name}", save, "Transfer withdrawn",
                        aliases={"transfer": "reason"})
