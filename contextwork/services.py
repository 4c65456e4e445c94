"""The write paths for contexts and panels.

Like ``casework.services``: each takes ``actor`` and asks the access policy
first (``access.get_context``, ``access.get_case``, ``access.get_panel``:
``NotVisible`` for what is out of sight, ``NotAllowed`` for what may be seen
but not done); validates everything before writing, raising
``DomainError`` with the field at fault; runs in one transaction; writes its
access-log row in that transaction; and returns the fresh object.

A link is made only between things the actor may see: a case through
``access.get_case``, a context through ``access.get_context``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from agencies.models import Agency
from casework.services import _active_agency, _choice, _date, _moment, _text
from contexts.models import (
    CONFIDENTIALITY_VERSION,
    OUTSTANDING_ACTION_STATUSES,
    ActionStatus,
    Context,
    ContextIntervention,
    ContextInterventionKind,
    ContextInterventionStatus,
    ContextKind,
    ContextLink,
    ContextNote,
    HandlingCode,
    IntelligenceAssessment,
    MinuteKind,
    Panel,
    PanelAction,
    PanelAgendaItem,
    PanelAttendee,
    PanelMinute,
    PeerLink,
    PeerRelationship,
    SourceEvaluation,
)
from lib.errors import DomainError
from referrals.models import Case, CaseNote, NoteKind, NoteVisibility, RiskLevel
from safeguarding import access
from safeguarding.access import Action, Actor

TEXT_MAX_LENGTH = 20_000
STREET_NAMES_MAX = 30


def _named(actor: Actor) -> None:
    # Chronology entries, links and minutes name the person who wrote them.
    if actor.user is None:
        raise access.NotAllowed("This needs a named person")


def _agencies(values, *, field: str, partnership_id: int) -> list[Agency]:
    if values is None:
        return []
    if not isinstance(values, (list, tuple, set)):
        raise DomainError("Choose the agencies", field=field)
    return [_active_agency(v, field=field, label="Agency", partnership_id=partnership_id) for v in values]


def _map_point(latitude, longitude) -> tuple[Decimal | None, Decimal | None]:
    if latitude in (None, "") and longitude in (None, ""):
        return None, None
    if latitude in (None, "") or longitude in (None, ""):
        field = "latitude" if latitude in (None, "") else "longitude"
        raise DomainError("Give both the latitude and the longitude, or neither", field=field, code="map_point")
    point = []
    for name, value, bound in (("latitude", latitude, 90), ("longitude", longitude, 180)):
        try:
            number = Decimal(str(value)).quantize(Decimal("0.00001"))
        except (InvalidOperation, ValueError):
            raise DomainError(f"The {name} must be a number", field=name) from None
        if not number.is_finite() or abs(number) > bound:
            raise DomainError(f"The {name} must be between -{bound} and {bound}", field=name)
        point.append(number)
    return point[0], point[1]


def _street_names(values) -> list[str]:
    if values in (None, ""):
        return []
    if isinstance(values, str):
        values = values.replace("\n", ",").split(",")
    if not isinstance(values, (list, tuple)):
        raise DomainError("Give the street names as a list", field="street_names")
    names = []
    for value in values:
        name = _text(value, field="street_names", label="A street name", max_length=100, required=False)
        if name and name not in names:
            names.append(name)
    if len(names) > STREET_NAMES_MAX:
        raise DomainError(f"Give at most {STREET_NAMES_MAX} street names", field="street_names")
    return names


# ---------------------------------------------------------------------------
# Contexts
# ---------------------------------------------------------------------------


@transaction.atomic
def context_record(
    *,
    actor: Actor,
    kind: str,
    name: str,
    known: str,
    risk_level: str,
    lead_agency: Agency | None = None,
    ward: str = "",
    latitude=None,
    longitude=None,
    street_names=None,
    restricted_to=None,
) -> Context:
    """Record a place, peer group, online space or person of concern.

    Who: anyone working cases in a partnership (``access.may_record_context``;
    a person of concern only the police and the hub). The lead agency is an
    active agency of the partnership (the actor's own by default). A map
    point is for a place only, both coordinates or neither. A person of
    concern is seen only by ``restricted_to`` and the recorder's own agency,
    always; for any other kind ``restricted_to`` must be empty (everyone in
    the partnership sees it)."""
    kind = _choice(kind, ContextKind, field="kind", label="Kind of context")
    if not access.may_record_context(actor, kind):
        if kind == ContextKind.PERSON_OF_CONCERN and access.may_record_context(actor):
            raise access.NotAllowed("Only the police and the hub record a person of concern")
        raise access.NotAllowed("Only people working cases in a partnership record contexts")
    _named(actor)
    partnership_id = actor.partnership_id
    values = {
        "kind": kind,
        "name": _text(name, field="name", label="Name", max_length=200),
        "known": _text(known, field="known", label="What is known", max_length=TEXT_MAX_LENGTH),
        "risk_level": _choice(risk_level, RiskLevel, field="risk_level", label="Risk"),
        "ward": _text(ward, field="ward", label="Ward", max_length=100, required=False),
        "street_names": _street_names(street_names),
        "lead_agency": _active_agency(lead_agency or actor.agency, field="lead_agency", label="Lead agency",
                                      partnership_id=partnership_id),
    }
    values["latitude"], values["longitude"] = _map_point(latitude, longitude)
    if values["latitude"] is not None and kind != ContextKind.PLACE:
        raise DomainError("Only a place has a map point", field="latitude", code="map_point")
    chosen = _agencies(restricted_to, field="restricted_to", partnership_id=partnership_id)
    if chosen and kind != ContextKind.PERSON_OF_CONCERN:
        raise DomainError("Only a person of concern is kept to chosen agencies", field="restricted_to")
    context = Context.objects.create(
        partnership_id=partnership_id, recorded_by=actor.user, recording_agency=actor.agency, **values,
    )
    if kind == ContextKind.PERSON_OF_CONCERN:
        context.restricted_to.set({actor.agency.pk, *(a.pk for a in chosen)})
    access.log_access(actor, "record_context", context, basis=access.context_basis(actor, context),
                      detail={"kind": kind, "restricted_to": sorted(context.restricted_to.values_list("pk", flat=True))})
    return context


@transaction.atomic
def context_share(*, actor: Actor, context: Context, agencies) -> Context:
    """Choose again which agencies see a person of concern.

    Who: the agency that recorded it (``access.may_share_context``).
    Guarantees: the recorder's agency always keeps it; every agency chosen
    is active in the partnership; the choice is in the access log."""
    context = access.get_context(actor, getattr(context, "pk", context), log=False, for_update=True)
    if not context.is_person_of_concern:
        raise DomainError("Only a person of concern is kept to chosen agencies", field="agencies")
    if not access.may_share_context(actor, context):
        raise access.NotAllowed("Only the agency that recorded a person of concern chooses who sees it")
    chosen = _agencies(agencies, field="agencies", partnership_id=context.partnership_id)
    wanted = {actor.agency.pk, *(a.pk for a in chosen)}
    context.restricted_to.set(wanted)
    access.log_access(actor, "share_context", context, basis=access.context_basis(actor, context),
                      detail={"restricted_to": sorted(wanted)})
    return context


def _grading(values: dict) -> dict:
    """The source, date and 3x5x2 grade a link carries, validated."""
    today = timezone.localdate()
    information_date = _date(values.get("information_date"), field="information_date", label="Date of the information",
                             required=True)
    if information_date > today:
        raise DomainError("The date of the information must not be in the future", field="information_date",
                          code="future")
    handling = _choice(values.get("handling_code") or HandlingCode.PERMITTED, HandlingCode, field="handling_code",
                       label="Handling code")
    conditions = _text(values.get("handling_conditions"), field="handling_conditions", label="Handling conditions",
                       max_length=300, required=False)
    if handling == HandlingCode.CONDITIONS and not conditions:
        raise DomainError("Say what the conditions on sharing are", field="handling_conditions", code="required")
    return {
        "source": _text(values.get("source"), field="source", label="Source", max_length=300),
        "information_date": information_date,
        "source_evaluation": _choice(values.get("source_evaluation"), SourceEvaluation, field="source_evaluation",
                                     label="Source evaluation"),
        "intelligence_assessment": _choice(values.get("intelligence_assessment"), IntelligenceAssessment,
                                           field="intelligence_assessment", label="Intelligence assessment"),
        "handling_code": handling,
        "handling_conditions": conditions if handling == HandlingCode.CONDITIONS else "",
    }


@transaction.atomic
def context_link_record(*, actor: Actor, context: Context, case: Case | int, **grading: Any) -> ContextLink:
    """Link a case to a context, with the information's source, date and
    grade (``source``, ``information_date``, ``source_evaluation``,
    ``intelligence_assessment``, ``handling_code``, ``handling_conditions``).

    Who: someone who may see both (``access.may_work_on_context`` and
    ``access.get_case``): nobody links a case they cannot see. Guarantees:
    the case and the context are of the same partnership; the link names the
    actor and their agency as its recorder."""
    if context in (None, ""):
        raise DomainError("Choose the place, group or person", field="context", code="required")
    try:
        context = access.get_context(actor, getattr(context, "pk", context), log=False)
    except access.NotVisible:
        raise DomainError("No such context is visible to your agency", field="context", code="unknown_context") from None
    if not access.may_work_on_context(actor, context):
        raise access.NotAllowed("You may not add links to this context")
    _named(actor)
    case_id = getattr(case, "pk", case)
    if case_id in (None, ""):
        raise DomainError("Choose the case", field="case", code="required")
    case = access.get_case(actor, case_id, Action.CONTRIBUTE, log=False)
    values = _grading(grading)
    link = ContextLink.objects.create(
        context=context, case=case, recording_agency=actor.agency, recorded_by=actor.user, **values,
    )
    access.log_access(actor, "link_context", link, object_type="context_link",
                      detail={"context": context.pk, "grading": link.grading})
    return link


@transaction.atomic
def peer_link_record(*, actor: Actor, case: Case | int, other_case: Case | int, relationship: str,
                     **grading: Any) -> PeerLink:
    """Link two young people through their cases (siblings, associates,
    victim and suspect of one incident...), graded like a context link.

    Who: someone who may see both cases (``access.get_case``). Guarantees:
    two different cases of one partnership; one link per pair and
    relationship (stored lower case id first)."""
    first = access.get_case(actor, getattr(case, "pk", case), Action.CONTRIBUTE, log=False)
    other_id = getattr(other_case, "pk", other_case)
    if other_id in (None, ""):
        raise DomainError("Choose the other young person's case", field="other_case", code="required")
    try:
        second = access.get_case(actor, other_id, log=False)
    except access.NotVisible:
        raise DomainError("No case with that reference is visible to your agency", field="other_case") from None
    if first.pk == second.pk:
        raise DomainError("Choose another young person's case", field="other_case")
    _named(actor)
    relationship = _choice(relationship, PeerRelationship, field="relationship", label="Relationship")
    values = _grading(grading)
    a, b = sorted([first, second], key=lambda c: c.pk)
    if PeerLink.objects.filter(case_a=a, case_b=b, relationship=relationship).exists():
        raise DomainError("These two young people are already linked that way", field="other_case",
                          code="already_linked")
    link = PeerLink.objects.create(case_a=a, case_b=b, relationship=relationship, recording_agency=actor.agency,
                                   recorded_by=actor.user, **values)
    access.log_access(actor, "link_peer", first, detail={"peer_link": link.pk, "other_case": second.pk})
    return link


def _check_context_intervention(values: dict) -> None:
    today = timezone.localdate()
    started, ended, status = values["started_on"], values["ended_on"], values["status"]
    if started and started > today:
        raise DomainError("The start date must not be in the future", field="started_on", code="future")
    if ended and ended > today:
        raise DomainError("The end date must not be in the future", field="ended_on", code="future")
    if started and ended and ended < started:
        raise DomainError("The end date must be on or after the start date", field="ended_on")
    finished = (ContextInterventionStatus.COMPLETED, ContextInterventionStatus.STOPPED)
    if status in finished and not ended:
        raise DomainError("Give the date it ended", field="ended_on", code="required")
    if status not in finished and ended:
        raise DomainError("Only completed or stopped work has an end date", field="ended_on")
    if status == ContextInterventionStatus.ACTIVE and not started:
        raise DomainError("Give the date it started", field="started_on", code="required")


def _owner(user, agency: Agency, *, field: str = "owner", required: bool = False):
    """A person who works cases in the agency (practitioner, manager or
    screener), or None when not required and not given."""
    if user is None or getattr(user, "pk", None) is None:
        if required:
            raise DomainError("Choose the person", field=field, code="required")
        return None
    works = agency.memberships.filter(user_id=user.pk, is_active=True, user__is_active=True,
                                      role__in=list(access.CASEWORK_ROLES)).exists()
    if not works:
        raise DomainError(f"Choose someone who works cases in {agency.name}", field=field)
    return user


@transaction.atomic
def context_intervention_record(
    *, actor: Actor, context: Context, kind: str, description: str, owner_agency: Agency, owner=None,
    status: str = ContextInterventionStatus.PLANNED, started_on=None, ended_on=None,
) -> ContextIntervention:
    """Record work aimed at a place or group itself (detached youth work,
    lighting, licensing, patrols, a school's response...), with the agency
    that owns it and, if named, the person.

    Who: anyone who may work on the context (``access.may_work_on_context``).
    Guarantees: the owner agency works in the partnership and the owner is
    one of its practitioners or managers; dates are real, not in the future
    and in order; finished work has an end date, active work a start date."""
    context = access.get_context(actor, getattr(context, "pk", context), log=False)
    if not access.may_work_on_context(actor, context):
        raise access.NotAllowed("You may not add to this context")
    _named(actor)
    agency = _active_agency(owner_agency, field="owner_agency", label="Owner agency",
                            partnership_id=context.partnership_id)
    values = {
        "kind": _choice(kind, ContextInterventionKind, field="kind", label="Kind of work"),
        "description": _text(description, field="description", label="Description", max_length=TEXT_MAX_LENGTH),
        "status": _choice(status, ContextInterventionStatus, field="status", label="Status"),
        "started_on": _date(started_on, field="started_on", label="Start date"),
        "ended_on": _date(ended_on, field="ended_on", label="End date"),
        "owner": _owner(owner, agency),
    }
    _check_context_intervention(values)
    intervention = ContextIntervention.objects.create(context=context, owner_agency=agency, recorded_by=actor.user,
                                                      **values)
    access.log_access(actor, "record_context_intervention", intervention, object_type="context_intervention",
                      detail={"context": context.pk})
    return intervention


@transaction.atomic
def context_intervention_update(*, actor: Actor, intervention: ContextIntervention, status: str, started_on=None,
                                ended_on=None) -> ContextIntervention:
    """Move an intervention on: its status and dates.

    Who: its owning agency or the context's lead agency
    (``access.may_change_context_intervention``). Guarantees: the same rules
    as a new one; finished work is not reopened."""
    current = ContextIntervention.objects.select_for_update().filter(pk=getattr(intervention, "pk", None)).first()
    if current is None or not access.visible_contexts(actor).filter(pk=current.context_id).exists():
        raise access.NotVisible("No such intervention")
    if not access.may_change_context_intervention(actor, current):
        raise access.NotAllowed("Only the owning agency or the context's lead agency updates this")
    values = {
        "status": _choice(status, ContextInterventionStatus, field="status", label="Status"),
        "started_on": _date(started_on, field="started_on", label="Start date"),
        "ended_on": _date(ended_on, field="ended_on", label="End date"),
    }
    finished = (ContextInterventionStatus.COMPLETED, ContextInterventionStatus.STOPPED)
    if current.status in finished and values["status"] not in finished:
        raise DomainError("Finished work cannot be reopened: record it again", field="status")
    _check_context_intervention(values)
    for name, value in values.items():
        setattr(current, name, value)
    current.save(update_fields=[*values, "updated_at"])
    access.log_access(actor, "update_context_intervention", current, object_type="context_intervention",
                      detail={"context": current.context_id, "status": current.status})
    return current


@transaction.atomic
def context_note_add(*, actor: Actor, context: Context, kind: str, text: str,
                     occurred_at: dt.datetime | None = None) -> ContextNote:
    """Add an entry to a context's chronology.

    Who: anyone who may work on the context. Guarantees: it did not happen
    in the future; it can never be changed (``context_note_correct``)."""
    context = access.get_context(actor, getattr(context, "pk", context), log=False)
    if not access.may_work_on_context(actor, context):
        raise access.NotAllowed("You may not add to this context")
    _named(actor)
    now = timezone.now()
    note = ContextNote.objects.create(
        context=context, kind=_choice(kind, NoteKind, field="kind", label="Kind of entry"),
        text=_text(text, field="text", label="The entry", max_length=TEXT_MAX_LENGTH),
        occurred_at=now if occurred_at is None else _moment(occurred_at, field="occurred_at",
                                                            label="When it happened", now=now),
        recorded_at=now, author=actor.user, agency=actor.agency,
    )
    access.log_access(actor, "add_context_note", note, object_type="context_note", detail={"context": context.pk})
    return note


@transaction.atomic
def context_note_correct(*, actor: Actor, note: ContextNote, text: str) -> ContextNote:
    """Correct a context's chronology entry with a new one pointing at it.

    Who: the author's agency (``access.may_correct_context_note``).
    Guarantees: the original is never changed; the correction differs."""
    original = ContextNote.objects.select_related("context").filter(pk=getattr(note, "pk", None)).first()
    if original is None or not access.visible_contexts(actor).filter(pk=original.context_id).exists():
        raise access.NotVisible("No such chronology entry")
    if not access.may_correct_context_note(actor, original):
        raise access.NotAllowed("Only the author's agency may correct this entry")
    text = _text(text, field="text", label="The corrected entry", max_length=TEXT_MAX_LENGTH)
    if text == original.text.strip():
        raise DomainError("The correction is the same as the original entry", field="text", code="unchanged")
    correction = ContextNote.objects.create(
        context=original.context, occurred_at=original.occurred_at, kind=original.kind, text=text,
        author=actor.user, agency=actor.agency, corrects=original, recorded_at=timezone.now(),
    )
    access.log_access(actor, "correct_context_note", correction, object_type="context_note",
                      detail={"context": original.context_id, "corrects": original.pk})
    return correction


# ---------------------------------------------------------------------------
# Panels
# ---------------------------------------------------------------------------


def _organised_panel(actor: Actor, panel, *, open_only: bool = True) -> Panel:
    panel = access.get_panel(actor, getattr(panel, "pk", panel), for_update=True)
    if not access.may_organise_panel(actor, panel):
        raise access.NotAllowed("Only the panel's chair and its convening agency's managers do this")
    if open_only and panel.is_held:
        raise DomainError("This panel has been held: its agenda and attendees are fixed", field="panel",
                          code="panel_held")
    return panel


def _attendee_add(panel: Panel, user, agency: Agency, added_by) -> PanelAttendee:
    attendee, _ = PanelAttendee.objects.get_or_create(
        panel=panel, user=user, defaults={"agency": agency, "added_by": added_by},
    )
    return attendee


def _overdue_outstanding(partnership_id: int, before: dt.date):
    # Past the actor: a new panel takes up every overdue action of its
    # partnership, whoever owes it (ids onto the agenda; each item then
    # shows to each viewer only what they may see).
    return PanelAction.objects.filter(
        panel__partnership_id=partnership_id, status__in=OUTSTANDING_ACTION_STATUSES, due_on__lt=before,
    )


def _carry(panel: Panel, actions) -> int:
    """Put each overdue action on the panel's agenda once (the unique index
    keeps a second run, or a race, from adding it twice)."""
    carried = 0
    for action in actions:
        if action.panel_id == panel.pk:
            continue
        try:
            with transaction.atomic():
                PanelAgendaItem.objects.create(
                    panel=panel, carried_action=action,
                    reason=f"Action overdue since {action.due_on:%-d %B %Y}, carried forward",
                )
                carried += 1
        except IntegrityError:
            continue
    return carried


@transaction.atomic
def panel_convene(*, actor: Actor, title: str, meets_at: dt.datetime, chair=None, location: str = "") -> Panel:
    """Arrange a panel meeting in the actor's partnership, convened by their
    agency, chaired by a practitioner or manager of it (the actor by default).

    Who: managers and hub screeners (``access.may_convene_panel``).
    Guarantees: the meeting is in the future; the chair is an attendee from
    the start; every outstanding action of an earlier panel already past its
    due date is on the agenda (carried forward)."""
    if not access.may_convene_panel(actor):
        raise access.NotAllowed("Only managers and the hub's screeners convene panels")
    now = timezone.now()
    title = _text(title, field="title", label="Title", max_length=200)
    location = _text(location, field="location", label="Where", max_length=200, required=False)
    if not isinstance(meets_at, dt.datetime) or timezone.is_naive(meets_at):
        raise DomainError("Give the date and time of the meeting", field="meets_at", code="required")
    if meets_at <= now:
        raise DomainError("The meeting must be in the future", field="meets_at", code="past")
    chair = _owner(chair or actor.user, actor.agency, field="chair", required=True)
    panel = Panel.objects.create(
        partnership_id=actor.partnership_id, title=title, meets_at=meets_at, location=location,
        convening_agency=actor.agency, chair=chair, created_by=actor.user,
    )
    _attendee_add(panel, chair, actor.agency, actor.user)
    carried = _carry(panel, _overdue_outstanding(actor.partnership_id, timezone.localdate(now)))
    access.log_access(actor, "convene_panel", panel, detail={"carried_actions": carried})
    return panel


@transaction.atomic
def panel_attendee_add(*, actor: Actor, panel: Panel, user, agency: Agency) -> PanelAttendee:
    """Invite a person to a panel for one of their agencies.

    Who: the panel's organisers, before it is held. Guarantees: the person
    is an active member (practitioner, manager or screener) of an active
    agency of the panel's partnership; invited once."""
    panel = _organised_panel(actor, panel)
    agency = _active_agency(agency, field="agency", label="Agency", partnership_id=panel.partnership_id)
    user = _owner(user, agency, field="user", required=True)
    if PanelAttendee.objects.filter(panel=panel, user_id=user.pk).exists():
        raise DomainError("That person is already invited", field="user", code="already_invited")
    attendee = _attendee_add(panel, user, agency, actor.user)
    access.log_access(actor, "invite_to_panel", panel, detail={"attendee": user.pk, "agency": agency.pk})
    return attendee


@transaction.atomic
def panel_confidentiality_accept(*, actor: Actor, panel: Panel) -> PanelAttendee:
    """Record that an attendee accepts the confidentiality statement in force
    (``contexts.models.CONFIDENTIALITY_STATEMENT``); the papers then open to
    them. Who: the attendee themself. Idempotent."""
    panel = access.get_panel(actor, getattr(panel, "pk", panel))
    attendance = access.panel_attendance(actor, panel)
    if attendance is None:
        raise access.NotAllowed("Only the panel's attendees accept its confidentiality statement")
    if attendance.confidentiality_version != CONFIDENTIALITY_VERSION:
        attendance.confidentiality_accepted_at = timezone.now()
        attendance.confidentiality_version = CONFIDENTIALITY_VERSION
        attendance.save(update_fields=["confidentiality_accepted_at", "confidentiality_version"])
        access.log_access(actor, "accept_confidentiality", panel, detail={"version": CONFIDENTIALITY_VERSION})
    return attendance


@transaction.atomic
def panel_agenda_add(*, actor: Actor, panel: Panel, case: Case | int | None = None,
                     context: Context | int | None = None, reason: str = "") -> PanelAgendaItem:
    """Put a case or a context on a panel's agenda.

    Who: the panel's organisers, before it is held, for a case or context
    they may see themselves (so nobody puts on the agenda what they cannot
    see). Guarantees: exactly one of the two; each at most once per panel."""
    panel = _organised_panel(actor, panel)
    reason = _text(reason, field="reason", label="Why it is on the agenda", max_length=500, required=False)
    if (case in (None, "")) == (context in (None, "")):
        raise DomainError("Choose a case or a context", field="case", code="required")
    if case not in (None, ""):
        try:
            subject = {"case": access.get_case(actor, getattr(case, "pk", case), log=False)}
        except access.NotVisible:
            raise DomainError("No case with that reference is visible to your agency", field="case") from None
    else:
        try:
            subject = {"context": access.get_context(actor, getattr(context, "pk", context), log=False)}
        except access.NotVisible:
            raise DomainError("No such context is visible to your agency", field="context", code="unknown_context") from None
    if PanelAgendaItem.objects.filter(panel=panel, **subject).exists():
        field = next(iter(subject))
        raise DomainError("That is already on the agenda", field=field, code="already_on_agenda")
    item = PanelAgendaItem.objects.create(panel=panel, reason=reason, added_by=actor.user, **subject)
    access.log_access(actor, "add_to_agenda", panel, detail={"item": item.pk, **{k: v.pk for k, v in subject.items()}})
    return item


@transaction.atomic
def panel_hold(*, actor: Actor, panel: Panel) -> Panel:
    """Record that the panel met. Who: its organisers; the meeting time must
    have come. After this its agenda and attendees are fixed; its minutes and
    actions go on."""
    panel = _organised_panel(actor, panel)
    now = timezone.now()
    if panel.meets_at > now + dt.timedelta(hours=1):
        raise DomainError("The panel cannot be held before it meets", field="panel", code="not_yet")
    panel.held_at = now
    panel.save(update_fields=["held_at"])
    access.log_access(actor, "hold_panel", panel)
    return panel


def _panel_item(panel: Panel, item_id) -> PanelAgendaItem | None:
    if item_id in (None, ""):
        return None
    item = PanelAgendaItem.objects.filter(panel=panel, pk=getattr(item_id, "pk", item_id)).first() if str(
        getattr(item_id, "pk", item_id)).isdigit() else None
    if item is None:
        raise DomainError("Choose an item of this panel's agenda", field="item")
    return item


@transaction.atomic
def panel_minute_add(*, actor: Actor, panel: Panel, kind: str, text: str, item=None) -> PanelMinute:
    """Add an entry to a panel's minutes, about one agenda item or the whole.

    Who: the panel's organisers. A decision on a case's agenda item is the
    panel's outcome for that case: it is written into the case's chronology
    too (a decision entry, by the minute's author for their agency, seen by
    every agency on the case), in the same transaction. Guarantees: minutes
    are append-only (``panel_minute_correct``)."""
    panel = _organised_panel(actor, panel, open_only=False)
    _named(actor)
    kind = _choice(kind, MinuteKind, field="kind", label="Kind of minute")
    text = _text(text, field="text", label="The minute", max_length=TEXT_MAX_LENGTH)
    item = _panel_item(panel, item)
    minute = PanelMinute.objects.create(panel=panel, item=item, kind=kind, text=text, author=actor.user,
                                        agency=actor.agency)
    access.log_access(actor, "add_minute", panel, detail={"minute": minute.pk})
    if kind == MinuteKind.DECISION and item is not None and item.case_id is not None:
        _panel_outcome_in_chronology(actor, panel, item.case_id, text)
    return minute


def _panel_outcome_in_chronology(actor: Actor, panel: Panel, case_id: int, text: str, corrects=None) -> CaseNote:
    # The case was put on this panel's agenda by someone who could see it;
    # the panel's decision about it belongs in its chronology whoever
    # records it (the organisers are the panel's record-keepers). Written,
    # not read: nothing of the case is shown to the author here.
    case = Case.objects.get(pk=case_id, partnership_id=panel.partnership_id)
    now = timezone.now()
    note = CaseNote.objects.create(
        case=case, occurred_at=min(panel.meets_at, now), recorded_at=now, kind=NoteKind.DECISION,
        author=actor.user, agency=actor.agency, visibility=NoteVisibility.CASE, corrects=corrects,
        text=f"Panel decision ({panel}): {text}",
    )
    access.log_access(actor, "record_panel_outcome", note, basis=f"Panel organiser ({actor.agency.name})",
                      detail={"panel": panel.pk})
    return note


@transaction.atomic
def panel_minute_correct(*, actor: Actor, minute: PanelMinute, text: str) -> PanelMinute:
    """Correct a minute by adding a new one pointing at it (a decision's
    correction is added to the case's chronology as a correction too).
    Who: the panel's organisers. The original is never changed."""
    original = PanelMinute.objects.select_related("item").filter(pk=getattr(minute, "pk", None)).first()
    if original is None:
        raise access.NotVisible("No such minute")
    panel = _organised_panel(actor, original.panel_id, open_only=False)
    text = _text(text, field="text", label="The corrected minute", max_length=TEXT_MAX_LENGTH)
    if text == original.text.strip():
        raise DomainError("The correction is the same as the original minute", field="text", code="unchanged")
    correction = PanelMinute.objects.create(panel=panel, item=original.item, kind=original.kind, text=text,
                                            author=actor.user, agency=actor.agency, corrects=original)
    access.log_access(actor, "correct_minute", panel, detail={"minute": correction.pk, "corrects": original.pk})
    if original.kind == MinuteKind.DECISION and original.item is not None and original.item.case_id is not None:
        earlier = CaseNote.objects.filter(
            case_id=original.item.case_id, kind=NoteKind.DECISION, text=f"Panel decision ({panel}): {original.text}",
        ).order_by("-recorded_at").first()
        _panel_outcome_in_chronology(actor, panel, original.item.case_id, text, corrects=earlier)
    return correction


@transaction.atomic
def panel_action_record(*, actor: Actor, panel: Panel, description: str, owner_agency: Agency, owner,
                        due_on: dt.date, item=None) -> PanelAction:
    """Record an action the panel agreed: what, which agency and person owe
    it, by when.

    Who: the panel's organisers. Guarantees: the owner is a practitioner or
    manager of the owning agency, which works in the partnership; the due
    date is today or later; the owner sees it on their home page and is
    reminded once per due date (``reminders``)."""
    panel = _organised_panel(actor, panel, open_only=False)
    agency = _active_agency(owner_agency, field="owner_agency", label="Owner agency",
                            partnership_id=panel.partnership_id)
    owner = _owner(owner, agency, required=True)
    due_on = _date(due_on, field="due_on", label="Due date", required=True)
    if due_on < timezone.localdate():
        raise DomainError("The due date must be today or later", field="due_on", code="past")
    action = PanelAction.objects.create(
        panel=panel, item=_panel_item(panel, item), owner_agency=agency, owner=owner, due_on=due_on,
        description=_text(description, field="description", label="The action", max_length=TEXT_MAX_LENGTH),
        created_by=actor.user,
    )
    access.log_access(actor, "record_action", panel, detail={"action": action.pk, "owner": owner.pk})
    return action


@transaction.atomic
def panel_action_update(*, actor: Actor, action: PanelAction, status: str, update: str = "",
                        due_on: dt.date | None = None) -> PanelAction:
    """Say how an action stands (and, for the panel's organisers, move its
    due date: a new due date is reminded again).

    Who: its owner, a manager of the owning agency, or the panel's
    organisers (``access.may_update_action``)."""
    current = PanelAction.objects.select_for_update().select_related("panel").filter(
        pk=getattr(action, "pk", None)).first()
    if current is None or not access.visible_panels(actor).filter(pk=current.panel_id).exists() and not (
        current.owner_id == getattr(actor.user, "pk", None)
    ):
        raise access.NotVisible("No such action")
    if not access.may_update_action(actor, current):
        raise access.NotAllowed("Only the action's owner, their managers or the panel's organisers update it")
    status = _choice(status, ActionStatus, field="status", label="Status")
    update = _text(update, field="update", label="Update", max_length=TEXT_MAX_LENGTH, required=False)
    changed = ["status", "update", "updated_at"]
    if due_on not in (None, ""):
        due_on = _date(due_on, field="due_on", label="Due date")
        if due_on != current.due_on:
            if not access.may_organise_panel(actor, current.panel):
                raise access.NotAllowed("Only the panel's organisers move a due date")
            if due_on < timezone.localdate():
                raise DomainError("The due date must be today or later", field="due_on", code="past")
            current.due_on = due_on
            changed.append("due_on")
    current.status, current.update = status, update
    current.save(update_fields=changed)
    access.log_access(actor, "update_action", current.panel, detail={"action": current.pk, "status": status})
    return current


def overdue_actions_carry(*, panel_id: int, actor: Actor, today: dt.date | None = None) -> int:
    """Carry every outstanding action of the panel's partnership that is
    past its due date onto this (the next, not yet held) panel's agenda.

    Who: the reminder task, as the system actor, with a panel from
    ``access.task_upcoming_panels``. Idempotent: an action is carried to a
    panel once."""
    today = today or timezone.localdate()
    panel = access.task_upcoming_panels(actor).filter(pk=panel_id).first()
    if panel is None:
        return 0
    overdue = access.task_panel_actions(actor).filter(
        due_on__lt=today, panel__partnership_id=panel.partnership_id, panel__meets_at__lt=panel.meets_at,
    ).exclude(panel_id=panel.pk)
    with transaction.atomic():
        return _carry(panel, overdue)
