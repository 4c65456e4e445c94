"""Linking records of the same young person: merging two, and undoing it.

Everything that hangs off a young person moves with a merge: referrals
point at the person, and cases point at the person; chronology entries,
interventions, reviews and share grants point at a case, so they move with
their case untouched (the chronology is append-only in the database and is
never rewritten). A merge is recorded in ``YoungPersonMerge`` with the ids
of what moved, so that undoing it moves exactly that back.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from lib.errors import DomainError
from referrals.models import Case, CaseStatus, Referral, YoungPerson, YoungPersonMerge
from safeguarding import access
from safeguarding.access import Actor

IDENTIFIERS = ("unique_pupil_number", "nhs_number", "police_reference")


def _require_screener(actor: Actor) -> None:
    if not actor.screens_referrals:
        raise access.NotAllowed("Only the hub's screeners merge young people's records")
    if actor.user is None:
        raise access.NotAllowed("A merge needs a named person: partner systems cannot do it")


def _visible_person(actor: Actor, person, *, field: str) -> YoungPerson:
    pk = getattr(person, "pk", person)
    found = access.visible_young_people(actor).filter(pk=pk).first() if pk is not None else None
    if found is None:
        raise access.NotVisible("No such young person")
    return found


def _reason(reason: str, *, field: str) -> str:
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise DomainError("Say why", field=field, code="required")
    if len(reason) > 2000:
        raise DomainError("The reason must be 2,000 characters or fewer", field=field, code="max_length")
    return reason


@transaction.atomic
def young_person_merge(*, actor: Actor, keep: YoungPerson, merge: YoungPerson, reason: str = "") -> YoungPersonMerge:
    """Merge ``merge`` into ``keep``: two records of one young person become one.

    Who: the hub's screeners, as a named person; anyone else gets
    ``access.NotAllowed``.

    Guarantees, in one transaction: every referral and case of ``merge``
    moves to ``keep`` (chronology, interventions, reviews and share grants
    move with their case; permissions are per case, so no agency gains or
    loses access to any case); identifiers ``keep`` lacks (UPN, NHS number,
    police reference) move across; ``merge`` stays in the database, out of
    matching, and can be restored with ``young_person_merge_undo``. If both
    records have an open case the merge is refused with a ``DomainError``:
    a young person has one open case, and which one goes on is a decision
    for the lead agencies (close one first). Anonymised records, a record
    already merged, or the same record twice are refused too. The merge is
    in the access log, with ids only.
    """
    _require_screener(actor)
    reason = _reason(reason, field="reason") if reason else "Same young person recorded twice"
    keep = _visible_person(actor, keep, field="keep")
    merge = _visible_person(actor, merge, field="merge")
    if keep.pk == merge.pk:
        raise DomainError("Choose two different records to merge", field="merge")
    # Lock both, in a fixed order, so two merges of the same pair cannot cross.
    locked = {p.pk: p for p in YoungPerson.objects.select_for_update().filter(pk__in=sorted([keep.pk, merge.pk])).order_by("pk")}
    keep, merge = locked[keep.pk], locked[merge.pk]
    for person, name in ((keep, "keep"), (merge, "merge")):
        if person.anonymised_at is not None:
            raise DomainError("An anonymised record cannot be merged", field=name)
        if YoungPersonMerge.objects.filter(merged=person, undone_at__isnull=True).exists():
            raise DomainError(
                "This record has already been merged into another: work with the record it was merged into",
                field=name, code="already_merged",
            )
    # Past the actor's reach on purpose: the one open case of each person,
    # whoever leads it. The screener learns only the references.
    open_cases = list(
        Case.objects.select_for_update().filter(young_person__in=[keep, merge], status=CaseStatus.OPEN).order_by("pk")
    )
    if len(open_cases) > 1:
        references = " and ".join(c.reference for c in open_cases)
        raise DomainError(
            f"Both records have an open case ({references}). A young person has one open case: ask the lead "
            "agencies to close one (its work can be joined to the other) before merging.",
            field="merge", code="two_open_cases",
        )

    referral_ids = list(Referral.objects.filter(young_person=merge).order_by("pk").values_list("pk", flat=True))
    case_ids = list(Case.objects.filter(young_person=merge).order_by("pk").values_list("pk", flat=True))
    Referral.objects.filter(pk__in=referral_ids).update(young_person=keep, updated_at=timezone.now())
    Case.objects.filter(pk__in=case_ids).update(young_person=keep, updated_at=timezone.now())

    moved = [name for name in IDENTIFIERS if getattr(merge, name) and not getattr(keep, name)]
    if moved:
        # Cleared first: UPN and NHS number are unique across the index.
        values = {name: getattr(merge, name) for name in moved}
        YoungPerson.objects.filter(pk=merge.pk).update(**{name: "" for name in moved})
        YoungPerson.objects.filter(pk=keep.pk).update(**values)

    record = YoungPersonMerge.objects.create(
        kept=keep, merged=merge, merged_by=actor.user, agency=actor.agency, reason=reason,
        referral_ids=referral_ids, case_ids=case_ids, identifiers_moved=moved,
    )
    access.log_access(
        actor, "merge_young_person", keep,
        detail={
            "merge": record.pk, "merged_young_person": merge.pk, "referrals": referral_ids, "cases": case_ids,
            "identifiers_moved": moved,
        },
    )
    return record


@transaction.atomic
def young_person_merge_undo(*, actor: Actor, merge_record: YoungPersonMerge, reason: str = "") -> YoungPersonMerge:
    """Undo a merge: what moved goes back to the merged record.

    Who: the hub's screeners, as a named person.

    Guarantees, in one transaction: the referrals and cases listed in the
    merge record move back to the merged record if they are still on the
    kept one, and so does any referral since joined to one of those cases
    (a referral stays with its case); identifiers that moved go back; the
    merged record returns to matching. Refused with a ``DomainError`` if the
    merge was already undone, if the kept record has itself since been
    merged into another (undo that first), or if moving an open case back
    would give the merged record two open cases. In the access log.
    """
    _require_screener(actor)
    pk = getattr(merge_record, "pk", merge_record)
    record = YoungPersonMerge.objects.select_for_update().filter(pk=pk).first() if pk is not None else None
    if record is None:
        raise access.NotVisible("No such merge")
    keep = _visible_person(actor, record.kept_id, field="merge_record")
    merged = _visible_person(actor, record.merged_id, field="merge_record")
    if record.undone_at is not None:
        raise DomainError("This merge has already been undone", field="merge_record", code="already_undone")
    if YoungPersonMerge.objects.filter(merged=keep, undone_at__isnull=True).exists():
        raise DomainError(
            "The kept record has since been merged into another: undo that merge first",
            field="merge_record", code="merged_again",
        )
    YoungPerson.objects.select_for_update().filter(pk__in=sorted([keep.pk, merged.pk])).order_by("pk").count()
    keep.refresh_from_db()
    merged.refresh_from_db()

    case_ids = list(
        Case.objects.select_for_update().filter(pk__in=record.case_ids, young_person=keep).values_list("pk", flat=True)
    )
    referral_ids = list(
        Referral.objects.filter(young_person=keep)
        .filter(pk__in=record.referral_ids)
        .values_list("pk", flat=True)
    ) + list(
        Referral.objects.filter(young_person=keep, case_id__in=case_ids)
        .exclude(pk__in=record.referral_ids)
        .values_list("pk", flat=True)
    )
    now = timezone.now()
    try:
        with transaction.atomic():
            Case.objects.filter(pk__in=case_ids).update(young_person=merged, updated_at=now)
    except IntegrityError:
        raise DomainError(
            "The merged record now has an open case of its own: close one before undoing the merge",
            field="merge_record", code="two_open_cases",
        ) from None
    Referral.objects.filter(pk__in=referral_ids).update(young_person=merged, updated_at=now)

    back = [name for name in record.identifiers_moved if getattr(keep, name) and not getattr(merged, name)]
    if back:
        values = {name: getattr(keep, name) for name in back}
        YoungPerson.objects.filter(pk=keep.pk).update(**{name: "" for name in back})
        YoungPerson.objects.filter(pk=merged.pk).update(**values)

    record.undone_at = now
    record.undone_by = actor.user
    record.undo_reason = (reason or "").strip()
    record.save(update_fields=["undone_at", "undone_by", "undo_reason"])
    access.log_access(
        actor, "undo_merge_young_person", merged,
        detail={
            "merge": record.pk, "kept_young_person": keep.pk, "referrals": sorted(referral_ids),
            "cases": sorted(case_ids), "identifiers_moved": back,
        },
    )
    return record
