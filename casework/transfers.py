"""Transfers between partnerships: a case that follows a young person who
moves to a neighbouring borough.

1. ``transfer_propose``: the sending case's lead agency (a manager, or the
   key worker) proposes a transfer to another partnership with a reason, a
   summary and the chronology entries it chooses to send. It arrives there
   as a referral from the proposing agency, about the receiving
   partnership's own record of the young person, with the one-working-day
   clock of any referral; the sending chronology records the proposal.
2. The receiving hub screens that referral as any other. Its decision
   settles the transfer (``transfer_settle_accepted`` /
   ``transfer_settle_declined``, called by the screening services in the
   same transaction): accepted, a case opens (or the referral joins the open
   one) there and the sending case closes, or stays open jointly until an
   agreed day; declined, with the hub's reason, the sending case carries on.
3. ``transfer_withdraw``: the proposer's side withdraws a proposal the hub
   has not decided. ``transfer_end_joint_period``: scheduled work closes the
   sending case when the agreed joint period is over.

Every step is written to both chronologies (the receiving one once its case
exists: the referral carries the story until then) and to the access log.
What crosses the border is exactly what the proposer chose: the transfer
row (seen from both partnerships) and the receiving side's own records;
neither partnership reads the other's case. Writes on the other side go
through ``access.across_border``, only after the policy allowed the step.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from agencies.models import Partnership
from casework import records
from lib.errors import DomainError
from lib.inputs import choice, text
from partnerships import vocabulary
from partnerships.models import OTHER_CONCERN
from partnerships.rules import rules_in_force
from referrals import deadlines
from referrals.models import (
    TRANSFER_JOINT_DAYS_MAX,
    Case,
    CaseNote,
    CaseStatus,
    CaseTransfer,
    ClosureReason,
    Consent,
    LawfulBasis,
    NoteKind,
    NoteVisibility,
    Referral,
    ReferralStatus,
    TransferArrangement,
    TransferStatus,
    YoungPerson,
)
from safeguarding import access, redaction
from safeguarding.access import Action, Actor

REASON_MAX_LENGTH = 2_000
SUMMARY_MAX_LENGTH = 10_000
# Enough of a chronology to hand over; a longer story is the summary's job.
CHRONOLOGY_MAX_ENTRIES = 50
IDENTIFIERS = ("unique_pupil_number", "nhs_number", "police_reference")
COPIED_PERSON_FIELDS = ("given_name", "family_name", "preferred_name", "date_of_birth", "gender", "ethnicity")


def _person_name(user) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else "the system"


def _chronology_line(entry: dict) -> str:
    return f"- {entry['occurred_at'][:16].replace('T', ' ')}, {entry['kind']}, {entry['agency']}: {entry['text']}"


def _note(case: Case, *, actor: Actor, text_: str, at: dt.datetime, action: str, kind: str = NoteKind.DECISION,
          basis: str | None = None) -> CaseNote:
    """A chronology entry recording a step of the transfer, by the person
    who took it, in the access log."""
    note = CaseNote.objects.create(
        case=case, occurred_at=at, recorded_at=at, kind=kind, author=actor.user, agency=actor.agency, text=text_,
        visibility=NoteVisibility.CASE,
    )
    access.log_access(actor, action, note, basis=basis)
    return note


# ---------------------------------------------------------------------------
# Proposing
# ---------------------------------------------------------------------------


def _clean_proposal(actor: Actor, case: Case, data: dict[str, Any]) -> dict[str, Any]:
    destination_id = getattr(data.get("to_partnership"), "pk", data.get("to_partnership"))
    destination = access.transfer_destinations(actor, case).filter(pk=destination_id).first() if str(
        destination_id or "").isdigit() else None
    if destination is None:
        raise DomainError("Choose the partnership the young person has moved to", field="to_partnership",
                          code="required" if not destination_id else "invalid")
    cleaned: dict[str, Any] = {
        "to_partnership": destination,
        "reason": text(data.get("reason"), field="reason", label="Why the case should move",
                       max_length=REASON_MAX_LENGTH),
        "summary": text(data.get("summary"), field="summary", label="Summary for the receiving hub",
                        max_length=SUMMARY_MAX_LENGTH),
        "new_postcode": text(data.get("new_postcode"), field="new_postcode", label="New postcode", max_length=10,
                             required=False).upper(),
        "consent": choice(data.get("consent"), Consent, field="consent", label="Consent"),
        "arrangement": choice(data.get("arrangement"), TransferArrangement, field="arrangement",
                              label="What happens to this case"),
    }
    lawful_basis = text(data.get("lawful_basis"), field="lawful_basis", label="Lawful basis", required=False)
    cleaned["lawful_basis"] = choice(lawful_basis, LawfulBasis, field="lawful_basis", label="Lawful basis") if lawful_basis else ""
    cleaned["consent_reason"] = text(data.get("consent_reason"), field="consent_reason",
                                     label="Why consent was not sought", max_length=REASON_MAX_LENGTH, required=False)
    if cleaned["consent"] == Consent.NOT_SOUGHT:
        if not cleaned["lawful_basis"]:
            raise DomainError("Give the lawful basis for transferring without consent", field="lawful_basis",
                              code="required")
        if not cleaned["consent_reason"]:
            raise DomainError("Say why consent was not sought", field="consent_reason", code="required")
    joint_days = data.get("joint_days")
    if cleaned["arrangement"] == TransferArrangement.JOINT:
        if not isinstance(joint_days, int) or isinstance(joint_days, bool) or not 1 <= joint_days <= TRANSFER_JOINT_DAYS_MAX:
            raise DomainError(f"Enter the joint period as a whole number of days from 1 to {TRANSFER_JOINT_DAYS_MAX}",
                              field="joint_days")
        cleaned["joint_days"] = joint_days
    else:
        cleaned["joint_days"] = None
    # The entries to send: only ones the proposer may read on this case.
    wanted = data.get("note_ids") or []
    if not isinstance(wanted, (list, tuple, set)) or not all(str(pk).isdigit() for pk in wanted):
        raise DomainError("Choose chronology entries from the list", field="note_ids")
    wanted = {int(pk) for pk in wanted}
    if len(wanted) > CHRONOLOGY_MAX_ENTRIES:
        raise DomainError(f"Choose at most {CHRONOLOGY_MAX_ENTRIES} chronology entries: summarise the rest",
                          field="note_ids")
    notes = list(
        redaction.with_passages(access.visible_notes(actor, case).filter(pk__in=wanted).select_related("agency"))
        .order_by("occurred_at", "pk")
    )
    if len(notes) != len(wanted):
        raise DomainError("Choose chronology entries from the list", field="note_ids")
    cleaned["chronology"] = [
        {
            "occurred_at": timezone.localtime(n.occurred_at).isoformat(), "kind": n.get_kind_display(),
            # Another partnership reads it: every withheld passage stays a marker.
            "agency": n.agency.name, "text": redaction.shown(None, n, "text"),
        }
        for n in notes
    ]
    return cleaned


def _receiving_record(actor: Actor, case: Case, to: Partnership, new_postcode: str) -> tuple[YoungPerson, list[str]]:
    """The receiving partnership's own record of the young person, made from
    the sending one (names, date of birth, gender, ethnicity, identifiers);
    an identifier the receiving partnership already holds on another record
    is left off, and the hub links the two when it screens. Written inside
    the receiving partnership's boundary."""
    person = case.young_person
    values = {name: getattr(person, name) for name in COPIED_PERSON_FIELDS}
    withheld = []
    for identifier in IDENTIFIERS:
        value = getattr(person, identifier)
        if value and YoungPerson.objects.filter(partnership=to, **{identifier: value}).exists():
            withheld.append(identifier)
            value = ""
        values[identifier] = value
    record = YoungPerson.objects.create(
        partnership=to, recorded_by=actor.agency, postcode=new_postcode, **values,
    )
    return record, withheld


