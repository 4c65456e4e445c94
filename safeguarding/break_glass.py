"""Break-glass: opening a case outside one's access in an emergency.

A person working cases in a partnership may open one of its cases they
cannot otherwise see by giving a reason (``break_glass_open``). The access
policy (``access.break_glass_opening``) then lets that person alone read the
case page, for the partnership's break-glass hours in force
(``rules_in_force(...).break_glass_hours``, 4 by default), and every
access-log row they write under it is marked (``AccessEvent.break_glass``).
Opening again needs a new reason. Partner systems and the API never can.

Every opening waits in the review queue (``access.break_glass_openings``)
until a manager of the opener's agency signs it off or escalates it to the
data-protection officer (``break_glass_review``). Telling the lead agency's
managers and the DPOs at once, and the DPOs of an escalation, is
``reminders.services`` (``break_glass_opened_record``,
``break_glass_escalated_record``), in the same transaction.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from lib import inputs
from lib.errors import DomainError
from partnerships.rules import rules_in_force
from referrals.models import Case
from safeguarding import access
from safeguarding.access import Actor
from safeguarding.models import BreakGlassAccess, BreakGlassOutcome, BreakGlassReview

REASON_MIN_LENGTH = 20
TEXT_MAX_LENGTH = 5_000


def _same_reason(a: str, b: str) -> bool:
    return " ".join(a.lower().split()) == " ".join(b.lower().split())


@transaction.atomic
def break_glass_open(*, actor: Actor, case_reference: str, reason: str) -> BreakGlassAccess:
    """Open a case of the actor's partnership that they cannot see, for the
    partnership's break-glass hours, for the actor alone.

    Who: a person working cases (practitioner, manager, hub screener) in
    the pages (``access.may_break_glass``); partner systems and the API are
    refused. Guarantees: the case is of the actor's partnership and not
    anonymised; the actor cannot already see it; the reason is at least 20
    characters and not one this person already gave for this case (no
    renewal without a new reason); the opening lasts the hours in force
    now; it is in the access log (marked break-glass).
    """
    if not access.may_break_glass(actor):
        raise access.NotAllowed("Break-glass access is for a person working cases, through the pages")
    reference = inputs.text(case_reference, field="case_reference", label="The case reference", max_length=20)
    reason = inputs.text(reason, field="reason", label="The reason", max_length=TEXT_MAX_LENGTH)
    if len(reason) < REASON_MIN_LENGTH:
        raise DomainError(
            f"Say why this cannot wait, in at least {REASON_MIN_LENGTH} characters", field="reason", code="min_length",
        )
    case = (
        Case.objects.select_for_update(of=("self",))
        .filter(reference=reference.upper(), partnership_id=actor.partnership_id, anonymised_at__isnull=True)
        .first()
    )
    if case is None:
        raise DomainError("There is no case with that reference in this partnership", field="case_reference",
                          code="not_found")
    now = timezone.now()
    if access.relation(actor.agency, case, now) is not None:
        raise DomainError("You can already see this case: open it from your caseload", field="case_reference",
                          code="already_visible")
    earlier = BreakGlassAccess.objects.filter(case=case, user_id=actor.user.pk).values_list("reason", flat=True)
    if any(_same_reason(reason, given) for given in earlier):
        raise DomainError("You gave this reason before: break-glass is renewed only with a new reason",
                          field="reason", code="not_new")
    hours = rules_in_force(case.partnership_id, now).break_glass_hours
    opening = BreakGlassAccess.objects.create(
        partnership_id=case.partnership_id, case=case, user=actor.user, agency=actor.agency, reason=reason,
        opened_at=now, expires_at=now + dt.timedelta(hours=hours),
    )
    access.log_access(actor, "break_glass_open", case, detail={"opening": opening.pk, "hours": hours})
    return opening


def review_queue(actor: Actor) -> QuerySet[BreakGlassAccess]:
    """The openings waiting for review that the actor may see (a manager:
    their agency's; a DPO: the partnership's), oldest first."""
    return (
        access.break_glass_openings(actor).filter(review__isnull=True)
        .select_related("case", "user", "agency").order_by("opened_at", "pk")
    )


def reviewed(actor: Actor) -> QuerySet[BreakGlassAccess]:
    """Openings already reviewed that the actor may see, newest first."""
    return (
        access.break_glass_openings(actor).filter(review__isnull=False)
        .select_related("case", "user", "agency", "review", "review__reviewed_by").order_by("-opened_at", "-pk")
    )


def opening_for_review(actor: Actor, opening_id) -> BreakGlassAccess:
    """An opening in the actor's queue; else ``access.NotVisible``."""
    opening = (
        access.break_glass_openings(actor).select_related("case", "user", "agency").filter(pk=opening_id).first()
        if str(opening_id).isdigit() else None
    )
    if opening is None:
        raise access.NotVisible("No such break-glass opening")
    return opening


def my_openings(actor: Actor) -> QuerySet[BreakGlassAccess]:
    """The actor's own openings still live (to show them the way back)."""
    if not access.may_break_glass(actor):
        return BreakGlassAccess.objects.none()
    return BreakGlassAccess.objects.filter(
        user_id=actor.user.pk, agency_id=actor.agency.pk, partnership_id=actor.partnership_id,
        expires_at__gt=timezone.now(),
    ).select_related("case").order_by("-opened_at")


@transaction.atomic
def break_glass_review(*, actor: Actor, opening: BreakGlassAccess, outcome: str, note: str) -> BreakGlassReview:
    """Sign a break-glass opening off, or escalate it to the DPO.

    Who: a manager of the opener's agency other than the opener
    (``access.may_review_break_glass``). Guarantees: one review per opening
    (a second is refused); a note is required; it is in the access log.
    """
    opening = opening_for_review(actor, getattr(opening, "pk", opening))
    if not access.may_review_break_glass(actor, opening):
        raise access.NotAllowed("A manager of the opener's agency, not the opener, reviews a break-glass opening")
    BreakGlassAccess.objects.select_for_update().filter(pk=opening.pk).get()
    if BreakGlassReview.objects.filter(opening=opening).exists():
        raise DomainError("This opening has already been reviewed", field="outcome", code="already_reviewed")
    outcome = inputs.choice(outcome, BreakGlassOutcome, field="outcome", label="Outcome")
    note = inputs.text(note, field="note", label="Your note", max_length=TEXT_MAX_LENGTH)
    review = BreakGlassReview.objects.create(
        partnership_id=opening.partnership_id, opening=opening, outcome=outcome, note=note, reviewed_by=actor.user,
    )
    access.log_access(actor, "break_glass_review", opening, object_type="breakglassaccess",
                      basis=f"Manager of {actor.agency.name} reviewing break-glass",
                      detail={"outcome": outcome, "case": opening.case_id})
    return review
