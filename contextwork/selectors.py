"""Read paths for contexts and panels: one selector per question, shared by
the pages, the partner API and the reminder tasks.

Every selector takes the actor and starts from the access policy
(``access.visible_contexts``, ``get_context``, ``context_links``,
``visible_cases`` through ``visible_case_ids``, ``visible_panels``). A link
is split by its case's visibility before anything of the case is read:
what the viewer may not see becomes a count or an anonymous node. Reads of
cases are written to the access log (the cases shown, by id).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import OuterRef, Q, QuerySet

from agencies.models import Membership
from contexts.models import (
    OUTSTANDING_ACTION_STATUSES,
    Context,
    ContextIntervention,
    ContextLink,
    ContextNote,
    Panel,
    PanelAction,
    PanelAgendaItem,
    PanelAttendee,
    PanelMinute,
    PeerLink,
    PeerRelationship,
)
from contextwork.network import Network, href
from referrals.models import Case, CaseNote, RiskLevel, young_person_name
from safeguarding import access, redaction


def log_cases_shown(actor: access.Actor, case_ids, *, via: str, detail: dict | None = None) -> None:
    """Record that a page or paper showed these cases (ids only), as a list
    row "who has seen this case" finds."""
    ids = sorted(set(case_ids))
    if ids:
        access.log_access(actor, "list", object_type="case", detail={"ids": ids, "via": via, **(detail or {})})


# ---------------------------------------------------------------------------
# Contexts
# ---------------------------------------------------------------------------


def contexts(actor: access.Actor, *, kind: str | None = None, search: str = "") -> QuerySet[Context]:
    """The contexts the actor may see, by name, each with ``linked`` (how
    many cases are linked, seen or not: a count is what anyone who may see
    the context learns)."""
    queryset = access.visible_contexts(actor).select_related("lead_agency")
    if kind:
        queryset = queryset.filter(kind=kind)
    if search.strip():
        term = search.strip()
        queryset = queryset.filter(Q(name__icontains=term) | Q(street_names__icontains=[term]) | Q(ward__icontains=term))
    # A count per row, read only for the rows of the page (PostgreSQL works
    # out the select list after the sort and limit).
    linked = ContextLink.objects.filter(context=OuterRef("pk")).order_by().values("case_id").distinct()
    return queryset.annotate(linked=access.CountOf(linked)).order_by("name", "pk")


def contexts_listed(actor: access.Actor) -> QuerySet[Context]:
    """The contexts the actor may see, as the partner API pages them
    (newest first, by its cursor)."""
    return access.visible_contexts(actor).select_related("lead_agency", "recording_agency")


@dataclass(frozen=True)
class CaseRow:
    """A case as the context page, the papers and the network show it, read
    as plain values (a page may hold hundreds)."""

    pk: int
    reference: str
    risk_level: str
    display_name: str
    lead_agency_name: str

    def get_risk_level_display(self) -> str:
        return RiskLevel(self.risk_level).label

    @property
    def href(self) -> str:
        return href("case-detail", self.pk)


@dataclass(frozen=True)
class LinkRow:
    """A link as the context page shows it."""

    pk: int
    case_id: int
    context_id: int
    source: str
    information_date: object
    grading: str
    handling_conditions: str
    recording_agency_name: str


_CASE_ROW = ("id", "reference", "risk_level", "young_person__given_name", "young_person__family_name",
             "young_person__preferred_name", "young_person__anonymised_at", "lead_agency__name")
_LINK_ROW = ("id", "case_id", "context_id", "source", "information_date", "source_evaluation",
             "intelligence_assessment", "handling_code", "handling_conditions", "recording_agency__name")


def case_rows(case_ids) -> dict[int, CaseRow]:
    """The cases, by id, as rows: only ever for ids that came out of
    ``access.visible_case_ids`` for the viewer."""
    if not case_ids:
        return {}
    return {
        pk: CaseRow(pk, ref, risk, young_person_name(given, family, preferred, anonymised), lead)
        for pk, ref, risk, given, family, preferred, anonymised, lead
        in Case.objects.filter(pk__in=list(case_ids)).values_list(*_CASE_ROW)
    }


def _link_rows(links) -> list[LinkRow]:
    return [LinkRow(pk, case_id, context_id, source, day, f"{s} / {a} / {h}", conditions, agency)
            for pk, case_id, context_id, source, day, s, a, h, conditions, agency in links.values_list(*_LINK_ROW)]


@dataclass
class LinkedCase:
    """A case linked to a context that the viewer may see, with its links."""

    case: CaseRow
    links: list[LinkRow]


@dataclass
class ContextPage:
    context: Context
    linked: list[LinkedCase]
    unseen: int  # cases linked that the viewer may not see
    interventions: list[ContextIntervention]
    notes: QuerySet[ContextNote]
    network: Network
    restricted_to: list = field(default_factory=list)
    may_work: bool = False
    may_share: bool = False


def _split(actor: access.Actor, links) -> tuple[dict[int, list], set[int]]:
    """Links grouped by case, and which of those cases the actor may see."""
    by_case: dict[int, list] = {}
    for link in links:
        by_case.setdefault(link.case_id, []).append(link)
    return by_case, access.visible_case_ids(actor, by_case)


def context_page(actor: access.Actor, context_id) -> ContextPage:
    """A context as one actor may see it: what is known, the linked cases
    they may see (with each link's source and grade), how many others there
    are, the interventions, the chronology and the network around it.

    Who: anyone ``access.get_context`` lets see it; else ``NotVisible``. The
    read is logged (the context, and the cases shown)."""
    context = access.get_context(actor, context_id)
    links = _link_rows(access.context_links(actor, context).order_by("-information_date", "-pk"))
    by_case, seen = _split(actor, links)
    cases = case_rows(seen)
    linked = sorted((LinkedCase(cases[pk], by_case[pk]) for pk in seen),
                    key=lambda lc: (lc.case.display_name, lc.case.pk))
    network = Network()
    network.context(context, focus=True)
    _around(actor, network, [context], by_case, seen, cases)
    log_cases_shown(actor, seen, via="context", detail={"context": context.pk})
    return ContextPage(
        context=context,
        linked=linked,
        unseen=len(by_case) - len(seen),
        interventions=list(context.interventions.select_related("owner_agency", "owner").order_by("-created_at")),
        notes=context.notes.select_related("author", "agency", "corrects").order_by("-occurred_at", "-pk"),
        network=network,
        restricted_to=list(context.restricted_to.order_by("name")) if context.is_person_of_concern else [],
        may_work=access.may_work_on_context(actor, context),
        may_share=access.may_share_context(actor, context),
    )


def _around(actor, network: Network, centre_contexts, by_case: dict, seen: set, cases: dict) -> None:
    """Draw the centre contexts' linked cases (named if seen, else one
    anonymous node per link), and around each seen case its other contexts
    the actor may see and the young people it is linked to (anonymous if
    unseen). ``cases`` holds a ``CaseRow`` for every id in ``seen``."""
    centre = {c.pk: c for c in centre_contexts}
    for case_id, links in by_case.items():
        for link in links:
            node = network.case(cases[case_id]) if case_id in seen else network.anonymous()
            network.link(network.context(centre[link.context_id]), node, "linked")
    if not seen:
        return
    # The seen cases' other links, to contexts the actor may see: both ends
    # already passed the policy.
    others = (
        ContextLink.objects.filter(case_id__in=seen).exclude(context_id__in=centre)
        .filter(context_id__in=access.visible_contexts(actor).values("pk"))
        .values_list("case_id", "context_id", "context__name", "context__kind", "context__risk_level")
    )
    for case_id, context_id, name, kind, risk in others:
        network.link(network.case(cases[case_id]),
                     network.context(Context(pk=context_id, name=name, kind=kind, risk_level=risk)), "linked")
    peers = list(PeerLink.objects.filter(Q(case_a_id__in=seen) | Q(case_b_id__in=seen))
                 .values_list("case_a_id", "case_b_id", "relationship"))
    other_ids = {b if a in seen else a for a, b, _ in peers} - seen
    more_seen = access.visible_case_ids(actor, other_ids)
    cases.update(case_rows(more_seen))
    for a, b, relationship in peers:
        ends = [network.case(cases[i]) if i in seen or i in more_seen else network.anonymous() for i in (a, b)]
        network.link(ends[0], ends[1], PeerRelationship(relationship).label.lower())
    seen |= more_seen


def context_intervention(actor: access.Actor, context: Context, intervention_id) -> ContextIntervention:
    """One intervention of a context the actor reached through the policy."""
    found = context.interventions.select_related("context", "owner_agency").filter(
        pk=intervention_id).first() if str(intervention_id).isdigit() and access.visible_contexts(actor).filter(
        pk=context.pk).exists() else None
    if found is None:
        raise access.NotVisible("No such intervention")
    return found


def context_note(actor: access.Actor, context: Context, note_id) -> ContextNote:
    """One chronology entry of a context the actor reached through the policy."""
    found = context.notes.select_related("context").filter(pk=note_id).first() if str(
        note_id).isdigit() and access.visible_contexts(actor).filter(pk=context.pk).exists() else None
    if found is None:
        raise access.NotVisible("No such chronology entry")
    return found


def visible_case_by_reference(actor: access.Actor, reference: str) -> Case | None:
    """The case with this reference, if the actor may see it (how people
    name a case to link or put on an agenda); else None, whether or not
    there is one."""
    reference = (reference or "").strip().upper()
    if not reference:
        return None
    return access.visible_cases(actor).filter(reference=reference).first()


def context_links_seen(actor: access.Actor, context: Context) -> QuerySet[ContextLink]:
    """The links of a context whose cases the actor may see (the API's
    list), with their case and recorder."""
    return access.visible_context_links(actor, context).select_related("context", "case", "recording_agency")


def context_link_counts(actor: access.Actor, context: Context) -> tuple[int, int]:
    """How many cases linked to the context the actor may see, and how many
    they may not (the count is all they learn of those)."""
    linked = set(access.context_links(actor, context).values_list("case_id", flat=True))
    seen = access.visible_case_ids(actor, linked)
    return len(seen), len(linked - seen)


def case_context_links(actor: access.Actor, case: Case) -> QuerySet[ContextLink]:
    """A case's links to contexts the actor may see (the API's list)."""
    return access.case_links(actor, case)[0].select_related("context", "case", "recording_agency")


@dataclass
class CaseLinks:
    contexts: list[ContextLink]
    peers: list[dict]  # {"link": PeerLink, "case": the other case, or None if unseen}


def case_links(actor: access.Actor, case: Case) -> CaseLinks:
    """What a case the actor may see is linked to: contexts they may see
    (with source and grade), and other young people, named where the actor
    may see their case and otherwise only said to exist (the case page)."""
    context_links, peer_links = access.case_links(actor, case)
    peers = list(peer_links.select_related("recording_agency"))
    others = {p.case_b_id if p.case_a_id == case.pk else p.case_a_id for p in peers}
    seen = access.visible_case_ids(actor, others)
    cases = Case.objects.filter(pk__in=seen).select_related("young_person").in_bulk() if seen else {}
    rows = [{"link": p, "case": cases.get(p.case_b_id if p.case_a_id == case.pk else p.case_a_id)} for p in peers]
    return CaseLinks(list(context_links.select_related("context", "recording_agency")), rows)


# ---------------------------------------------------------------------------
# Panels
# ---------------------------------------------------------------------------


def panels(actor: access.Actor) -> QuerySet[Panel]:
    """The panels the actor chairs, organises, attends or owes actions to,
    the latest first."""
    return access.visible_panels(actor).select_related("convening_agency", "chair").order_by("-meets_at", "-pk")


def panel_people(partnership_id: int) -> list[tuple[int, int, str]]:
    """Who may attend a panel or own an action in a partnership: active
    practitioners, managers and screeners of its active agencies, as
    (user id, agency id, "Name (Agency)"), by agency then name. The
    directory of people, no case data."""
    memberships = (
        Membership.objects.filter(
            is_active=True, user__is_active=True, role__in=list(access.CASEWORK_ROLES),
            agency__is_active=True, agency__partnerships=partnership_id,
        )
        .select_related("user", "agency").order_by("agency__name", "user__last_name", "user__first_name", "user_id")
    )
    seen, people = set(), []
    for m in memberships:
        if (m.user_id, m.agency_id) not in seen:
            seen.add((m.user_id, m.agency_id))
            people.append((m.user_id, m.agency_id, f"{m.user.get_full_name() or m.user.get_username()} "
                                                     f"({m.agency.name})"))
    return people


def my_actions(actor: access.Actor) -> list[PanelAction]:
    """A person's outstanding panel actions, soonest due first (home page),
    each with ``readable``: an action about a case the person may not see
    shows its panel, due date and status, never its text."""
    actions = list(access.my_panel_actions(actor).select_related("panel", "owner_agency", "item")
                   .order_by("due_on", "pk"))
    seen = access.visible_case_ids(actor, {a.item.case_id for a in actions if a.item_id and a.item.case_id})
    for action in actions:
        action.readable = access.action_readable(action, seen)
    return actions


@dataclass
class AgendaRow:
    item: PanelAgendaItem
    case: Case | None = None  # set only if the viewer may see it
    anonymous: bool = False  # a case the viewer may not see
    context: Context | None = None
    context_hidden: bool = False
    action: PanelAction | None = None


@dataclass
class PanelPage:
    panel: Panel
    agenda: list[AgendaRow]
    attendees: list[PanelAttendee]
    actions: list[PanelAction]
    minutes: list[tuple[PanelMinute, bool]]  # (minute, readable)
    attendance: PanelAttendee | None
    may_organise: bool
    may_open_papers: bool
    visible_ids: set = field(default_factory=set)
    actions_readable: set = field(default_factory=set)  # ids of actions whose text the viewer may read


def _agenda(actor: access.Actor, panel: Panel) -> tuple[list[AgendaRow], set[int]]:
    items = list(panel.agenda.select_related(
        "context", "carried_action", "carried_action__panel", "carried_action__owner_agency",
        "carried_action__owner", "carried_action__item").order_by("added_at", "pk"))
    case_ids = {i.case_id for i in items if i.case_id}
    seen = access.visible_case_ids(actor, case_ids)
    cases = Case.objects.filter(pk__in=seen).select_related("young_person", "lead_agency").in_bulk()
    contexts_seen = set(access.visible_contexts(actor).filter(
        pk__in=[i.context_id for i in items if i.context_id]).values_list("pk", flat=True))
    rows = []
    for item in items:
        if item.case_id:
            rows.append(AgendaRow(item, case=cases.get(item.case_id), anonymous=item.case_id not in seen))
        elif item.context_id:
            rows.append(AgendaRow(item, context=item.context if item.context_id in contexts_seen else None,
                                  context_hidden=item.context_id not in contexts_seen))
        else:
            rows.append(AgendaRow(item, action=item.carried_action))
    return rows, seen


def panel_page(actor: access.Actor, panel_id) -> PanelPage:
    """A panel as one person may see it: the agenda (cases they may not see
    are anonymous), attendees, actions and minutes (a minute on such a case
    is withheld). Who: ``access.visible_panels``; else ``NotVisible``."""
    panel = access.get_panel(actor, panel_id)
    agenda, seen = _agenda(actor, panel)
    minutes = list(panel.minutes.select_related("item", "author", "agency", "corrects").order_by("recorded_at", "pk"))
    actions = list(panel.actions.select_related("owner_agency", "owner", "item").order_by("due_on", "pk"))
    # Actions carried here from earlier panels may be about cases of their
    # own agenda: the viewer's sight of those decides too.
    carried = [row.action for row in agenda if row.action is not None]
    seen |= access.visible_case_ids(actor, {a.item.case_id for a in [*actions, *carried] if a.item_id and a.item.case_id})
    log_cases_shown(actor, seen, via="panel", detail={"panel": panel.pk})
    return PanelPage(
        panel=panel,
        agenda=agenda,
        attendees=list(panel.attendees.select_related("user", "agency").order_by("agency__name", "user__last_name")),
        actions=actions,
        actions_readable={a.pk for a in actions if access.action_readable(a, seen)} | {
            row.action.pk for row in agenda if row.action is not None and access.action_readable(row.action, seen)},
        minutes=[(m, access.minute_readable(actor, m, seen)) for m in minutes],
        attendance=access.panel_attendance(actor, panel),
        may_organise=access.may_organise_panel(actor, panel),
        may_open_papers=access.may_open_papers(actor, panel),
        visible_ids=seen,
    )


@dataclass
class PaperCase:
    case: Case
    notes: list[CaseNote]
    contexts: list[ContextLink]


@dataclass
class Papers:
    panel: Panel
    agency_name: str
    agenda: list[AgendaRow]
    cases: dict[int, PaperCase]
    context_links: dict[int, tuple[list, int]]  # context id -> (cases seen, unseen count)
    network: Network
    actions_readable: set = field(default_factory=set)


PAPER_NOTES = 5


def panel_papers(actor: access.Actor, panel_id) -> Papers:
    """The panel's papers for the actor's agency: for each agenda item what
    that agency may see (a case's summary, latest chronology entries it may
    read and its contexts; a context's linked cases, the rest counted; a
    carried action), and the network of the agenda, anonymous where the
    agency may not see. Who: an attendee who accepted the confidentiality
    statement (``access.may_open_papers``); anyone else ``NotAllowed`` (or
    ``NotVisible``). Every opening is in the access log, with the cases it
    showed."""
    panel = access.get_panel(actor, panel_id)
    if not access.may_open_papers(actor, panel):
        raise access.NotAllowed("Accept the confidentiality statement to open the papers")
    agenda, seen = _agenda(actor, panel)
    cases = Case.objects.filter(pk__in=seen).select_related("young_person", "lead_agency", "key_worker").in_bulk()
    papers_cases = {}
    for case_id, case in cases.items():
        notes = list(redaction.with_passages(access.visible_notes(actor, case).select_related("agency"))
                     .order_by("-occurred_at")[:PAPER_NOTES])
        papers_cases[case_id] = PaperCase(case, notes, case_links(actor, case).contexts)
    network, context_links = panel_network(actor, panel, agenda=agenda, seen=seen)
    shown = set(seen) | {int(key[1:]) for key, node in network.nodes.items() if node.kind == "case"}
    for case_id, (linked, _unseen) in context_links.items():
        shown |= {c.pk for c in linked}
    access.log_access(actor, "open_papers", panel, basis=f"Panel attendee for {actor.agency.name}",
                      detail={"panel": panel.pk})
    log_cases_shown(actor, shown, via="panel_papers", detail={"panel": panel.pk})
    carried = [row.action for row in agenda if row.action is not None]
    carried_seen = access.visible_case_ids(actor, {a.item.case_id for a in carried if a.item_id and a.item.case_id})
    readable = {a.pk for a in carried if access.action_readable(a, carried_seen)}
    return Papers(panel, actor.agency.name, agenda, papers_cases, context_links, network, readable)


def panel_network(actor: access.Actor, panel: Panel, *, agenda=None, seen=None) -> tuple[Network, dict]:
    """The network of a panel's agenda as the actor may see it: its
    contexts and cases, the cases linked to those contexts (anonymous where
    unseen), and around each case seen its other contexts and young people.
    Returns it with, per agenda context, the linked cases seen and how many
    others."""
    if agenda is None:
        agenda, seen = _agenda(actor, panel)
    network = Network()
    centre = [row.context for row in agenda if row.context is not None]
    links = _link_rows(access.contexts_links(actor, centre))
    by_case, seen_linked = _split(actor, links)
    all_seen = set(seen) | seen_linked
    cases = case_rows(all_seen)
    for context in centre:
        network.context(context, focus=True)
    for row in agenda:
        if row.case is not None:
            network.case(cases[row.case.pk], focus=True)
    _around(actor, network, centre, by_case, all_seen, cases)
    per_context: dict[int, tuple[list, int]] = {}
    for context in centre:
        ids = {link.case_id for link in links if link.context_id == context.pk}
        per_context[context.pk] = ([cases[i] for i in sorted(ids & seen_linked)], len(ids - seen_linked))
    return network, per_context


def panel_action(actor: access.Actor, panel: Panel, action_id) -> PanelAction:
    action = panel.actions.select_related("panel", "owner_agency", "owner").filter(
        pk=action_id).first() if str(action_id).isdigit() else None
    if action is None:
        raise access.NotVisible("No such action")
    return action


def panel_minute(actor: access.Actor, panel: Panel, minute_id) -> PanelMinute:
    minute = panel.minutes.select_related("item").filter(pk=minute_id).first() if str(minute_id).isdigit() else None
    if minute is None:
        raise access.NotVisible("No such minute")
    return minute


def outstanding_actions_due(actor: access.Actor, *, horizon) -> QuerySet[PanelAction]:
    """Outstanding actions due on or before ``horizon`` (overdue included),
    for the reminder sweep (``access.task_panel_actions``)."""
    return access.task_panel_actions(actor).filter(due_on__lte=horizon)