def _receiving_concerns(case: Case, destination: Partnership) -> tuple[list[str], str]:
    """The case's concerns (from all its referrals) as the receiving
    partnership's vocabulary can carry them: a concern it also uses keeps
    its code; any other is named, in the sending partnership's words, under
    "other". Indicators stay behind (they are the sending partnership's)."""
    referrals = list(Referral.objects.filter(case=case).order_by("received_at", "pk"))
    codes = list(dict.fromkeys(code for referral in referrals for code in referral.concerns))
    known = set(vocabulary.choosable(destination.pk).values_list("code", flat=True))
    named = vocabulary.labels(case.partnership_id)
    kept = [code for code in codes if code in known and code != OTHER_CONCERN]
    described = [named.get(code, code) for code in codes if code not in kept and code != OTHER_CONCERN]
    described += [r.concerns_other for r in referrals if r.concerns_other]
    if described and OTHER_CONCERN in known:
        kept.append(OTHER_CONCERN)
    if not kept:
        raise DomainError(f"{destination.name} uses none of this case's concerns: ask its hub to add them",
                          field="to_partnership", code="no_common_concern")
    other = "; ".join(dict.fromkeys(described)) if OTHER_CONCERN in kept else ""
    return kept, other[:200]


@transaction.atomic
def transfer_propose(*, actor: Actor, case: Case, **proposal: Any) -> CaseTransfer:
    """Propose to move a case to the partnership the young person moved to.

    Who: the lead agency's managers and the case's key worker, as named
    people working in the case's partnership (``access.may_propose_transfer``);
    others who see the case get ``NotAllowed``, others ``NotVisible``.
    ``proposal``: ``to_partnership``, ``reason``, ``summary``, ``note_ids``
    (chronology entries the proposer may read, at most 50), ``new_postcode``,
    ``consent`` (with ``lawful_basis`` and ``consent_reason`` when not
    sought), ``arrangement`` and, for a joint period, ``joint_days`` (1-90).

    Guarantees: one proposal at a time per case; nothing is written unless
    every rule holds; in one transaction, the receiving partnership gets its
    own record of the young person and a referral from the proposer's agency
    with the same concerns and risk, the reason and summary as its account
    and the decision due one working day on; the chosen entries are copied
    onto the transfer as they read; the sending chronology and the access
    log (both sides) record the proposal.
    """
    case = access.get_case(actor, getattr(case, "pk", case), Action.VIEW, log=False, for_update=True)
    if not access.may_propose_transfer(actor, case):
        raise access.NotAllowed("Only the lead agency's managers and the key worker propose a transfer")
    if CaseTransfer.objects.filter(case=case, status=TransferStatus.PROPOSED).exists():
        raise DomainError("A transfer of this case is already waiting for the receiving hub's decision",
                          field="to_partnership", code="already_proposed")
    cleaned = _clean_proposal(actor, case, proposal)
    destination: Partnership = cleaned["to_partnership"]
    now = timezone.now()
    concerns, concerns_other = _receiving_concerns(case, destination)
    rules = rules_in_force(destination.pk, now)
    decision_due = deadlines.decision_due_at(now, case.risk_level, rules=rules)
    account = (
        f"Transfer of case {case.reference} from {case.partnership.name}, proposed by "
        f"{_person_name(actor.user)} ({actor.agency.name}).\n\nWhy: {cleaned['reason']}\n\n{cleaned['summary']}"
    )

    with access.across_border(destination.pk):
        record, withheld = _receiving_record(actor, case, destination, cleaned["new_postcode"])
        referral = Referral.objects.create(
            partnership=destination, young_person=record, referring_agency=actor.agency, referred_by=actor.user,
            received_at=now, concerns=concerns, concerns_other=concerns_other,
            risk_level=case.risk_level, account=account[:10_000], consent=cleaned["consent"],
            lawful_basis=cleaned["lawful_basis"], consent_reason=cleaned["consent_reason"],
            decision_due_at=decision_due,
            alert_at=deadlines.alert_at(now, decision_due, case.risk_level, rules=rules),
        )
        transfer = CaseTransfer.objects.create(
            case=case, from_partnership_id=case.partnership_id, to_partnership=destination,
            proposed_by=actor.user, proposed_by_agency=actor.agency, proposed_at=now, reason=cleaned["reason"],
            summary=cleaned["summary"], chronology=cleaned["chronology"], new_postcode=cleaned["new_postcode"],
            consent=cleaned["consent"], lawful_basis=cleaned["lawful_basis"],
            consent_reason=cleaned["consent_reason"], arrangement=cleaned["arrangement"],
            joint_days=cleaned["joint_days"], referral=referral,
        )
        arrived = f"Transfer from {case.partnership.name} (case {case.reference})"
        access.log_access(actor, "create", record, basis=arrived,
                          detail={"transfer": transfer.pk, "identifiers_withheld": withheld} if withheld else
                          {"transfer": transfer.pk})
        access.log_access(actor, "submit", referral, basis=arrived, detail={"transfer": transfer.pk})

    arrangement = (
        f"If accepted, this case stays open jointly for {cleaned['joint_days']} days."
        if cleaned["arrangement"] == TransferArrangement.JOINT else "If accepted, this case closes."
    )
    _note(
        case, actor=actor, at=now, action="propose_transfer",
        text_=(
            f"Transfer to {destination.name} proposed by {_person_name(actor.user)} ({actor.agency.name}). "
            f"Why: {cleaned['reason']}\n\nSent to {destination.name}'s hub: the summary and "
            f"{len(cleaned['chronology'])} chronology entries. {arrangement}"
        ),
    )
    return transfer


