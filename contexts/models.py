"""Contexts and exploitation panels: the records.

Places, peer groups, online spaces and persons of concern (``Context``);
the links that join them to cases (``ContextLink``) and cases to each other
(``PeerLink``), each with its source, its date, how reliable it is (the
3x5x2 intelligence grading) and the agency that recorded it; interventions
aimed at a context itself; a context's append-only chronology; and the
multi-agency child exploitation (MACE) panels that look at them together:
meetings, attendees and their acceptance of the confidentiality statement,
agendas, actions and append-only minutes.

These are records only, on the floor below the access policy
(``safeguarding.access``), which decides who may see each of them: a link
follows its case's access, a person of concern reaches only the agencies its
recorder chose. The work on them is ``contextwork`` (services, selectors,
the network picture and the panel papers).

As in ``referrals.models``, the rules PostgreSQL can hold are held there:
vocabularies, gradings, one agenda entry per case or context, and
append-only chronology and minutes (triggers).
"""

from __future__ import annotations

import pghistory
import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from agencies.models import Agency, Partnership
from referrals.models import Case, NoteKind, RiskLevel


class ContextKind(models.TextChoices):
    PLACE = "place", "Place"
    PEER_GROUP = "peer_group", "Peer group or gang"
    ONLINE_SPACE = "online_space", "Online space"
    PERSON_OF_CONCERN = "person_of_concern", "Person of concern"


@pghistory.track()
class Context(models.Model):
    """Somewhere or someone several young people's records meet: a park, an
    estate, a shop; a group of older boys and the street names its members
    use; a chat group; an adult suspected of exploiting children.

    A person of concern is recorded by the police or the hub and seen only by
    the agencies the recorder chose (``restricted_to``, the recorder's
    agency always among them); every other context is seen by every
    case-working agency of its partnership."""

    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="contexts")
    kind = models.CharField(max_length=24, choices=ContextKind.choices)
    name = models.CharField(max_length=200)
    known = models.TextField(help_text="What is known")
    ward = models.CharField(max_length=100, blank=True)
    # An optional map point for a place (WGS84, about a metre at 5 decimals).
    latitude = models.DecimalField(max_digits=8, decimal_places=5, null=True, blank=True)
    longitude = models.DecimalField(max_digits=8, decimal_places=5, null=True, blank=True)
    street_names = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    lead_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="contexts_led")
    risk_level = models.CharField(max_length=8, choices=RiskLevel.choices)
    restricted_to = models.ManyToManyField(Agency, related_name="restricted_contexts", blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recording_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=ContextKind.values), name="context_kind_valid"),
            models.CheckConstraint(condition=Q(risk_level__in=RiskLevel.values), name="context_risk_valid"),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__gte=-90, latitude__lte=90, longitude__gte=-180, longitude__lte=180),
                name="context_map_point_whole",
            ),
            models.CheckConstraint(
                condition=Q(kind="place") | Q(latitude__isnull=True), name="context_map_point_only_for_places",
            ),
        ]
        indexes = [models.Index(fields=["partnership", "kind", "name"], name="context_by_partnership")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_person_of_concern(self) -> bool:
        return self.kind == ContextKind.PERSON_OF_CONCERN


# -- the intelligence grading (3x5x2, the College of Policing's model) --------


class SourceEvaluation(models.TextChoices):
    RELIABLE = "1", "1: reliable"
    UNTESTED = "2", "2: untested"
    NOT_RELIABLE = "3", "3: not reliable"


class IntelligenceAssessment(models.TextChoices):
    KNOWN_DIRECTLY = "A", "A: known directly to the source"
    CORROBORATED = "B", "B: known indirectly to the source but corroborated"
    KNOWN_INDIRECTLY = "C", "C: known indirectly to the source"
    NOT_KNOWN = "D", "D: not known"
    SUSPECTED_FALSE = "E", "E: suspected to be false"


class HandlingCode(models.TextChoices):
    PERMITTED = "P", "P: lawful sharing permitted"
    CONDITIONS = "C", "C: lawful sharing permitted with conditions"


class Graded(models.Model):
    """Where a piece of information came from, when, how reliable it is and
    who recorded it: what a link carries."""

    source = models.CharField(max_length=300, help_text="Where the information came from")
    information_date = models.DateField(help_text="When the information was obtained")
    source_evaluation = models.CharField(max_length=1, choices=SourceEvaluation.choices)
    intelligence_assessment = models.CharField(max_length=1, choices=IntelligenceAssessment.choices)
    handling_code = models.CharField(max_length=1, choices=HandlingCode.choices, default=HandlingCode.PERMITTED)
    handling_conditions = models.CharField(max_length=300, blank=True)
    recording_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True

    @property
    def grading(self) -> str:
        """The grade as written on an intelligence report: "1 / B / P"."""
        return f"{self.source_evaluation} / {self.intelligence_assessment} / {self.handling_code}"


def _grading_constraints(prefix: str) -> list:
    return [
        models.CheckConstraint(condition=Q(source_evaluation__in=SourceEvaluation.values),
                               name=f"{prefix}_source_evaluation_valid"),
        models.CheckConstraint(condition=Q(intelligence_assessment__in=IntelligenceAssessment.values),
                               name=f"{prefix}_assessment_valid"),
        models.CheckConstraint(condition=Q(handling_code__in=HandlingCode.values), name=f"{prefix}_handling_valid"),
        models.CheckConstraint(condition=~Q(handling_code="C") | ~Q(handling_conditions=""),
                               name=f"{prefix}_conditions_stated"),
    ]


@pghistory.track()
class ContextLink(Graded):
    """A case linked to a context. Whoever may not see the case sees that a
    link exists (a count), never whose case it is."""

    context = models.ForeignKey(Context, on_delete=models.PROTECT, related_name="links")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="context_links")

    class Meta:
        ordering = ["-information_date", "-pk"]
        constraints = _grading_constraints("context_link")
        indexes = [
            models.Index(fields=["context", "case"], name="context_link_by_context"),
            models.Index(fields=["case"], name="context_link_by_case"),
        ]

    def __str__(self) -> str:
        return f"Case {self.case_id} linked to context {self.context_id}"


