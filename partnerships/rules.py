"""The rules in force: "what does partnership P say at time T".

Every part that works to a partnership's time limits or thresholds asks
here: the decision deadline of a referral (``referrals.deadlines``), a
case's review interval (``casework.services``), the hub's alert before a
deadline (``casework.services`` stores it on the referral, the reminder
sweep reads it), the retention age (``safeguarding.retention``), and later
the monitoring's small-number threshold, the age of consent and the length
of break-glass access.

A partnership that has set no rules of its own for T works to the
deployment's defaults: the settings read from the environment
(``REFERRAL_DECISION_HOURS``, ``CASE_REVIEW_INTERVAL_DAYS``,
``REFERRAL_ALERT_LEAD_MINUTES``, ``RETENTION_AGE_YEARS``) and the defaults
below for the rest. Those variables are only the first defaults: once a
partnership's administrator sets a version, its values apply from its date.

Deadlines are computed once, with the rules in force when the referral was
received or the review was set, and stored; a later version never moves one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from agencies.models import Partnership
from partnerships.models import RISK_RATINGS, PartnershipRules

# The defaults of the rules no environment variable sets.
DEFAULT_SMALL_NUMBER_THRESHOLD = 5
DEFAULT_CONSENT_COMPETENCE_AGE = 13
DEFAULT_BREAK_GLASS_HOURS = 4


@dataclass(frozen=True)
class Rules:
    """The rules of one partnership at one moment (or the deployment's
    defaults, ``version_id`` None)."""

    decision_hours: dict[str, int | None]
    review_days: dict[str, int]
    alert_minutes: dict[str, int]
    retention_age_years: int
    small_number_threshold: int = DEFAULT_SMALL_NUMBER_THRESHOLD
    consent_competence_age: int = DEFAULT_CONSENT_COMPETENCE_AGE
    break_glass_hours: int = DEFAULT_BREAK_GLASS_HOURS
    version_id: int | None = None
    effective_from: dt.datetime | None = None
    effective_until: dt.datetime | None = None

    @property
    def is_default(self) -> bool:
        return self.version_id is None

    def decision_limit_hours(self, risk_level: str) -> int | None:
        """Working hours allowed for the hub's decision, or None for the
        standard one working day."""
        return self.decision_hours.get(str(risk_level))

    def review_interval_days(self, risk_level: str) -> int:
        return self.review_days.get(str(risk_level)) or settings.CASE_REVIEW_INTERVAL_DAYS

    def alert_lead(self, risk_level: str) -> dt.timedelta:
        return dt.timedelta(minutes=self.alert_minutes.get(str(risk_level)) or 0)

    def as_fields(self) -> dict:
        """The values as ``PartnershipRules`` field names (for a form's
        starting values, or a new version copied from this one)."""
        values = {}
        for rating in RISK_RATINGS:
            values[f"decision_hours_{rating}"] = self.decision_hours.get(rating)
            values[f"review_days_{rating}"] = self.review_interval_days(rating)
            values[f"alert_minutes_{rating}"] = self.alert_minutes.get(rating) or 0
        values.update(
            retention_age_years=self.retention_age_years, small_number_threshold=self.small_number_threshold,
            consent_competence_age=self.consent_competence_age, break_glass_hours=self.break_glass_hours,
        )
        return values


def deployment_defaults() -> Rules:
    """The rules of a partnership that has set none of its own: the
    environment's settings, read now (so a test or an operator's change of
    them is seen at once)."""
    decision = getattr(settings, "REFERRAL_DECISION_HOURS", None) or {}
    leads = getattr(settings, "REFERRAL_ALERT_LEAD_MINUTES", None) or {}
    return Rules(
        decision_hours={rating: decision.get(rating) for rating in RISK_RATINGS},
        review_days={rating: settings.CASE_REVIEW_INTERVAL_DAYS for rating in RISK_RATINGS},
        alert_minutes={rating: int(leads.get(rating) or 0) for rating in RISK_RATINGS},
        retention_age_years=settings.RETENTION_AGE_YEARS,
    )


def rules_of_version(version: PartnershipRules) -> Rules:
    return Rules(
        decision_hours={rating: getattr(version, f"decision_hours_{rating}") for rating in RISK_RATINGS},
        review_days={rating: getattr(version, f"review_days_{rating}") for rating in RISK_RATINGS},
        alert_minutes={rating: getattr(version, f"alert_minutes_{rating}") for rating in RISK_RATINGS},
        retention_age_years=version.retention_age_years,
        small_number_threshold=version.small_number_threshold,
        consent_competence_age=version.consent_competence_age,
        break_glass_hours=version.break_glass_hours,
        version_id=version.pk,
        effective_from=version.effective_from,
        effective_until=version.effective_until,
    )


def _partnership_id(partnership: Partnership | int | None) -> int | None:
    return partnership.pk if isinstance(partnership, Partnership) else partnership


def in_force_at(at: dt.datetime) -> Q:
    """The versions in force at ``at``: started, and not yet ended."""
    return Q(effective_from__lte=at) & (Q(effective_until__isnull=True) | Q(effective_until__gt=at))


def rules_in_force(partnership: Partnership | int | None, at: dt.datetime | None = None) -> Rules:
    """The rules partnership ``partnership`` had in force at ``at`` (now by
    default): its version covering that moment, else the deployment's
    defaults. With no partnership (a caller outside any), the defaults.

    Who: any code that works to a time limit or threshold; the rules are no
    case content. Guarantees: one answer per (partnership, moment), the
    same whenever it is asked (versions never overlap, and one in force is
    never edited), so a deadline recomputed for the same receipt comes out
    the same."""
    partnership_id = _partnership_id(partnership)
    if partnership_id is None:
        return deployment_defaults()
    at = at or timezone.now()
    version = PartnershipRules.objects.filter(in_force_at(at), partnership_id=partnership_id).first()
    return rules_of_version(version) if version is not None else deployment_defaults()


def rules_versions(partnership: Partnership | int) -> list[PartnershipRules]:
    """Every version a partnership has had or has scheduled, newest first."""
    return list(
        PartnershipRules.objects.filter(partnership_id=_partnership_id(partnership))
        .select_related("created_by").order_by("-effective_from")
    )
