"""The access policy: the one place that decides who may see or do what.

Deny by default. Every path to case data (pages, the API, the admin, exports,
tasks) asks this module, and this is the only module that imports
django-guardian.

How it decides
--------------
An *actor* is a person acting for one agency, or a partner system's API
client acting for its agency (``actor_for_api_client``: like a practitioner
of that agency, narrowed by the client's scopes). What an actor may reach depends on how
their agency relates to the object and on their role in that agency:

* A case is visible to its lead agency and to every agency holding an
  *active* share grant (not revoked, not expired). Expiry and revocation take
  effect at once, before any task has removed the permission rows.
* django-guardian keeps per-object permissions for each agency's group in a
  direct foreign-key table: ``view_case`` and ``contribute_case`` for lead and
  shared agencies, ``manage_case`` for the lead agency. A check needs both the
  live relation and the permission row, so neither can open a case alone.
* Everything is inside one partnership (a borough): an actor works in one
  partnership at a time (``Actor.partnership``), and sees nothing of
  another's. PostgreSQL row-level security backs this (``boundary``).
* Roles narrow further: practitioners, managers and hub screeners work cases;
  agency administrators and data-protection officers see no case content by
  virtue of their role; a superuser is nobody special here.

Objects outside an actor's reach are reported as "not found" (``NotVisible``,
turned into a 404 by views and the API): never a hint that they exist.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable

from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, transaction
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import (
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from guardian.core import ObjectPermissionChecker
from guardian.shortcuts import assign_perm, remove_perm

from agencies.models import Agency, AgencyKind, Membership, Partnership, Role
from lib import request_ids
from contexts.models import (
    CONFIDENTIALITY_VERSION,
    OUTSTANDING_ACTION_STATUSES,
    Context,
    ContextKind,
    ContextLink,
    Panel,
    PanelAction,
    PanelAttendee,
    PanelMinute,
    PeerLink,
)
from referrals.models import (
    OPEN_REFERRAL_STATUSES,
    Case,
    CaseNote,
    CaseStatus,
    CaseTransfer,
    EnquiryStatus,
    Intervention,
    NoteVisibility,
    PartnershipEnquiry,
    Referral,
    Review,
    TransferStatus,
    YoungPerson,
)
from safeguarding.models import (
    AccessEvent,
    BreakGlassAccess,
    CaseAccess,
    CaseGroupObjectPermission,
    CaseloadSize,
    Channel,
    ShareGrant,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


class NotVisible(Http404):
    """The object does not exist for this actor. Views show a plain 404."""


class NotAllowed(Exception):
    """The actor may see the object but not do this to it."""


class Action(enum.StrEnum):
    VIEW = "view"
    CONTRIBUTE = "contribute"  # add chronology entries and interventions
    MANAGE = "manage"  # complete reviews, share, revoke, change risk
    ALLOCATE = "allocate"  # choose or change the key worker
    CLOSE = "close"  # close (approve the closure of) a case


# The guardian permission an agency must hold on the case for each action.
_PERMISSION = {
    Action.VIEW: "view_case",
    Action.CONTRIBUTE: "contribute_case",
    Action.MANAGE: "manage_case",
    Action.ALLOCATE: "manage_case",
    Action.CLOSE: "manage_case",
}
LEAD_PERMISSIONS = ("view_case", "contribute_case", "manage_case")
SHARED_PERMISSIONS = ("view_case", "contribute_case")

CASEWORK_ROLES = frozenset({Role.PRACTITIONER, Role.MANAGER, Role.HUB_SCREENER})


@dataclass(frozen=True)
class Actor:
    """Someone acting for one agency, through one channel."""

    agency: Agency | None
    roles: frozenset[str] = frozenset()
    user: AbstractBaseUser | None = None
    api_client: str = ""
    channel: str = Channel.WEB
    ip_address: str | None = None
    request_id: str = ""
    extra: dict = field(default_factory=dict, compare=False)
    # What a partner system's client may do (``API_SCOPES``); empty for people.
    scopes: frozenset[str] = frozenset()
    # The partnership the actor is working in: one of their agency's. None
    # (not chosen, or not theirs) reaches no case data at all.
    partnership: Partnership | None = None
    # Whether the agency works in more than one partnership (a police unit
    # serving several boroughs): then its caseload is counted per partnership.
    spans_partnerships: bool = False

    @property
    def partnership_id(self) -> int | None:
        return self.partnership.pk if self.partnership is not None else None

    @property
    def works_cases(self) -> bool:
        return self.agency is not None and self.partnership is not None and bool(self.roles & CASEWORK_ROLES)

    def in_partnership(self, obj) -> bool:
        """Does a young person, referral or case belong to the partnership
        the actor is working in?"""
        return self.partnership is not None and getattr(obj, "partnership_id", None) == self.partnership.pk

    def has_role(self, role: str) -> bool:
        return self.agency is not None and role in self.roles

    @property
    def screens_referrals(self) -> bool:
        """A hub screener of the partnership's hub: the role means nothing
        in another kind of agency."""
        return self.has_role(Role.HUB_SCREENER) and self.agency.kind == AgencyKind.HUB

    @property
    def label(self) -> str:
        if self.user is not None:
            return self.user.get_username()
        return self.api_client


NOBODY = Actor(agency=None)


def _partnerships_of_agency(agency_ref) -> QuerySet[Partnership]:
    return Partnership.objects.filter(agencies=agency_ref, is_active=True).order_by("name", "pk")


def partnerships_of(agency: Agency | None) -> list[Partnership]:
    """The active partnerships an agency works in, by name."""
    if agency is None:
        return []
    return list(_partnerships_of_agency(agency))


def _with_partnerships(queryset: QuerySet, agency_field: str) -> QuerySet:
    """Annotate each row with its agency's active partnerships (ids and
    names, by name), read in the row's own query."""
    of_agency = _partnerships_of_agency(OuterRef(agency_field))
    return queryset.annotate(
        partnership_ids=ArraySubquery(of_agency.values("pk")), partnership_names=ArraySubquery(of_agency.values("name")),
    )


def _working_partnership(row, wanted, *, default_first: bool) -> tuple[Partnership | None, bool]:
    """The partnership an actor works in, from a row annotated by
    ``_with_partnerships``: the one asked for, if the agency works in it;
    else, if it works in just one, that one (or, for a person who has not
    chosen, the first by name)."""
    choices = [Partnership(pk=pk, name=name) for pk, name in zip(row.partnership_ids, row.partnership_names)]
    spans = len(choices) > 1
    if wanted is not None:
        wanted_id = wanted.pk if isinstance(wanted, Partnership) else wanted
        return next((p for p in choices if str(p.pk) == str(wanted_id)), None), spans
    if len(choices) == 1 or (choices and default_first):
        return choices[0], spans
    return None, spans


