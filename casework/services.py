"""The casework write paths: intake, screening, allocation, chronology,
interventions, reviews and closure.

Every service here

* takes ``actor`` (a ``safeguarding.access.Actor``) and asks the access
  policy whether the actor may reach the object and do the action. Objects
  outside the actor's reach raise ``access.NotVisible`` (a 404, never a hint
  that they exist); actions the actor may see but not do raise
  ``access.NotAllowed``;
* validates its input before writing anything and raises
  ``lib.errors.DomainError`` with the field at fault;
* runs in one transaction, writes an access-log row for every change in that
  same transaction, and re-syncs a case's permission rows whenever its lead
  agency changes;
* returns the fresh object it changed (the instance passed in may be stale).

No service filters case data by hand: cases are fetched through
``access.get_case``, referrals through ``access.visible_referrals`` and young
people through ``access.visible_young_people``. The few lookups that must
see past the actor (the one open case a young person may have, whoever leads
it) are marked where they happen.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from agencies.models import Agency, AgencyKind, Role
from casework import records, transfers
from lib.errors import DomainError
from lib.inputs import choice as _choice
from lib.inputs import text as _text
from partnerships import vocabulary
from partnerships.rules import rules_in_force
from referrals import deadlines
from referrals.models import (
    Case,
    CaseNote,
    CaseStatus,
    ClosureReason,
    Consent,
    Ethnicity,
    Gender,
    Intervention,
    InterventionKind,
    InterventionStatus,
    LawfulBasis,
    NoteKind,
    NoteVisibility,
    Referral,
    ReferralStatus,
    Review,
    ReviewDecision,
    RiskLevel,
    YoungPerson,
)
from safeguarding import access
from safeguarding.access import Action, Actor

ACCOUNT_MAX_LENGTH = 10_000
NOTE_MAX_LENGTH = 20_000
# Far beyond any real programme (a session a week for 190 years), and well
# within the database column: a bigger number was a 500 (integer out of range).
SESSIONS_MAX = 10_000
# The partnership works with young people up to their 25th year (the upper
# age for care leavers and SEND support); anyone older is almost certainly a
# mistyped date of birth.
MAX_AGE_YEARS = 26
# Implausible dates are refused everywhere: nothing the partnership records
# happened before 1900 or before the young person was born; a moment "now"
# may run ahead of our clock by a partner system's small clock skew, no
# more; a plan may look a year ahead.
EARLIEST_DATE = dt.date(1900, 1, 1)
CLOCK_SKEW = dt.timedelta(minutes=5)
PLAN_AHEAD = dt.timedelta(days=366)

PERSON_FIELDS = frozenset(
    {
        "given_name", "family_name", "preferred_name", "date_of_birth", "gender", "ethnicity",
        "postcode", "ward", "school", "unique_pupil_number", "nhs_number", "police_reference",
    }
)
INTERVENTION_CHANGEABLE_FIELDS = frozenset(
    {
        "status", "planned_start", "started_on", "ended_on", "goals",
        "sessions_offered", "sessions_attended", "outcome",
    }
)
FINISHED_INTERVENTION_STATUSES = (InterventionStatus.COMPLETED, InterventionStatus.ENDED_EARLY)


# ---------------------------------------------------------------------------
# Small validators (they raise DomainError; none of them writes)
# ---------------------------------------------------------------------------


def _moment(
    value: Any, *, field: str, label: str, now: dt.datetime, born: dt.date | None = None,
) -> dt.datetime:
    """An aware datetime that is plausible: not in the future (beyond
    ``CLOCK_SKEW``; within it, taken as ``now``), not before 1900 and,
    given ``born``, not before the young person's birth."""
    if not isinstance(value, dt.datetime) or timezone.is_naive(value):
        raise DomainError(f"{label} must be a date and time with a time zone", field=field)
    if value > now + CLOCK_SKEW:
        raise DomainError(f"{label} must not be in the future", field=field, code="future")
    _not_before_birth(timezone.localdate(value), field=field, label=label, born=born)
    # Within the skew, a moment ahead of our clock is now (the database
    # holds nothing in the future).
    return min(value, now)


def _not_before_birth(day: dt.date | None, *, field: str, label: str, born: dt.date | None) -> None:
    if day is None:
        return
    if day < EARLIEST_DATE:
        raise DomainError(f"{label} must be in 1900 or later", field=field, code="implausible")
    if born is not None and day < born:
        raise DomainError(f"{label} must not be before the young person was born", field=field,
                          code="before_birth")


def _date(value: Any, *, field: str, label: str, required: bool = False) -> dt.date | None:
    if value in (None, ""):
        if required:
            raise DomainError(f"Enter {label.lower()}", field=field, code="required")
        return None
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            raise DomainError(f"{label} must be a real date", field=field) from None
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise DomainError(f"{label} must be a date", field=field)
    return value


def _require_author(actor: Actor) -> None:
    # Chronology entries, interventions, reviews and decisions name the person
    # who made them (the columns are NOT NULL); a partner system's client has
    # no person behind it yet.
    if actor.user is None:
        raise access.NotAllowed("This needs a named person: partner systems cannot do it yet")


