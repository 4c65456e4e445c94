"""Reads of the audit records: who has seen a case or a young person, and
subject-access requests. Each takes the actor and asks the access policy
first; what is out of reach is ``access.NotVisible`` (a 404)."""

from __future__ import annotations

from django.db.models import F, Q, QuerySet

from referrals.models import Case, YoungPerson
from safeguarding import access
from safeguarding.models import AccessEvent, ShareGrant, SubjectAccessRequest


def case_shares(actor: access.Actor, case: Case) -> QuerySet[ShareGrant]:
    """The case's share grants, newest first, for those who manage it
    (``Action.MANAGE``); nobody else learns who else holds the case."""
    if not access.may(actor, access.Action.MANAGE, case):
        return ShareGrant.objects.none()
    return ShareGrant.objects.filter(case=case).select_related("agency", "granted_by").order_by("-granted_at", "-pk")


def case_share(actor: access.Actor, case: Case, grant_id) -> ShareGrant:
    """One of the case's share grants, for those who manage the case; else
    ``access.NotVisible``."""
    grant = case_shares(actor, case).filter(pk=grant_id).first() if str(grant_id).isdigit() else None
    if grant is None:
        raise access.NotVisible("No such share")
    return grant


def rows_about_cases(case_ids) -> Q:
    """Rows about the cases, and list and export rows whose page held them
    (those name the cases by id in ``detail.ids``)."""
    condition = Q(case_id__in=case_ids)
    for case_id in case_ids:
        # As written, so that the partial GIN index on ``detail`` answers it.
        condition |= Q(object_type="case", case_id__isnull=True, detail__contains={"ids": [case_id]})
    return condition


def case_for_access_log(actor: access.Actor, case_id) -> Case:
    """The case whose access log the actor may read (``may_see_access_log``)."""
    case = Case.objects.select_related("young_person", "lead_agency").filter(pk=case_id).first() if str(
        case_id).isdigit() else None
    if case is None or not access.may_see_access_log(actor, case):
        raise access.NotVisible("No such case")
    return case


def case_access_log(actor: access.Actor, case: Case) -> QuerySet[AccessEvent]:
    """Every access-log row for the case, newest first. Reading it is logged."""
    if not access.may_see_access_log(actor, case):
        raise access.NotVisible("No such case")
    access.log_access(actor, "view_access_log", case, basis=access.access_log_basis(actor))
    return AccessEvent.objects.filter(rows_about_cases([case.pk])).order_by("-occurred_at", "-id")


def young_person_for_access_log(actor: access.Actor, young_person_id) -> YoungPerson:
    person = YoungPerson.objects.filter(pk=young_person_id).first() if str(young_person_id).isdigit() else None
    if person is None or not access.may_see_young_person_access_log(actor, person):
        raise access.NotVisible("No such young person")
    return person


def young_person_access_log(actor: access.Actor, young_person: YoungPerson) -> QuerySet[AccessEvent]:
    """The access-log rows about a young person the actor may read: all of
    them for a data-protection officer, those of the cases their agency leads
    for a lead agency's manager. Reading it is logged."""
    case_ids = access.access_log_case_ids(actor, young_person)
    if case_ids == []:
        raise access.NotVisible("No such young person")
    access.log_access(actor, "view_access_log", young_person, basis=access.access_log_basis(actor))
    if case_ids is None:
        all_cases = list(Case.objects.filter(young_person=young_person).values_list("pk", flat=True))
        condition = Q(young_person_id=young_person.pk) | rows_about_cases(all_cases)
    else:
        condition = rows_about_cases(case_ids)
    return AccessEvent.objects.filter(condition).order_by("-occurred_at", "-id")


def subject_access_requests(actor: access.Actor) -> QuerySet[SubjectAccessRequest]:
    """Open requests first, soonest due first; only for a data-protection officer."""
    if not access.may_export_subject_access(actor):
        raise access.NotAllowed("Only a data-protection officer handles subject access requests")
    return SubjectAccessRequest.objects.filter(young_person__partnership_id=actor.partnership_id).select_related(
        "young_person", "recorded_by",
    ).order_by(
        F("completed_on").desc(nulls_first=True), "due_on", "pk",
    )


def get_subject_access_request(actor: access.Actor, request_id) -> SubjectAccessRequest:
    sar = subject_access_requests(actor).filter(pk=request_id).first() if str(request_id).isdigit() else None
    if sar is None:
        raise access.NotVisible("No such subject access request")
    return sar
