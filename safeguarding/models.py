"""The protection of the data: sharing, per-object permissions and the access log."""

from __future__ import annotations

import pghistory
import pgtrigger
from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from agencies.models import Agency, InformationSharingAgreement
from referrals.models import Case, Consent, LawfulBasis, YoungPerson


class CaseGroupObjectPermission(GroupObjectPermissionBase):
    """django-guardian's direct foreign-key table: agency group → case."""

    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        abstract = False


class CaseUserObjectPermission(UserObjectPermissionBase):
    """Present so guardian never falls back to its generic table for cases.
    Crossroads grants to agency groups only; this table stays empty."""

    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        abstract = False


class SpecialCategoryCondition(models.TextChoices):
    """UK GDPR Article 9 / DPA 2018 Schedule 1 conditions for special category data."""

    NONE = "", "No special category data shared"
    SAFEGUARDING = "safeguarding", "Schedule 1 para 18: safeguarding of children and individuals at risk"
    HEALTH_SOCIAL_CARE = "health_social_care", "Article 9(2)(h): health or social care"
    SUBSTANTIAL_PUBLIC_INTEREST = "public_interest", "Schedule 1 para 6: statutory and government purposes"
    VITAL_INTERESTS = "vital_interests", "Article 9(2)(c): vital interests"
    EXPLICIT_CONSENT = "explicit_consent", "Article 9(2)(a): explicit consent"