@transaction.atomic
def transfer_withdraw(*, actor: Actor, transfer: CaseTransfer, reason: str) -> CaseTransfer:
    """Withdraw a proposal the receiving hub has not yet decided.

    Who: as ``transfer_propose``, on the sending case. Guarantees: a reason
    is required; the referral in the receiving partnership is withdrawn with
    it, so it leaves that hub's queue; both records say why.
    """
    case_id = getattr(transfer, "case_id", None)
    case = access.get_case(actor, case_id, Action.VIEW, log=False, for_update=True) if case_id else None
    current = access.case_transfers(actor, case).select_for_update().filter(pk=transfer.pk).first() if case else None
    if current is None:
        raise access.NotVisible("No such transfer")
    if not access.may_propose_transfer(actor, case):
        raise access.NotAllowed("Only the lead agency's managers and the key worker withdraw a transfer")
    if current.status != TransferStatus.PROPOSED:
        raise DomainError(f"This transfer has already been {current.get_status_display().lower()}",
                          field="transfer", code="already_decided")
    reason = text(reason, field="reason", label="Why it is withdrawn", max_length=REASON_MAX_LENGTH)
    now = timezone.now()
    with access.across_border(current.to_partnership_id):
        referral = Referral.objects.select_for_update().get(pk=current.referral_id)
        if referral.is_open:
            referral.status = ReferralStatus.WITHDRAWN
            referral.decided_at = now
            referral.decided_by = actor.user
            referral.decision_reason = f"Transfer withdrawn by the sending partnership: {reason}"
            referral.save()
            access.log_access(actor, "withdraw", referral, basis="Transfer withdrawn by the sending partnership")
    current.status = TransferStatus.WITHDRAWN
    current.decided_at = now
    current.decided_by = actor.user
    current.decision_reason = reason
    current.save(update_fields=["status", "decided_at", "decided_by", "decision_reason"])
    _note(case, actor=actor, at=now, action="withdraw_transfer",
          text_=f"Transfer to {current.to_partnership.name} withdrawn by {_person_name(actor.user)}: {reason}")
    return current


