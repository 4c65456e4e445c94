"""The casework: young people, referrals, cases and what is done on them.

The rules that PostgreSQL can hold are kept there (check constraints, a
partial unique index, append-only triggers), so they hold for every write
path, bulk updates and raw SQL included. The workflow lives in
``casework.services``.
"""

from __future__ import annotations

import secrets

import pghistory
import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Now
from django.utils import timezone

from agencies.models import Agency, Partnership
from partnerships.models import StandardConcern

# Crockford's base32 without look-alikes: references are read over the phone.
_REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_reference(prefix: str) -> str:
    body = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))
    return f"{prefix}-{body[:4]}-{body[4:]}"


def new_referral_reference() -> str:
    return new_reference("R")


def new_case_reference() -> str:
    return new_reference("C")


class Gender(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    NON_BINARY = "non_binary", "Non-binary"
    OTHER = "other", "Other"
    NOT_KNOWN = "not_known", "Not known"


class Ethnicity(models.TextChoices):
    """The Office for National Statistics' 2021 census categories (England and Wales)."""

    ASIAN_BANGLADESHI = "asian_bangladeshi", "Asian or Asian British: Bangladeshi"
    ASIAN_CHINESE = "asian_chinese", "Asian or Asian British: Chinese"
    ASIAN_INDIAN = "asian_indian", "Asian or Asian British: Indian"
    ASIAN_PAKISTANI = "asian_pakistani", "Asian or Asian British: Pakistani"
    ASIAN_OTHER = "asian_other", "Asian or Asian British: any other Asian background"
    BLACK_AFRICAN = "black_african", "Black, Black British, Caribbean or African: African"
    BLACK_CARIBBEAN = "black_caribbean", "Black, Black British, Caribbean or African: Caribbean"
    BLACK_OTHER = "black_other", "Black, Black British, Caribbean or African: any other Black background"
    MIXED_WHITE_ASIAN = "mixed_white_asian", "Mixed or multiple ethnic groups: White and Asian"
    MIXED_WHITE_BLACK_AFRICAN = "mixed_white_black_african", "Mixed or multiple ethnic groups: White and Black African"
    MIXED_WHITE_BLACK_CARIBBEAN = "mixed_white_black_caribbean", "Mixed or multiple ethnic groups: White and Black Caribbean"
    MIXED_OTHER = "mixed_other", "Mixed or multiple ethnic groups: any other mixed background"
    WHITE_BRITISH = "white_british", "White: English, Welsh, Scottish, Northern Irish or British"
    WHITE_IRISH = "white_irish", "White: Irish"
    WHITE_GYPSY_TRAVELLER = "white_gypsy_traveller", "White: Gypsy or Irish Traveller"
    WHITE_ROMA = "white_roma", "White: Roma"
    WHITE_OTHER = "white_other", "White: any other White background"
    OTHER_ARAB = "other_arab", "Other ethnic group: Arab"
    OTHER_ANY = "other_any", "Other ethnic group: any other ethnic group"
    NOT_STATED = "not_stated", "Not stated"


# The codes and names every partnership's concern vocabulary starts with. A
# referral stores codes of its own partnership's vocabulary
# (``partnerships.models.Concern``), which adds to, renames and retires these.
Concern = StandardConcern


class RiskLevel(models.TextChoices):
    """Red, amber, green: the rating partners already use."""

    GREEN = "green", "Green (low)"
    AMBER = "amber", "Amber (medium)"
    RED = "red", "Red (high)"


class Consent(models.TextChoices):
    YOUNG_PERSON = "young_person", "Given by the young person"
    PARENT_CARER = "parent_carer", "Given by a parent or carer"
    NOT_SOUGHT = "not_sought", "Not sought"


class LawfulBasis(models.TextChoices):
    """UK GDPR Article 6 bases used for safeguarding, and the DPA 2018 conditions."""

    CONSENT = "consent", "Consent (Article 6(1)(a))"
    LEGAL_OBLIGATION = "legal_obligation", "Legal obligation (Article 6(1)(c))"
    VITAL_INTERESTS = "vital_interests", "Vital interests (Article 6(1)(d))"
    PUBLIC_TASK = "public_task", "Public task (Article 6(1)(e))"
    SAFEGUARDING_CHILDREN = (
        "safeguarding_children",
        "Public task with DPA 2018 Schedule 1 para 18: safeguarding of children and individuals at risk",
    )
    PREVENTING_CRIME = (
        "preventing_crime",
        "Public task with DPA 2018 Schedule 1 para 10: preventing or detecting unlawful acts",
    )


class ReferralStatus(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    SCREENING = "screening", "Screening"
    ACCEPTED = "accepted", "Accepted"
    SIGNPOSTED = "signposted", "Signposted"
    NO_FURTHER_ACTION = "no_further_action", "No further action"
    WITHDRAWN = "withdrawn", "Withdrawn"


OPEN_REFERRAL_STATUSES = (ReferralStatus.SUBMITTED, ReferralStatus.SCREENING)


@pghistory.track()
class YoungPerson(models.Model):
    # The partnership whose record this is: its data boundary.
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="young_people")
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField()
    gender = models.CharField(max_length=16, choices=Gender.choices, default=Gender.NOT_KNOWN)
    ethnicity = models.CharField(max_length=40, choices=Ethnicity.choices, default=Ethnicity.NOT_STATED)
    postcode = models.CharField(max_length=10, blank=True)
    ward = models.CharField(max_length=100, blank=True)
    school = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="pupils",
        limit_choices_to={"kind": "school"},
    )
    unique_pupil_number = models.CharField(max_length=13, blank=True)
    nhs_number = models.CharField(max_length=10, blank=True)
    police_reference = models.CharField(max_length=40, blank=True)
    recorded_by = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="young_people_recorded")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    anonymised_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "young people"
        constraints = [
            models.CheckConstraint(condition=Q(date_of_birth__lte=Now()), name="young_person_born_in_past"),
            models.CheckConstraint(condition=Q(gender__in=Gender.values), name="young_person_gender_valid"),
            models.CheckConstraint(condition=Q(ethnicity__in=Ethnicity.values), name="young_person_ethnicity_valid"),
            # One record per person in a partnership: a young person who moved
            # has a record in each borough they were known in.
            models.UniqueConstraint(
                fields=["partnership", "unique_pupil_number"], condition=~Q(unique_pupil_number=""),
                name="young_person_upn_unique",
            ),
            models.UniqueConstraint(
                fields=["partnership", "nhs_number"], condition=~Q(nhs_number=""),
                name="young_person_nhs_number_unique",
            ),
        ]
        indexes = [models.Index(fields=["family_name", "date_of_birth"])]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return young_person_name(self.given_name, self.family_name, self.preferred_name, self.anonymised_at)