@pghistory.track()
class ShareGrant(models.Model):
    """An agency's access to a case it does not lead, for a purpose, until a date."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="share_grants")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="share_grants")
    purpose = models.TextField()
    lawful_basis = models.CharField(max_length=32, choices=LawfulBasis.choices)
    special_category_condition = models.CharField(
        max_length=32, choices=SpecialCategoryCondition.choices, blank=True,
    )
    agreement = models.ForeignKey(
        InformationSharingAgreement, null=True, blank=True, on_delete=models.PROTECT, related_name="grants",
    )
    emergency_basis = models.TextField(
        blank=True, help_text="Why sharing could not wait for an agreement (recorded emergency)",
    )
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    granted_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
    )
    revoke_reason = models.TextField(blank=True)
    permissions_removed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the permission rows were removed after expiry or revocation",
    )
    # Granted to an agency that does not work in the case's partnership,
    # under a cross-border agreement: the one way (with a transfer) that a
    # case is seen from another partnership, row-level security included.
    cross_border = models.BooleanField(default=False, db_default=False)

    class Meta:
        ordering = ["-granted_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(agreement__isnull=False) | ~Q(emergency_basis=""),
                name="share_grant_needs_agreement_or_emergency",
            ),
            # Across a border only under an agreement, never on an emergency basis alone.
            models.CheckConstraint(
                condition=Q(cross_border=False) | Q(agreement__isnull=False), name="share_grant_cross_border_agreement",
            ),
            models.CheckConstraint(condition=Q(expires_at__gt=models.F("granted_at")), name="share_grant_expires_later"),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | Q(revoked_by__isnull=False),
                name="share_grant_revocation_has_actor",
            ),
        ]
        indexes = [
            models.Index(fields=["agency", "case"], condition=Q(revoked_at__isnull=True), name="share_grant_unrevoked"),
            # Row-level security asks, on every query of a case, which cases
            # the acting agency holds across a border: a short range here.
            models.Index(
                fields=["agency", "expires_at"], include=["case"], condition=Q(cross_border=True, revoked_at__isnull=True),
                name="share_grant_cross_border",
            ),
            models.Index(fields=["expires_at"], condition=Q(revoked_at__isnull=True), name="share_grant_expiry"),
            # The expiry task's sweep: grants whose permission rows are still to be removed.
            models.Index(
                fields=["expires_at"], condition=Q(permissions_removed_at__isnull=True), name="share_grant_untidied",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case} shared with {self.agency}"

    def is_active(self, at=None) -> bool:
        at = at or timezone.now()
        return self.revoked_at is None and self.expires_at > at


class SharingOutcome(models.TextChoices):
    SHARED = "shared", "Shared"
    NOT_SHARED = "not_shared", "Not shared"


class SharingDecision(models.Model):
    """Every decision to share or not to share, with its reasons. Append-only."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="sharing_decisions")
    recipient = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(max_length=16, choices=SharingOutcome.choices)
    purpose = models.TextField()
    lawful_basis = models.CharField(max_length=32, choices=LawfulBasis.choices, blank=True)
    special_category_condition = models.CharField(
        max_length=32, choices=SpecialCategoryCondition.choices, blank=True,
    )
    agreement = models.ForeignKey(
        InformationSharingAgreement, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
    )
    emergency_basis = models.TextField(blank=True)
    consent_sought = models.BooleanField()
    consent_reason = models.TextField(help_text="Why consent was or was not sought")
    reason = models.TextField(help_text="The reason for the decision")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(default=timezone.now)
    grant = models.OneToOneField(ShareGrant, null=True, blank=True, on_delete=models.PROTECT, related_name="decision")

    class Meta:
        ordering = ["-decided_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome__in=SharingOutcome.values), name="sharing_decision_outcome_valid",
            ),
            models.CheckConstraint(
                condition=~Q(outcome="shared") | (Q(grant__isnull=False) & ~Q(lawful_basis="")),
                name="sharing_decision_shared_has_grant",
            ),
        ]
        triggers = [
            pgtrigger.Protect(name="sharing_decision_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]


class Channel(models.TextChoices):
    WEB = "web", "Web"
    API = "api", "API"
    ADMIN = "admin", "Admin"
    EXPORT = "export", "Export"
    TASK = "task", "Background task"
    COMMAND = "command", "Management command"


class AccessEvent(models.Model):
    """One read or change of case data. Append-only in the database.

    The actor is kept by id and by name, without a foreign-key constraint, so
    the row outlives the user or agency it names.
    """

    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING,
        db_constraint=False, related_name="+",
    )
    username = models.CharField(max_length=150, blank=True)
    agency = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+",
    )
    agency_name = models.CharField(max_length=200, blank=True)
    api_client = models.CharField(max_length=100, blank=True)
    action = models.CharField(max_length=40)
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=40, blank=True)
    case_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    young_person_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    # Why the actor could reach the object at that moment (lead agency, a
    # share grant and its agreement, the referring agency, hub screening...),
    # written with the row: the log is append-only, and the grants change.
    basis = models.CharField(max_length=300, blank=True)
    # Read or changed under a break-glass opening (issue 18): marked on the
    # row itself, so the DPO can pick out every such row.
    break_glass = models.BooleanField(default=False, db_default=False)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            # "Who has seen this case" finds the list and export rows whose
            # page held it (``detail @> {"ids": [case]}``): every caseload
            # page writes one, so without this the search reads the whole log.
            GinIndex(
                fields=["detail"], opclasses=["jsonb_path_ops"], name="access_event_listed_cases",
                condition=Q(object_type="case", case_id__isnull=True),
            ),
        ]
        triggers = [
            pgtrigger.Protect(name="access_event_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.username or self.api_client} {self.action} {self.object_type} {self.object_id}"


class CaseloadSize(models.Model):
    """How many rows of the caseload index (``CaseAccess``) each agency has.

    Derived data, kept by statement-level triggers on the index itself
    (migration ``0007_caseload_size``), in the same transaction as every row
    the index gains or loses, whatever wrote it; ``rebuild_case_access_index``
    recounts it. Less the agency's rows whose share has ended but not yet
    been tidied away (a short range of one index), it is the caseload's
    total, without counting tens of thousands of index entries on every
    page (``access.caseload_count``).
    """

    agency = models.OneToOneField(Agency, primary_key=True, on_delete=models.CASCADE, related_name="+")
    rows = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.agency_id}: {self.rows} rows"


class RetentionRun(models.Model):
    """One run of the retention task: when, and how many closed cases it
    anonymised. ``detail`` holds case ids and counts, never personal data."""

    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    cases_anonymised = models.PositiveIntegerField(default=0)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Retention run {self.started_at:%Y-%m-%d %H:%M}: {self.cases_anonymised} cases"


def subject_access_due_on(received_on):
    """One calendar month after receipt (UK GDPR Article 12(3)): the same day
    of the next month, or its last day when that month is shorter (31 January
    gives 28 or 29 February)."""
    return received_on + relativedelta(months=1)


class SubjectAccessRequest(models.Model):
    """A young person's (or their representative's) request for everything
    held about them, answered by the data-protection officer within one
    calendar month of receipt."""

    young_person = models.ForeignKey(YoungPerson, on_delete=models.PROTECT, related_name="subject_access_requests")
    received_on = models.DateField()
    due_on = models.DateField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    notes = models.TextField(blank=True)
    exported_at = models.DateTimeField(null=True, blank=True, help_text="When the export was last made")
    completed_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["completed_on", "due_on", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(due_on__gt=models.F("received_on")), name="sar_due_after_receipt"),
            models.CheckConstraint(
                condition=Q(completed_on__isnull=True) | Q(completed_on__gte=models.F("received_on")),
                name="sar_completed_after_receipt",
            ),
        ]

    def __str__(self) -> str:
        return f"Subject access request #{self.pk}"