class PeerRelationship(models.TextChoices):
    SIBLING = "sibling", "Siblings"
    ASSOCIATE = "associate", "Associates"
    RELATIONSHIP = "relationship", "In a relationship"
    VICTIM_SUSPECT = "victim_suspect", "Victim and suspect of the same incident"
    OTHER = "other", "Other"


@pghistory.track()
class PeerLink(Graded):
    """Two young people linked through their cases, with the same rules as a
    context link: each end shows only to those who may see its case.
    Stored once per pair, the lower case id first."""

    case_a = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="peer_links_a")
    case_b = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="peer_links_b")
    relationship = models.CharField(max_length=16, choices=PeerRelationship.choices)

    class Meta:
        ordering = ["-information_date", "-pk"]
        constraints = [
            *_grading_constraints("peer_link"),
            models.CheckConstraint(condition=Q(case_a__lt=F("case_b")), name="peer_link_ordered_pair"),
            models.CheckConstraint(condition=Q(relationship__in=PeerRelationship.values),
                                   name="peer_link_relationship_valid"),
            models.UniqueConstraint(fields=["case_a", "case_b", "relationship"], name="peer_link_once"),
        ]
        indexes = [models.Index(fields=["case_b"], name="peer_link_by_second_case")]

    def __str__(self) -> str:
        return f"Cases {self.case_a_id} and {self.case_b_id}: {self.relationship}"


class ContextInterventionKind(models.TextChoices):
    DETACHED_YOUTH_WORK = "detached_youth_work", "Detached youth work"
    LIGHTING = "lighting", "Lighting or environmental changes"
    LICENSING = "licensing", "Licensing action"
    PATROLS = "patrols", "Police patrols"
    SCHOOL_RESPONSE = "school_response", "A school's response"
    DISRUPTION = "disruption", "Disruption of a person of concern"
    ONLINE_REPORTING = "online_reporting", "Reporting to an online platform"
    OTHER = "other", "Other"


class ContextInterventionStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    STOPPED = "stopped", "Stopped"


@pghistory.track()
class ContextIntervention(models.Model):
    """Work aimed at a place or group itself, with the agency that owns it."""

    context = models.ForeignKey(Context, on_delete=models.PROTECT, related_name="interventions")
    kind = models.CharField(max_length=24, choices=ContextInterventionKind.choices)
    description = models.TextField()
    owner_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    status = models.CharField(max_length=12, choices=ContextInterventionStatus.choices,
                              default=ContextInterventionStatus.PLANNED)
    started_on = models.DateField(null=True, blank=True)
    ended_on = models.DateField(null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=ContextInterventionKind.values),
                                   name="context_intervention_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=ContextInterventionStatus.values),
                                   name="context_intervention_status_valid"),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(started_on__isnull=True) | Q(ended_on__gte=F("started_on")),
                name="context_intervention_ends_after_start",
            ),
        ]