def _active_agency(value: Any, *, field: str, label: str, partnership_id: int, case: Case | None = None) -> Agency:
    """An active agency working in the partnership (its boundary: a lead
    agency, provider or school of another borough is not a choice here),
    or, given the ``case``, one holding it by an active cross-border share
    (a provider across the border)."""
    if not isinstance(value, Agency) or value.pk is None:
        raise DomainError(f"Choose {label.lower()}", field=field, code="required")
    agency = Agency.objects.filter(pk=value.pk, is_active=True).first()
    if agency is None:
        raise DomainError(f"{label} is not an active partner agency", field=field, code="unknown_agency")
    across = case is not None and agency.pk in access.cross_border_agency_ids(case)
    if not across and not agency.partnerships.filter(pk=partnership_id).exists():
        raise DomainError(f"{agency.name} does not work in this partnership", field=field, code="unknown_agency")
    return agency


def _key_worker(user, agency: Agency, *, field: str = "key_worker"):
    if user is None or getattr(user, "pk", None) is None:
        raise DomainError("Choose a key worker", field=field, code="required")
    if not access.assignable_key_workers(agency).filter(pk=user.pk).exists():
        raise DomainError(
            f"The key worker must be a practitioner or manager in {agency.name}", field=field,
        )
    return user


def _years_between(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _clean_person(person: dict, *, today: dt.date, partnership_id: int) -> dict:
    """The fields of a new YoungPerson, validated. Field names in errors are
    ``person.<name>`` so forms and the API can point at the input."""
    if not isinstance(person, dict):
        raise DomainError("Give the young person's details", field="person")
    unknown = set(person) - PERSON_FIELDS
    if unknown:
        raise DomainError(f"Unknown young-person field: {sorted(unknown)[0]}", field=f"person.{sorted(unknown)[0]}")
    data: dict[str, Any] = {
        "given_name": _text(person.get("given_name"), field="person.given_name", label="Given name", max_length=100),
        "family_name": _text(person.get("family_name"), field="person.family_name", label="Family name", max_length=100),
        "preferred_name": _text(
            person.get("preferred_name"), field="person.preferred_name", label="Preferred name",
            max_length=100, required=False,
        ),
        "postcode": _text(
            person.get("postcode"), field="person.postcode", label="Postcode", max_length=10, required=False,
        ).upper(),
        "ward": _text(person.get("ward"), field="person.ward", label="Ward", max_length=100, required=False),
        "unique_pupil_number": _text(
            person.get("unique_pupil_number"), field="person.unique_pupil_number", label="Unique pupil number",
            max_length=13, required=False,
        ).upper(),
        "nhs_number": _text(
            person.get("nhs_number"), field="person.nhs_number", label="NHS number", max_length=12, required=False,
        ).replace(" ", ""),
        "police_reference": _text(
            person.get("police_reference"), field="person.police_reference", label="Police reference",
            max_length=40, required=False,
        ),
    }
    if data["nhs_number"] and (len(data["nhs_number"]) != 10 or not data["nhs_number"].isdigit()):
        raise DomainError("An NHS number is 10 digits", field="person.nhs_number")
    born = _date(person.get("date_of_birth"), field="person.date_of_birth", label="Date of birth", required=True)
    if born > today:
        raise DomainError("Date of birth must be in the past", field="person.date_of_birth", code="future")
    if _years_between(born, today) >= MAX_AGE_YEARS:
        raise DomainError(
            f"Check the date of birth: the partnership works with young people under {MAX_AGE_YEARS}",
            field="person.date_of_birth", code="implausible",
        )
    data["date_of_birth"] = born
    data["gender"] = _choice(person.get("gender") or Gender.NOT_KNOWN, Gender, field="person.gender", label="Gender")
    data["ethnicity"] = _choice(
        person.get("ethnicity") or Ethnicity.NOT_STATED, Ethnicity, field="person.ethnicity", label="Ethnicity",
    )
    school = person.get("school")
    if school is not None:
        school = _active_agency(school, field="person.school", label="School", partnership_id=partnership_id)
        if school.kind != AgencyKind.SCHOOL:
            raise DomainError("Choose a school", field="person.school")
    data["school"] = school
    return data


def _lock_referral(actor: Actor, referral: Referral) -> Referral:
    """The referral, locked for this transaction, if the actor may see it.

    Visibility is checked first, then the row is locked by its primary key,
    so a second screener waiting on the lock reads the first one's decision
    (and gets a clear "already decided") instead of a confusing 404.
    """
    pk = getattr(referral, "pk", referral)
    if pk is None or not access.visible_referrals(actor).filter(pk=pk).exists():
        raise access.NotVisible("No such referral")
    return Referral.objects.select_for_update().select_related("young_person").get(pk=pk)


def _require_screener(actor: Actor) -> None:
    if not access.may_screen(actor):
        raise access.NotAllowed("Only the hub's screeners decide referrals")


def _require_open_referral(referral: Referral) -> None:
    if not referral.is_open:
        raise DomainError(
            f"Referral {referral.reference} has already been decided ({referral.get_status_display().lower()})",
            field="referral", code="already_decided",
        )


def _require_open_case(case: Case) -> None:
    if not case.is_open:
        raise DomainError(f"Case {case.reference} is closed", field="case", code="case_closed")


def _lock_case(actor: Actor, case: Case | int, action: Action) -> Case:
    pk = getattr(case, "pk", case)
    return access.get_case(actor, pk, action, log=False, for_update=True)


# ---------------------------------------------------------------------------
# Referrals
# ---------------------------------------------------------------------------


@transaction.atomic
def referral_submit(
    *,
    actor: Actor,
    concerns: list[str],
    risk_level: str,
    account: str,
    consent: str,
    lawful_basis: str = "",
    consent_reason: str = "",
    concerns_other: str = "",
    indicators: list[int] | None = None,
    partner_reference: str = "",
    young_person: YoungPerson | None = None,
    person: dict | None = None,
    received_at: dt.datetime | None = None,
) -> Referral:
    """Log a referral about a young person.

    Who: anyone working in an agency (practitioner, manager, hub screener)
    and partner systems' API clients acting for their agency. Agency
    administrators, data-protection officers and actors with no agency
    (superusers included) get ``NotAllowed``.

    The young person is either ``young_person``, an existing record the
    actor may see (else ``NotVisible``), or ``person``, the details of a new
    record recorded by the actor's agency. A new record whose unique pupil
    number or NHS number is already held is refused if the actor can see the
    existing record (refer that one instead); if they cannot, the clashing
    identifier is left off the new record rather than revealing that
    someone with it is known, and the hub links the two when it screens.

    ``concerns`` are codes of the partnership's vocabulary a referrer may
    choose now (``partnerships.vocabulary``), and ``indicators`` the ids of
    signs of those concerns the referrer ticked: stored with the referral to
    inform the referrer's ``risk_level``, never to set it.

    Guarantees: the referral's decision deadline comes from
    ``referrals.deadlines.decision_due_at``; nothing is written unless every
    rule holds; the submission (and any new young-person record) is in the
    access log.
    """
    if actor.agency is None or not (actor.works_cases or actor.api_client):
        raise access.NotAllowed("Only partner agencies' practitioners, managers, screeners and systems may refer")
    if actor.partnership is None:
        raise access.NotAllowed("Choose the partnership you are working in before referring")

    now = timezone.now()
    # -- validate everything before writing anything
    if received_at is None:
        received_at = now
    else:
        received_at = _moment(received_at, field="received_at", label="Time received", now=now)

    # The partnership's own vocabulary: concerns it lets referrers choose now,
    # and indicators that are live signs of those concerns.
    cleaned_concerns, ticked = vocabulary.clean_choice(actor.partnership_id, concerns, indicators)
    concerns_other = _text(
        concerns_other, field="concerns_other", label="Other concern", max_length=200, required=False,
    )
    if vocabulary.asks_for_description(cleaned_concerns) and not concerns_other:
        raise DomainError("Describe the other concern", field="concerns_other", code="required")
    if concerns_other and not vocabulary.asks_for_description(cleaned_concerns):
        raise DomainError("Choose 'Other' to describe another concern", field="concerns_other")

    risk_level = _choice(risk_level, RiskLevel, field="risk_level", label="Risk level")
    account = _text(account, field="account", label="What happened", max_length=ACCOUNT_MAX_LENGTH)
    consent = _choice(consent, Consent, field="consent", label="Consent")
    lawful_basis = _text(lawful_basis, field="lawful_basis", label="Lawful basis", required=False)
    if lawful_basis:
        lawful_basis = _choice(lawful_basis, LawfulBasis, field="lawful_basis", label="Lawful basis")
    consent_reason = _text(consent_reason, field="consent_reason", label="Reason consent was not sought", required=False)
    if consent == Consent.NOT_SOUGHT:
        if not lawful_basis:
            raise DomainError(
                "Give the lawful basis for referring without consent", field="lawful_basis", code="required",
            )
        if not consent_reason:
            raise DomainError("Say why consent was not sought", field="consent_reason", code="required")
    partner_reference = _text(
        partner_reference, field="partner_reference", label="Partner reference", max_length=100, required=False,
    )

    if (young_person is None) == (person is None):
        raise DomainError(
            "Choose an existing young person or give a new one's details, not both", field="young_person",
        )
    withheld: list[str] = []
    if young_person is not None:
        young_person = access.visible_young_people(actor).filter(pk=getattr(young_person, "pk", None)).first()
        if young_person is None:
            raise access.NotVisible("No such young person")
        if young_person.anonymised_at is not None:
            raise DomainError("This record has been anonymised: refer the young person as new", field="young_person")
        new_person = None
    else:
        new_person = _clean_person(person, today=timezone.localdate(now), partnership_id=actor.partnership_id)
        visible = access.visible_young_people(actor)
        for identifier in ("unique_pupil_number", "nhs_number"):
            value = new_person[identifier]
            # A lookup across the partnership's index, on purpose: the identifiers
            # are unique in it, and the actor is told only about a record they
            # may see.
            in_partnership = YoungPerson.objects.filter(partnership_id=actor.partnership_id)
            if value and in_partnership.filter(**{identifier: value}).exists():
                if visible.filter(**{identifier: value}).exists():
                    raise DomainError(
                        "A young person with this identifier is already recorded: choose them instead",
                        field=f"person.{identifier}", code="duplicate",
                    )
                new_person[identifier] = ""
                withheld.append(identifier)

    born = new_person["date_of_birth"] if new_person is not None else young_person.date_of_birth
    _not_before_birth(timezone.localdate(received_at), field="received_at", label="Time received", born=born)
    # The partnership's rules in force when the referral was received: the
    # deadline and the hub's alert are set by them once, and stored.
    rules = rules_in_force(actor.partnership_id, received_at)
    decision_due = deadlines.decision_due_at(received_at, risk_level, rules=rules)
    alert_at = deadlines.alert_at(received_at, decision_due, risk_level, rules=rules)

    # -- write
    if new_person is not None:
        try:
            with transaction.atomic():
                young_person = YoungPerson.objects.create(
                    partnership=actor.partnership, recorded_by=actor.agency, created_at=now, **new_person,
                )
        except IntegrityError:
            # Another intake took the same identifier a moment ago.
            raise DomainError(
                "A young person with this identifier was recorded a moment ago: search for them and try again",
                field="person", code="duplicate",
            ) from None
        access.log_access(
            actor, "create", young_person, detail={"identifiers_withheld": withheld} if withheld else None,
        )
    referral = Referral.objects.create(
        partnership=actor.partnership,
        young_person=young_person,
        referring_agency=actor.agency,
        referred_by=actor.user,
        partner_reference=partner_reference,
        received_at=received_at,
        concerns=cleaned_concerns,
        concerns_other=concerns_other,
        indicators=ticked,
        risk_level=risk_level,
        account=account,
        consent=consent,
        lawful_basis=lawful_basis,
        consent_reason=consent_reason,
        decision_due_at=decision_due,
        alert_at=alert_at,
    )
    access.log_access(actor, "submit", referral)
    return referral


@transaction.atomic
def referral_start_screening(*, actor: Actor, referral: Referral) -> Referral:
    """Take a submitted referral into screening.

    Who: hub screeners (``access.may_screen``); anyone else who can see the
    referral gets ``NotAllowed``, anyone who cannot ``NotVisible``.
    Guarantees: only a submitted referral moves to screening, with the actor
    recorded as its screener; a referral already in screening or decided is
    a ``DomainError``.
    """
    referral = _lock_referral(actor, referral)
    _require_screener(actor)
    _require_open_referral(referral)
    if referral.status == ReferralStatus.SCREENING:
        who = (referral.screener.get_full_name() or referral.screener.get_username()) if referral.screener else "a screener"
        raise DomainError(
            f"Referral {referral.reference} is already being screened by {who}",
            field="referral", code="already_screening",
        )
    referral.status = ReferralStatus.SCREENING
    referral.screener = actor.user
    referral.save(update_fields=["status", "screener", "updated_at"])
    access.log_access(actor, "start_screening", referral)
    return referral


def _decide(actor: Actor, referral: Referral, status: str, reason: str, now: dt.datetime) -> None:
    referral.status = status
    referral.decided_at = now
    referral.decided_by = actor.user
    referral.decision_reason = reason
    if referral.screener_id is None:
        referral.screener = actor.user


@transaction.atomic
def referral_accept(
    *,
    actor: Actor,
    referral: Referral,
    lead_agency: Agency,
    key_worker=None,
    young_person: YoungPerson | None = None,
    reason: str = "",
) -> Case:
    """Accept a referral: it becomes, or joins, the young person's case.

    Who: hub screeners, on a referral still open (submitted or screening; a
    screener may decide without starting screening first). The referral row
    is locked, so of two screeners deciding at once the second gets a
    ``DomainError`` ("already been decided").

    ``young_person``, if given, links the referral to that existing record
    first (the hub's matching of a duplicate); the link is in the access log
    with the record it replaced.

    If the young person already has an open case, the referral joins it:
    the case's lead agency, key worker and risk level are left as they are,
    and ``lead_agency``/``key_worker`` are not used (the decision note says
    which case it joined). Otherwise a case is opened with ``lead_agency``,
    ``key_worker`` (who must be assignable in that agency), the referral's
    risk level, the review interval of the partnership's rules in force (for
    that risk level) and its first open Review
    row.

    Either way the referral is marked accepted, the decision is written to
    the case chronology as a hub "decision" note, permissions are synced and
    every change is in the access log. A referral that arrived as a transfer
    from another partnership settles the transfer in the same transaction
    (``transfers.transfer_settle_accepted``: the sending case closes, or
    stays open jointly for the agreed period).
    """
    referral = _lock_referral(actor, referral)
    _require_screener(actor)
    _require_author(actor)
    _require_open_referral(referral)
    reason = _text(reason, field="reason", label="Reason", max_length=NOTE_MAX_LENGTH, required=False)
    lead_agency = _active_agency(
        lead_agency, field="lead_agency", label="Lead agency", partnership_id=referral.partnership_id,
    )

    now = timezone.now()
    linked_from = None
    if young_person is not None:
        young_person = access.visible_young_people(actor).filter(pk=getattr(young_person, "pk", None)).first()
        if young_person is None:
            raise access.NotVisible("No such young person")
        if young_person.pk != referral.young_person_id:
            linked_from = referral.young_person_id
    else:
        young_person = referral.young_person
    if young_person.anonymised_at is not None:
        raise DomainError("This young person's record has been anonymised", field="young_person")

    # Lock the young person so two referrals about the same person accepted
    # at once cannot both open a case (the partial unique index would stop
    # the second with an IntegrityError; the lock makes it join instead).
    YoungPerson.objects.select_for_update().filter(pk=young_person.pk).get()
    # A lookup past the actor's reach, on purpose: the hub must find the one
    # open case whoever leads it, or it would open a second. Nothing about
    # that case is shown to the screener beyond its reference.
    case = Case.objects.select_for_update().filter(young_person=young_person, status=CaseStatus.OPEN).first()
    joined = case is not None
    if not joined and key_worker is not None:
        key_worker = _key_worker(key_worker, lead_agency)

    if linked_from is not None:
        referral.young_person = young_person
        access.log_access(
            actor, "link_young_person", referral,
            detail={"from_young_person": linked_from, "to_young_person": young_person.pk},
        )
    if not joined:
        # The review interval of the partnership's rules in force now, for
        # the referral's risk rating, kept on the case.
        interval = rules_in_force(referral.partnership_id, now).review_interval_days(referral.risk_level)
        next_review = deadlines.review_due_after(timezone.localdate(now), interval)
        case = Case.objects.create(
            partnership=referral.partnership,
            young_person=young_person,
            lead_agency=lead_agency,
            key_worker=key_worker,
            opened_at=now,
            risk_level=referral.risk_level,
            review_interval_days=interval,
            next_review_due=next_review,
        )
        Review.objects.create(case=case, due_on=next_review)
        access.log_access(actor, "open_case", case, detail={"referral": referral.pk})

    _decide(actor, referral, ReferralStatus.ACCEPTED, reason, now)
    referral.case = case
    referral.save()
    access.log_access(actor, "accept", referral, detail={"case": case.pk, "joined_open_case": joined})

    if joined:
        summary = (
            f"Referral {referral.reference} from {referral.referring_agency.name} accepted by the hub and "
            f"joined to this open case; the lead agency ({case.lead_agency.name}) is unchanged."
        )
    else:
        summary = (
            f"Referral {referral.reference} from {referral.referring_agency.name} accepted by the hub. "
            f"Case opened with {lead_agency.name} as lead agency."
        )
    if reason:
        summary += f"\n\nReason: {reason}"
    # The one chronology entry written by the hub rather than an agency on
    # the case: it records the decision that brought the case about.
    note = CaseNote.objects.create(
        case=case, occurred_at=now, recorded_at=now, kind=NoteKind.DECISION,
        author=actor.user, agency=actor.agency, text=summary, visibility=NoteVisibility.CASE,
    )
    access.log_access(actor, "add_note", note)
    access.sync_case_permissions(case)
    # A referral that is a transfer from another partnership settles it.
    transfers.transfer_settle_accepted(actor=actor, referral=referral, case=case, joined=joined)
    return case


@transaction.atomic
def referral_signpost(*, actor: Actor, referral: Referral, signposted_to: str, reason: str) -> Referral:
    """Close an open referral by signposting the young person elsewhere.

    Who: hub screeners. Guarantees: ``signposted_to`` and ``reason`` are
    required; an already decided referral is a ``DomainError``; the decision
    is in the access log.
    """
    referral = _lock_referral(actor, referral)
    _require_screener(actor)
    _require_open_referral(referral)
    signposted_to = _text(signposted_to, field="signposted_to", label="Where they were signposted", max_length=200)
    reason = _text(reason, field="reason", label="Reason", max_length=NOTE_MAX_LENGTH)
    _decide(actor, referral, ReferralStatus.SIGNPOSTED, reason, timezone.now())
    referral.signposted_to = signposted_to
    referral.save()
    access.log_access(actor, "signpost", referral)
    transfers.transfer_settle_declined(actor=actor, referral=referral, reason=f"Signposted to {signposted_to}: {reason}")
    return referral


@transaction.atomic
def referral_no_further_action(*, actor: Actor, referral: Referral, reason: str) -> Referral:
    """Close an open referral with no further action.

    Who: hub screeners. Guarantees: a reason is required; an already decided
    referral is a ``DomainError``; the decision is in the access log.
    """
    referral = _lock_referral(actor, referral)
    _require_screener(actor)
    _require_open_referral(referral)
    reason = _text(reason, field="reason", label="Reason", max_length=NOTE_MAX_LENGTH)
    _decide(actor, referral, ReferralStatus.NO_FURTHER_ACTION, reason, timezone.now())
    referral.save()
    access.log_access(actor, "no_further_action", referral)
    transfers.transfer_settle_declined(actor=actor, referral=referral, reason=reason)
    return referral


@transaction.atomic
def referral_withdraw(*, actor: Actor, referral: Referral, reason: str) -> Referral:
    """Withdraw a referral that the hub has not yet decided.

    Who: the person who made it, a manager of the referring agency, or (for
    a referral a partner system made, with no person named) an API client
    of the referring agency. Others who can see the referral (the hub, say)
    get ``NotAllowed``. Guarantees: a reason is required; only an open
    referral (submitted or screening) can be withdrawn.
    """
    referral = _lock_referral(actor, referral)
    from_referring_agency = actor.agency is not None and referral.referring_agency_id == actor.agency.pk
    is_referrer = actor.user is not None and referral.referred_by_id == actor.user.pk
    is_system_referrer = actor.user is None and bool(actor.api_client) and referral.referred_by_id is None
    if not (
        from_referring_agency
        and (is_referrer or is_system_referrer or actor.has_role(Role.MANAGER))
        and (actor.works_cases or actor.api_client)
    ):
        raise access.NotAllowed("Only the referrer or their manager may withdraw a referral")
    _require_open_referral(referral)
    reason = _text(reason, field="reason", label="Reason", max_length=NOTE_MAX_LENGTH)
    referral.status = ReferralStatus.WITHDRAWN
    referral.decided_at = timezone.now()
    referral.decided_by = actor.user
    referral.decision_reason = reason
    referral.save()
    access.log_access(actor, "withdraw", referral)
    return referral


# ---------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------


@transaction.atomic
def case_allocate(*, actor: Actor, case: Case, key_worker) -> Case:
    """Choose or change a case's key worker.

    Who: a manager in the lead agency (``Action.ALLOCATE``). Guarantees: the
    key worker is an active practitioner or manager of the lead agency; the
    case is open; allocating the current key worker again changes nothing
    and writes nothing.
    """
    case = _lock_case(actor, case, Action.ALLOCATE)
    _require_open_case(case)
    key_worker = _key_worker(key_worker, case.lead_agency)
    if case.key_worker_id == key_worker.pk:
        return case
    previous = case.key_worker_id
    case.key_worker = key_worker
    case.save(update_fields=["key_worker", "updated_at"])
    access.log_access(actor, "allocate", case, detail={"key_worker": key_worker.pk, "previous": previous})
    return case


@transaction.atomic
def case_transfer_lead(*, actor: Actor, case: Case, lead_agency: Agency, key_worker=None) -> Case:
    """Hand the lead on an open case to another agency.

    Who: a manager in the current lead agency (``Action.ALLOCATE``).
    Guarantees: the new lead is another active agency; ``key_worker``, if
    given, must be assignable there, else the case waits unallocated for the
    new lead to allocate. The old lead keeps access only through an active
    share grant, if it has one; permission rows are synced in the same
    transaction.
    """
    case = _lock_case(actor, case, Action.ALLOCATE)
    _require_open_case(case)
    lead_agency = _active_agency(
        lead_agency, field="lead_agency", label="Lead agency", partnership_id=case.partnership_id,
    )
    if lead_agency.pk == case.lead_agency_id:
        raise DomainError(f"{lead_agency.name} already leads this case", field="lead_agency")
    if key_worker is not None:
        key_worker = _key_worker(key_worker, lead_agency)
    previous = case.lead_agency_id
    case.lead_agency = lead_agency
    case.key_worker = key_worker
    case.save(update_fields=["lead_agency", "key_worker", "updated_at"])
    access.log_access(
        actor, "transfer_lead", case,
        detail={"from_agency": previous, "to_agency": lead_agency.pk, "key_worker": getattr(key_worker, "pk", None)},
    )
    access.sync_case_permissions(case)
    return case


@transaction.atomic
def case_note_add(
    *,
    actor: Actor,
    case: Case,
    kind: str,
    text: str,
    occurred_at: dt.datetime | None = None,
    visibility: str = NoteVisibility.CASE,
) -> CaseNote:
    """Add an entry to an open case's chronology.

    Who: anyone in an agency that leads the case or holds an active share
    of it (``Action.CONTRIBUTE``), as a named person. Guarantees: the entry
    did not happen in the future (beyond ``CLOCK_SKEW``), before 1900 or
    before the young person was born; its text is 1 to 20,000 characters; it is
    written by the actor for the actor's agency and can never be changed
    afterwards (``case_note_correct`` adds a correction).
    """
    case = _lock_case(actor, case, Action.CONTRIBUTE)
    _require_author(actor)
    _require_open_case(case)
    now = timezone.now()
    kind = _choice(kind, NoteKind, field="kind", label="Kind of entry")
    text = _text(text, field="text", label="The entry", max_length=NOTE_MAX_LENGTH)
    occurred_at = now if occurred_at is None else _moment(
        occurred_at, field="occurred_at", label="When it happened", now=now,
        born=case.young_person.date_of_birth,
    )
    visibility = _choice(visibility, NoteVisibility, field="visibility", label="Who can see it")
    note = CaseNote.objects.create(
        case=case, occurred_at=occurred_at, recorded_at=now, kind=kind, author=actor.user,
        agency=actor.agency, text=text, visibility=visibility,
    )
    access.log_access(actor, "add_note", note)
    return note


@transaction.atomic
def case_note_correct(*, actor: Actor, note: CaseNote, text: str) -> CaseNote:
    """Correct a chronology entry by adding a new one that points at it.

    Who: someone in the original author's agency, on a case that agency can
    still contribute to (``access.may_correct_note``). Corrections are
    allowed on closed cases too: keeping the record accurate does not stop
    at closure. Guarantees: the original entry is never changed (the
    database forbids it); the correction keeps the original's kind, time and
    visibility, and its text must differ from the original's.
    """
    case_id = getattr(note, "case_id", None)
    case = access.get_case(actor, case_id, Action.VIEW, log=False) if case_id else None
    original = access.visible_notes(actor, case).filter(pk=note.pk).select_related("case").first() if case else None
    if original is None:
        raise access.NotVisible("No such chronology entry")
    _require_author(actor)
    if not access.may_correct_note(actor, original):
        raise access.NotAllowed("Only the author's agency may correct this entry")
    text = _text(text, field="text", label="The corrected entry", max_length=NOTE_MAX_LENGTH)
    if text == original.text.strip():
        raise DomainError("The correction is the same as the original entry", field="text", code="unchanged")
    correction = CaseNote.objects.create(
        case=original.case, occurred_at=original.occurred_at, recorded_at=timezone.now(), kind=original.kind,
        author=actor.user, agency=actor.agency, text=text, visibility=original.visibility, corrects=original,
    )
    access.log_access(actor, "correct_note", correction, detail={"corrects": original.pk})
    return correction


# ---------------------------------------------------------------------------
# Interventions
# ---------------------------------------------------------------------------


def _check_intervention(values: dict, *, today: dt.date, born: dt.date | None) -> None:
    """The rules an intervention's state must keep, whichever path set it."""
    status = values["status"]
    for name, label in (("planned_start", "The planned start"), ("started_on", "The start date"),
                        ("ended_on", "The end date")):
        _not_before_birth(values[name], field=name, label=label, born=born)
    # A planned start may be past or future (plans move), within a year.
    if values["planned_start"] and values["planned_start"] > today + PLAN_AHEAD:
        raise DomainError("The planned start must be within a year from today", field="planned_start",
                          code="future")
    started, ended = values["started_on"], values["ended_on"]
    if started and started > today:
        raise DomainError("The start date must not be in the future", field="started_on", code="future")
    if ended and ended > today:
        raise DomainError("The end date must not be in the future", field="ended_on", code="future")
    if started and ended and ended < started:
        raise DomainError("The end date must be on or after the start date", field="ended_on", code="out_of_order")
    if status in FINISHED_INTERVENTION_STATUSES and not ended:
        raise DomainError("Give the date the intervention ended", field="ended_on", code="status_dates")
    if status not in FINISHED_INTERVENTION_STATUSES and ended:
        raise DomainError("Only a completed or ended intervention has an end date", field="ended_on",
                          code="status_dates")
    if status == InterventionStatus.ACTIVE and not started:
        raise DomainError("Give the date the intervention started", field="started_on", code="status_dates")
    for name in ("sessions_offered", "sessions_attended"):
        value = values[name]
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= SESSIONS_MAX:
            raise DomainError(f"Enter a whole number from 0 to {SESSIONS_MAX:,}", field=name)
    if values["sessions_attended"] > values["sessions_offered"]:
        raise DomainError(
            "Sessions attended cannot be more than sessions offered", field="sessions_attended", code="out_of_order",
        )


@transaction.atomic
def intervention_record(
    *,
    actor: Actor,
    case: Case,
    provider_agency: Agency,
    kind: str,
    goals: str,
    status: str = InterventionStatus.PLANNED,
    planned_start: dt.date | None = None,
    started_on: dt.date | None = None,
    ended_on: dt.date | None = None,
    sessions_offered: int = 0,
    sessions_attended: int = 0,
    outcome: str = "",
) -> Intervention:
    """Record a support offer on an open case.

    Who: anyone in an agency leading or sharing the case
    (``Action.CONTRIBUTE``), as a named person. The provider may be any
    active agency (voluntary-sector providers are often not on the case).
    Guarantees: dates are real, not in the future (the planned start at
    most a year ahead), not before 1900 or the young person's birth, and in
    order; a completed or ended-early intervention has an
    end date and an open one has none; an active one has a start date;
    attended sessions never exceed those offered.
    """
    case = _lock_case(actor, case, Action.CONTRIBUTE)
    _require_author(actor)
    _require_open_case(case)
    values = {
        "provider_agency": _active_agency(
            provider_agency, field="provider_agency", label="Provider", partnership_id=case.partnership_id,
            case=case,
        ),
        "kind": _choice(kind, InterventionKind, field="kind", label="Kind of intervention"),
        "goals": _text(goals, field="goals", label="Goals", max_length=NOTE_MAX_LENGTH),
        "status": _choice(status, InterventionStatus, field="status", label="Status"),
        "planned_start": _date(planned_start, field="planned_start", label="Planned start"),
        "started_on": _date(started_on, field="started_on", label="Start date"),
        "ended_on": _date(ended_on, field="ended_on", label="End date"),
        "sessions_offered": sessions_offered,
        "sessions_attended": sessions_attended,
        "outcome": _text(outcome, field="outcome", label="Outcome", max_length=NOTE_MAX_LENGTH, required=False),
    }
    _check_intervention(values, today=timezone.localdate(), born=case.young_person.date_of_birth)
    intervention = Intervention.objects.create(case=case, recorded_by=actor.user, **values)
    access.log_access(actor, "record_intervention", intervention)
    return intervention


@transaction.atomic
def intervention_update(*, actor: Actor, intervention: Intervention, **changes: Any) -> Intervention:
    """Change an intervention's status, dates, goals, sessions or outcome.

    Who: as ``intervention_record``. Only the fields in
    ``INTERVENTION_CHANGEABLE_FIELDS`` may change (the case, provider, kind
    and recorder are fixed: record a new intervention instead); any other
    name is a ``DomainError``. The whole resulting state is checked by the
    same rules as a new record, and a finished intervention (completed or
    ended early) cannot be reopened. The case must be open.
    """
    unknown = set(changes) - INTERVENTION_CHANGEABLE_FIELDS
    if unknown:
        name = sorted(unknown)[0]
        raise DomainError(f"{name} cannot be changed", field=name, code="not_changeable")
    case_id = getattr(intervention, "case_id", None)
    if case_id is None:
        raise access.NotVisible("No such intervention")
    case = _lock_case(actor, case_id, Action.CONTRIBUTE)
    _require_open_case(case)
    current = Intervention.objects.select_for_update().filter(pk=intervention.pk, case=case).first()
    if current is None:
        raise access.NotVisible("No such intervention")
    cleaners = {
        "status": lambda v: _choice(v, InterventionStatus, field="status", label="Status"),
        "planned_start": lambda v: _date(v, field="planned_start", label="Planned start"),
        "started_on": lambda v: _date(v, field="started_on", label="Start date"),
        "ended_on": lambda v: _date(v, field="ended_on", label="End date"),
        "goals": lambda v: _text(v, field="goals", label="Goals", max_length=NOTE_MAX_LENGTH),
        "outcome": lambda v: _text(v, field="outcome", label="Outcome", max_length=NOTE_MAX_LENGTH, required=False),
        "sessions_offered": lambda v: v,
        "sessions_attended": lambda v: v,
    }
    cleaned = {name: cleaners[name](value) for name, value in changes.items()}
    values = {name: getattr(current, name) for name in INTERVENTION_CHANGEABLE_FIELDS}
    values.update(cleaned)
    if (
        current.status in FINISHED_INTERVENTION_STATUSES
        and values["status"] not in FINISHED_INTERVENTION_STATUSES
    ):
        raise DomainError("A finished intervention cannot be reopened: record a new one", field="status", code="reopened")
    _check_intervention(values, today=timezone.localdate(), born=case.young_person.date_of_birth)
    changed = sorted(name for name, value in cleaned.items() if getattr(current, name) != value)
    if not changed:
        return current
    for name in changed:
        setattr(current, name, cleaned[name])
    current.save(update_fields=[*changed, "updated_at"])
    # Field names only: the values are case content and stay out of the log.
    access.log_access(actor, "update_intervention", current, detail={"fields": changed})
    return current


# ---------------------------------------------------------------------------
# Reviews and closure
# ---------------------------------------------------------------------------


@transaction.atomic
def review_complete(
    *,
    actor: Actor,
    case: Case,
    risk_after: str,
    summary: str,
    decision: str,
    completed_at: dt.datetime | None = None,
) -> Review:
    """Complete the case's next review and set the one after it.

    Who: the lead agency's managers and the case's key worker
    (``Action.MANAGE``). Completes the earliest open Review row, or creates
    one due today if there is none; sets the case's risk level to
    ``risk_after`` and its next review to the review date plus the review
    interval of the partnership's rules in force at the review, for
    ``risk_after`` (moved to a working day; the case keeps that interval),
    and opens the Review row for it. A decision to close is a recommendation: the case stays open until
    a manager closes it with ``case_close``.
    """
    case = _lock_case(actor, case, Action.MANAGE)
    _require_author(actor)
    _require_open_case(case)
    now = timezone.now()
    risk_after = _choice(risk_after, RiskLevel, field="risk_after", label="Risk after review")
    summary = _text(summary, field="summary", label="Summary", max_length=NOTE_MAX_LENGTH)
    decision = _choice(decision, ReviewDecision, field="decision", label="Decision")
    if completed_at is None:
        completed_at = now
    else:
        completed_at = _moment(completed_at, field="completed_at", label="Review date", now=now)
        if completed_at < case.opened_at:
            raise DomainError("The review cannot be before the case opened", field="completed_at")
    review_day = timezone.localdate(completed_at)
    # The next review is set by the partnership's rules in force at this
    # review, for the risk after it; the case keeps the interval it was set by.
    interval = rules_in_force(case.partnership_id, completed_at).review_interval_days(risk_after)
    next_due = deadlines.review_due_after(review_day, interval)

    review = (
        Review.objects.select_for_update()
        .filter(case=case, completed_at__isnull=True)
        .order_by("due_on", "pk")
        .first()
    )
    if review is None:
        review = Review(case=case, due_on=review_day)
    review.completed_at = completed_at
    review.completed_by = actor.user
    review.risk_after = risk_after
    review.summary = summary
    review.decision = decision
    review.next_review_due = next_due
    review.save()
    case.risk_level = risk_after
    case.next_review_due = next_due
    case.review_interval_days = interval
    case.save(update_fields=["risk_level", "next_review_due", "review_interval_days", "updated_at"])
    Review.objects.create(case=case, due_on=next_due)
    access.log_access(actor, "complete_review", review, detail={"decision": decision, "risk_after": risk_after})
    return review


@transaction.atomic
def case_close(*, actor: Actor, case: Case, reason: str, outcome: str) -> Case:
    """Close an open case.

    Who: a manager in the lead agency (``Action.CLOSE``). Guarantees: the
    closure reason is from ``ClosureReason`` and an outcome is recorded;
    planned and active interventions are ended early today; the case's
    ``next_review_due`` is cleared.

    Open Review rows are left as they are, never deleted (casework is not
    deleted), but they are no longer pending: a review is pending only
    while its case is open, so reminder sweeps and "reviews due" lists must
    filter on the case's status (or use ``Case.next_review_due``, which is
    null once closed). Share grants keep running to their expiry; the
    closed case stays visible to the agencies that could see it.
    """
    case = _lock_case(actor, case, Action.CLOSE)
    _require_open_case(case)
    reason = _choice(reason, ClosureReason, field="reason", label="Reason for closing")
    outcome = _text(outcome, field="outcome", label="Outcome", max_length=NOTE_MAX_LENGTH)
    now = timezone.now()
    ended = records.close_case_record(
        case, reason=reason, outcome=outcome, closed_by=actor.user, now=now, today=timezone.localdate(now),
    )
    access.log_access(actor, "close", case, detail={"reason": reason, "interventions_ended": ended})
    return case