def actor_for_user(
    user,
    *,
    agency: Agency | int | None = None,
    partnership: Partnership | int | None = None,
    channel: str = Channel.WEB,
    ip_address: str | None = None,
    request_id: str = "",
) -> Actor:
    """The actor a signed-in person is, acting for one of their agencies in
    one of that agency's partnerships.

    With no agency named, a person who belongs to exactly one agency acts for
    it; anyone else (no membership, several agencies, an anonymous user) is an
    actor with no agency and so reaches nothing. With no partnership named,
    they work in their agency's first partnership by name; a partnership the
    agency does not work in leaves them in none, reaching no case data.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return NOBODY
    memberships = _with_partnerships(
        Membership.objects.filter(user=user, is_active=True, agency__is_active=True).select_related("agency"),
        "agency_id",
    )
    if agency is not None:
        agency_id = agency.pk if isinstance(agency, Agency) else agency
        memberships = memberships.filter(agency_id=agency_id)
    memberships = list(memberships)
    agencies = {m.agency_id for m in memberships}
    if len(agencies) != 1:
        return Actor(agency=None, user=user, channel=channel, ip_address=ip_address, request_id=request_id)
    working, spans = _working_partnership(memberships[0], partnership, default_first=True)
    return Actor(
        agency=memberships[0].agency,
        roles=frozenset(m.role for m in memberships),
        user=user,
        channel=channel,
        ip_address=ip_address,
        request_id=request_id,
        partnership=working,
        spans_partnerships=spans,
    )


# ---------------------------------------------------------------------------
# Partner systems' API clients
# ---------------------------------------------------------------------------

# The fixed vocabulary of scopes an API client may hold (agencies.ApiScope).
API_SCOPES = frozenset({
    "referrals:read", "referrals:write", "cases:read", "cases:write", "contexts:read", "contexts:write",
})
# Scopes that a case action needs, for a machine client; people are not scoped.
_ACTION_SCOPE = {
    Action.VIEW: "cases:read",
    Action.CONTRIBUTE: "cases:write",
    Action.MANAGE: "cases:write",
    Action.ALLOCATE: "cases:write",
    Action.CLOSE: "cases:write",
}


class MissingScope(NotAllowed):
    """A partner system's client lacks the scope an operation needs (a 403:
    the client knows its own scopes, so this reveals nothing)."""

    def __init__(self, scope: str) -> None:
        super().__init__(f"This client does not have the {scope} scope")
        self.scope = scope


def is_machine_client(actor: Actor) -> bool:
    return actor.channel == Channel.API and bool(actor.api_client)


def has_scope(actor: Actor, scope: str) -> bool:
    """Does the actor hold this scope? Deny by default for machine clients;
    people (web, admin, tasks) are not narrowed by scopes."""
    if not is_machine_client(actor):
        return True
    return scope in actor.scopes


def require_scope(actor: Actor, scope: str) -> None:
    if not has_scope(actor, scope):
        raise MissingScope(scope)


def actor_for_api_client(client, *, ip_address: str | None = None, request_id: str = "") -> Actor:
    """The actor a partner system's API client (``agencies.ApiClient``) is.

    It acts for its agency exactly as a practitioner of that agency would
    (``visible_cases``, ``visible_notes``, the referrals its agency made),
    narrowed by its scopes (``has_scope``; ``may`` refuses writes without
    ``cases:write``). Its ``user`` is the client's service user, an account
    that cannot sign in, so chronology entries and interventions keep a named
    author. It works in its own ``partnership`` while its agency still works
    there and the partnership is active; otherwise in none, reaching no case
    data. ``spans_partnerships`` says whether its agency works in several
    (its caseload is then counted per partnership), as for a person. A
    revoked client, or one of an inactive agency, is nobody.
    """
    if client is None or client.revoked_at is not None or not client.agency.is_active:
        return NOBODY
    row = _with_partnerships(Agency.objects.filter(pk=client.agency_id), "pk").get()
    # Never its agency's other partnerships, and never none-named-so-any:
    # a client with no partnership (there should be none) works in none.
    wanted = client.partnership_id if client.partnership_id is not None else 0
    working, spans = _working_partnership(row, wanted, default_first=False)
    return Actor(
        agency=client.agency,
        roles=frozenset({Role.PRACTITIONER}),
        user=client.service_user,
        api_client=client.application.client_id,
        channel=Channel.API,
        ip_address=ip_address,
        request_id=request_id,
        scopes=frozenset(client.scopes) & API_SCOPES,
        partnership=working,
        spans_partnerships=spans,
    )


# Row-level security ----------------------------------------------------------
# Under the policy's own filters, PostgreSQL keeps each partnership's case
# data apart (safeguarding/migrations/0008): while the app serves an actor it
# works as the role below, with the actor's partnership set, and sees no row
# of any other partnership even through a query that forgot its filter.

APP_ROLE = "crossroads_app"


def enter_partnership(actor: Actor) -> None:
    """Put this database connection under the row-level security of the
    actor's partnership (none at all if they are working in none), until
    ``leave_partnership``. Called as each request's actor is made. The
    actor's agency is set too: row-level security also admits the cases
    that agency holds by an active cross-border share grant."""
    _set_boundary(actor.partnership_id, actor.agency.pk if actor.agency is not None else None)


def _set_boundary(partnership_id: int | None, agency_id: int | None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('role', %s, false), set_config('crossroads.partnership', %s, false),"
            " set_config('crossroads.agency', %s, false)",
            [APP_ROLE, str(partnership_id or ""), str(agency_id or "")],
        )
    connection.crossroads_boundary = True
    connection.crossroads_partnership = partnership_id
    connection.crossroads_agency = agency_id


def leave_partnership() -> None:
    """Back to the connection's own role, with no partnership set. If the
    connection cannot be reset (a broken transaction), it is closed, so no
    later request can inherit another's partnership. Nothing to do on a
    connection that never entered one."""
    if not getattr(connection, "crossroads_boundary", False):
        return
    connection.crossroads_boundary = False
    connection.crossroads_partnership = None
    connection.crossroads_agency = None
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('role', 'none', false), set_config('crossroads.partnership', '', false),"
                " set_config('crossroads.agency', '', false)"
            )
    except DatabaseError:
        connection.close()


def system_actor(
    *, channel: str = Channel.TASK, label: str = "system", partnership: Partnership | int | None = None,
) -> Actor:
    """The actor for scheduled work (reminders, retention). It works through
    the services with no agency, so it can see no case content in pages.
    Scheduled work runs one partnership at a time: the actor carries the
    partnership it is working in (``within_partnership``), by id if need be."""
    if partnership is not None and not isinstance(partnership, Partnership):
        partnership = Partnership(pk=partnership)
    return Actor(agency=None, api_client=label, channel=channel, partnership=partnership)


def task_partnership_ids() -> list[int]:
    """The active partnerships scheduled work runs in, one after another
    (a sweep runs once in each; the per-item tasks it queues carry the id)."""
    return list(Partnership.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True))


class within_partnership:  # a context manager, named like the function it reads as
    """``with access.within_partnership(actor):`` run a task's work under the
    row-level security of the actor's partnership (none at all for an actor
    in none), then back to what the connection was before: its own role,
    or (for a task run eagerly inside another) the outer task's partnership.
    Whatever happens inside."""

    def __init__(self, actor: Actor) -> None:
        self.actor = actor
        self._outer: tuple[bool, int | None, int | None] = (False, None, None)

    def __enter__(self) -> Actor:
        self._outer = (
            getattr(connection, "crossroads_boundary", False),
            getattr(connection, "crossroads_partnership", None),
            getattr(connection, "crossroads_agency", None),
        )
        enter_partnership(self.actor)
        return self.actor

    def __exit__(self, *exc_info) -> None:
        was_inside, partnership_id, agency_id = self._outer
        if was_inside:
            try:
                _set_boundary(partnership_id, agency_id)
                return
            except DatabaseError:
                pass
        leave_partnership()


# What scheduled work may read ------------------------------------------
# The system actor has no agency, so every page-facing queryset of this
# module (``visible_cases``, ``listed_cases``, ``caseload_rows``,
# ``visible_referrals``, ``visible_young_people``, ``get_case``) is empty for
# it, whatever the channel. The reminder tasks read case data through these
# instead, and only these: the system actor on the task channel may read
# the open cases not anonymised (review reminders), the referrals awaiting
# the hub's decision (screening alerts) and the share grants (expiry
# warnings and tidying). Nobody else gets anything from them. What a
# manager's digest says is read with the manager's own actor instead.
# The tasks run them once per partnership, inside ``within_partnership``
# with a system actor carrying it: filtered here by that partnership, and
# held to it by row-level security too. (A system actor in no partnership
# is the services called directly as the tables' owner, by the tests and
# benchmarks: every partnership's rows.)


def is_system_actor(actor: Actor) -> bool:
    """Scheduled work (``system_actor``) on the task channel: no person, no
    agency. A person's actor, a partner system's and NOBODY are not."""
    return actor.agency is None and actor.user is None and bool(actor.api_client) and actor.channel == Channel.TASK


def task_cases(actor: Actor) -> QuerySet[Case]:
    """The cases scheduled work may read: open and not anonymised. For the
    system actor only; anyone else gets none."""
    if not is_system_actor(actor):
        return Case.objects.none()
    cases = Case.objects.filter(status=CaseStatus.OPEN, anonymised_at__isnull=True)
    return cases.filter(partnership_id=actor.partnership_id) if actor.partnership is not None else cases


def task_referrals(actor: Actor) -> QuerySet[Referral]:
    """The referrals scheduled work may read: those awaiting the hub's
    decision (submitted or in screening). For the system actor only."""
    if not is_system_actor(actor):
        return Referral.objects.none()
    referrals = Referral.objects.filter(status__in=OPEN_REFERRAL_STATUSES)
    return referrals.filter(partnership_id=actor.partnership_id) if actor.partnership is not None else referrals


def task_share_grants(actor: Actor) -> QuerySet[ShareGrant]:
    """The share grants scheduled work may read (to warn before they end and
    to remove their permission rows after). For the system actor only."""
    if not is_system_actor(actor):
        return ShareGrant.objects.none()
    grants = ShareGrant.objects.all()
    return grants.filter(case__partnership_id=actor.partnership_id) if actor.partnership is not None else grants


def task_transfers_joint_ended(actor: Actor, today) -> QuerySet[CaseTransfer]:
    """Accepted transfers whose agreed joint period is over while the sending
    case is still open (scheduled work closes it), sent from the actor's
    partnership. For the system actor only."""
    if not is_system_actor(actor):
        return CaseTransfer.objects.none()
    transfers = CaseTransfer.objects.filter(
        status=TransferStatus.ACCEPTED, joint_until__lt=today,
        case__status=CaseStatus.OPEN,
    )
    if actor.partnership is not None:
        transfers = transfers.filter(from_partnership_id=actor.partnership_id)
    return transfers


# The monitoring's refresh (``monitoring.refresh``) is scheduled work too: it
# reads the partnership's casework records, contexts and panel actions to
# write the pseudonymised reporting schema, through these and only these.


@dataclass(frozen=True)
class ReportingSources:
    """What the monitoring's refresh reads, all of one partnership."""

    young_people: QuerySet[YoungPerson]
    referrals: QuerySet[Referral]
    cases: QuerySet[Case]
    interventions: QuerySet[Intervention]
    reviews: QuerySet[Review]
    contexts: QuerySet[Context]
    panel_actions: QuerySet[PanelAction]
    # The panel actions' change history: when each took each status.
    panel_action_history: QuerySet


