"""The partnership's monitoring: its reference data and a pseudonymised
reporting schema.

Reference data is what the partnership loads from files
(``monitoring.reference``): its wards (GeoJSON boundaries), a postcode to
ward lookup (an extract of the ONS postcode directory) and its young
population by ward, age band and ethnic group (ONS 2021 groups).

The reporting schema (the ``*Fact`` tables) is refreshed from the case data
by ``monitoring.refresh``. It holds no name, no date of birth, no postcode,
no record id and no reference: a young person is a random key
(``ReportingKey``, the one table that links a key to a record and that no
report reads), a date of birth is an age band, a postcode is a ward, a
date is a month. A place, peer group or online space is its kind, ward,
month and risk (``ContextFact``; a person of concern is never counted), a
panel action its dates, status and owning agency's kind
(``PanelActionFact``). Every table is under the partnership's row-level
security (migrations 0002 and 0004).
"""

from __future__ import annotations

import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from agencies.models import Partnership
from contexts.models import ContextKind
from referrals.models import YoungPerson


class AgeBand(models.TextChoices):
    """Age at the time (a referral's receipt, a case's opening)."""

    UNDER_10 = "0-9", "Under 10"
    TEN_TO_13 = "10-13", "10 to 13"
    FOURTEEN_15 = "14-15", "14 to 15"
    SIXTEEN_17 = "16-17", "16 to 17"
    EIGHTEEN_24 = "18-24", "18 to 24"
    OVER_24 = "25+", "25 and over"


# (lowest age, band), highest first.
AGE_BAND_FLOORS = ((25, AgeBand.OVER_24), (18, AgeBand.EIGHTEEN_24), (16, AgeBand.SIXTEEN_17),
                   (14, AgeBand.FOURTEEN_15), (10, AgeBand.TEN_TO_13), (0, AgeBand.UNDER_10))


class EthnicGroup(models.TextChoices):
    """The ONS 2021 census's high-level ethnic groups (England and Wales)."""

    ASIAN = "asian", "Asian or Asian British"
    BLACK = "black", "Black, Black British, Caribbean or African"
    MIXED = "mixed", "Mixed or multiple ethnic groups"
    WHITE = "white", "White"
    OTHER = "other", "Other ethnic group"
    NOT_STATED = "not_stated", "Not stated"


class Sex(models.TextChoices):
    """The recorded gender, with the small categories together so that
    they are not suppressed away in every table."""

    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Another gender or not known"


# ---------------------------------------------------------------------------
# Reference data the partnership loads
# ---------------------------------------------------------------------------


class Ward(models.Model):
    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="+")
    code = models.CharField(max_length=12, help_text="The ONS ward code, e.g. E05011095")
    name = models.CharField(max_length=100)
    # The ward's boundary as a GeoJSON geometry (Polygon or MultiPolygon),
    # in longitude and latitude, as loaded.
    boundary = models.JSONField()

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["partnership", "code"], name="ward_code_unique")]

    def __str__(self) -> str:
        return self.name


class PostcodeWard(models.Model):
    """One row of the postcode directory extract: a postcode (upper case, no
    spaces) and its ward. A postcode not here is "ward not known"."""

    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="+")
    postcode = models.CharField(max_length=8)
    ward = models.ForeignKey(Ward, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["partnership", "postcode"], name="postcode_ward_unique"),
            models.CheckConstraint(condition=Q(postcode__regex=r"^[A-Z0-9]{5,7}$"), name="postcode_ward_normalised"),
        ]


class YoungPopulation(models.Model):
    """The partnership's young population: how many of an age band and an
    ethnic group live in a ward (from the census or the ONS's estimates)."""

    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="+")
    ward = models.ForeignKey(Ward, on_delete=models.CASCADE, related_name="+")
    age_band = models.CharField(max_length=8, choices=AgeBand.choices)
    ethnic_group = models.CharField(max_length=12, choices=EthnicGroup.choices)
    people = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ward", "age_band", "ethnic_group"], name="young_population_unique"),
        ]


# ---------------------------------------------------------------------------
# The reporting schema
# ---------------------------------------------------------------------------

# The fact tables of young people carry one index besides their key: the
# partnership and the month, which every report reads by. Each index more
# is paid on every fact a refresh writes (millions on a full one: a key
# index on the random person keys cost a third of its time at 1,000,000
# cases); a young person's facts are found for rewriting within the
# partnership's range of that index, and a ward's (unloading reference
# data, which makes the next refresh a full one) by one pass.


class ReportingKey(models.Model):
    """The pseudonymous key of a young person: random, so nothing about the
    record can be worked out from it. This table alone links a key to a
    record; the refresh writes and reads it, no report or export does."""

    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="+")
    young_person = models.OneToOneField(YoungPerson, on_delete=models.CASCADE, related_name="+")
    key = models.UUIDField(default=uuid.uuid4, unique=True)


