"""Consent by age and competence, and its withdrawal.

A case's consent is recorded as a ``ConsentRecord``: given by the young
person (at or above the partnership's competence age in force, 13 by
default, and judged competent by the recorder), by a parent or carer, or
not sought (then the lawful basis relied on and why). The referral's own
consent question (``Referral.consent``) is where it starts; these records
are what the case holds from then on, newest first.

Withdrawal (``consent_withdraw``) ends, in its own transaction, every
active share grant of the case that rests on consent (``lawful_basis``
"consent"): its permission rows go, the caseload index drops it (the
triggers), and every channel that asks the access policy (pages, the
partner API, exports, reminders, panel papers) stops showing the case to
that agency when this commits, before any task runs. A share resting on
another lawful basis is left as it is. The withdrawal is in the chronology
and the access log; telling the agencies is ``reminders.services
.consent_withdrawn_record`` (in-app, in the same transaction, and e-mailed
once after commit).

Like ``safeguarding.services``: keyword-only, one transaction each,
validation before any write, ``access.NotVisible`` / ``access.NotAllowed``
for what is out of reach, ``DomainError`` for bad input.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from lib import inputs
from lib.errors import DomainError
from partnerships.rules import rules_in_force
from referrals.models import Case, CaseNote, Consent, LawfulBasis, NoteKind, NoteVisibility
from safeguarding import access
from safeguarding.access import Action, Actor
from safeguarding.models import ConsentRecord, ConsentWithdrawal, ShareGrant

TEXT_MAX_LENGTH = 5_000


def age_on(born: dt.date, day: dt.date) -> int:
    """Completed years between a date of birth and a day."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _person(actor: Actor) -> None:
    if actor.user is None or access.is_machine_client(actor):
        raise access.NotAllowed("Consent is recorded by a named person in the pages")


def _chronology(actor: Actor, case: Case, text: str, now: dt.datetime) -> CaseNote:
    """A decision entry in the case's chronology, case-wide, as the actor."""
    return CaseNote.objects.create(
        case=case, occurred_at=now, recorded_at=now, kind=NoteKind.DECISION, author=actor.user,
        agency=actor.agency, text=text, visibility=NoteVisibility.CASE,
    )


def case_consents(actor: Actor, case: Case, *, may_view: bool | None = None) -> QuerySet[ConsentRecord]:
    """The case's consent records, newest first, with their withdrawals:
    for anyone who may see the case (a shared agency should know what its
    access rests on). ``may_view``: ``may(actor, VIEW, case)`` when the
    caller has it (the case page, which has just read the case through
    ``get_case``)."""
    if not (access.may(actor, Action.VIEW, case) if may_view is None else may_view):
        return ConsentRecord.objects.none()
    return (
        ConsentRecord.objects.filter(case=case)
        .select_related("recorded_by", "recorded_by_agency", "withdrawal", "withdrawal__recorded_by")
        .order_by("-recorded_at", "-pk")
    )


def referral_consent(actor: Actor, case: Case, *, may_view: bool | None = None) -> str:
    """What the referral behind the case recorded about consent, in words
    (where the case's consent starts before any record of its own); "" for
    anyone who may not see the case, or a case with no referral."""
    if not (access.may(actor, Action.VIEW, case) if may_view is None else may_view):
        return ""
    referral = case.referrals.order_by("-received_at", "-pk").only("consent", "lawful_basis").first()
    if referral is None:
        return ""
    words = referral.get_consent_display().lower()
    return f"{words}: {referral.get_lawful_basis_display()}" if referral.lawful_basis else words


def consent_in_force(actor: Actor, case: Case) -> ConsentRecord | None:
    """The case's latest consent record, unless it was withdrawn (then
    none is in force)."""
    latest = case_consents(actor, case).first()
    if latest is None or latest.withdrawn is not None:
        return None
    return latest


def withdrawable_consent(actor: Actor, case: Case, consent_id) -> ConsentRecord:
    """A consent of the case that was given and not yet withdrawn, for those
    who manage the case; else ``access.NotVisible``."""
    if not access.may(actor, Action.MANAGE, case) or not str(consent_id).isdigit():
        raise access.NotVisible("No such consent")
    found = (
        ConsentRecord.objects.filter(pk=consent_id, case=case, withdrawal__isnull=True)
        .exclude(given_by=Consent.NOT_SOUGHT).first()
    )
    if found is None:
        raise access.NotVisible("No such consent")
    return found