def reporting_sources(actor: Actor) -> ReportingSources:
    """The young people, referrals, cases, interventions and completed
    reviews of the system actor's partnership, for the monitoring's refresh
    (which turns them into age bands, wards, months and random keys); and
    its places, peer groups and online spaces (never a person of concern:
    restricted police and hub information, not for counting) and its panels'
    actions with their change history. For a system actor working in a
    partnership only; anyone else gets none."""
    history = PanelAction.pgh_event_model.objects
    if not is_system_actor(actor) or actor.partnership is None:
        return ReportingSources(
            YoungPerson.objects.none(), Referral.objects.none(), Case.objects.none(),
            Intervention.objects.none(), Review.objects.none(), Context.objects.none(),
            PanelAction.objects.none(), history.none(),
        )
    pid = actor.partnership_id
    return ReportingSources(
        young_people=YoungPerson.objects.filter(partnership_id=pid),
        referrals=Referral.objects.filter(partnership_id=pid),
        cases=Case.objects.filter(partnership_id=pid),
        interventions=Intervention.objects.filter(case__partnership_id=pid),
        reviews=Review.objects.filter(case__partnership_id=pid, completed_at__isnull=False),
        contexts=Context.objects.filter(
            partnership_id=pid, kind__in=[k for k in ContextKind.values if k != ContextKind.PERSON_OF_CONCERN],
        ),
        panel_actions=PanelAction.objects.filter(panel__partnership_id=pid),
        panel_action_history=history.filter(panel__partnership_id=pid),
    )


def reporting_changes(actor: Actor, since) -> set[int]:
    """The young people (ids) of the system actor's partnership whose
    records changed after ``since``, by the change history (which database
    triggers write, whatever the write path): their own record, or a
    referral, case, intervention or review of theirs. A referral or case
    that changed counts for every young person it was ever filed under (a
    merge moves it), so each is recomputed. For the system actor only."""
    if not is_system_actor(actor) or actor.partnership is None:
        return set()
    pid = actor.partnership_id
    events = {model: model.pgh_event_model.objects for model in (YoungPerson, Referral, Case, Intervention, Review)}
    changed = set(events[YoungPerson].filter(partnership_id=pid, pgh_created_at__gt=since)
                  .values_list("pgh_obj_id", flat=True))
    for model in (Referral, Case):
        moved = events[model].filter(partnership_id=pid, pgh_created_at__gt=since).values("pgh_obj_id")
        changed.update(events[model].filter(pgh_obj_id__in=moved).values_list("young_person_id", flat=True))
    for model in (Intervention, Review):
        touched = events[model].filter(pgh_created_at__gt=since).values("case_id")
        changed.update(Case.objects.filter(partnership_id=pid, pk__in=touched).values_list("young_person_id", flat=True))
    return changed


def reporting_contexts_changed(actor: Actor, since) -> bool:
    """Whether any context (a person of concern too: one may have become a
    place, or a place one) or panel action of the system actor's
    partnership changed after ``since``, by their change history (database
    triggers, so bulk updates count). For the system actor only."""
    if not is_system_actor(actor) or actor.partnership is None:
        return False
    pid = actor.partnership_id
    return (
        Context.pgh_event_model.objects.filter(partnership_id=pid, pgh_created_at__gt=since).exists()
        or PanelAction.pgh_event_model.objects.filter(panel__partnership_id=pid, pgh_created_at__gt=since).exists()
    )


def may_work_out_monitoring(actor: Actor) -> bool:
    """Who may work out the partnership's monitoring figures: a reader of
    it (``may_read_monitoring``), or the system actor of the partnership,
    which works them out after a refresh so that no reader waits for them
    (``monitoring.figures.warm``). The figures are the same suppressed ones
    a reader sees; the system actor shows them to no one."""
    return may_read_monitoring(actor) or (is_system_actor(actor) and actor.partnership is not None)


def may_read_monitoring(actor: Actor) -> bool:
    """Who reads the partnership's monitoring (pseudonymised, with small
    numbers suppressed): a person holding the reporting role, for the
    partnership they are working in. The role opens no case record (it is
    not a casework role), and no other role opens the monitoring: deny by
    default, managers, DPOs and administrators included."""
    return (
        actor.user is not None and not is_machine_client(actor) and actor.partnership is not None
        and actor.has_role(Role.REPORTING)
    )


# ---------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------


def active_grants(at=None) -> QuerySet[ShareGrant]:
    at = at or timezone.now()
    return ShareGrant.objects.filter(revoked_at__isnull=True, expires_at__gt=at)


def _cases_of_agency(agency_id: int, at=None) -> Q:
    shared = active_grants(at).filter(case=OuterRef("pk"), agency_id=agency_id)
    return Q(lead_agency_id=agency_id) | Q(Exists(shared))


def _cross_border_cases_of_agency(agency_id: int, at=None, case_ref: str = "pk") -> Q:
    """Cases of other partnerships the agency holds by an active
    cross-border share grant (the one way a case is seen across a border)."""
    across = active_grants(at).filter(case=OuterRef(case_ref), agency_id=agency_id, cross_border=True)
    return Q(Exists(across))


def _in_reach(actor: Actor, at=None, case_ref: str = "pk", partnership_field: str = "partnership_id") -> Q:
    """Where the actor's cases may be: the partnership they are working in,
    or a case their agency holds across a border."""
    return Q(**{partnership_field: actor.partnership_id}) | _cross_border_cases_of_agency(actor.agency.pk, at, case_ref)


def visible_cases(actor: Actor) -> QuerySet[Case]:
    """Every case the actor may see: in the partnership they are working in,
    led by their agency or actively shared with it; or of a neighbouring
    partnership, shared with their agency across the border (an active
    cross-border grant). For a case-working role (a machine client: with
    ``cases:read``). Everyone else gets an empty queryset."""
    if not actor.works_cases or not has_scope(actor, "cases:read"):
        return Case.objects.none()
    own = Q(partnership_id=actor.partnership_id) & _cases_of_agency(actor.agency.pk)
    return Case.objects.filter(own | _cross_border_cases_of_agency(actor.agency.pk))


def cross_border_agency_ids(case: Case, at=None) -> set[int]:
    """The agencies of other partnerships holding the case by an active
    cross-border share grant."""
    return set(active_grants(at).filter(case=case, cross_border=True).values_list("agency_id", flat=True))


def is_cross_border(actor: Actor, case: Case) -> bool:
    """Does the actor see this case from another partnership, through a
    cross-border share? (Shown on the case page.)"""
    return actor.partnership is not None and case.partnership_id != actor.partnership_id


# The caseload index ------------------------------------------------------
# ``visible_cases`` answers "may this agency see this case"; listing tens of
# thousands of cases in order, with a total, is answered from the caseload
# index (``CaseAccess``, kept by database triggers: ``caseload_index``), which
# holds the same cases (tests/safeguarding checks that after every kind of
# change) sorted as the caseload wants them.


def caseload_rows(actor: Actor, *, status: str | None = None, at=None) -> QuerySet[CaseAccess]:
    """The actor's agency's rows of the caseload index that are live now
    (lead, or a share not yet expired): one per case of ``visible_cases``,
    for the same actors. Counting these is the caseload's total."""
    if not actor.works_cases or not has_scope(actor, "cases:read"):
        return CaseAccess.objects.none()
    at = at or timezone.now()
    rows = CaseAccess.objects.filter(Q(valid_until__isnull=True) | Q(valid_until__gt=at), agency_id=actor.agency.pk)
    if actor.spans_partnerships:
        # The index is per agency; an agency in several partnerships counts
        # the ones of the partnership it is working in (and those it holds
        # across a border). An agency in one partnership needs no filter:
        # every row of its index is of that partnership or across a border.
        rows = rows.filter(_in_reach(actor, at, "case_id", "case__partnership_id"))
    return rows.filter(status=status) if status else rows


class CountOf(Subquery):
    """How many rows a queryset holds, as a scalar subquery of the query it
    annotates (PostgreSQL runs it once: it refers to nothing outside). Not
    ``values().annotate(Count())``, whose GROUP BY costs as much again."""

    template = "(SELECT count(*) FROM (%(subquery)s) counted)"
    output_field = IntegerField()