class ReferralFact(models.Model):
    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="+", db_index=False)
    person_key = models.UUIDField()
    received_month = models.DateField(help_text="The first day of the month it was received")
    concerns = ArrayField(models.CharField(max_length=32))
    referring_agency_kind = models.CharField(max_length=32)
    ward = models.ForeignKey(Ward, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False)
    age_band = models.CharField(max_length=8, choices=AgeBand.choices)
    sex = models.CharField(max_length=8, choices=Sex.choices)
    ethnic_group = models.CharField(max_length=12, choices=EthnicGroup.choices)
    risk_level = models.CharField(max_length=8)
    status = models.CharField(max_length=20)
    # Working hours from receipt to decision (``referrals.deadlines``), and
    # whether that was within the one-working-day standard; empty while open.
    decision_hours = models.FloatField(null=True)
    within_standard = models.BooleanField(null=True)
    # Another referral about the same young person in the 12 months before.
    repeat_within_year = models.BooleanField()

    class Meta:
        indexes = [models.Index(fields=["partnership", "received_month"])]


class CaseFact(models.Model):
    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="+", db_index=False)
    person_key = models.UUIDField()
    opened_month = models.DateField()
    closed_month = models.DateField(null=True)
    status = models.CharField(max_length=8)
    closure_reason = models.CharField(max_length=20, blank=True)
    # The risk of the referral the case opened on, and the risk now.
    risk_on_entry = models.CharField(max_length=8)
    risk_now = models.CharField(max_length=8)
    # For the time open (to today while open), counted when it is read.
    opened_on = models.DateField()
    closed_on = models.DateField(null=True)
    stepped_down = models.BooleanField()
    escalated = models.BooleanField()
    ward = models.ForeignKey(Ward, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False)
    age_band = models.CharField(max_length=8, choices=AgeBand.choices)
    sex = models.CharField(max_length=8, choices=Sex.choices)
    ethnic_group = models.CharField(max_length=12, choices=EthnicGroup.choices)

    class Meta:
        indexes = [models.Index(fields=["partnership", "opened_month"])]


class ReviewFact(models.Model):
    """A completed review: the risk it found and what it decided."""

    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="+", db_index=False)
    person_key = models.UUIDField()
    review_month = models.DateField()
    risk_after = models.CharField(max_length=8)
    decision = models.CharField(max_length=16)
    # The ward of the young person's postcode, as for their case.
    ward = models.ForeignKey(Ward, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False)

    class Meta:
        indexes = [models.Index(fields=["partnership", "review_month"])]


class InterventionFact(models.Model):
    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="+", db_index=False)
    person_key = models.UUIDField()
    kind = models.CharField(max_length=32)
    provider = models.CharField(max_length=200, help_text="The provider agency's name")
    status = models.CharField(max_length=16)
    # The month it started (or was recorded, if it never started).
    month = models.DateField()
    sessions_offered = models.PositiveIntegerField()
    sessions_attended = models.PositiveIntegerField()
    # The risk found by the last review before it started (else the case's
    # risk on entry) and by the first review after it ended (empty if none
    # yet): the change in risk after it.
    risk_before = models.CharField(max_length=8)
    risk_after = models.CharField(max_length=8, blank=True)
    ward = models.ForeignKey(Ward, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False)

    class Meta:
        indexes = [models.Index(fields=["partnership", "month"])]


# The kinds of context the monitoring counts: a person of concern is
# restricted police and hub information and is never counted (the table
# refuses one).
COUNTED_CONTEXT_KINDS = tuple((kind.value, kind.label) for kind in ContextKind
                              if kind != ContextKind.PERSON_OF_CONCERN)


class ContextFact(models.Model):
    """A place, peer group or online space the partnership recorded: its
    kind, its ward (None: not known), the month it was recorded and its
    risk. No name, no description, no map point."""

    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=24, choices=COUNTED_CONTEXT_KINDS)
    ward = models.ForeignKey(Ward, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_month = models.DateField()
    risk_level = models.CharField(max_length=8)

    class Meta:
        indexes = [models.Index(fields=["partnership", "recorded_month"])]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=[kind for kind, _ in COUNTED_CONTEXT_KINDS]),
                                   name="context_fact_kind_counted"),
        ]


class PanelActionFact(models.Model):
    """An action a panel agreed: when it was due, how it stands, the kind of
    agency that owes it, and the day it was first marked done (from its
    change history; None while not done). The due date is kept beside its
    month because whether an action not done is overdue is counted when the
    figures are read, as a case's time open is."""

    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="+")
    due_month = models.DateField()
    due_on = models.DateField()
    status = models.CharField(max_length=12)
    completed_on = models.DateField(null=True)
    owner_agency_kind = models.CharField(max_length=32)

    class Meta:
        indexes = [models.Index(fields=["partnership", "due_month"])]


class RefreshState(models.Model):
    """Where the last refresh of a partnership's reporting schema got to."""

    partnership = models.OneToOneField(Partnership, on_delete=models.CASCADE, related_name="+")
    # Changes recorded (change history) up to this moment are in the facts.
    changes_until = models.DateTimeField(null=True)
    refreshed_at = models.DateTimeField(null=True)
    # Set when reference data changes: the next refresh rewrites everything.
    needs_full = models.BooleanField(default=True)
    # A new random value whenever a refresh writes a fact: the protected
    # figures worked out from the facts are kept (cached) under it.
    facts_version = models.UUIDField(null=True)