class CaseRelation(models.TextChoices):
    LEAD = "lead", "Lead agency"
    SHARED = "shared", "Active share"


class CaseAccess(models.Model):
    """The caseload index: one row for each agency that may see a case, with
    the caseload's sort keys copied from the case.

    Derived data, never edited by hand: database triggers on the case and
    share-grant tables rewrite a case's rows in the same transaction as every
    change to who sees it or to its sort keys, whatever path wrote
    (``safeguarding.caseload_index``, which also rebuilds it in one statement
    after a bulk load). It answers "this agency's cases, in order, and how
    many" from one index; ``access.may`` still decides every case. A share's
    row keeps its expiry in ``valid_until`` and every read filters on it, so
    expiry takes access away at once, before the expiry task has tidied the
    grant; a revoked grant's row goes with the revocation. The lead agency's
    row has no end (null).
    """

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="+", db_index=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="access_index")
    relation = models.CharField(max_length=8, choices=CaseRelation.choices)
    valid_until = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=8)
    next_review_due = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            # One row per agency and case; also the API's order (newest case
            # first) and the count, answered from the index alone.
            models.UniqueConstraint(
                fields=["agency", "case"], include=["status", "valid_until"], name="case_access_agency_case",
            ),
            models.CheckConstraint(
                condition=Q(relation="lead", valid_until__isnull=True)
                | Q(relation="shared", valid_until__isnull=False),
                name="case_access_lead_has_no_end",
            ),
        ]
        indexes = [
            # The web caseload: open cases, soonest review first.
            models.Index(
                fields=["agency", "status", "next_review_due", "case"], include=["valid_until"],
                name="case_access_caseload",
            ),
            # The caseload's total: an agency's live rows (no end, or an end
            # still ahead) are two ranges of this narrow index, counted from
            # the index alone (4 ms for 75,000 rows; 11 ms through the wider
            # unique index).
            models.Index(fields=["agency", "valid_until"], name="case_access_live"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} visible to {self.agency_id} ({self.relation})"


# ===========================================================================
# Redaction (issue 18): passages withheld from agencies.
#
# A withheld passage leaves the record's own field: the service
# (``safeguarding.redaction.passage_withhold``) moves the words into a
# ``WithheldPassage`` row and puts a token (``⟦withheld:<id>⟧``) in their
# place, in the field and in its change history. A read that forgets
# redaction therefore shows the token, never the words; only
# ``redaction.shown`` puts words or a marker back, for one agency at a time.
# ===========================================================================


class WithholdingCategory(models.TextChoices):
    WITNESS = "witness", "Third party: witness"
    THIRD_PARTY = "third_party", "Third party: another person named"
    VICTIM_ADDRESS = "victim_address", "Victim's address"
    HEALTH = "health", "Health detail"
    INTELLIGENCE = "intelligence", "Police intelligence"
    OTHER = "other", "Other"


# Information about someone other than the young person: protected by
# default in every share and always left out of a subject-access export.
THIRD_PARTY_CATEGORIES = frozenset({
    WithholdingCategory.WITNESS, WithholdingCategory.THIRD_PARTY, WithholdingCategory.VICTIM_ADDRESS,
})


class WithheldFrom(models.TextChoices):
    NAMED = "named", "The agencies I name"
    ALL_BUT_AUTHOR = "all_but_author", "Every agency but mine"


class RecordField(models.TextChoices):
    """The free-text fields that may hold a withheld passage."""

    NOTE_TEXT = "note.text", "Chronology entry"
    REFERRAL_ACCOUNT = "referral.account", "Referral: what happened"
    INTERVENTION_GOALS = "intervention.goals", "Intervention: goals"
    INTERVENTION_OUTCOME = "intervention.outcome", "Intervention: outcome"


class WithheldPassage(models.Model):
    """Words taken out of one field of one record, withheld from some
    agencies. The record's field holds ``token`` where the words were."""

    partnership = models.ForeignKey(
        "agencies.Partnership", on_delete=models.PROTECT, related_name="+",
    )
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.PROTECT, related_name="withheld_passages")
    note = models.ForeignKey(
        "referrals.CaseNote", null=True, blank=True, on_delete=models.PROTECT, related_name="withheld_passages",
    )
    referral = models.ForeignKey(
        "referrals.Referral", null=True, blank=True, on_delete=models.PROTECT, related_name="withheld_passages",
    )
    intervention = models.ForeignKey(
        "referrals.Intervention", null=True, blank=True, on_delete=models.PROTECT, related_name="withheld_passages",
    )
    field = models.CharField(max_length=24, choices=RecordField.choices)
    text = models.TextField(help_text="The words withheld")
    category = models.CharField(max_length=16, choices=WithholdingCategory.choices)
    withheld_from = models.CharField(max_length=16, choices=WithheldFrom.choices)
    agencies = models.ManyToManyField(
        Agency, blank=True, related_name="+", db_table="safeguarding_withheldpassage_agencies",
        help_text="The agencies it is withheld from (when ``withheld_from`` is named)",
    )
    released_to = models.ManyToManyField(
        Agency, blank=True, related_name="+", db_table="safeguarding_withheldpassage_released_to",
        help_text="Agencies it is explicitly released to (third-party information is otherwise withheld)",
    )
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+", help_text="The author's agency")
    withheld_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    withheld_at = models.DateTimeField(default=timezone.now)
    ask = models.CharField(max_length=120, help_text="Whom to ask for it")
    reason = models.TextField(blank=True)
    release_reason = models.TextField(
        blank=True, help_text="Why it was last released to more agencies (every release is in the access log)",
    )

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(field="note.text", note__isnull=False, referral__isnull=True, intervention__isnull=True)
                    | Q(field="referral.account", note__isnull=True, referral__isnull=False, intervention__isnull=True)
                    | Q(field__in=["intervention.goals", "intervention.outcome"], note__isnull=True,
                        referral__isnull=True, intervention__isnull=False)
                ),
                name="withheld_passage_one_record",
            ),
            models.CheckConstraint(condition=Q(category__in=WithholdingCategory.values), name="withheld_passage_category_valid"),
            models.CheckConstraint(condition=Q(withheld_from__in=WithheldFrom.values), name="withheld_passage_from_valid"),
            models.CheckConstraint(condition=~Q(text=""), name="withheld_passage_not_empty"),
        ]
        triggers = [
            # The words stay until the record is anonymised (retention).
            pgtrigger.Protect(name="withheld_passage_kept", operation=pgtrigger.Delete),
        ]

    @property
    def token(self) -> str:
        return f"⟦withheld:{self.pk}⟧"

    @property
    def is_third_party(self) -> bool:
        return self.category in THIRD_PARTY_CATEGORIES

    def __str__(self) -> str:
        return f"Passage {self.pk} of {self.field} withheld by {self.agency_id}"