def caseload_total(actor: Actor, *, status: str | None = None, at=None):
    """How many rows ``caseload_rows`` holds, as an expression to annotate a
    query with (the caseload page reads it in its own query). The whole
    caseload: the agency's ``CaseloadSize`` less its rows past their end not
    yet tidied away (a short range of the (agency, valid_until) index), so
    no page counts tens of thousands of entries. With a status: counted."""
    rows = caseload_rows(actor, status=status, at=at)
    if status or actor.spans_partnerships or not actor.works_cases or not has_scope(actor, "cases:read"):
        return CountOf(rows.order_by().values("agency_id"))
    at = at or timezone.now()
    ended = CaseAccess.objects.filter(agency_id=actor.agency.pk, valid_until__lte=at)
    size = CaseloadSize.objects.filter(agency_id=actor.agency.pk).values("rows")
    return ExpressionWrapper(
        Coalesce(Subquery(size), 0) - CountOf(ended.order_by().values("agency_id")), output_field=IntegerField(),
    )


def caseload_count(actor: Actor, *, status: str | None = None, at=None) -> int:
    """``caseload_total``, read on its own."""
    if actor.agency is None or not actor.works_cases or not has_scope(actor, "cases:read"):
        return 0
    total = caseload_total(actor, status=status, at=at)
    return Agency.objects.filter(pk=actor.agency.pk).annotate(total=total).values_list("total", flat=True).get()


def listed_cases(actor: Actor, *, status: str | None = None, at=None) -> QuerySet[Case]:
    """``visible_cases``, joined to the caseload index so that a page in the
    caseload's orders is read from the index: order by ``listed_id`` (the
    case id, newest first with ``-listed_id``) or by ``listed_review_due``
    then ``listed_id`` (soonest review first). Filter on the case's own
    columns freely; order and page on these names only. One case per row
    (the index holds one row per agency and case)."""
    if not actor.works_cases or not has_scope(actor, "cases:read"):
        return _listed(Case.objects.all()).none()
    at = at or timezone.now()
    live = Q(access_index__valid_until__isnull=True) | Q(access_index__valid_until__gt=at)
    wanted = Q(access_index__agency_id=actor.agency.pk) & _in_reach(actor, at) & live
    if status:
        wanted &= Q(access_index__status=status)
    # One filter() call, so the annotations reuse its join.
    return _listed(Case.objects.filter(wanted))


def _listed(cases: QuerySet[Case]) -> QuerySet[Case]:
    return cases.annotate(listed_id=F("access_index__case_id"), listed_review_due=F("access_index__next_review_due"))


def relation(agency: Agency | None, case: Case, at=None) -> str | None:
    """How an agency stands to a case now: "lead", "shared" or None."""
    if agency is None:
        return None
    if case.lead_agency_id == agency.pk:
        return "lead"
    if active_grants(at).filter(case=case, agency=agency).exists():
        return "shared"
    return None


def may(actor: Actor, action: Action, case: Case) -> bool:
    """May this actor do this to this case, right now? Across a border
    (a case of another partnership) only by an active cross-border share,
    and only to view and contribute, as a shared agency."""
    if not actor.works_cases or not has_scope(actor, _ACTION_SCOPE[action]):
        return False
    if not actor.in_partnership(case):
        held_across = actor.partnership is not None and active_grants().filter(
            case=case, agency=actor.agency, cross_border=True,
        ).exists()
        if not held_across:
            return False
    rel = relation(actor.agency, case)
    if rel is None:
        # Break-glass (issue 18): that person, reading, through the pages only.
        return action is Action.VIEW and break_glass_opening(actor, case) is not None
    checker = ObjectPermissionChecker(actor.agency.group)
    if not checker.has_perm(_PERMISSION[action], case):
        return False
    if action in (Action.VIEW, Action.CONTRIBUTE):
        return True
    if rel != "lead":
        return False
    if action is Action.MANAGE:
        is_key_worker = (
            actor.user is not None and case.key_worker_id == actor.user.pk and actor.has_role(Role.PRACTITIONER)
        )
        return actor.has_role(Role.MANAGER) or is_key_worker
    # Allocating key workers and closing cases are a lead-agency manager's call.
    return actor.has_role(Role.MANAGER)


def get_case(actor: Actor, case_id, action: Action = Action.VIEW, *, log: bool = True, for_update: bool = False,
             by_break_glass: bool = True) -> Case:
    """The case, if the actor may do ``action`` to it; else ``NotVisible``
    (when they cannot see it) or ``NotAllowed`` (when they can see it but may
    not act). A view is written to the access log. ``by_break_glass=False``
    for what break-glass never reaches (an export): a case the actor reads
    only by break-glass is then not visible."""
    try:
        queryset = visible_cases(actor).select_related("young_person", "lead_agency", "key_worker")
        if for_update:
            queryset = queryset.select_for_update(of=("self",))
        case = queryset.filter(pk=case_id).first() or (_break_glass_case(actor, case_id) if by_break_glass else None)
    except (ValueError, TypeError):
        raise NotVisible("No such case") from None
    if case is None or not may(actor, Action.VIEW, case):
        raise NotVisible("No such case")
    if action is not Action.VIEW and not may(actor, action, case):
        raise NotAllowed(f"You may not {action} this case")
    if log and action is Action.VIEW:
        log_access(actor, "view", case)
    return case


def visible_notes(actor: Actor, case: Case) -> QuerySet[CaseNote]:
    """The chronology of a case the actor may see. Notes an agency kept to
    itself never reach another agency."""
    if not may(actor, Action.VIEW, case):
        return CaseNote.objects.none()
    return CaseNote.objects.filter(case=case).filter(notes_readable_by(actor.agency.pk))


def notes_readable_by(agency_id) -> Q:
    """The chronology entries an agency's people may read on a case it can
    see: the case-wide ones and its own. ``agency_id`` may be an
    ``OuterRef`` (the lead agency of each case, in dashboards and reminders),
    so that even a count or a date drawn from the chronology never counts
    another agency's agency-only entries."""
    return Q(visibility=NoteVisibility.CASE) | Q(agency_id=agency_id)


def may_correct_note(actor: Actor, note: CaseNote) -> bool:
    """Only the author's agency corrects an entry, and only on a case it can
    still contribute to."""
    return note.agency_id == (actor.agency.pk if actor.agency else None) and may(
        actor, Action.CONTRIBUTE, note.case
    )


# --- Redaction (issue 18): who may withhold a passage -----------------------
# What each agency is shown is decided in ``safeguarding.redaction.shown``.


def record_author_agency_id(record) -> int | None:
    """The agency that wrote a chronology entry, referral or intervention."""
    if isinstance(record, CaseNote):
        return record.agency_id
    if isinstance(record, Referral):
        return record.referring_agency_id
    if isinstance(record, Intervention):
        return record.provider_agency_id
    return None


def withholds_passages(actor: Actor) -> bool:
    """Whether the actor is someone who may withhold words at all: a person
    (never a partner system), a practitioner or manager of an agency."""
    if actor.user is None or is_machine_client(actor) or actor.agency is None:
        return False
    return actor.has_role(Role.PRACTITIONER) or actor.has_role(Role.MANAGER)


def may_withhold_passage(actor: Actor, record) -> bool:
    """Someone who ``withholds_passages``, of the record's author's agency,
    who may still add to the case (for a referral: who may see the
    referral, whether or not it became a case)."""
    if not withholds_passages(actor) or record_author_agency_id(record) != actor.agency.pk:
        return False
    if isinstance(record, Referral):
        return visible_referrals(actor).filter(pk=record.pk).exists()
    return may(actor, Action.CONTRIBUTE, record.case)

# --- end of redaction hooks --------------------------------------------------


# ---------------------------------------------------------------------------
# Break-glass (issue 18): emergency access outside the actor's reach
# ---------------------------------------------------------------------------
# A person working cases may open a case of their partnership they cannot
# otherwise see, with a reason (``safeguarding.break_glass``). It lets that
# person alone read the case page for the partnership's break-glass hours:
# never a partner system, never the API, exports, lists or panel papers
# (``visible_cases`` does not hold it), never to write, and never more than
# an ordinary share (``visible_notes``: no other agency's agency-only
# entries). Every access-log row written under it is marked.

BREAK_GLASS_BASIS = "Break-glass"


def may_break_glass(actor: Actor) -> bool:
    """A person (not a partner system) working cases in a partnership, in
    the pages."""
    return (
        actor.works_cases and actor.user is not None and not is_machine_client(actor)
        and actor.channel == Channel.WEB
    )