# ---------------------------------------------------------------------------
# Settled by the receiving hub's screening decision
# ---------------------------------------------------------------------------


def transfer_settle_accepted(*, actor: Actor, referral: Referral, case: Case, joined: bool) -> CaseTransfer | None:
    """Called by ``services.referral_accept`` in its transaction, after the
    hub accepted ``referral`` into ``case`` (opened, or ``joined``): if the
    referral is a proposed transfer, it is accepted. The new case's
    chronology gets the reason, summary and entries sent; on the sending
    side the case closes (reason "transferred") or stays open jointly until
    the agreed day, and its chronology says so. Returns the transfer, or
    None for an ordinary referral."""
    transfer = access.pending_transfer(referral.pk, for_update=True)
    if transfer is None:
        return None
    now = timezone.now()
    today = timezone.localdate(now)
    transfer.status = TransferStatus.ACCEPTED
    transfer.decided_at = now
    transfer.decided_by = actor.user
    transfer.new_case = case
    if transfer.arrangement == TransferArrangement.JOINT:
        transfer.joint_until = today + dt.timedelta(days=transfer.joint_days)
    transfer.save(update_fields=["status", "decided_at", "decided_by", "new_case", "joint_until"])
    sending = Partnership.objects.get(pk=transfer.from_partnership_id)
    entries = "\n".join(_chronology_line(entry) for entry in transfer.chronology) or "(none)"
    _note(
        case, actor=actor, at=now, kind=NoteKind.INFORMATION,
        action="accept_transfer",
        text_=(
            f"{'Joined to this case' if joined else 'Case opened'} on the transfer from {sending.name}, proposed "
            f"{timezone.localtime(transfer.proposed_at):%d %B %Y} by {_person_name(transfer.proposed_by)} "
            f"({transfer.proposed_by_agency.name}).\n\nWhy: {transfer.reason}\n\n{transfer.summary}\n\n"
            f"Chronology entries sent:\n{entries}"
        ),
    )
    lead = case.lead_agency.name
    with access.across_border(transfer.from_partnership_id):
        sending_case = Case.objects.select_for_update().get(pk=transfer.case_id)
        accepted = (
            f"Transfer accepted by {case.partnership.name}'s hub ({_person_name(actor.user)}, {actor.agency.name}): "
            f"case {case.reference} is open there with {lead} as lead agency."
        )
        basis = f"Transfer accepted by the receiving hub ({case.partnership.name})"
        closing = sending_case.is_open and transfer.joint_until is None
        if transfer.joint_until is not None and sending_case.is_open:
            accepted += f" This case stays open jointly until {transfer.joint_until:%d %B %Y}."
        elif closing:
            accepted += " This case is closed."
        _note(sending_case, actor=actor, at=now, action="accept_transfer",
              basis=basis, text_=accepted)
        if closing:
            ended = records.close_case_record(
                sending_case, reason=ClosureReason.TRANSFERRED,
                outcome=f"Transferred to {case.partnership.name} (case {case.reference}, {lead}).",
                closed_by=actor.user, now=now, today=today,
            )
            access.log_access(actor, "close", sending_case, basis=basis,
                              detail={"reason": ClosureReason.TRANSFERRED, "interventions_ended": ended,
                                      "transfer": transfer.pk})
    return transfer