@transaction.atomic
def consent_record(
    *,
    actor: Actor,
    case: Case,
    given_by: str,
    judged_competent: bool = False,
    lawful_basis: str = "",
    reason: str = "",
) -> ConsentRecord:
    """Record the consent a case's work and sharing rest on.

    Who: the lead agency's managers and the key worker (``Action.MANAGE``),
    as a named person in the pages. Guarantees: consent from the young
    person only at or above the partnership's competence age in force
    today (``rules_in_force(...).consent_competence_age``) and only when the
    recorder judged them competent; "not sought" needs the lawful basis and
    the reason; the age, the competence age applied, who recorded it and
    when are kept; the record is in the chronology and the access log, and
    can never be changed (a new record supersedes it).
    """
    case = access.get_case(actor, getattr(case, "pk", case), Action.MANAGE, log=False, for_update=True)
    _person(actor)
    now = timezone.now()
    given_by = inputs.choice(given_by, Consent, field="given_by", label="Who gave consent")
    if not isinstance(judged_competent, bool):
        raise DomainError("Say whether the young person was judged competent", field="judged_competent")
    reason = inputs.text(reason, field="reason", label="The reason", max_length=TEXT_MAX_LENGTH,
                         required=given_by == Consent.NOT_SOUGHT)
    competence_age = rules_in_force(case.partnership_id, now).consent_competence_age
    age = age_on(case.young_person.date_of_birth, timezone.localdate(now))
    if given_by == Consent.YOUNG_PERSON:
        if age < competence_age:
            raise DomainError(
                f"The young person is {age}: in this partnership consent is taken from the young person from "
                f"{competence_age}. Record a parent's or carer's consent, or that consent was not sought",
                field="given_by", code="below_competence_age",
            )
        if not judged_competent:
            raise DomainError(
                "Confirm that you judged the young person competent to consent, or record a parent's or carer's "
                "consent", field="judged_competent", code="required",
            )
    else:
        judged_competent = False
    if given_by == Consent.NOT_SOUGHT:
        lawful_basis = inputs.choice(lawful_basis, LawfulBasis, field="lawful_basis", label="Lawful basis")
        if lawful_basis == LawfulBasis.CONSENT:
            raise DomainError("Consent was not sought: choose the lawful basis relied on instead",
                              field="lawful_basis")
    elif lawful_basis:
        raise DomainError("A lawful basis is recorded only when consent was not sought", field="lawful_basis")
    referral = case.referrals.order_by("-received_at", "-pk").first()
    record = ConsentRecord.objects.create(
        partnership_id=case.partnership_id, young_person_id=case.young_person_id, case=case, referral=referral,
        given_by=given_by, age_when_recorded=age, judged_competent=judged_competent,
        competence_age=competence_age, lawful_basis=lawful_basis, reason=reason, recorded_by=actor.user,
        recorded_by_agency=actor.agency, recorded_at=now,
    )
    words = record.get_given_by_display().lower()
    if given_by == Consent.YOUNG_PERSON:
        words += f" (aged {age}, judged competent)"
    if given_by == Consent.NOT_SOUGHT:
        words += f": {record.get_lawful_basis_display()}. {reason}"
    _chronology(actor, case, f"Consent recorded: {words}", now)
    access.log_access(actor, "record_consent", case, detail={"consent": record.pk, "given_by": given_by})
    return record


@transaction.atomic
def consent_withdraw(*, actor: Actor, case: Case, consent: ConsentRecord, withdrawn_by: str,
                     reason: str = "") -> ConsentWithdrawal:
    """Record that consent was withdrawn, and end what rested on it.

    Who: as ``consent_record``. Guarantees, all in this transaction: the
    consent was given (not "not sought") and is not already withdrawn;
    every active share grant of the case resting on consent is revoked, its
    permission rows removed (its agency sees nothing of the case in any
    channel once this commits), each in the access log; a grant with
    another lawful basis is untouched; the withdrawal, with the grants it
    ended, is in the chronology and the access log.
    """
    case = access.get_case(actor, getattr(case, "pk", case), Action.MANAGE, log=False, for_update=True)
    _person(actor)
    consent = withdrawable_consent(actor, case, getattr(consent, "pk", consent))
    # Lock the consent's row against a second withdrawal racing this one
    # (the one-to-one also refuses it).
    ConsentRecord.objects.select_for_update().filter(pk=consent.pk).get()
    if ConsentWithdrawal.objects.filter(consent=consent).exists():
        raise DomainError("This consent has already been withdrawn", field="consent", code="already_withdrawn")
    allowed = [value for value, _ in ConsentWithdrawal._meta.get_field("withdrawn_by").choices]
    if withdrawn_by not in allowed:
        raise DomainError("Choose who withdrew consent", field="withdrawn_by", code="required")
    reason = inputs.text(reason, field="reason", label="The reason", max_length=TEXT_MAX_LENGTH, required=False)
    now = timezone.now()
    withdrawal = ConsentWithdrawal.objects.create(
        partnership_id=case.partnership_id, consent=consent, case=case, withdrawn_by=withdrawn_by, reason=reason,
        recorded_by=actor.user, recorded_by_agency=actor.agency, recorded_at=now,
    )
    ending = list(
        access.active_grants(now).filter(case=case, lawful_basis=LawfulBasis.CONSENT)
        .select_for_update().select_related("agency").order_by("pk")
    )
    for grant in ending:
        grant.revoked_at = now
        grant.revoked_by = actor.user
        grant.revoke_reason = f"Consent withdrawn (consent #{consent.pk})"
        grant.permissions_removed_at = now
        grant.save(update_fields=["revoked_at", "revoked_by", "revoke_reason", "permissions_removed_at"])
    withdrawal.ended_grants.set(ending)
    access.sync_case_permissions(case, at=now)
    for grant in ending:
        access.log_access(actor, "revoke_share", grant,
                          detail={"agency": grant.agency_id, "consent_withdrawn": withdrawal.pk})
    who = dict(Consent.choices)[withdrawn_by].replace("Given", "Withdrawn")
    ended = ", ".join(grant.agency.name for grant in ending) or "no share rested on it"
    _chronology(actor, case, f"Consent withdrawn: {who.lower()}. Shares ended: {ended}."
                + (f" {reason}" if reason else ""), now)
    access.log_access(
        actor, "withdraw_consent", case,
        detail={"consent": consent.pk, "withdrawal": withdrawal.pk, "ended_grants": [g.pk for g in ending]},
    )
    return withdrawal


def withdrawal_told(withdrawal_id: int) -> tuple[ConsentWithdrawal | None, list[ShareGrant]]:
    """For the notification services: a withdrawal and the grants it ended
    (their agencies are told). Ids and references only leave here."""
    withdrawal = ConsentWithdrawal.objects.select_related("case").filter(pk=withdrawal_id).first()
    if withdrawal is None:
        return None, []
    return withdrawal, list(withdrawal.ended_grants.select_related("agency").order_by("agency_id"))
