"""A partnership's own rules, owned locally and changed without code.

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
from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeOperators
from django.db import models
from django.db.models import F, Func, Q
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

