"""A partnership's own rules and vocabulary, owned locally and changed
without code.

``PartnershipRules`` is one version of the partnership's time limits and
thresholds, in force over ``[effective_from, effective_until)``. Versions of
one partnership never overlap (an exclusion constraint in PostgreSQL), so
"the rules in force at time T" is always one row or none; with none, the
deployment's defaults apply (the settings read from the environment:
``partnerships.rules.deployment_defaults``). A change is a new version from a
date, never an edit of one already in force: the rules a deadline was set
under stay readable for ever, and a deadline, once set, is stored on the
referral or case it belongs to and never recomputed.
"""

from __future__ import annotations

import pghistory
import pgtrigger
from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeOperators
from django.db import models
from django.db.models import F, Func, Q
from django.db.models.functions import Lower
from django.utils import timezone

from agencies.models import Partnership

# The bounds every version must keep (and the forms say): a time limit of zero
# is no limit, and one beyond a year is a typing mistake.
HOURS_IN_A_YEAR = 8_784  # 366 days
DAYS_IN_A_YEAR = 366
MINUTES_IN_A_YEAR = HOURS_IN_A_YEAR * 60
RETENTION_AGE_RANGE = (18, 100)
SMALL_NUMBER_RANGE = (1, 100)
COMPETENCE_AGE_RANGE = (10, 18)
BREAK_GLASS_HOURS_RANGE = (1, 168)

RISK_RATINGS = ("red", "amber", "green")


class TsTzRange(Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


def _between(field: str, low: int, high: int, *, nullable: bool = False) -> Q:
    within = Q(**{f"{field}__gte": low, f"{field}__lte": high})
    return within | Q(**{f"{field}__isnull": True}) if nullable else within


@pghistory.track()
class PartnershipRules(models.Model):
    """One version of a partnership's rules, from ``effective_from`` until
    ``effective_until`` (open-ended for the latest)."""

    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="rules_versions")
    effective_from = models.DateTimeField()
    effective_until = models.DateTimeField(null=True, blank=True)

    # The hub's decision on a referral, in working hours after receipt, by the
    # referrer's risk rating; empty: one working day.
    decision_hours_red = models.PositiveIntegerField("Decision limit, red (working hours)", null=True, blank=True)
    decision_hours_amber = models.PositiveIntegerField("Decision limit, amber (working hours)", null=True, blank=True)
    decision_hours_green = models.PositiveIntegerField("Decision limit, green (working hours)", null=True, blank=True)
    # Days between reviews of an open case, by its risk rating.
    review_days_red = models.PositiveIntegerField("Review interval, red (days)")
    review_days_amber = models.PositiveIntegerField("Review interval, amber (days)")
    review_days_green = models.PositiveIntegerField("Review interval, green (days)")
    # How long before a referral's decision deadline the hub is alerted (0: at it).
    alert_minutes_red = models.PositiveIntegerField("Alert before the deadline, red (minutes)", default=0)
    alert_minutes_amber = models.PositiveIntegerField("Alert before the deadline, amber (minutes)", default=0)
    alert_minutes_green = models.PositiveIntegerField("Alert before the deadline, green (minutes)", default=0)
    retention_age_years = models.PositiveIntegerField("Keep closed cases until the young person is (years)")
    # Read by the monitoring (counts below it are suppressed) and by consent
    # and break-glass access: kept here so the partnership owns them too.
    small_number_threshold = models.PositiveIntegerField("Small-number threshold", default=5)
    consent_competence_age = models.PositiveIntegerField("Age from which a young person may consent", default=13)
    break_glass_hours = models.PositiveIntegerField("Emergency (break-glass) access lasts (hours)", default=4)

    reason = models.TextField("Why the rules changed", blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
    )

    class Meta:
        ordering = ["partnership", "-effective_from"]
        verbose_name = "partnership rules version"
        constraints = [
            ExclusionConstraint(
                name="partnership_rules_no_overlap",
                expressions=[
                    (F("partnership"), RangeOperators.EQUAL),
                    (TsTzRange("effective_from", "effective_until"), RangeOperators.OVERLAPS),
                ],
            ),
            models.CheckConstraint(
                condition=Q(effective_until__isnull=True) | Q(effective_until__gt=F("effective_from")),
                name="partnership_rules_until_after_from",
            ),
            models.CheckConstraint(
                condition=_between("decision_hours_red", 1, HOURS_IN_A_YEAR, nullable=True)
                & _between("decision_hours_amber", 1, HOURS_IN_A_YEAR, nullable=True)
                & _between("decision_hours_green", 1, HOURS_IN_A_YEAR, nullable=True),
                name="partnership_rules_decision_hours_bounds",
            ),
            models.CheckConstraint(
                condition=_between("review_days_red", 1, DAYS_IN_A_YEAR)
                & _between("review_days_amber", 1, DAYS_IN_A_YEAR)
                & _between("review_days_green", 1, DAYS_IN_A_YEAR),
                name="partnership_rules_review_days_bounds",
            ),
            models.CheckConstraint(
                condition=_between("alert_minutes_red", 0, MINUTES_IN_A_YEAR)
                & _between("alert_minutes_amber", 0, MINUTES_IN_A_YEAR)
                & _between("alert_minutes_green", 0, MINUTES_IN_A_YEAR),
                name="partnership_rules_alert_minutes_bounds",
            ),
            models.CheckConstraint(
                condition=_between("retention_age_years", *RETENTION_AGE_RANGE)
                & _between("small_number_threshold", *SMALL_NUMBER_RANGE)
                & _between("consent_competence_age", *COMPETENCE_AGE_RANGE)
                & _between("break_glass_hours", *BREAK_GLASS_HOURS_RANGE),
                name="partnership_rules_thresholds_bounds",
            ),
        ]
        indexes = [models.Index(fields=["partnership", "-effective_from"], name="partnership_rules_latest")]

    def __str__(self) -> str:
        return f"{self.partnership} rules from {timezone.localtime(self.effective_from):%-d %B %Y %H:%M}"