def break_glass_opening(actor: Actor, case: Case, at=None) -> BreakGlassAccess | None:
    """The actor's own break-glass opening of this case live now, if any
    (for ``may_break_glass`` actors, in the case's partnership only)."""
    if not may_break_glass(actor) or not actor.in_partnership(case):
        return None
    return (
        BreakGlassAccess.objects.filter(
            case_id=case.pk, user_id=actor.user.pk, agency_id=actor.agency.pk, expires_at__gt=at or timezone.now(),
        ).order_by("-expires_at").first()
    )


def _break_glass_case(actor: Actor, case_id) -> Case | None:
    """``get_case``'s way in for a live break-glass opening of the actor's."""
    if not may_break_glass(actor):
        return None
    live = BreakGlassAccess.objects.filter(
        case_id=OuterRef("pk"), user_id=actor.user.pk, agency_id=actor.agency.pk, expires_at__gt=timezone.now(),
    )
    return (
        Case.objects.filter(Exists(live), pk=case_id, partnership_id=actor.partnership_id)
        .select_related("young_person", "lead_agency", "key_worker").first()
    )


def reads_by_break_glass(actor: Actor, case_id: int | None) -> bool:
    """Whether the actor reads this case only through a break-glass opening
    of theirs (then withheld passages stay withheld from them whatever their
    agency: ``safeguarding.redaction``). Remembered on the actor for the
    request, so a page of many records asks once per case."""
    if case_id is None or not may_break_glass(actor):
        return False
    known = actor.extra.setdefault("reads_by_break_glass", {})
    if case_id not in known:
        known[case_id] = (
            not visible_cases(actor).filter(pk=case_id).exists()
            and _break_glass_case(actor, case_id) is not None
        )
    return known[case_id]


def may_review_break_glass(actor: Actor, opening: BreakGlassAccess) -> bool:
    """A manager of the opener's agency, not the opener, in the opening's
    partnership, signs an opening off or escalates it."""
    return (
        actor.user is not None and not is_machine_client(actor) and actor.has_role(Role.MANAGER)
        and actor.partnership_id == opening.partnership_id and actor.agency.pk == opening.agency_id
        and actor.user.pk != opening.user_id
    )


def break_glass_openings(actor: Actor) -> QuerySet[BreakGlassAccess]:
    """The openings the actor may see in the review queue: a manager, those
    of people of their agency; a data-protection officer, every opening of
    the partnership (escalations come to them). Nobody else."""
    if actor.user is None or is_machine_client(actor) or actor.partnership is None:
        return BreakGlassAccess.objects.none()
    openings = BreakGlassAccess.objects.filter(partnership_id=actor.partnership_id)
    if is_data_protection_officer(actor):
        return openings
    if actor.has_role(Role.MANAGER):
        return openings.filter(agency_id=actor.agency.pk)
    return BreakGlassAccess.objects.none()


# ---------------------------------------------------------------------------
# Referrals and young people
# ---------------------------------------------------------------------------


def visible_referrals(actor: Actor) -> QuerySet[Referral]:
    """Referrals the actor may see.

    The hub's screeners see every referral awaiting screening and the ones
    their agency decided; managers see their agency's referrals; practitioners the
    ones they made. Either also sees the referrals behind cases they can see.
    A referring agency sees its referrals' status and outcome, never the case
    behind them unless that case is shared with it (see ``visible_cases``).
    """
    if actor.agency is None or actor.partnership is None:
        return Referral.objects.none()
    agency_id = actor.agency.pk
    condition = Q(pk__in=[])
    if actor.screens_referrals:
        # Decided by someone of the agency: a subquery, not a join, so that
        # no referral comes twice and no outer query has to fold them up.
        decided_here = Membership.objects.filter(user=OuterRef("decided_by"), agency_id=agency_id)
        condition |= Q(status__in=OPEN_REFERRAL_STATUSES) | Q(Exists(decided_here))
    if actor.has_role(Role.MANAGER):
        condition |= Q(referring_agency_id=agency_id)
    if actor.has_role(Role.PRACTITIONER) and actor.user is not None:
        condition |= Q(referring_agency_id=agency_id, referred_by=actor.user)
    if actor.api_client:
        condition |= Q(referring_agency_id=agency_id)
    if actor.works_cases:
        condition |= Q(Exists(visible_cases(actor).filter(pk=OuterRef("case_id"))))
    return Referral.objects.filter(condition, partnership_id=actor.partnership_id)


def get_referral(actor: Actor, referral_id, *, log: bool = True) -> Referral:
    try:
        referral = visible_referrals(actor).select_related("young_person", "referring_agency").get(pk=referral_id)
    except (Referral.DoesNotExist, ValueError, TypeError):
        raise NotVisible("No such referral") from None
    if log:
        log_access(actor, "view", referral)
    return referral


def may_screen(actor: Actor, referral: Referral | None = None) -> bool:
    """The hub's screeners decide referrals that are still open, in the
    partnership they are working in."""
    if not actor.screens_referrals or actor.partnership is None:
        return False
    return referral is None or (referral.is_open and actor.in_partnership(referral))


def visible_young_people(actor: Actor) -> QuerySet[YoungPerson]:
    """Young people the actor may see.

    The hub's screeners see the partnership's whole index (they match and
    link records). Others see those with a case visible to them, or
    recorded or referred by their own agency. Only in the partnership the
    actor is working in.
    """
    if actor.partnership is None:
        return YoungPerson.objects.none()
    in_partnership = YoungPerson.objects.filter(partnership_id=actor.partnership_id)
    if actor.screens_referrals:
        return in_partnership
    if actor.agency is None or not (actor.works_cases or actor.api_client):
        return YoungPerson.objects.none()
    agency_id = actor.agency.pk
    condition = Q(recorded_by_id=agency_id) | Q(
        Exists(Referral.objects.filter(young_person=OuterRef("pk"), referring_agency_id=agency_id))
    )
    if actor.works_cases:
        condition |= Q(Exists(visible_cases(actor).filter(young_person=OuterRef("pk"))))
    return in_partnership.filter(condition)


def open_case_flags(actor: Actor, young_person_ids: Iterable[int]) -> dict[int, bool] | None:
    """What a search for existing records may tell this actor about cases.

    The hub's screeners learn, for each young person, whether an open case
    exists, whoever leads it: enough to join a new referral to it, never its
    content (``referral_accept`` relies on the same fact). Anyone else learns
    nothing about cases from a search: ``None``. Only for young people the
    actor may already see (``visible_young_people``); others are left out.
    """
    if not actor.screens_referrals:
        return None
    ids = list(visible_young_people(actor).filter(pk__in=list(young_person_ids)).values_list("pk", flat=True))
    with_open_case = set(
        Case.objects.filter(young_person_id__in=ids, status=CaseStatus.OPEN).values_list("young_person_id", flat=True)
    )
    return {pk: pk in with_open_case for pk in ids}


def key_worker_memberships(agency: Agency | None = None, *, partnership: int | None = None) -> QuerySet[Membership]:
    """The memberships that let a person hold cases: active practitioners and
    managers who are active users. For one agency, or (``agency`` None) for
    every active agency of a partnership at once, as the screening page
    offers a lead agency and a key worker together."""
    memberships = Membership.objects.filter(
        is_active=True, user__is_active=True, role__in=[Role.PRACTITIONER, Role.MANAGER],
    )
    if agency is None:
        if partnership is None:
            return memberships.none()
        return memberships.filter(agency__is_active=True, agency__partnerships=partnership)
    return memberships.filter(agency=agency)


def assignable_key_workers(agency: Agency):
    """People who may hold cases for an agency (``key_worker_memberships``)."""
    return (
        get_user_model()
        .objects.filter(pk__in=key_worker_memberships(agency).values("user_id"))
        .order_by("last_name", "first_name", "username")
    )


def may_manage_api_clients(actor: Actor) -> bool:
    """Partner systems' API clients are issued, listed and revoked by their
    agency's administrators only (no case content comes with the role)."""
    return actor is not None and actor.agency is not None and actor.has_role(Role.AGENCY_ADMIN)


# ---------------------------------------------------------------------------
# Transfers between partnerships
# ---------------------------------------------------------------------------
# A case moves with a young person who moves: the sending lead agency
# proposes, the receiving hub decides. The transfer row is seen from both
# partnerships; the cases on either side stay each in its own.


def may_propose_transfer(actor: Actor, case: Case, *, may_manage: bool | None = None) -> bool:
    """The lead agency's managers and the key worker (``Action.MANAGE``), as
    named people working in the case's partnership, on an open case.
    ``may_manage``: ``may(actor, MANAGE, case)`` when the caller has it."""
    if actor.user is None or is_machine_client(actor) or not actor.in_partnership(case) or not case.is_open:
        return False
    return may(actor, Action.MANAGE, case) if may_manage is None else may_manage