def young_person_name(given_name: str, family_name: str, preferred_name: str, anonymised_at) -> str:
    """How a young person is named on every page (``YoungPerson.display_name``;
    also for lists read as plain values)."""
    if anonymised_at:
        return "Anonymised record"
    preferred = f" ({preferred_name})" if preferred_name else ""
    return f"{given_name} {family_name}{preferred}"


@pghistory.track()
class Referral(models.Model):
    reference = models.CharField(max_length=20, unique=True, default=new_referral_reference, editable=False)
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="referrals")
    young_person = models.ForeignKey(YoungPerson, on_delete=models.PROTECT, related_name="referrals")
    referring_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="referrals_made")
    referred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="referrals_made",
    )
    partner_reference = models.CharField(
        max_length=100, blank=True, help_text="The referring partner system's own reference",
    )
    received_at = models.DateTimeField(default=timezone.now)
    # Codes of the partnership's vocabulary: a database trigger refuses any
    # code the partnership does not know (migration 0009).
    concerns = ArrayField(models.CharField(max_length=32))
    concerns_other = models.CharField(max_length=200, blank=True)
    # The signs the referrer ticked (``partnerships.Indicator`` ids), each of
    # one of the referral's concerns (the same trigger holds it). They inform
    # the referrer's risk rating; nothing sets the rating from them.
    indicators = ArrayField(
        models.BigIntegerField(), default=list, blank=True,
        # Rows written without Django (COPY, raw SQL) start with none too.
        db_default=Value([], output_field=ArrayField(models.BigIntegerField())),
    )
    risk_level = models.CharField(max_length=8, choices=RiskLevel.choices)
    account = models.TextField(help_text="What happened, in the referrer's words")
    consent = models.CharField(max_length=16, choices=Consent.choices)
    lawful_basis = models.CharField(max_length=32, choices=LawfulBasis.choices, blank=True)
    consent_reason = models.TextField(blank=True, help_text="Why consent was not sought")
    status = models.CharField(max_length=20, choices=ReferralStatus.choices, default=ReferralStatus.SUBMITTED)
    decision_due_at = models.DateTimeField()
    # When the hub is alerted about the decision: the partnership's lead time
    # before the deadline under the rules in force when the referral was
    # received (``referrals.deadlines.alert_at``), stored so that a later
    # change of the rules moves no alert. Empty: at the deadline itself.
    alert_at = models.DateTimeField(null=True, blank=True)
    screener = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="referrals_screened",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="referrals_decided",
    )
    decision_reason = models.TextField(blank=True)
    signposted_to = models.CharField(max_length=200, blank=True)
    case = models.ForeignKey("Case", null=True, blank=True, on_delete=models.PROTECT, related_name="referrals")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.CheckConstraint(condition=Q(risk_level__in=RiskLevel.values), name="referral_risk_valid"),
            models.CheckConstraint(condition=Q(status__in=ReferralStatus.values), name="referral_status_valid"),
            models.CheckConstraint(condition=Q(consent__in=Consent.values), name="referral_consent_valid"),
            models.CheckConstraint(condition=Q(concerns__len__gt=0), name="referral_has_concerns"),
            models.CheckConstraint(
                condition=~Q(consent=Consent.NOT_SOUGHT) | (~Q(lawful_basis="") & ~Q(consent_reason="")),
                name="referral_no_consent_needs_basis_and_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status=ReferralStatus.ACCEPTED) | Q(case__isnull=False),
                name="referral_accepted_has_case",
            ),
            models.CheckConstraint(
                condition=Q(status__in=OPEN_REFERRAL_STATUSES) | Q(decided_at__isnull=False),
                name="referral_decided_has_time",
            ),
            models.CheckConstraint(
                condition=Q(decision_due_at__gte=F("received_at")), name="referral_due_after_receipt",
            ),
            models.CheckConstraint(
                condition=Q(alert_at__isnull=True) | Q(alert_at__lte=F("decision_due_at")),
                name="referral_alert_by_deadline",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "decision_due_at"]),
            # The screening sweep runs one partnership at a time.
            models.Index(fields=["partnership", "status", "decision_due_at"], name="referral_partnership_due"),
            models.Index(fields=["partnership", "status", "alert_at"], name="referral_partnership_alert"),
            models.Index(fields=["referring_agency", "-received_at"]),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_REFERRAL_STATUSES


class CaseStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class ClosureReason(models.TextChoices):
    OUTCOMES_MET = "outcomes_met", "Outcomes met"
    STEPPED_DOWN = "stepped_down", "Stepped down to universal services"
    ESCALATED = "escalated", "Escalated to statutory services"
    DISENGAGED = "disengaged", "Young person disengaged"
    MOVED_AWAY = "moved_away", "Moved out of the area"
    TRANSFERRED = "transferred", "Transferred to another partnership"
    OTHER = "other", "Other"


@pghistory.track()
class Case(models.Model):
    reference = models.CharField(max_length=20, unique=True, default=new_case_reference, editable=False)
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="cases")
    young_person = models.ForeignKey(YoungPerson, on_delete=models.PROTECT, related_name="cases")
    lead_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="cases_led")
    key_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="cases_held",
    )
    status = models.CharField(max_length=8, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
    )
    risk_level = models.CharField(max_length=8, choices=RiskLevel.choices)
    review_interval_days = models.PositiveSmallIntegerField(default=42)
    next_review_due = models.DateField(null=True, blank=True)
    closure_reason = models.CharField(max_length=20, choices=ClosureReason.choices, blank=True)
    outcome = models.TextField(blank=True)
    anonymised_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-opened_at"]
        permissions = [
            ("contribute_case", "Add chronology entries and interventions to the case"),
            ("manage_case", "Allocate, review, share and close the case"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["young_person"], condition=Q(status="open"), name="case_one_open_per_young_person",
            ),
            models.CheckConstraint(condition=Q(status__in=CaseStatus.values), name="case_status_valid"),
            models.CheckConstraint(condition=Q(risk_level__in=RiskLevel.values), name="case_risk_valid"),
            models.CheckConstraint(
                condition=(Q(status="open") & Q(closed_at__isnull=True))
                | (Q(status="closed") & Q(closed_at__isnull=False) & ~Q(closure_reason="")),
                name="case_closed_has_time_and_reason",
            ),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | Q(closed_at__gte=F("opened_at")),
                name="case_closes_after_opening",
            ),
            models.CheckConstraint(condition=Q(review_interval_days__gte=1), name="case_review_interval_positive"),
        ]
        indexes = [
            models.Index(fields=["lead_agency", "status", "next_review_due"]),
            models.Index(fields=["key_worker", "status"]),
            models.Index(fields=["status", "next_review_due"]),
            # The review sweep runs one partnership at a time.
            models.Index(fields=["partnership", "status", "next_review_due"], name="case_partnership_review_due"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status == CaseStatus.OPEN


class InterventionKind(models.TextChoices):
    MENTORING = "mentoring", "Mentoring"
    DETACHED_YOUTH_WORK = "detached_youth_work", "Detached youth work"
    DIVERSION = "diversion", "Diversion programme"
    FAMILY_SUPPORT = "family_support", "Family support"
    EDUCATION_SUPPORT = "education_support", "Education support"
    POSITIVE_ACTIVITIES = "positive_activities", "Positive activities and sport"
    NAVIGATOR = "navigator", "Hospital or custody navigator"
    THERAPEUTIC = "therapeutic", "Therapeutic support"
    SUBSTANCE_MISUSE = "substance_misuse", "Substance-misuse support"
    EMPLOYMENT_TRAINING = "employment_training", "Employment and training"
    OTHER = "other", "Other"


class InterventionStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    ENDED_EARLY = "ended_early", "Ended early"


@pghistory.track()
class Intervention(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="interventions")
    provider_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="interventions_provided")
    kind = models.CharField(max_length=32, choices=InterventionKind.choices)
    status = models.CharField(max_length=16, choices=InterventionStatus.choices, default=InterventionStatus.PLANNED)
    planned_start = models.DateField(null=True, blank=True)
    started_on = models.DateField(null=True, blank=True)
    ended_on = models.DateField(null=True, blank=True)
    goals = models.TextField()
    sessions_offered = models.PositiveIntegerField(default=0)
    sessions_attended = models.PositiveIntegerField(default=0)
    outcome = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=InterventionKind.values), name="intervention_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=InterventionStatus.values), name="intervention_status_valid"),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(started_on__isnull=True) | Q(ended_on__gte=F("started_on")),
                name="intervention_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(sessions_attended__lte=F("sessions_offered")),
                name="intervention_attended_within_offered",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["completed", "ended_early"]) | Q(ended_on__isnull=False),
                name="intervention_finished_has_end_date",
            ),
        ]


