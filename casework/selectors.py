"""Read paths for casework. Every selector takes the actor and starts from the
access policy's querysets; every read of case data is written to the access log."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from referrals.models import Case, CaseNote, Intervention, Referral, Review
from safeguarding import access


@dataclass
class Caseload:
    """A caseload as Django's ``Paginator`` takes it: a page is a slice of
    ``cases``, the total is counted from the caseload index alone."""

    cases: QuerySet[Case]
    rows: QuerySet

    def count(self) -> int:
        return self.rows.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, item):
        return self.cases[item]


def caseload(actor: access.Actor, *, status: str | None = "open") -> Caseload:
    """The cases an actor may see (``access.visible_cases``, read through the
    caseload index), soonest review first (no review date last), then by
    case. Anyone may call it; people with no case-working role get an empty
    list."""
    at = timezone.now()
    cases = (
        access.listed_cases(actor, status=status, at=at)
        .select_related("young_person", "lead_agency", "key_worker")
        .order_by("listed_review_due", "listed_id")
    )
    return Caseload(cases=cases, rows=access.caseload_rows(actor, status=status, at=at))


def log_list(actor: access.Actor, object_type: str, page_items) -> None:
    """Record that a page of a list of case data was shown."""
    access.log_access(
        actor, "list", object_type=object_type, detail={"ids": [item.pk for item in page_items]},
    )


def recent_referrals(actor: access.Actor, *, limit: int = 10) -> list[Referral]:
    """The referrals an actor may follow, newest first (see ``access.visible_referrals``)."""
    return list(
        access.visible_referrals(actor)
        .select_related("young_person", "referring_agency", "case")
        .order_by("-received_at")[:limit]
    )


@dataclass
class CaseFile:
    case: Case
    notes: list[CaseNote]
    interventions: list[Intervention]
    reviews: list[Review]
    may_contribute: bool
    may_manage: bool


def case_file(actor: access.Actor, case_id) -> CaseFile:
    """One case with its chronology, interventions and reviews, as this actor
    may see them. Raises ``access.NotVisible`` for anyone outside the case.
    The read is logged once, by ``access.get_case``."""
    case = access.get_case(actor, case_id)
    notes = list(access.visible_notes(actor, case).select_related("author", "agency", "corrects"))
    interventions = list(
        Intervention.objects.filter(case=case).select_related("provider_agency").order_by("-created_at")
    )
    reviews = list(Review.objects.filter(case=case).select_related("completed_by").order_by("-due_on"))
    return CaseFile(
        case=case,
        notes=notes,
        interventions=interventions,
        reviews=reviews,
        may_contribute=access.may(actor, access.Action.CONTRIBUTE, case),
        may_manage=access.may(actor, access.Action.MANAGE, case),
    )