def transfer_destinations(actor: Actor, case: Case) -> QuerySet[Partnership]:
    """The partnerships a case may be transferred to: every other active
    one (a young person may move anywhere the deployment serves)."""
    if not may_propose_transfer(actor, case):
        return Partnership.objects.none()
    return Partnership.objects.filter(is_active=True).exclude(pk=case.partnership_id).order_by("name", "pk")


def case_transfers(actor: Actor, case: Case) -> QuerySet[CaseTransfer]:
    """The transfers proposed out of a case the actor may see, newest first."""
    if not may(actor, Action.VIEW, case):
        return CaseTransfer.objects.none()
    return CaseTransfer.objects.filter(case_id=case.pk).order_by("-proposed_at", "-pk")


def referral_transfer(actor: Actor, referral: Referral) -> CaseTransfer | None:
    """The transfer a referral arrived as, for someone who may see the
    referral in the receiving partnership (its hub), else None."""
    if not actor.in_partnership(referral) or not visible_referrals(actor).filter(pk=referral.pk).exists():
        return None
    return CaseTransfer.objects.filter(referral_id=referral.pk).first()


def pending_transfer(referral_id: int, *, for_update: bool = False) -> CaseTransfer | None:
    """The proposed (undecided) transfer behind a referral, if any: for the
    screening services, which settle it with their decision."""
    transfers = CaseTransfer.objects.filter(referral_id=referral_id, status=TransferStatus.PROPOSED)
    return (transfers.select_for_update() if for_update else transfers).first()


class across_border:  # a context manager, like ``within_partnership``
    """``with access.across_border(partnership_id):`` the one way a write
    crosses into another partnership. The transfer services, once the
    policy has allowed the step, write the other side's rows (the receiving
    hub's referral, the sending case's closure and chronology) under that
    partnership's row-level security, as scheduled work would (no agency),
    then return to the actor's own boundary. Nothing else uses it."""

    def __init__(self, partnership_id: int) -> None:
        self._inner = within_partnership(system_actor(label="transfer", partnership=partnership_id))

    def __enter__(self) -> None:
        self._inner.__enter__()

    def __exit__(self, *exc_info) -> None:
        self._inner.__exit__(*exc_info)


# Asking a neighbouring hub -------------------------------------------------


def partnerships_knowing(actor: Actor, referral: Referral, *, keys: Iterable[str]) -> list[Partnership]:
    """What a hub screener deciding a referral may learn of records beyond
    their partnership: the other active partnerships that hold a likely
    record of the same young person (one whose match keys, strong ones
    from ``casework.matching``, equal ``keys``), and nothing else, never
    which record or anything in it. Asked of the database through a
    function that answers with partnership ids only (row-level security
    hides the records themselves). Anyone else learns nothing: []."""
    keys = sorted(set(keys))
    if not actor.screens_referrals or not actor.in_partnership(referral) or not keys:
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT crossroads_partnerships_knowing(%s::text[])", [keys])
        ids = {row[0] for row in cursor.fetchall()} - {actor.partnership_id}
    return list(Partnership.objects.filter(pk__in=ids, is_active=True).order_by("name", "pk"))


def may_answer_enquiry(actor: Actor, enquiry: PartnershipEnquiry) -> bool:
    """The asked partnership's hub screeners answer an open enquiry."""
    return (
        actor.screens_referrals and actor.user is not None and enquiry.to_partnership_id == actor.partnership_id
        and enquiry.status == EnquiryStatus.OPEN
    )


def enquiries_received(actor: Actor) -> QuerySet[PartnershipEnquiry]:
    """Enquiries other partnerships' hubs sent to the actor's: for its hub
    screeners (they search their own index to answer). Nobody else."""
    if not actor.screens_referrals or actor.partnership is None:
        return PartnershipEnquiry.objects.none()
    return PartnershipEnquiry.objects.filter(to_partnership_id=actor.partnership_id)


def enquiries_sent(actor: Actor, referral: Referral) -> QuerySet[PartnershipEnquiry]:
    """The enquiries the actor's hub sent about a referral it screens."""
    if not actor.screens_referrals or not actor.in_partnership(referral):
        return PartnershipEnquiry.objects.none()
    return PartnershipEnquiry.objects.filter(referral_id=referral.pk, from_partnership_id=actor.partnership_id)


# ---------------------------------------------------------------------------
# Keeping the permission rows in step (called inside the services' transactions)
# ---------------------------------------------------------------------------


def _set_agency_permissions(case: Case, agency: Agency, wanted: Iterable[str]) -> None:
    wanted = set(wanted)
    held = set(
        CaseGroupObjectPermission.objects.filter(content_object=case, group=agency.group).values_list(
            "permission__codename", flat=True
        )
    )
    for codename in wanted - held:
        assign_perm(f"referrals.{codename}", agency.group, case)
    for codename in held - wanted:
        remove_perm(f"referrals.{codename}", agency.group, case)


def sync_case_permissions(case: Case, at=None) -> None:
    """Make the guardian rows for a case match its lead agency and its active
    share grants. Must run in the same transaction as the change it follows.
    (The caseload index needs no call: triggers on the case and share-grant
    tables keep it in step in the same transaction; see ``caseload_index``.)"""
    assert transaction.get_connection().in_atomic_block, "sync_case_permissions must run in a transaction"
    at = at or timezone.now()
    wanted: dict[int, tuple[str, ...]] = {case.lead_agency_id: LEAD_PERMISSIONS}
    for agency_id in active_grants(at).filter(case=case).values_list("agency_id", flat=True):
        wanted.setdefault(agency_id, SHARED_PERMISSIONS)
    holders = set(
        CaseGroupObjectPermission.objects.filter(content_object=case).values_list("group__agency", flat=True)
    )
    for agency in Agency.objects.filter(pk__in=set(wanted) | holders).select_related("group"):
        _set_agency_permissions(case, agency, wanted.get(agency.pk, ()))


def agencies_with_permission(case: Case, codename: str = "view_case") -> set[int]:
    """The agencies whose groups hold a permission row on the case (for
    consistency checks and the expiry task)."""
    return set(
        CaseGroupObjectPermission.objects.filter(content_object=case, permission__codename=codename).values_list(
            "group__agency", flat=True
        )
    )


# ---------------------------------------------------------------------------
# The access log
# ---------------------------------------------------------------------------


def _case_basis(agency: Agency, case_id: int, lead_agency_id: int) -> str:
    if lead_agency_id == agency.pk:
        return f"Lead agency ({agency.name})"
    grant = (
        active_grants().filter(case_id=case_id, agency=agency)
        .select_related("agreement").order_by("-expires_at").first()
    )
    if grant is None:
        return ""
    until = timezone.localtime(grant.expires_at).strftime("%-d %b %Y")
    if grant.agreement is not None and grant.cross_border:
        return f"Cross-border share grant #{grant.pk} under agreement {grant.agreement.reference} until {until}"
    if grant.agreement is not None:
        return f"Share grant #{grant.pk} under agreement {grant.agreement.reference} until {until}"
    return f"Share grant #{grant.pk} on a recorded emergency basis until {until}"


def _break_glass_basis(actor: Actor, case_id: int) -> str:
    opening = BreakGlassAccess.objects.filter(
        case_id=case_id, user_id=getattr(actor.user, "pk", None), agency_id=actor.agency.pk,
        expires_at__gt=timezone.now(),
    ).order_by("-expires_at").first() if may_break_glass(actor) else None
    if opening is None:
        return ""
    until = timezone.localtime(opening.expires_at).strftime("%-d %b %Y %H:%M")
    return f"{BREAK_GLASS_BASIS} #{opening.pk} by {actor.label} until {until}"


def access_basis(actor: Actor, obj) -> str:
    """Why the actor could reach the object at this moment, in words a
    data-protection officer can read back later: the lead agency, a share
    grant (its number, agreement and end), the referring agency, hub
    screening or a scheduled task. "" when nothing in the policy explains it
    (the row then shows the access had no recorded basis)."""
    if actor.agency is None:
        return "Scheduled task" if actor.channel in (Channel.TASK, Channel.COMMAND) and not actor.user else ""
    agency = actor.agency
    if obj is None:
        # A list or export: what the policy lets the agency list.
        if actor.works_cases:
            return f"Caseload of {agency.name}: cases it leads or holds an active share of"
        return f"Records visible to {agency.name}"
    reasons: list[str] = []
    if isinstance(obj, Case):
        case_id, lead_agency_id = obj.pk, obj.lead_agency_id
    elif getattr(obj, "case_id", None) is not None:
        case_id = obj.case_id
        lead_agency_id = Case.objects.filter(pk=case_id).values_list("lead_agency_id", flat=True).first()
    else:
        case_id = lead_agency_id = None
    if case_id is not None and lead_agency_id is not None:
        reasons.append(_case_basis(agency, case_id, lead_agency_id) or _break_glass_basis(actor, case_id))
    if isinstance(obj, Referral):
        if obj.referring_agency_id == agency.pk:
            reasons.append(f"Referring agency ({agency.name})")
        if actor.screens_referrals:
            reasons.append("Hub screening")
    if isinstance(obj, YoungPerson):
        if actor.screens_referrals:
            reasons.append("Hub screening (the young-person index)")
        if obj.recorded_by_id == agency.pk:
            reasons.append(f"Recorded by {agency.name}")
        for case in Case.objects.filter(young_person=obj).only("pk", "lead_agency_id"):
            reasons.append(_case_basis(agency, case.pk, case.lead_agency_id))
    return "; ".join(dict.fromkeys(r for r in reasons if r))[:300]


