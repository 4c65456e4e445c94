"""Records beyond the partnership: when a hub screens a referral, a likely
record of the same young person in another partnership is shown only as "a
possible existing record in <partnership>" (``records_elsewhere``); the
screener may ask that partnership's hub about it (``enquiry_send``), which
searches its own index and answers (``enquiry_answer``): say, that its lead
agency will share the case across the border or propose a transfer.

An enquiry carries across the border the least that lets the other hub find
the young person: the names and date of birth on the referral being
screened, and the asking hub's message. Both sides see it; the access log
records the asking and the answering.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from agencies.models import Partnership
from casework import matching
from lib.errors import DomainError
from lib.inputs import text
from referrals.models import EnquiryStatus, PartnershipEnquiry, Referral
from safeguarding import access
from safeguarding.access import Actor

MESSAGE_MAX_LENGTH = 2_000


def _strong_keys(referral: Referral) -> set[str]:
    """The match keys that tie a record to this young person on their date
    of birth with both their given and family names (the ``b`` keys of
    ``matching.match_keys``): "likely", never a mere namesake or sibling."""
    person = referral.young_person
    keys = matching.match_keys(person.given_name, person.family_name, person.preferred_name,
                               person.date_of_birth, person.postcode)
    return {key for key in keys if key.startswith("b")}


def records_elsewhere(actor: Actor, referral: Referral) -> list[Partnership]:
    """The other partnerships holding a likely record of the referral's
    young person, for the hub screener deciding it
    (``access.partnerships_knowing``); [] for anyone else. Names only."""
    return access.partnerships_knowing(actor, referral, keys=_strong_keys(referral))


@transaction.atomic
def enquiry_send(*, actor: Actor, referral: Referral, to_partnership: Partnership, message: str) -> PartnershipEnquiry:
    """Ask another partnership's hub about a likely record it holds.

    Who: the hub's screeners, about a referral of their partnership that is
    still open, and only a partnership ``records_elsewhere`` names (else a
    ``DomainError`` on ``to_partnership``). Guarantees: a message is given;
    one open enquiry per referral and partnership; the names and date of
    birth are copied onto the enquiry, nothing else of the referral; the
    asking is in the access log.
    """
    referral = access.get_referral(actor, getattr(referral, "pk", referral), log=False)
    if not access.may_screen(actor, referral) or actor.user is None:
        raise access.NotAllowed("Only the hub's screeners ask another partnership, about a referral still open")
    wanted = getattr(to_partnership, "pk", to_partnership)
    asked = next((p for p in records_elsewhere(actor, referral) if p.pk == wanted), None)
    if asked is None:
        raise DomainError("That partnership holds no likely record of this young person", field="to_partnership")
    message = text(message, field="message", label="What you are asking", max_length=MESSAGE_MAX_LENGTH)
    if PartnershipEnquiry.objects.filter(referral=referral, to_partnership=asked, status=EnquiryStatus.OPEN).exists():
        raise DomainError(f"You have already asked {asked.name}'s hub: wait for its answer", field="to_partnership",
                          code="already_asked")
    person = referral.young_person
    enquiry = PartnershipEnquiry.objects.create(
        from_partnership_id=referral.partnership_id, to_partnership=asked, referral=referral, asked_by=actor.user,
        asked_by_agency=actor.agency, given_name=person.given_name, family_name=person.family_name,
        date_of_birth=person.date_of_birth, message=message,
    )
    access.log_access(actor, "ask_partnership", referral, detail={"enquiry": enquiry.pk, "partnership": asked.pk})
    return enquiry


@transaction.atomic
def enquiry_answer(*, actor: Actor, enquiry: PartnershipEnquiry, answer: str) -> PartnershipEnquiry:
    """Answer an enquiry from another partnership's hub.

    Who: the asked partnership's hub screeners (``access.may_answer_enquiry``);
    an enquiry they cannot see is ``NotVisible``. Guarantees: an answer is
    given; an enquiry is answered once; the answer is in the access log.
    What is shared or transferred after it goes through the sharing and
    transfer services, by the agency that leads the case.
    """
    pk = getattr(enquiry, "pk", enquiry)
    current = access.enquiries_received(actor).select_for_update().filter(pk=pk).first()
    if current is None:
        raise access.NotVisible("No such enquiry")
    if current.status != EnquiryStatus.OPEN:
        raise DomainError("This enquiry has already been answered", field="answer", code="already_answered")
    if not access.may_answer_enquiry(actor, current):
        raise access.NotAllowed("Only the hub's screeners answer enquiries")
    current.answer = text(answer, field="answer", label="Your answer", max_length=MESSAGE_MAX_LENGTH)
    current.status = EnquiryStatus.ANSWERED
    current.answered_by = actor.user
    current.answered_at = timezone.now()
    current.save(update_fields=["answer", "status", "answered_by", "answered_at"])
    access.log_access(actor, "answer_enquiry", current, detail={"from_partnership": current.from_partnership_id})
    return current
