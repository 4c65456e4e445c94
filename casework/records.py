"""What closing a case does to its records, whoever decided it: the lead
agency's manager (``services.case_close``) or the move of the young person
to another partnership (``transfers``). No access decision here: callers
have made it, and hold the case row locked in their transaction."""

from __future__ import annotations

import datetime as dt

from referrals.models import Case, CaseStatus, Intervention, InterventionStatus

OPEN_INTERVENTION_STATUSES = (InterventionStatus.PLANNED, InterventionStatus.ACTIVE)


def close_case_record(case: Case, *, reason: str, outcome: str, closed_by, now: dt.datetime, today: dt.date) -> list[int]:
    """Close a locked, open case: planned and active interventions end early
    today, the next review is cleared (open Review rows stay, no longer
    pending once the case is closed), and the closure is stamped with its
    reason, outcome and who closed it (None for a closure nobody made by
    hand). Returns the ids of the interventions ended."""
    ended = []
    for intervention in Intervention.objects.select_for_update().filter(
        case=case, status__in=OPEN_INTERVENTION_STATUSES
    ):
        intervention.status = InterventionStatus.ENDED_EARLY
        # A start dated later than today (entered by another path) must not
        # break the end-after-start rule.
        intervention.ended_on = max(today, intervention.started_on or today)
        intervention.save(update_fields=["status", "ended_on", "updated_at"])
        ended.append(intervention.pk)
    case.status = CaseStatus.CLOSED
    case.closed_at = max(now, case.opened_at)
    case.closed_by = closed_by
    case.closure_reason = reason
    case.outcome = outcome
    case.next_review_due = None
    case.save(
        update_fields=["status", "closed_at", "closed_by", "closure_reason", "outcome", "next_review_due", "updated_at"]
    )
    return ended