def log_access(
    actor: Actor, action: str, obj=None, *, object_type: str | None = None, detail: dict | None = None,
    basis: str | None = None,
) -> AccessEvent:
    """Write one row to the append-only access log, with the request id of
    the request or task being served (``lib.request_ids``) and the basis
    of the access at this moment (``access_basis`` unless given)."""
    case_id = young_person_id = None
    object_id = ""
    if obj is not None:
        object_type = object_type or obj._meta.model_name
        object_id = str(obj.pk)
        if isinstance(obj, Case):
            case_id, young_person_id = obj.pk, obj.young_person_id
        elif isinstance(obj, YoungPerson):
            young_person_id = obj.pk
        else:
            case_id = getattr(obj, "case_id", None)
            young_person_id = getattr(obj, "young_person_id", None)
            if young_person_id is None and case_id is not None and getattr(obj, "case", None) is not None:
                young_person_id = obj.case.young_person_id
    basis = access_basis(actor, obj) if basis is None else basis
    return AccessEvent.objects.create(
        break_glass=basis.startswith(BREAK_GLASS_BASIS),
        user=actor.user,
        username=actor.user.get_username() if actor.user is not None else "",
        agency=actor.agency,
        agency_name=actor.agency.name if actor.agency else "",
        api_client=actor.api_client,
        action=action,
        object_type=object_type or "",
        object_id=object_id,
        case_id=case_id,
        young_person_id=young_person_id,
        channel=actor.channel,
        ip_address=actor.ip_address,
        request_id=actor.request_id or request_ids.current(),
        basis=basis,
        detail=detail or {},
    )


# ---------------------------------------------------------------------------
# Audit: who has seen a record, subject access
# ---------------------------------------------------------------------------


def is_data_protection_officer(actor: Actor) -> bool:
    """A person (never a partner system) holding the DPO role in an agency."""
    return actor.user is not None and not is_machine_client(actor) and actor.has_role(Role.DPO)


def may_see_access_log(actor: Actor, case: Case) -> bool:
    """Who may see "who has seen this case": the lead agency's managers and
    data-protection officers. Deny by default: practitioners, screeners,
    agency administrators, sharing agencies and partner systems may not."""
    if not actor.in_partnership(case):
        return False
    if is_data_protection_officer(actor):
        return True
    return (
        actor.user is not None and not is_machine_client(actor)
        and actor.has_role(Role.MANAGER) and case.lead_agency_id == actor.agency.pk
    )


def access_log_basis(actor: Actor) -> str:
    """The basis recorded when someone reads an access log (or answers a
    subject-access request)."""
    if is_data_protection_officer(actor):
        return f"Data-protection officer ({actor.agency.name})"
    return f"Lead agency manager ({actor.agency.name})" if actor.agency else ""


def may_see_young_person_access_log(actor: Actor, young_person: YoungPerson) -> bool:
    """A data-protection officer, or a manager of an agency leading one of
    the young person's cases (who then sees only those cases' rows:
    ``access_log_case_ids``). Deny by default."""
    return access_log_case_ids(actor, young_person) != []


def access_log_case_ids(actor: Actor, young_person: YoungPerson) -> list[int] | None:
    """The cases of a young person whose access-log rows the actor may see:
    None meaning every row about them (a data-protection officer), else the
    ids of the cases for which ``may_see_access_log`` holds (maybe none)."""
    if not actor.in_partnership(young_person):
        return []
    if is_data_protection_officer(actor):
        return None
    cases = Case.objects.filter(young_person=young_person).only("pk", "lead_agency_id", "partnership_id")
    return [case.pk for case in cases if may_see_access_log(actor, case)]


def may_export_subject_access(actor: Actor) -> bool:
    """Only a data-protection officer records and answers subject-access
    requests; the export holds everything, agency-only notes included."""
    return is_data_protection_officer(actor)


def young_people_for_subject_access(actor: Actor) -> QuerySet[YoungPerson]:
    """The whole young-person index for a data-protection officer choosing
    whose request to record; nobody else (deny by default)."""
    if not may_export_subject_access(actor) or actor.partnership is None:
        return YoungPerson.objects.none()
    return YoungPerson.objects.filter(partnership_id=actor.partnership_id)


# ---------------------------------------------------------------------------
# The partnership's own settings: rules, vocabulary, agreement templates
# ---------------------------------------------------------------------------


def administers_partnership(actor: Actor) -> bool:
    """A partnership administrator: a person (never a partner system)
    holding the role in the partnership's community-safety hub, for the
    partnership they are working in. The role means nothing in another
    kind of agency, and gives no case content: it is not a casework role."""
    return (
        actor.user is not None and not is_machine_client(actor) and actor.partnership is not None
        and actor.has_role(Role.PARTNERSHIP_ADMIN) and actor.agency.kind == AgencyKind.HUB
    )


def may_edit_partnership_settings(actor: Actor) -> bool:
    """Who changes the partnership's rules, concern vocabulary and
    information-sharing agreement templates: its administrator only. Deny
    by default: agency administrators, DPOs, managers, screeners and
    practitioners may not, nor may a superuser as such."""
    return administers_partnership(actor)


def may_see_partnership_settings_history(actor: Actor) -> bool:
    """Who reads the history of those settings (who changed what, when):
    the partnership's administrator and the data-protection officers working
    in the partnership."""
    if actor.partnership is None:
        return False
    return administers_partnership(actor) or is_data_protection_officer(actor)


def may_read_vocabulary(actor: Actor) -> bool:
    """Who reads the concern vocabulary, its signs to look for and its
    indicators (the awareness page, the referral journey, the partner API):
    every partner working in the partnership, whatever their role. It is
    guidance, not case content; someone working in no partnership reads
    none."""
    return actor.agency is not None and actor.partnership is not None


# ---------------------------------------------------------------------------
# Contexts: places, peer groups, online spaces, persons of concern
# ---------------------------------------------------------------------------
# A context is seen by every case-working agency of its partnership (a
# partner system: with ``contexts:read``), except a person of concern, seen
# only by the agencies its recorder chose. A link joins a context (or a
# case) to a case: it follows that case's access exactly (``visible_cases``),
# so whoever may not see the case learns only that a link exists (a count),
# never whose case it is, on every channel.

# Who may record a person of concern (an adult suspected of exploiting
# children): the police and the partnership's hub.
PERSON_OF_CONCERN_RECORDERS = frozenset({AgencyKind.POLICE, AgencyKind.HUB})


def _reads_contexts(actor: Actor) -> bool:
    return actor.works_cases and has_scope(actor, "contexts:read")


def visible_contexts(actor: Actor) -> QuerySet[Context]:
    """The contexts the actor may see: their partnership's, for a
    case-working role, persons of concern only where their agency was chosen.
    Everyone else: none."""
    if not _reads_contexts(actor):
        return Context.objects.none()
    chosen = Context.restricted_to.through.objects.filter(context_id=OuterRef("pk"), agency_id=actor.agency.pk)
    return Context.objects.filter(
        Q(kind__in=[k for k in ContextKind.values if k != ContextKind.PERSON_OF_CONCERN]) | Q(Exists(chosen)),
        partnership_id=actor.partnership_id,
    )


def get_context(actor: Actor, context_id, *, log: bool = True, for_update: bool = False) -> Context:
    """The context, if the actor may see it; else ``NotVisible``. A read is
    written to the access log."""
    try:
        queryset = visible_contexts(actor).select_related("lead_agency", "recording_agency")
        if for_update:
            queryset = queryset.select_for_update(of=("self",))
        context = queryset.get(pk=context_id)
    except (Context.DoesNotExist, ValueError, TypeError):
        raise NotVisible("No such context") from None
    if log:
        log_access(actor, "view", context, basis=context_basis(actor, context))
    return context


def context_basis(actor: Actor, context: Context) -> str:
    """Why the actor could see a context, for the access log."""
    if actor.agency is None:
        return ""
    if context.is_person_of_concern:
        return f"Person of concern shared with {actor.agency.name} by its recorder"
    return f"Context of the partnership ({actor.agency.name})"