# ===========================================================================
# Consent (issue 18): who agreed to the sharing, or why it rests on another
# lawful basis; and its withdrawal, which ends the shares that rested on it.
# ``safeguarding.consent`` writes these; both are append-only.
# ===========================================================================


class ConsentRecord(models.Model):
    """Consent to work with and share a young person's information, as it
    was recorded: given by the young person (judged competent, at or above
    the partnership's competence age), by a parent or carer, or not sought
    (then the lawful basis relied on and why). About a case, with the
    referral it came from when there is one. Append-only: a change of
    consent is a new record, a withdrawal a ``ConsentWithdrawal``."""

    partnership = models.ForeignKey("agencies.Partnership", on_delete=models.PROTECT, related_name="+")
    young_person = models.ForeignKey(YoungPerson, on_delete=models.PROTECT, related_name="consent_records")
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.PROTECT, related_name="consent_records")
    referral = models.ForeignKey(
        "referrals.Referral", null=True, blank=True, on_delete=models.PROTECT, related_name="consent_records",
    )
    given_by = models.CharField(max_length=16, choices=Consent.choices)
    # The young person's age on the day, and that the recorder judged them
    # competent to decide (Gillick): required when they gave it themselves.
    age_when_recorded = models.PositiveSmallIntegerField(null=True, blank=True)
    judged_competent = models.BooleanField(default=False)
    competence_age = models.PositiveSmallIntegerField(help_text="The partnership's competence age in force")
    lawful_basis = models.CharField(max_length=32, choices=LawfulBasis.choices, blank=True)
    reason = models.TextField(blank=True, help_text="Why consent was not sought, or how it was given")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_by_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-recorded_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(given_by__in=Consent.values), name="consent_record_given_by_valid"),
            models.CheckConstraint(
                condition=~Q(given_by=Consent.NOT_SOUGHT) | (~Q(lawful_basis="") & ~Q(reason="")),
                name="consent_record_not_sought_needs_basis_and_reason",
            ),
            models.CheckConstraint(
                condition=~Q(given_by=Consent.YOUNG_PERSON)
                | (Q(judged_competent=True) & Q(age_when_recorded__gte=models.F("competence_age"))),
                name="consent_record_young_person_competent",
            ),
        ]
        indexes = [models.Index(fields=["case", "-recorded_at"], name="consent_record_latest")]
        triggers = [
            pgtrigger.Protect(name="consent_record_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"Consent #{self.pk} ({self.get_given_by_display()})"

    @property
    def withdrawn(self):
        """Its ``ConsentWithdrawal``, or None."""
        return getattr(self, "withdrawal", None)


class ConsentWithdrawal(models.Model):
    """The withdrawal of a consent: when, who recorded it, and which share
    grants it ended (those resting on consent alone). Append-only; at most
    one per consent."""

    partnership = models.ForeignKey("agencies.Partnership", on_delete=models.PROTECT, related_name="+")
    consent = models.OneToOneField(ConsentRecord, on_delete=models.PROTECT, related_name="withdrawal")
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    withdrawn_by = models.CharField(
        max_length=16, choices=[c for c in Consent.choices if c[0] != Consent.NOT_SOUGHT],
        help_text="Who withdrew it: the young person or a parent or carer",
    )
    reason = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_by_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    ended_grants = models.ManyToManyField(ShareGrant, blank=True, related_name="+")

    class Meta:
        ordering = ["-recorded_at", "-id"]
        triggers = [
            pgtrigger.Protect(name="consent_withdrawal_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"Withdrawal of consent #{self.consent_id}"


# ===========================================================================
# Break-glass (issue 18): a person opens a case outside their access in an
# emergency, with a reason, for the partnership's break-glass hours; every
# opening waits in a review queue for a manager of the opener's agency.
# ``safeguarding.break_glass`` writes these.
# ===========================================================================


class BreakGlassAccess(models.Model):
    """One emergency opening of one case by one person. Only that person,
    only through the pages, only to read, only until ``expires_at``; a new
    opening needs a new reason. Append-only (the review is its own row)."""

    partnership = models.ForeignKey("agencies.Partnership", on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="break_glass_openings")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    opened_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(expires_at__gt=models.F("opened_at")), name="break_glass_expires_later"),
            models.CheckConstraint(condition=~Q(reason=""), name="break_glass_has_reason"),
        ]
        indexes = [models.Index(fields=["user", "case", "expires_at"], name="break_glass_live")]
        triggers = [
            pgtrigger.Protect(name="break_glass_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"Break-glass #{self.pk} on {self.case_id}"

    def is_active(self, at=None) -> bool:
        return self.expires_at > (at or timezone.now())


class BreakGlassOutcome(models.TextChoices):
    SIGNED_OFF = "signed_off", "Signed off: the opening was justified"
    ESCALATED = "escalated", "Escalated to the data-protection officer"


class BreakGlassReview(models.Model):
    """A manager's review of one break-glass opening. One per opening (the
    queue is the openings without one). Append-only."""

    partnership = models.ForeignKey("agencies.Partnership", on_delete=models.PROTECT, related_name="+")
    opening = models.OneToOneField(BreakGlassAccess, on_delete=models.PROTECT, related_name="review")
    outcome = models.CharField(max_length=16, choices=BreakGlassOutcome.choices)
    note = models.TextField()
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(outcome__in=BreakGlassOutcome.values), name="break_glass_outcome_valid"),
        ]
        triggers = [
            pgtrigger.Protect(name="break_glass_review_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]