def transfer_settle_declined(*, actor: Actor, referral: Referral, reason: str) -> CaseTransfer | None:
    """Called by the screening services that turn a referral down (signpost,
    no further action), in their transaction: if the referral is a proposed
    transfer, it is declined with the hub's reason, which the sending
    case's chronology records; that case carries on as it was."""
    transfer = access.pending_transfer(referral.pk, for_update=True)
    if transfer is None:
        return None
    now = timezone.now()
    transfer.status = TransferStatus.DECLINED
    transfer.decided_at = now
    transfer.decided_by = actor.user
    transfer.decision_reason = reason
    transfer.save(update_fields=["status", "decided_at", "decided_by", "decision_reason"])
    receiving = referral.partnership.name
    with access.across_border(transfer.from_partnership_id):
        sending_case = Case.objects.get(pk=transfer.case_id)
        _note(sending_case, actor=actor, at=now, action="decline_transfer",
              basis=f"Transfer declined by the receiving hub ({receiving})",
              text_=f"Transfer declined by {receiving}'s hub ({_person_name(actor.user)}, {actor.agency.name}): "
                    f"{reason}\n\nThis case stays open here.")
    return transfer


@transaction.atomic
def transfer_end_joint_period(*, transfer_id: int, today: dt.date | None = None) -> bool:
    """Close the sending case of an accepted transfer once its joint period
    is over. Scheduled work (the system actor, inside the sending
    partnership; the task passes the id only). Safe to run twice: only an
    open sending case past ``joint_until`` is closed, under its row lock;
    returns whether this call closed it."""
    today = today or timezone.localdate()
    transfer = CaseTransfer.objects.filter(pk=transfer_id, status=TransferStatus.ACCEPTED, joint_until__lt=today).first()
    if transfer is None:
        return False
    case = Case.objects.select_for_update().filter(pk=transfer.case_id, status=CaseStatus.OPEN).first()
    if case is None:
        return False
    now = timezone.now()
    system = access.system_actor(label="transfer", partnership=transfer.from_partnership_id)
    receiving = Partnership.objects.get(pk=transfer.to_partnership_id)
    records.close_case_record(
        case, reason=ClosureReason.TRANSFERRED,
        outcome=f"Transferred to {receiving.name}; the joint period agreed with its hub ended "
                f"{transfer.joint_until:%d %B %Y}.",
        closed_by=None, now=now, today=today,
    )
    access.log_access(system, "close", case, detail={"reason": ClosureReason.TRANSFERRED, "transfer": transfer.pk})
    return True
