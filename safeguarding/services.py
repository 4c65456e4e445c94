"""Sharing write paths: share a case, decline to share, revoke, expire.

Every decision, to share or not, is recorded as a ``SharingDecision`` with
its purpose, lawful basis, the agreement it rests on (or the recorded
emergency) and why consent was or was not sought. Grants change who may see
a case, so every grant, revocation and expiry re-syncs the case's permission
rows in the same transaction and writes an access-log row.

Like ``casework.services``: keyword-only, one transaction each, validation
before any write, ``access.NotVisible`` / ``access.NotAllowed`` for objects
and actions outside the actor's reach, ``DomainError`` for bad input.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from agencies.models import Agency, InformationSharingAgreement
from lib import inputs
from lib.errors import DomainError
from referrals.models import Case, LawfulBasis
from safeguarding import access
from safeguarding.access import Action, Actor
from safeguarding.models import (
    ShareGrant,
    SharingDecision,
    SharingOutcome,
    SpecialCategoryCondition,
)

TEXT_MAX_LENGTH = 5_000


def _text(value, *, field: str, label: str, required: bool = True) -> str:
    return inputs.text(value, field=field, label=label, max_length=TEXT_MAX_LENGTH, required=required)


def _named_person(actor: Actor) -> None:
    # Grants and decisions name the person who made them (NOT NULL columns).
    if actor.user is None:
        raise access.NotAllowed("Sharing decisions are made by a named person")


def _recipient(case: Case, agency) -> tuple[Agency, bool]:
    """The agency a case may be shared with, and whether the share crosses
    a partnership's border (the agency does not work in the case's
    partnership but in another active one: then only under a cross-border
    agreement, see ``_agreement_for``)."""
    if not isinstance(agency, Agency) or agency.pk is None:
        raise DomainError("Choose the agency", field="agency", code="required")
    recipient = Agency.objects.filter(pk=agency.pk, is_active=True).first()
    if recipient is None:
        raise DomainError("That agency is not an active partner", field="agency")
    if recipient.pk == case.lead_agency_id:
        raise DomainError(f"{recipient.name} leads this case already", field="agency")
    if recipient.partnerships.filter(pk=case.partnership_id).exists():
        return recipient, False
    if not recipient.partnerships.filter(is_active=True).exists():
        raise DomainError(f"{recipient.name} does not work in any partnership", field="agency")
    return recipient, True


def _one_year_after(moment: dt.datetime) -> dt.datetime:
    local = timezone.localtime(moment)
    try:
        return local.replace(year=local.year + 1)
    except ValueError:  # 29 February
        return local.replace(year=local.year + 1, day=28)


def _agreements_covering(lead_agency_id: int, recipient_id: int, day: dt.date, *, cross_border: bool = False):
    agreements = (
        InformationSharingAgreement.objects.filter(parties=lead_agency_id)
        .filter(parties=recipient_id)
        .filter(starts_on__lte=day)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day))
    )
    if cross_border:
        agreements = agreements.filter(cross_border=True)
    return agreements.distinct()


def _agreement_for(case: Case, recipient: Agency, agreement, *, day: dt.date, required: bool,
                   cross_border: bool = False):
    """The agreement a decision rests on: the one named, which must be in
    force today between the lead agency and the recipient, or else the one
    such agreement there is. Several in force and none named: the decider
    must choose, since it is their decision that rests on it. Across a
    border only a cross-border agreement will do, and one is always needed
    (an emergency basis alone does not carry a case into another
    partnership)."""
    covering = _agreements_covering(case.lead_agency_id, recipient.pk, day, cross_border=cross_border)
    if agreement is not None:
        pk = getattr(agreement, "pk", None)
        found = covering.filter(pk=pk).first() if pk is not None else None
        if found is None:
            raise DomainError(
                "That agreement is not a cross-border agreement in force between the lead agency and this agency"
                if cross_border else "That agreement is not in force between the lead agency and this agency",
                field="agreement",
            )
        return found
    if not required and not cross_border:
        return None
    candidates = list(covering[:2])
    if len(candidates) == 1:
        return candidates[0]
    if len(candidates) > 1:
        raise DomainError("Choose the information-sharing agreement this rests on", field="agreement",
                          code="required")
    if cross_border:
        raise DomainError(
            f"{recipient.name} works in another partnership: a case is shared across the border only under a "
            "cross-border information-sharing agreement in force between the two agencies",
            field="agreement", code="no_cross_border_agreement",
        )
    return None


@transaction.atomic
def share_case(
    *,
    actor: Actor,
    case: Case,
    agency: Agency,
    purpose: str,
    lawful_basis: str,
    consent_sought: bool,
    consent_reason: str,
    expires_at: dt.datetime,
    special_category_condition: str = "",
    agreement: InformationSharingAgreement | None = None,
    emergency_basis: str = "",
) -> ShareGrant:
    """Share a case with another agency until ``expires_at``.

    Who: the lead agency's managers and the case's key worker
    (``Action.MANAGE``), as a named person. Guarantees: the recipient is an
    active agency that does not lead the case and holds no active grant on
    it; the sharing rests on an information-sharing agreement in force today
    between the lead agency and the recipient (the one named, or the only
    one there is) or on a recorded ``emergency_basis``; the grant ends in
    the future and at most 12 months from now; purpose, lawful basis and the
    reason consent was or was not sought are recorded, and so is the
    ``SharingDecision`` (outcome "shared"). The recipient can see the case
    as soon as this commits.
    """
    case = access.get_case(actor, getattr(case, "pk", case), Action.MANAGE, log=False, for_update=True)
    _named_person(actor)
    now = timezone.now()
    recipient, cross_border = _recipient(case, agency)
    # The case row is locked, so two grants to the same agency cannot race.
    if access.active_grants(now).filter(case=case, agency=recipient).exists():
        raise DomainError(f"{recipient.name} already has an active share of this case", field="agency",
                          code="already_shared")
    purpose = _text(purpose, field="purpose", label="Purpose")
    if lawful_basis not in LawfulBasis.values:
        raise DomainError("Choose the lawful basis", field="lawful_basis", code="required")
    if special_category_condition not in SpecialCategoryCondition.values:
        raise DomainError("Choose a valid special category condition", field="special_category_condition")
    if not isinstance(consent_sought, bool):
        raise DomainError("Say whether consent was sought", field="consent_sought", code="required")
    consent_reason = _text(consent_reason, field="consent_reason", label="Why consent was or was not sought")
    emergency_basis = _text(emergency_basis, field="emergency_basis", label="Emergency basis", required=False)
    if not isinstance(expires_at, dt.datetime) or timezone.is_naive(expires_at):
        raise DomainError("Give the expiry as a date and time with a time zone", field="expires_at")
    if expires_at <= now:
        raise DomainError("The share must end in the future", field="expires_at")
    if expires_at > _one_year_after(now):
        raise DomainError("A share can last at most 12 months: review it and share again", field="expires_at")
    agreement = _agreement_for(
        case, recipient, agreement, day=timezone.localdate(now), required=not emergency_basis,
        cross_border=cross_border,
    )
    if agreement is None and not emergency_basis:
        raise DomainError(
            "There is no information-sharing agreement in force with this agency: "
            "record the emergency basis to share without one",
            field="agreement", code="no_agreement",
        )

    grant = ShareGrant.objects.create(
        case=case, agency=recipient, purpose=purpose, lawful_basis=lawful_basis,
        special_category_condition=special_category_condition, agreement=agreement,
        emergency_basis=emergency_basis, granted_by=actor.user, granted_at=now, expires_at=expires_at,
        cross_border=cross_border,
    )
    decision = SharingDecision.objects.create(
        case=case, recipient=recipient, outcome=SharingOutcome.SHARED, purpose=purpose,
        lawful_basis=lawful_basis, special_category_condition=special_category_condition,
        agreement=agreement, emergency_basis=emergency_basis, consent_sought=consent_sought,
        consent_reason=consent_reason, reason=purpose, decided_by=actor.user, decided_at=now, grant=grant,
    )
    access.sync_case_permissions(case, at=now)
    access.log_access(
        actor, "share", grant,
        detail={
            "agency": recipient.pk, "decision": decision.pk, "emergency": bool(emergency_basis),
            "cross_border": cross_border,
        },
    )
    return grant


@transaction.atomic
def decline_to_share(
    *,
    actor: Actor,
    case: Case,
    agency: Agency,
    purpose: str,
    reason: str,
    consent_sought: bool,
    consent_reason: str,
    lawful_basis: str = "",
    agreement: InformationSharingAgreement | None = None,
) -> SharingDecision:
    """Record a decision not to share a case with an agency that asked.

    Who: as ``share_case``. Guarantees: the purpose asked for, the reason
    for declining and why consent was or was not sought are recorded
    (outcome "not_shared"); a lawful basis or agreement, if given, must be
    valid (the agreement in force between the lead agency and the agency).
    Nothing about who can see the case changes.
    """
    case = access.get_case(actor, getattr(case, "pk", case), Action.MANAGE, log=False, for_update=True)
    _named_person(actor)
    now = timezone.now()
    recipient, cross_border = _recipient(case, agency)
    purpose = _text(purpose, field="purpose", label="Purpose")
    reason = _text(reason, field="reason", label="Reason for not sharing")
    if not isinstance(consent_sought, bool):
        raise DomainError("Say whether consent was sought", field="consent_sought", code="required")
    consent_reason = _text(consent_reason, field="consent_reason", label="Why consent was or was not sought")
    if lawful_basis and lawful_basis not in LawfulBasis.values:
        raise DomainError("Choose a valid lawful basis", field="lawful_basis")
    # A decision not to share needs no agreement, on either side of a border.
    agreement = _agreement_for(case, recipient, agreement, day=timezone.localdate(now), required=False,
                               cross_border=cross_border and agreement is not None)
    decision = SharingDecision.objects.create(
        case=case, recipient=recipient, outcome=SharingOutcome.NOT_SHARED, purpose=purpose,
        lawful_basis=lawful_basis or "", agreement=agreement, consent_sought=consent_sought,
        consent_reason=consent_reason, reason=reason, decided_by=actor.user, decided_at=now,
    )
    access.log_access(actor, "decline_to_share", decision, detail={"agency": recipient.pk})
    return decision


@transaction.atomic
def revoke_share(*, actor: Actor, grant: ShareGrant, reason: str) -> ShareGrant:
    """End an active share grant now.

    Who: as ``share_case``, on the grant's case. Guarantees: a reason is
    required; a grant already revoked or expired is a ``DomainError``; the
    agency loses access when this commits (its permission rows are removed
    in the same transaction and ``permissions_removed_at`` is set).
    """
    case_id = getattr(grant, "case_id", None)
    if case_id is None:
        raise access.NotVisible("No such share")
    # Case first, then grant: the same lock order as share_case and share_expire.
    case = access.get_case(actor, case_id, Action.MANAGE, log=False, for_update=True)
    current = ShareGrant.objects.select_for_update().filter(pk=grant.pk, case=case).first()
    if current is None:
        raise access.NotVisible("No such share")
    _named_person(actor)
    now = timezone.now()
    if current.revoked_at is not None:
        raise DomainError("This share has already been revoked", field="grant", code="already_revoked")
    if not current.is_active(now):
        raise DomainError("This share has already expired", field="grant", code="expired")
    reason = _text(reason, field="reason", label="Reason")
    current.revoked_at = now
    current.revoked_by = actor.user
    current.revoke_reason = reason
    current.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
    access.sync_case_permissions(case, at=now)
    current.permissions_removed_at = now
    current.save(update_fields=["permissions_removed_at"])
    access.log_access(actor, "revoke_share", current, detail={"agency": current.agency_id})
    return current


@transaction.atomic
def share_expire(*, grant_id: int) -> bool:
    """Remove the permission rows of a grant that has expired.

    Called by the expiry task with the grant's id, as the system actor
    (access already ends at expiry without it: ``access.may`` checks the
    grant is active; this tidies the permission rows behind it). Safe to
    run twice or in two workers at once: the grant is claimed with a
    conditional ``UPDATE ... WHERE permissions_removed_at IS NULL`` and
    only the call that changed the row syncs, logs and returns True. A grant
    that is still active, or already tidied, returns False and writes
    nothing. A revoked grant whose rows were somehow left behind is tidied
    the same way.
    """
    now = timezone.now()
    case_id = ShareGrant.objects.filter(pk=grant_id).values_list("case_id", flat=True).first()
    if case_id is None:
        return False
    # A system task reaches past every agency's view, by design: lock the
    # case row (the lock order of share_case and revoke_share) before the
    # grant, so a grant made at the same moment is synced after this one.
    case = Case.objects.select_for_update().get(pk=case_id)
    claimed = (
        ShareGrant.objects.filter(pk=grant_id, permissions_removed_at__isnull=True)
        .filter(Q(expires_at__lte=now) | Q(revoked_at__isnull=False))
        .update(permissions_removed_at=now)
    )
    if claimed != 1:
        return False
    access.sync_case_permissions(case, at=now)
    grant = ShareGrant.objects.get(pk=grant_id)
    access.log_access(access.system_actor(), "share_expired", grant, detail={"agency": grant.agency_id})
    return True