# ---------------------------------------------------------------------------
# The concern vocabulary
# ---------------------------------------------------------------------------


class StandardConcern(models.TextChoices):
    """The concerns every partnership's vocabulary starts with (a database
    trigger gives each new partnership these rows: migration 0002). The codes
    are what referrals store; a partnership renames, reorders, retires and
    adds to them in its own ``Concern`` rows."""

    WEAPON = "weapon", "Carrying a knife or weapon"
    GANG_ASSOCIATION = "gang_association", "Gang association"
    CRIMINAL_EXPLOITATION = "criminal_exploitation", "Criminal exploitation or county lines"
    SEXUAL_EXPLOITATION = "sexual_exploitation", "Sexual exploitation"
    VICTIM_OF_VIOLENCE = "victim_of_violence", "Victim of violence"
    MISSING_EPISODES = "missing_episodes", "Missing episodes"
    EXCLUSION = "exclusion", "Exclusion or non-attendance"
    SUBSTANCE_MISUSE = "substance_misuse", "Substance misuse"
    MENTAL_HEALTH = "mental_health", "Mental health"
    DOMESTIC_ABUSE = "domestic_abuse", "Domestic abuse at home"
    BEREAVEMENT = "bereavement", "Bereavement or trauma"
    ONLINE_HARM = "online_harm", "Online harm"
    OTHER = "other", "Other"


# The concern whose referrals describe it in words of their own.
OTHER_CONCERN = StandardConcern.OTHER.value
CONCERN_CODE = r"^[a-z][a-z0-9_]{0,31}$"


@pghistory.track()
class Concern(models.Model):
    """One concern of a partnership's vocabulary, with its signs to look for.

    ``code`` is what a referral stores and never changes (a database trigger
    refuses it); the label, signs, source and place in the list may. A
    concern is retired, not deleted: referrals made with it keep reading
    correctly, and while any referral carries it the database refuses to
    delete it (referrals migration 0009)."""

    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="concerns")
    code = models.CharField(max_length=32)
    label = models.CharField("Name", max_length=120)
    position = models.PositiveIntegerField(default=0)
    signs = models.TextField("Signs to look for", blank=True, help_text="Markdown")
    source_url = models.URLField("Source link", max_length=500, blank=True)
    source_title = models.CharField("Source", max_length=200, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["partnership", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["partnership", "code"], name="concern_code_unique"),
            models.UniqueConstraint(Lower("label"), "partnership", name="concern_label_unique"),
            models.CheckConstraint(condition=Q(code__regex=CONCERN_CODE), name="concern_code_shape"),
            models.CheckConstraint(condition=~Q(label=""), name="concern_has_label"),
        ]
        triggers = [
            pgtrigger.Protect(
                name="concern_code_fixed",
                operation=pgtrigger.Update,
                condition=pgtrigger.Q(old__code__df=pgtrigger.F("new__code"))
                | pgtrigger.Q(old__partnership_id__df=pgtrigger.F("new__partnership_id")),
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None


@pghistory.track()
class Indicator(models.Model):
    """One item of a concern's optional checklist: a sign a referrer may
    tick. Ticked ones are stored with the referral (``Referral.indicators``)
    to inform the referrer's risk rating, never to set it. Retired, not
    deleted, once any referral carries it."""

    concern = models.ForeignKey(Concern, on_delete=models.PROTECT, related_name="indicators")
    text = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0)
    retired_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["concern", "position", "pk"]
        constraints = [
            models.UniqueConstraint(Lower("text"), "concern", name="indicator_text_unique"),
            models.CheckConstraint(condition=~Q(text=""), name="indicator_has_text"),
        ]
        triggers = [
            pgtrigger.Protect(
                name="indicator_concern_fixed",
                operation=pgtrigger.Update,
                condition=pgtrigger.Q(old__concern_id__df=pgtrigger.F("new__concern_id")),
            ),
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None


@pghistory.track()
class AgreementTemplate(models.Model):
    """A partnership's model information-sharing agreement (Markdown): the
    wording its agencies start from when they sign one."""

    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="agreement_templates")
    title = models.CharField(max_length=200)
    body = models.TextField(help_text="Markdown")
    retired_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["partnership", "title"]
        constraints = [
            models.UniqueConstraint(Lower("title"), "partnership", name="agreement_template_title_unique"),
        ]

    def __str__(self) -> str:
        return self.title