def may_record_context(actor: Actor, kind: str | None = None) -> bool:
    """Anyone working cases in a partnership records places, groups and
    online spaces (a partner system: with ``contexts:write``); a person of
    concern only the police and the hub."""
    if not actor.works_cases or not has_scope(actor, "contexts:write"):
        return False
    if kind == ContextKind.PERSON_OF_CONCERN:
        return actor.agency.kind in PERSON_OF_CONCERN_RECORDERS
    return True


def may_work_on_context(actor: Actor, context: Context) -> bool:
    """Add to a context the actor can see: chronology entries, interventions,
    links from cases they can see (a partner system: ``contexts:write``)."""
    return (
        actor.works_cases and has_scope(actor, "contexts:write") and actor.in_partnership(context)
        and visible_contexts(actor).filter(pk=context.pk).exists()
    )


def may_share_context(actor: Actor, context: Context) -> bool:
    """Who chooses which agencies see a person of concern: the agency that
    recorded it."""
    return may_work_on_context(actor, context) and context.recording_agency_id == actor.agency.pk


def may_change_context_intervention(actor: Actor, intervention) -> bool:
    """The intervention's owning agency, or the context's lead agency."""
    context = intervention.context
    return may_work_on_context(actor, context) and actor.agency.pk in (
        intervention.owner_agency_id, context.lead_agency_id,
    )


def may_correct_context_note(actor: Actor, note) -> bool:
    """Only the author's agency corrects a context's chronology entry."""
    return note.agency_id == (actor.agency.pk if actor.agency else None) and may_work_on_context(actor, note.context)


def visible_case_ids(actor: Actor, case_ids: Iterable[int]) -> set[int]:
    """Of these cases, the ones the actor may see (``visible_cases``): the
    one test every channel applies to each end of a link."""
    ids = [pk for pk in set(case_ids) if pk is not None]
    if not ids:
        return set()
    return set(visible_cases(actor).filter(pk__in=ids).values_list("pk", flat=True))


def context_links(actor: Actor, context: Context) -> QuerySet[ContextLink]:
    """Every link of a context the actor may see, whoever's case: to be
    split by ``visible_case_ids`` before anything of a case is shown. Links
    of a context out of sight: none."""
    if not _reads_contexts(actor) or not actor.in_partnership(context):
        return ContextLink.objects.none()
    return ContextLink.objects.filter(context=context)


def contexts_links(actor: Actor, contexts) -> QuerySet[ContextLink]:
    """Every link of several contexts (each one the actor may see), whoever's
    case: split by ``visible_case_ids`` before showing anything of a case."""
    ids = [c.pk for c in contexts if _reads_contexts(actor) and actor.in_partnership(c)]
    return ContextLink.objects.filter(context_id__in=ids) if ids else ContextLink.objects.none()


def visible_context_links(actor: Actor, context: Context) -> QuerySet[ContextLink]:
    """The links of a context whose cases the actor may see."""
    return context_links(actor, context).filter(Exists(visible_cases(actor).filter(pk=OuterRef("case_id"))))


def case_links(actor: Actor, case: Case) -> tuple[QuerySet[ContextLink], QuerySet[PeerLink]]:
    """For someone who may see the case: its links to contexts the actor
    may see, and its links to other young people (split the other end by
    ``visible_case_ids``). Anyone else: none of either."""
    if not may(actor, Action.VIEW, case):
        return ContextLink.objects.none(), PeerLink.objects.none()
    contexts = ContextLink.objects.filter(case=case).filter(
        Exists(visible_contexts(actor).filter(pk=OuterRef("context_id")))
    )
    return contexts, PeerLink.objects.filter(Q(case_a=case) | Q(case_b=case))


# ---------------------------------------------------------------------------
# Panels
# ---------------------------------------------------------------------------
# A panel is people's business: partner systems reach none. Its organisers
# are its chair and the managers of its convening agency; its attendees are
# the people invited for their agencies. Each attendee's papers hold what
# their own agency may see (``visible_cases``, ``visible_contexts``), and open
# only once they have accepted the confidentiality statement.


def _person_at_work(actor: Actor) -> bool:
    return actor.works_cases and actor.user is not None and not is_machine_client(actor)


def may_convene_panel(actor: Actor) -> bool:
    """Any agency's managers, and the hub's screeners, convene panels."""
    return _person_at_work(actor) and (actor.has_role(Role.MANAGER) or actor.screens_referrals)


def visible_panels(actor: Actor) -> QuerySet[Panel]:
    """Panels of the actor's partnership that they chair, organise (a
    manager of the convening agency), attend, or owe an action to."""
    if not _person_at_work(actor):
        return Panel.objects.none()
    user_id = actor.user.pk
    condition = (
        Q(chair_id=user_id)
        | Q(Exists(PanelAttendee.objects.filter(panel=OuterRef("pk"), user_id=user_id)))
        | Q(Exists(PanelAction.objects.filter(panel=OuterRef("pk"), owner_id=user_id)))
    )
    if actor.has_role(Role.MANAGER):
        condition |= Q(convening_agency_id=actor.agency.pk)
    return Panel.objects.filter(condition, partnership_id=actor.partnership_id)


def get_panel(actor: Actor, panel_id, *, for_update: bool = False) -> Panel:
    try:
        queryset = visible_panels(actor).select_related("convening_agency", "chair")
        if for_update:
            queryset = queryset.select_for_update(of=("self",))
        return queryset.get(pk=panel_id)
    except (Panel.DoesNotExist, ValueError, TypeError):
        raise NotVisible("No such panel") from None


def may_organise_panel(actor: Actor, panel: Panel) -> bool:
    """The chair, and the convening agency's managers."""
    if not _person_at_work(actor) or not actor.in_partnership(panel):
        return False
    return panel.chair_id == actor.user.pk or (
        actor.has_role(Role.MANAGER) and panel.convening_agency_id == actor.agency.pk
    )


def panel_attendance(actor: Actor, panel: Panel) -> PanelAttendee | None:
    """The actor's own invitation to a panel, for their agency, if any."""
    if not _person_at_work(actor) or not actor.in_partnership(panel):
        return None
    return PanelAttendee.objects.filter(panel=panel, user_id=actor.user.pk, agency_id=actor.agency.pk).first()


def may_open_papers(actor: Actor, panel: Panel) -> bool:
    """An attendee, for the agency they were invited for, who has accepted
    the confidentiality statement in force."""
    attendance = panel_attendance(actor, panel)
    return attendance is not None and attendance.confidentiality_version == CONFIDENTIALITY_VERSION


def may_update_action(actor: Actor, action: PanelAction) -> bool:
    """The action's owner, a manager of the owning agency, or the panel's
    organisers."""
    if not _person_at_work(actor) or not actor.in_partnership(action.panel):
        return False
    if action.owner_id == actor.user.pk:
        return True
    if actor.has_role(Role.MANAGER) and action.owner_agency_id == actor.agency.pk:
        return True
    return may_organise_panel(actor, action.panel)


def my_panel_actions(actor: Actor) -> QuerySet[PanelAction]:
    """The outstanding actions a person owns, in the partnership they are
    working in (their home page)."""
    if not _person_at_work(actor):
        return PanelAction.objects.none()
    return PanelAction.objects.filter(
        owner_id=actor.user.pk, status__in=OUTSTANDING_ACTION_STATUSES, panel__partnership_id=actor.partnership_id,
    )


def minute_readable(actor: Actor, minute: PanelMinute, visible_ids: set[int]) -> bool:
    """A minute on a case's agenda item reads only for those who may see
    the case (``visible_ids``: ``visible_case_ids`` of the panel's cases)."""
    case_id = minute.item.case_id if minute.item_id is not None else None
    return case_id is None or case_id in visible_ids


def action_readable(action: PanelAction, visible_ids: set[int]) -> bool:
    """An action about a case's agenda item reads (its text) only for those
    who may see the case; the rest see its owner, due date and status."""
    case_id = action.item.case_id if action.item_id is not None else None
    return case_id is None or case_id in visible_ids


def task_panel_actions(actor: Actor) -> QuerySet[PanelAction]:
    """The outstanding actions scheduled work may read (to remind their
    owners and carry overdue ones to the next panel). System actor only."""
    if not is_system_actor(actor):
        return PanelAction.objects.none()
    actions = PanelAction.objects.filter(status__in=OUTSTANDING_ACTION_STATUSES)
    return actions.filter(panel__partnership_id=actor.partnership_id) if actor.partnership is not None else actions


def task_upcoming_panels(actor: Actor) -> QuerySet[Panel]:
    """Panels not yet held, for scheduled work (the next panel an overdue
    action is carried to). System actor only."""
    if not is_system_actor(actor):
        return Panel.objects.none()
    panels = Panel.objects.filter(held_at__isnull=True)
    return panels.filter(partnership_id=actor.partnership_id) if actor.partnership is not None else panels