class ReviewDecision(models.TextChoices):
    CONTINUE = "continue", "Continue"
    STEP_DOWN = "step_down", "Step down"
    ESCALATE = "escalate", "Escalate to statutory services"
    CLOSE = "close", "Close"


@pghistory.track()
class Review(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="reviews")
    due_on = models.DateField()
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
    )
    risk_after = models.CharField(max_length=8, choices=RiskLevel.choices, blank=True)
    summary = models.TextField(blank=True)
    decision = models.CharField(max_length=16, choices=ReviewDecision.choices, blank=True)
    next_review_due = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-due_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(completed_at__isnull=True)
                | (~Q(decision="") & ~Q(risk_after="") & ~Q(summary="") & Q(completed_by__isnull=False)),
                name="review_completed_is_whole",
            ),
            models.CheckConstraint(
                condition=Q(decision="") | Q(decision__in=ReviewDecision.values), name="review_decision_valid",
            ),
        ]


class NoteKind(models.TextChoices):
    CONTACT = "contact", "Contact"
    INCIDENT = "incident", "Incident"
    MEETING = "meeting", "Meeting"
    INFORMATION = "information", "Information received"
    DECISION = "decision", "Decision"


class NoteVisibility(models.TextChoices):
    CASE = "case", "All agencies on the case"
    AGENCY = "agency", "My agency only"


