"""Read paths for the partner API. Every selector takes the actor and starts
from the access policy's querysets (``access.visible_*``, ``access.get_case``);
each one's related rows are fetched up front, so a page costs the same few
queries whatever its length."""

from __future__ import annotations

import datetime as dt

from collections.abc import Callable

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from agencies.models import Agency
from referrals.models import Case, CaseNote, Intervention, Referral, Review
from safeguarding import access


def agency_referrals(
    actor: access.Actor, *, status: str | None = None, updated_since: dt.datetime | None = None,
) -> QuerySet[Referral]:
    """The referrals the actor's agency made (as far as the actor may see
    them), with ``case_visible`` telling whether the case behind each one is
    visible to the agency: a referrer sees the outcome, not the case, unless
    the case is shared with it."""
    if actor.agency is None:
        return Referral.objects.none()
    referrals = (
        access.visible_referrals(actor)
        .filter(referring_agency_id=actor.agency.pk)
        .select_related("young_person", "referring_agency")
        .annotate(case_visible=Exists(access.visible_cases(actor).filter(pk=OuterRef("case_id"))))
    )
    if status:
        referrals = referrals.filter(status=status)
    if updated_since:
        referrals = referrals.filter(updated_at__gte=updated_since)
    return referrals


def agency_referral(actor: access.Actor, referral_id) -> Referral:
    """One of the agency's referrals, logged as read; else ``NotVisible``."""
    try:
        referral = agency_referrals(actor).get(pk=referral_id)
    except (Referral.DoesNotExist, ValueError, TypeError):
        raise access.NotVisible("No such referral") from None
    access.log_access(actor, "view", referral)
    return referral


def cases(
    actor: access.Actor,
    *,
    status: str | None = None,
    risk_level: str | None = None,
    key_worker: int | None = None,
    review_due_before: dt.date | None = None,
    updated_since: dt.datetime | None = None,
    at: dt.datetime | None = None,
) -> tuple[QuerySet[Case], Callable[[list], int]]:
    """The cases the actor may see, filtered, and how to tell how many there
    are once a page of them has been read.

    The cases are ``access.listed_cases`` (``visible_cases`` read through the
    caseload index), to be ordered by ``-listed_id``, newest first, so a page
    is read from the index. Unless a filter on another column of the case
    narrows the list, each row also carries ``caseload_total``
    (``access.caseload_total``), read in the page's own query; the total
    function takes the page's rows and counts apart only for a narrowed list
    or an empty page.
    """
    at = at or timezone.now()
    queryset = access.listed_cases(actor, status=status, at=at)
    narrowed = False
    if risk_level:
        queryset, narrowed = queryset.filter(risk_level=risk_level), True
    if key_worker is not None:
        queryset, narrowed = queryset.filter(key_worker_id=key_worker), True
    if review_due_before is not None:
        queryset, narrowed = queryset.filter(next_review_due__lt=review_due_before), True
    if updated_since is not None:
        queryset, narrowed = queryset.filter(updated_at__gte=updated_since), True
    if narrowed:
        return queryset, lambda page: queryset.count()
    queryset = queryset.annotate(caseload_total=access.caseload_total(actor, status=status, at=at))

    def total(page) -> int:
        return page[0]["caseload_total"] if page else access.caseload_count(actor, status=status, at=at)

    return queryset, total


def the_case(actor: access.Actor, case: Case) -> QuerySet[Case]:
    """A case already reached through ``access.get_case``, as a one-row
    queryset of ``access.visible_cases`` (to read its columns as values)."""
    return access.visible_cases(actor).filter(pk=case.pk)


def case_notes(actor: access.Actor, case: Case) -> QuerySet[CaseNote]:
    """The chronology the actor may see (``access.visible_notes``): other
    agencies' agency-only entries never appear."""
    return access.visible_notes(actor, case).select_related("author", "agency")


def case_note(actor: access.Actor, case: Case, note_id) -> CaseNote:
    note = case_notes(actor, case).filter(pk=note_id).first() if str(note_id).isdigit() else None
    if note is None:
        raise access.NotVisible("No such chronology entry")
    return note


def case_interventions(actor: access.Actor, case: Case) -> QuerySet[Intervention]:
    """Interventions on a case the actor may see (the case came from
    ``access.get_case``; anyone else gets none)."""
    if not access.may(actor, access.Action.VIEW, case):
        return Intervention.objects.none()
    return Intervention.objects.filter(case=case).select_related("provider_agency")


def case_intervention(actor: access.Actor, case: Case, intervention_id) -> Intervention:
    found = (
        case_interventions(actor, case).filter(pk=intervention_id).first() if str(intervention_id).isdigit() else None
    )
    if found is None:
        raise access.NotVisible("No such intervention")
    return found


def case_reviews(actor: access.Actor, case: Case) -> QuerySet[Review]:
    if not access.may(actor, access.Action.VIEW, case):
        return Review.objects.none()
    return Review.objects.filter(case=case).select_related("completed_by")


def directory() -> QuerySet[Agency]:
    """The partnership's active agencies: no case data, open to every client."""
    return Agency.objects.filter(is_active=True)


def log_page(actor: access.Actor, object_type: str, items, *, case: Case | None = None) -> None:
    """Record that a page of a list was read (ids only; the items are model
    instances or rows of values with an ``id``)."""
    ids = [item["id"] if isinstance(item, dict) else item.pk for item in items]
    access.log_access(actor, "list", case, object_type=object_type, detail={"ids": ids})