class ContextNote(models.Model):
    """An entry in a context's chronology. Append-only in the database: a
    correction is a new entry pointing at the one it corrects."""

    context = models.ForeignKey(Context, on_delete=models.PROTECT, related_name="notes")
    occurred_at = models.DateTimeField()
    kind = models.CharField(max_length=16, choices=NoteKind.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    corrects = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=NoteKind.values), name="context_note_kind_valid"),
            models.CheckConstraint(condition=Q(occurred_at__lte=F("recorded_at")), name="context_note_not_in_future"),
        ]
        indexes = [models.Index(fields=["context", "-occurred_at"], name="context_note_latest")]
        triggers = [
            pgtrigger.Protect(name="context_note_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]


# ===========================================================================
# Panels (multi-agency child exploitation meetings)
# ===========================================================================

# What every attendee accepts before the papers open. Versioned: an
# acceptance names the version it accepted.
CONFIDENTIALITY_VERSION = 1
CONFIDENTIALITY_STATEMENT = (
    "The information in this panel's papers and discussion is shared for the purpose of safeguarding children "
    "and young people at risk of exploitation and serious violence. I will keep it confidential: I will not "
    "copy, forward or discuss it outside this panel except with the people in my agency who need it to protect "
    "a child, under our information-sharing agreement. I will record in my agency's systems only what my agency "
    "needs. I understand that every opening of these papers is recorded."
)


@pghistory.track()
class Panel(models.Model):
    """One meeting of a partnership's panel."""

    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="panels")
    title = models.CharField(max_length=200)
    meets_at = models.DateTimeField()
    location = models.CharField(max_length=200, blank=True)
    convening_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    chair = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    held_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-meets_at", "-pk"]
        indexes = [
            # "The next panel" of a partnership: the earliest not yet held.
            models.Index(fields=["partnership", "meets_at"], condition=Q(held_at__isnull=True),
                         name="panel_upcoming"),
        ]

    def __str__(self) -> str:
        return f"{self.title}, {timezone.localtime(self.meets_at):%-d %B %Y}"

    @property
    def is_held(self) -> bool:
        return self.held_at is not None


class PanelAttendee(models.Model):
    """A person invited to a panel for their agency; the papers open to them
    once they have accepted the confidentiality statement."""

    panel = models.ForeignKey(Panel, on_delete=models.PROTECT, related_name="attendees")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(default=timezone.now)
    confidentiality_accepted_at = models.DateTimeField(null=True, blank=True)
    confidentiality_version = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["agency__name", "user__last_name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["panel", "user"], name="panel_attendee_once"),
            models.CheckConstraint(
                condition=Q(confidentiality_accepted_at__isnull=True, confidentiality_version__isnull=True)
                | Q(confidentiality_accepted_at__isnull=False, confidentiality_version__isnull=False),
                name="panel_attendee_acceptance_whole",
            ),
        ]
        indexes = [models.Index(fields=["user", "panel"], name="panel_attendee_by_user")]


class ActionStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


OUTSTANDING_ACTION_STATUSES = (ActionStatus.OPEN, ActionStatus.IN_PROGRESS)


class PanelAgendaItem(models.Model):
    """One thing a panel looks at: a case, a context, or an action of an
    earlier panel that went past its due date (carried forward by itself)."""

    panel = models.ForeignKey(Panel, on_delete=models.PROTECT, related_name="agenda")
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    context = models.ForeignKey(Context, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    carried_action = models.ForeignKey("PanelAction", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="carried_to")
    reason = models.CharField(max_length=500, blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["added_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(case__isnull=False, context__isnull=True, carried_action__isnull=True)
                | Q(case__isnull=True, context__isnull=False, carried_action__isnull=True)
                | Q(case__isnull=True, context__isnull=True, carried_action__isnull=False),
                name="panel_item_one_subject",
            ),
            models.UniqueConstraint(fields=["panel", "case"], name="panel_item_case_once"),
            models.UniqueConstraint(fields=["panel", "context"], name="panel_item_context_once"),
            models.UniqueConstraint(fields=["panel", "carried_action"], name="panel_item_action_once"),
        ]


@pghistory.track()
class PanelAction(models.Model):
    """What the panel asked an agency to do, by when, and how it stands."""

    panel = models.ForeignKey(Panel, on_delete=models.PROTECT, related_name="actions")
    item = models.ForeignKey(PanelAgendaItem, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="actions")
    description = models.TextField()
    owner_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="panel_actions")
    due_on = models.DateField()
    status = models.CharField(max_length=12, choices=ActionStatus.choices, default=ActionStatus.OPEN)
    update = models.TextField(blank=True, help_text="The owner's latest word on it")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_on", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ActionStatus.values), name="panel_action_status_valid"),
        ]
        indexes = [
            models.Index(fields=["owner", "due_on"], condition=Q(status__in=["open", "in_progress"]),
                         name="panel_action_outstanding"),
        ]

    def __str__(self) -> str:
        return self.description[:60]

    @property
    def is_outstanding(self) -> bool:
        return self.status in OUTSTANDING_ACTION_STATUSES


class MinuteKind(models.TextChoices):
    DISCUSSION = "discussion", "Discussion"
    DECISION = "decision", "Decision"
    ATTENDANCE = "attendance", "Attendance and apologies"
    OTHER = "other", "Other"


class PanelMinute(models.Model):
    """An entry in a panel's minutes. Append-only in the database: a
    correction is a new entry pointing at the one it corrects. A minute on
    a case's agenda item shows only to those who may see the case."""

    panel = models.ForeignKey(Panel, on_delete=models.PROTECT, related_name="minutes")
    item = models.ForeignKey(PanelAgendaItem, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="minutes")
    kind = models.CharField(max_length=12, choices=MinuteKind.choices)
    text = models.TextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    corrects = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["recorded_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=MinuteKind.values), name="panel_minute_kind_valid"),
        ]
        triggers = [
            pgtrigger.Protect(name="panel_minute_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]
