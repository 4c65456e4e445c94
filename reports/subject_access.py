"""Subject access: recording a request, and the export that answers it.

Only a data-protection officer calls these (``access.may_export_subject_access``).
The export holds everything the system keeps about one young person, agency-
only chronology entries included: the officer answers for the whole
partnership, and decides what to withhold (third parties, exemptions) before
anything reaches the requester. Each export writes an access-log row and
stamps the request, in one transaction.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.postgres.fields import ArrayField
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from lib.errors import DomainError
from partnerships import vocabulary
from referrals.models import (
    Case,
    CaseNote,
    Intervention,
    Referral,
    Review,
    YoungPerson,
    YoungPersonMerge,
)
from reminders.models import Notification
from safeguarding import access, history, redaction
from safeguarding.access import Actor
from safeguarding.models import (
    AccessEvent,
    BreakGlassAccess,
    BreakGlassReview,
    ConsentRecord,
    ConsentWithdrawal,
    ShareGrant,
    SharingDecision,
    SubjectAccessRequest,
    subject_access_due_on,
)
from safeguarding.selectors import rows_about_cases

NOTES_MAX_LENGTH = 5_000


def _require_officer(actor: Actor) -> None:
    if not access.may_export_subject_access(actor):
        raise access.NotAllowed("Only a data-protection officer handles subject access requests")


def _basis(actor: Actor, sar: SubjectAccessRequest | None = None) -> str:
    prefix = f"Subject access request #{sar.pk}: " if sar is not None else "Subject access: "
    return prefix + access.access_log_basis(actor)


def subject_access_request_record(
    *, actor: Actor, young_person: YoungPerson | None, received_on: dt.date | None, notes: str = "",
) -> SubjectAccessRequest:
    """Record a request received on ``received_on`` about ``young_person``;
    it is due one calendar month later. A data-protection officer only."""
    _require_officer(actor)
    if young_person is None or not access.young_people_for_subject_access(actor).filter(pk=young_person.pk).exists():
        raise DomainError("Choose the young person the request is about", field="young_person")
    if received_on is None:
        raise DomainError("Enter the date the request was received", field="received_on")
    if received_on > timezone.localdate():
        raise DomainError("The date the request was received must be today or in the past", field="received_on")
    notes = (notes or "").strip()
    if len(notes) > NOTES_MAX_LENGTH:
        raise DomainError(f"Notes must be {NOTES_MAX_LENGTH:,} characters or fewer", field="notes")
    with transaction.atomic():
        sar = SubjectAccessRequest.objects.create(
            young_person=young_person, received_on=received_on, due_on=subject_access_due_on(received_on),
            recorded_by=actor.user, notes=notes,
        )
        access.log_access(actor, "record_subject_access_request", young_person,
                          detail={"request": sar.pk}, basis=_basis(actor, sar))
    return sar


def subject_access_request_complete(
    *, actor: Actor, sar: SubjectAccessRequest, completed_on: dt.date | None,
) -> SubjectAccessRequest:
    """Mark a request answered. A data-protection officer only; once only."""
    _require_officer(actor)
    if completed_on is None:
        raise DomainError("Enter the date the response was sent", field="completed_on")
    if completed_on > timezone.localdate() or completed_on < sar.received_on:
        raise DomainError("The response date must be between the date received and today", field="completed_on")
    with transaction.atomic():
        updated = SubjectAccessRequest.objects.filter(pk=sar.pk, completed_on__isnull=True).update(
            completed_on=completed_on,
        )
        if updated != 1:
            raise DomainError("This request has already been marked as answered", field="completed_on")
        access.log_access(actor, "complete_subject_access_request", sar.young_person,
                          detail={"request": sar.pk}, basis=_basis(actor, sar))
    sar.refresh_from_db()
    return sar


# ---------------------------------------------------------------------------
# The export
# ---------------------------------------------------------------------------


def _value(obj, model_field, words: dict | None = None) -> tuple[object, str]:
    """A field's stored value (for JSON) and its words (for the document):
    ``words`` names the values of fields whose words are data, not code
    (a referral's concerns and indicators, in its partnership's vocabulary)."""
    raw = getattr(obj, model_field.attname)
    if raw is None or raw == "" or raw == []:
        return raw, ""
    if words and model_field.name in words:
        named = words[model_field.name]
        return raw, ", ".join(str(named.get(v, v)) for v in raw)
    if isinstance(model_field, models.ForeignKey):
        return raw, str(getattr(obj, model_field.name))
    choices = dict(model_field.base_field.choices or []) if isinstance(model_field, ArrayField) else dict(
        model_field.choices or [])
    if isinstance(raw, list):
        return raw, ", ".join(str(choices.get(v, v)) for v in raw)
    if choices:
        return raw, str(choices.get(raw, raw))
    if isinstance(raw, dt.datetime):
        return raw.isoformat(), timezone.localtime(raw).strftime("%-d %B %Y %H:%M")
    if isinstance(raw, dt.date):
        return raw.isoformat(), raw.strftime("%-d %B %Y")
    if isinstance(raw, bool):
        return raw, "Yes" if raw else "No"
    return raw if isinstance(raw, (int, float, str, dict)) else str(raw), str(raw)


def _record(obj, *, exclude: tuple[str, ...] = (), words: dict | None = None) -> dict:
    """One record as ``{"data": {field: value}, "fields": [(label, words)]}``."""
    data, fields = {}, []
    free_text = redaction.FIELDS.get(type(obj), {})
    for model_field in obj._meta.concrete_fields:
        if model_field.name in exclude:
            continue
        if model_field.name in free_text:
            # Third parties' words are left out, and the place marked.
            raw = words_of = redaction.shown(redaction.SUBJECT_ACCESS, obj, model_field.name)
        else:
            raw, words_of = _value(obj, model_field, words)
        data[model_field.name] = raw
        fields.append((str(model_field.verbose_name).capitalize(), words_of or "–"))
    return {"data": data, "fields": fields}


def _records(queryset, **kwargs) -> list[dict]:
    return [_record(obj, **kwargs) for obj in queryset]


def _access_row(event: AccessEvent) -> dict:
    return {
        "occurred_at": event.occurred_at.isoformat(), "username": event.username, "agency": event.agency_name,
        "api_client": event.api_client, "action": event.action, "object_type": event.object_type,
        "object_id": event.object_id, "case_id": event.case_id, "channel": event.channel,
        "ip_address": event.ip_address, "request_id": event.request_id, "basis": event.basis,
        "break_glass": event.break_glass,
    }


def subject_access_export(*, actor: Actor, sar: SubjectAccessRequest, format: str) -> dict:
    """Everything held about the request's young person, as one dictionary
    (the JSON download and the readable document are both made from it).

    Writes the export's access-log row and stamps ``exported_at`` first, in
    one transaction, so the export lists itself in its own access log."""
    _require_officer(actor)
    with transaction.atomic():
        sar = SubjectAccessRequest.objects.select_for_update().select_related("young_person").get(pk=sar.pk)
        person = sar.young_person
        now = timezone.now()
        access.log_access(actor, "subject_access_export", person, detail={"request": sar.pk, "format": format},
                          basis=_basis(actor, sar))
        SubjectAccessRequest.objects.filter(pk=sar.pk).update(exported_at=now)
        return _everything_about(person, sar, actor, now)


def _everything_about(person: YoungPerson, sar: SubjectAccessRequest, actor: Actor, now) -> dict:
    cases = list(Case.objects.filter(young_person=person).select_related("lead_agency", "key_worker").order_by("pk"))
    case_ids = [case.pk for case in cases]
    referrals = redaction.with_passages(Referral.objects.filter(young_person=person)).select_related(
        "referring_agency", "referred_by", "screener", "decided_by", "case").order_by("received_at", "pk")
    referral_ids = list(referrals.values_list("pk", flat=True))
    case_sections, free_text_records = [], list(referrals)
    for case in cases:
        notes = list(redaction.with_passages(CaseNote.objects.filter(case=case)).select_related(
            "author", "agency", "corrects").order_by("occurred_at", "pk"))
        interventions = list(redaction.with_passages(Intervention.objects.filter(case=case)).select_related(
            "provider_agency", "recorded_by").order_by("created_at", "pk"))
        free_text_records += notes + interventions
        case_sections.append({
            "case": _record(case),
            "notes": _records(notes),
            "interventions": _records(interventions),
            "reviews": _records(Review.objects.filter(case=case).select_related("completed_by").order_by("due_on", "pk")),
            "share_grants": _records(ShareGrant.objects.filter(case=case).select_related(
                "agency", "agreement", "granted_by", "revoked_by").order_by("granted_at", "pk")),
            "sharing_decisions": _records(SharingDecision.objects.filter(case=case).select_related(
                "recipient", "agreement", "decided_by", "grant").order_by("decided_at", "pk")),
            # Issue 18: consent as recorded and withdrawn; emergency openings and their review.
            "consents": _records(ConsentRecord.objects.filter(case=case).select_related(
                "recorded_by", "recorded_by_agency").order_by("recorded_at", "pk")),
            "consent_withdrawals": _records(ConsentWithdrawal.objects.filter(case=case).select_related(
                "recorded_by", "recorded_by_agency").order_by("recorded_at", "pk")),
            "break_glass_openings": _records(BreakGlassAccess.objects.filter(case=case).select_related(
                "user", "agency").order_by("opened_at", "pk")),
            "break_glass_reviews": _records(BreakGlassReview.objects.filter(opening__case=case).select_related(
                "opening", "reviewed_by").order_by("reviewed_at", "pk")),
        })
    notifications = Notification.objects.filter(
        Q(case_id__in=case_ids) | Q(referral_id__in=referral_ids)).select_related("recipient").order_by("created_at", "pk")
    merges = YoungPersonMerge.objects.filter(Q(kept=person) | Q(merged=person)).select_related(
        "kept", "merged", "merged_by", "agency", "undone_by").order_by("merged_at", "pk")
    access_rows = AccessEvent.objects.filter(Q(young_person_id=person.pk) | rows_about_cases(case_ids)).order_by(
        "occurred_at", "id")
    anonymised_at = person.anonymised_at
    left_out = redaction.third_parties_left_out(free_text_records)
    passages = redaction.passages_about(case_ids, referral_ids)
    return {
        "generated_at": now.isoformat(),
        "generated_by": {"username": actor.label, "agency": actor.agency.name if actor.agency else ""},
        "subject_access_request": _record(sar),
        "anonymised": anonymised_at is not None,
        "anonymised_statement": (
            f"This record was anonymised on {timezone.localtime(anonymised_at):%-d %B %Y} under the retention "
            "schedule. Names, date of birth, identifiers and accounts were removed then; what remains is below."
            if anonymised_at else ""
        ),
        "third_parties_left_out": left_out,
        "third_parties_statement": redaction.SUBJECT_ACCESS_STATEMENT if left_out else "",
        "young_person": _record(person),
        "referrals": _records(referrals, words={
            "concerns": vocabulary.labels(person.partnership_id),
            "indicators": {
                pk: indicator.text for pk, indicator in vocabulary.indicators_by_id(
                    [i for referral in referrals for i in referral.indicators]).items()
            },
        }),
        "cases": case_sections,
        "notifications": _records(notifications, exclude=("dedup_key",)),
        "record_merges": _records(merges),
        "history": [
            change.as_dict() for change in redaction.shown_in_history(
                redaction.SUBJECT_ACCESS, history.changes(None, person, include_shares=True), passages)
        ],
        "access_log": [_access_row(event) for event in access_rows],
    }