class CaseNote(models.Model):
    """An entry in the case chronology. Append-only, in the database itself:
    a correction is a new entry that points at the one it corrects."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="notes")
    occurred_at = models.DateTimeField()
    kind = models.CharField(max_length=16, choices=NoteKind.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    visibility = models.CharField(max_length=8, choices=NoteVisibility.choices, default=NoteVisibility.CASE)
    corrects = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections",
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=NoteKind.values), name="case_note_kind_valid"),
            models.CheckConstraint(condition=Q(visibility__in=NoteVisibility.values), name="case_note_visibility_valid"),
            models.CheckConstraint(condition=Q(occurred_at__lte=F("recorded_at")), name="case_note_not_in_future"),
        ]
        indexes = [
            # A case's chronology, newest first; with what decides who may read
            # an entry, so "the latest entry this agency may read" (quiet cases,
            # reminders) is answered from the index alone.
            models.Index(fields=["case", "-occurred_at"], include=["visibility", "agency"], name="case_note_latest"),
        ]
        triggers = [
            pgtrigger.Protect(
                name="case_note_append_only",
                operation=pgtrigger.Update | pgtrigger.Delete,
            ),
        ]


# ===========================================================================
# Young-person matching and merging (issue 7)
#
# ``YoungPersonMatchKey`` rows are blocking keys for the candidate search in
# ``casework.matching``. They are written only by a database trigger on
# ``referrals_youngperson`` (migration 0002), so every write path, bulk
# ``update()`` and raw SQL included, keeps them in step. Python never writes
# them; ``casework.matching.match_keys`` mirrors the SQL for tests and the
# evaluation.
# ===========================================================================


class YoungPersonMatchKey(models.Model):
    """One blocking key of one young person: ``d<date of birth>:<name code>``
    or ``p<postcode>:<family-name code>``. Maintained by the database."""

    pk = models.CompositePrimaryKey("key", "young_person")
    key = models.CharField(max_length=80)
    # DO_NOTHING: the trigger deletes a person's keys with the person.
    young_person = models.ForeignKey(YoungPerson, on_delete=models.DO_NOTHING, related_name="+")

    def __str__(self) -> str:
        return self.key


class YoungPersonMerge(models.Model):
    """Two records found to be one young person: what moved from ``merged``
    to ``kept``, so that ``casework.linking.young_person_merge_undo`` can
    move it back. Identifier values are not copied here, only which ones
    moved (the values stay on the records themselves)."""

    kept = models.ForeignKey(YoungPerson, on_delete=models.PROTECT, related_name="merges_kept")
    merged = models.ForeignKey(YoungPerson, on_delete=models.PROTECT, related_name="merges_away")
    merged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    merged_at = models.DateTimeField(default=timezone.now)
    reason = models.TextField()
    referral_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    case_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    identifiers_moved = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
    )
    undo_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-merged_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(kept=F("merged")), name="young_person_merge_two_records"),
            models.UniqueConstraint(
                fields=["merged"], condition=Q(undone_at__isnull=True), name="young_person_merged_once",
            ),
            models.CheckConstraint(
                condition=Q(undone_at__isnull=True, undone_by__isnull=True)
                | Q(undone_at__isnull=False, undone_by__isnull=False),
                name="young_person_merge_undo_has_actor",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.merged_id} merged into {self.kept_id}"

    @property
    def is_active(self) -> bool:
        return self.undone_at is None


# ===========================================================================
# Transfers between partnerships (issue 14)
#
# A young person moves to a neighbouring borough: the lead agency proposes a
# transfer of the case to that partnership's hub, with a summary it chooses
# from the chronology. The proposal arrives there as a referral (its own
# record of the young person, the one-working-day clock); the receiving hub
# accepts it (a linked case opens there; the sending case closes, or stays
# open jointly for an agreed period) or declines it with a reason. The row
# is seen from both partnerships (row-level security admits either side);
# the two cases and the referral are not: each stays in its own.
# ===========================================================================


class TransferStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    WITHDRAWN = "withdrawn", "Withdrawn"


class TransferArrangement(models.TextChoices):
    CLOSE = "close", "Close this case when the transfer is accepted"
    JOINT = "joint", "Keep this case open jointly for an agreed period"


# A joint period longer than this is a cross-border share, not a handover.
TRANSFER_JOINT_DAYS_MAX = 90


class CaseTransfer(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="transfers_out")
    from_partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    to_partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_by_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(default=timezone.now)
    reason = models.TextField(help_text="Why the case should move: the young person's move, in brief")
    summary = models.TextField(help_text="What the receiving hub needs to know, in the proposer's words")
    # The chronology entries the proposer chose to send, copied as they read
    # (occurred_at, kind, agency, text): the receiving partnership cannot read
    # the sending case, so what crosses the border is exactly this.
    chronology = models.JSONField(default=list, blank=True)
    new_postcode = models.CharField(max_length=10, blank=True)
    consent = models.CharField(max_length=16, choices=Consent.choices)
    lawful_basis = models.CharField(max_length=32, choices=LawfulBasis.choices, blank=True)
    consent_reason = models.TextField(blank=True)
    arrangement = models.CharField(max_length=8, choices=TransferArrangement.choices)
    joint_days = models.PositiveSmallIntegerField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=TransferStatus.choices, default=TransferStatus.PROPOSED)
    # The referral it arrived as, in the receiving partnership.
    referral = models.OneToOneField(Referral, on_delete=models.PROTECT, related_name="transfer")
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
    )
    decision_reason = models.TextField(blank=True)
    new_case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.PROTECT, related_name="transfers_in",
    )
    # The last day the sending case stays open beside the new one.
    joint_until = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-proposed_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_partnership=F("to_partnership")), name="case_transfer_between_partnerships",
            ),
            models.CheckConstraint(condition=Q(status__in=TransferStatus.values), name="case_transfer_status_valid"),
            models.CheckConstraint(
                condition=(Q(arrangement=TransferArrangement.CLOSE) & Q(joint_days__isnull=True))
                | (Q(arrangement=TransferArrangement.JOINT) & Q(joint_days__gte=1)
                   & Q(joint_days__lte=TRANSFER_JOINT_DAYS_MAX)),
                name="case_transfer_arrangement_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status=TransferStatus.ACCEPTED) | Q(new_case__isnull=False, decided_at__isnull=False),
                name="case_transfer_accepted_has_case",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=[TransferStatus.DECLINED, TransferStatus.WITHDRAWN])
                | (Q(decided_at__isnull=False) & ~Q(decision_reason="")),
                name="case_transfer_ended_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(consent=Consent.NOT_SOUGHT) | (~Q(lawful_basis="") & ~Q(consent_reason="")),
                name="case_transfer_no_consent_needs_basis_and_reason",
            ),
            # One proposal at a time for a case.
            models.UniqueConstraint(
                fields=["case"], condition=Q(status=TransferStatus.PROPOSED), name="case_transfer_one_proposed",
            ),
        ]
        indexes = [
            # The sweep that ends joint periods, one partnership at a time.
            models.Index(
                fields=["from_partnership", "joint_until"],
                condition=Q(status=TransferStatus.ACCEPTED, joint_until__isnull=False),
                name="case_transfer_joint_until",
            ),
        ]

    def __str__(self) -> str:
        return f"Transfer of {self.case_id} to partnership {self.to_partnership_id}"

    @property
    def is_pending(self) -> bool:
        return self.status == TransferStatus.PROPOSED


# ===========================================================================
# Asking a neighbouring hub (issue 14): a likely record in another
# partnership is shown to a screener only as "a possible existing record in
# <partnership>"; the screener may ask that partnership's hub about it. The
# enquiry carries the least that lets the other hub search its own index
# (names and date of birth) and is seen from both partnerships, nowhere else.
# ===========================================================================


class EnquiryStatus(models.TextChoices):
    OPEN = "open", "Waiting for an answer"
    ANSWERED = "answered", "Answered"


class PartnershipEnquiry(models.Model):
    from_partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    to_partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    # The referral being screened, in the asking partnership.
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="enquiries")
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    asked_by_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    asked_at = models.DateTimeField(default=timezone.now)
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    message = models.TextField(help_text="What the asking hub needs: a share or a transfer, and why")
    status = models.CharField(max_length=10, choices=EnquiryStatus.choices, default=EnquiryStatus.OPEN)
    answer = models.TextField(blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-asked_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_partnership=F("to_partnership")), name="partnership_enquiry_between_partnerships",
            ),
            models.CheckConstraint(condition=Q(status__in=EnquiryStatus.values), name="partnership_enquiry_status_valid"),
            models.CheckConstraint(
                condition=(Q(status=EnquiryStatus.OPEN) & Q(answered_at__isnull=True))
                | (Q(status=EnquiryStatus.ANSWERED) & Q(answered_at__isnull=False) & ~Q(answer="")),
                name="partnership_enquiry_answer_when_answered",
            ),
            # One open question per referral and partnership asked.
            models.UniqueConstraint(
                fields=["referral", "to_partnership"], condition=Q(status=EnquiryStatus.OPEN),
                name="partnership_enquiry_one_open",
            ),
        ]
        indexes = [models.Index(fields=["to_partnership", "status", "-asked_at"], name="partnership_enquiry_inbox")]

    def __str__(self) -> str:
        return f"Enquiry from partnership {self.from_partnership_id} to {self.to_partnership_id}"
