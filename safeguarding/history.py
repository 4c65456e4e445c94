"""The change history of case records, read from django-pghistory's event
tables: who changed what and when, field by field, before and after.

The triggers write an event for every insert and update of a young person,
referral, case, intervention, review, share grant and membership, whichever
path the write took; ``lib.request_ids.HistoryMiddleware`` (and the API's
``bind_actor``) put the user, agency, partner system and request id in the
event's context. Chronology entries are append-only and need no history.

Callers decide who may read what (``safeguarding.access``): this module only
gathers and words the events it is asked for.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from pghistory.models import Events

from agencies.models import Agency, Partnership
from partnerships.models import AgreementTemplate, Concern, Indicator, PartnershipRules
from referrals.models import Case, Intervention, Referral, Review, YoungPerson
from safeguarding.models import ShareGrant

# Book-keeping columns that say nothing a reader needs.
_HIDDEN_FIELDS = {"id", "updated_at"}


@dataclass
class FieldChange:
    name: str
    before: str
    after: str


@dataclass
class Change:
    """One event: a record created or changed, by whom, through which request."""

    at: dt.datetime
    record: str
    record_type: str
    object_id: str
    label: str
    who: str
    agency: str
    api_client: str
    request_id: str
    fields: list[FieldChange] = field(default_factory=list)

    @property
    def created(self) -> bool:
        return self.label == "insert"

    def as_dict(self) -> dict:
        return {
            "at": self.at.isoformat(), "record": self.record, "record_type": self.record_type,
            "object_id": self.object_id, "label": self.label, "who": self.who, "agency": self.agency,
            "api_client": self.api_client, "request_id": self.request_id,
            "fields": [{"name": c.name, "before": c.before, "after": c.after} for c in self.fields],
        }


def _event_model(model):
    return model.pgh_event_model


def _events_for(case: Case | None, young_person: YoungPerson, *, include_shares: bool) -> list[Events]:
    """Every event about the young person and (one or all of) their cases and
    the records hanging off them, oldest first, each once."""
    tracked = [Case, Referral, Intervention, Review] + ([ShareGrant] if include_shares else [])
    cases = [case] if case is not None else list(Case.objects.filter(young_person=young_person))
    referrals = list(Referral.objects.filter(case__in=cases) if case is not None
                     else Referral.objects.filter(young_person=young_person))
    querysets = [Events.objects.tracks(young_person).across(_event_model(YoungPerson))]
    if cases:
        querysets.append(Events.objects.references(cases).across(*map(_event_model, tracked)))
    if referrals:
        # A referral's events from before it joined the case do not name the case.
        querysets.append(Events.objects.tracks(referrals).across(_event_model(Referral)))
    seen: dict[str, Events] = {}
    for queryset in querysets:
        for event in queryset:
            seen.setdefault(event.pgh_slug, event)
    return sorted(seen.values(), key=lambda e: (e.pgh_created_at, e.pgh_id))


class _Words:
    """Turns stored values into words: people and agencies by name, choices
    by their labels, dates as dates."""

    def __init__(self, events: list[Events]) -> None:
        self.user_ids: set[int] = set()
        self.agency_ids: set[int] = set()
        for event in events:
            context = event.pgh_context or {}
            if isinstance(context.get("user"), int):
                self.user_ids.add(context["user"])
            model = apps.get_model(event.pgh_obj_model)
            for key, value in (event.pgh_data or {}).items():
                target = self._target(model, key)
                if target is not None and isinstance(value, int):
                    (self.user_ids if target is get_user_model() else self.agency_ids).add(value)
        self.users = {u.pk: u.get_username() for u in get_user_model().objects.filter(pk__in=self.user_ids)}
        self.agencies = dict(Agency.objects.filter(pk__in=self.agency_ids).values_list("pk", "name"))

    @staticmethod
    def _field(model, attname: str):
        for candidate in model._meta.concrete_fields:
            if candidate.attname == attname:
                return candidate
        return None

    def _target(self, model, attname: str):
        model_field = self._field(model, attname)
        if isinstance(model_field, models.ForeignKey):
            target = model_field.related_model
            if target is get_user_model() or target is Agency:
                return target
        return None

    def name(self, model, attname: str) -> str:
        model_field = self._field(model, attname)
        return str(model_field.verbose_name).capitalize() if model_field is not None else attname

    def value(self, model, attname: str, value) -> str:
        if value is None or value == "" or value == []:
            return "–"
        model_field = self._field(model, attname)
        target = self._target(model, attname)
        if target is get_user_model():
            return self.users.get(value, f"user #{value}")
        if target is Agency:
            return self.agencies.get(value, f"agency #{value}")
        if isinstance(model_field, models.ForeignKey):
            return f"#{value}"
        choices = dict(getattr(getattr(model_field, "base_field", None), "choices", None) or model_field.choices or [])
        if isinstance(value, list):
            return ", ".join(str(choices.get(v, v)) for v in value)
        if choices:
            return str(choices.get(value, value))
        if isinstance(model_field, models.DateTimeField) and isinstance(value, str):
            moment = parse_datetime(value)
            if moment is None:
                return value
            return (timezone.localtime(moment) if timezone.is_aware(moment) else moment).strftime("%-d %b %Y %H:%M")
        if isinstance(model_field, models.DateField) and isinstance(value, str):
            day = parse_date(value)
            return day.strftime("%-d %b %Y") if day else value
        if isinstance(value, bool):
            return "Yes" if value else "No"
        return str(value)


def _record(model, data: dict) -> str:
    if model is Concern:
        return f"Concern: {data.get('label', '')}"
    if model is Indicator:
        return f"Indicator: {data.get('text', '')}"
    if model is AgreementTemplate:
        return f"Agreement template: {data.get('title', '')}"
    if model is PartnershipRules:
        return "Rules"
    if model is YoungPerson:
        return "Young person"
    if model is Case:
        return f"Case {data.get('reference', '')}".strip()
    if model is Referral:
        return f"Referral {data.get('reference', '')}".strip()
    if model is Intervention:
        return f"Intervention #{data.get('id')}"
    if model is Review:
        return f"Review #{data.get('id')}"
    return f"{model._meta.verbose_name.capitalize()} #{data.get('id')}"


def changes(case: Case | None, young_person: YoungPerson, *, include_shares: bool) -> list[Change]:
    """The history of one case (or, with ``case=None``, of everything about
    the young person), newest first. Share grants only with
    ``include_shares``: the case page shows shares to the lead agency's
    managers alone, and the history must not show more."""
    return _worded(_events_for(case, young_person, include_shares=include_shares))


def partnership_settings_changes(partnership_id: int) -> list[Change]:
    """The history of one partnership's settings, newest first: every
    version of its rules, every change to its concern vocabulary (concerns
    and indicators) and to its agreement templates, with who made it."""
    partnership = Partnership(pk=partnership_id)
    querysets = [Events.objects.references(partnership).across(
        *map(_event_model, (PartnershipRules, Concern, AgreementTemplate)),
    )]
    concerns = list(Concern.objects.filter(partnership_id=partnership_id))
    if concerns:
        querysets.append(Events.objects.references(concerns).across(_event_model(Indicator)))
    seen: dict[str, Events] = {}
    for queryset in querysets:
        for event in queryset:
            seen.setdefault(event.pgh_slug, event)
    return _worded(sorted(seen.values(), key=lambda e: (e.pgh_created_at, e.pgh_id)))


def _worded(events: list[Events]) -> list[Change]:
    words = _Words(events)
    result = []
    for event in reversed(events):
        model = apps.get_model(event.pgh_obj_model)
        data = event.pgh_data or {}
        context = event.pgh_context or {}
        if event.pgh_label == "insert":
            pairs = [(key, None, value) for key, value in data.items() if value not in (None, "", [])]
        else:
            pairs = [(key, before, after) for key, (before, after) in (event.pgh_diff or {}).items()]
        result.append(Change(
            at=event.pgh_created_at,
            record=_record(model, data),
            record_type=model._meta.model_name,
            object_id=str(event.pgh_obj_id or ""),
            label=event.pgh_label,
            who=words.users.get(context.get("user"), "") if context.get("user") else "",
            agency=str(context.get("agency", "")),
            api_client=str(context.get("api_client", "")),
            request_id=str(context.get("request_id", "")),
            fields=[
                FieldChange(words.name(model, key), words.value(model, key, before), words.value(model, key, after))
                for key, before, after in sorted(pairs, key=lambda p: p[0])
                if key not in _HIDDEN_FIELDS
            ],
        ))
    return result
