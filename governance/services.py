"""The partnership administrator's write paths: the partnership's rules,
its concern vocabulary and its information-sharing agreement templates.

Every service here takes ``actor`` and asks the access policy first
(``access.may_edit_partnership_settings``: the partnership administrator of
the partnership the actor works in; anyone else gets ``NotAllowed``, and an
object of another partnership is ``NotVisible``). It validates before it
writes and raises ``DomainError`` naming the field at fault, so a form shows
the problem and nothing is written; it writes in one transaction. Who
changed what and when is kept by django-pghistory's triggers on every
settings table, with the person and agency in the event's context (set here
too, so a command or the demo is named as a request is).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pghistory
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify

from lib import inputs
from lib.errors import DomainError
from partnerships import signs
from partnerships.models import (
    BREAK_GLASS_HOURS_RANGE,
    COMPETENCE_AGE_RANGE,
    DAYS_IN_A_YEAR,
    HOURS_IN_A_YEAR,
    MINUTES_IN_A_YEAR,
    RETENTION_AGE_RANGE,
    RISK_RATINGS,
    SMALL_NUMBER_RANGE,
    AgreementTemplate,
    Concern,
    Indicator,
    PartnershipRules,
)
from partnerships.rules import in_force_at
from referrals.models import Referral
from safeguarding import access
from safeguarding.access import Actor

LABEL_MAX_LENGTH = 120
SIGNS_MAX_LENGTH = 10_000
INDICATOR_MAX_LENGTH = 200
TEMPLATE_MAX_LENGTH = 50_000
REASON_MAX_LENGTH = 2_000

# Each rule: its field, its words on the form, its bounds and whether it may be left empty.
RULE_FIELDS: list[tuple[str, str, int, int, bool]] = [
    *[(f"decision_hours_{r}", f"The {r} decision limit", 1, HOURS_IN_A_YEAR, True) for r in RISK_RATINGS],
    *[(f"review_days_{r}", f"The {r} review interval", 1, DAYS_IN_A_YEAR, False) for r in RISK_RATINGS],
    *[(f"alert_minutes_{r}", f"The {r} alert lead time", 0, MINUTES_IN_A_YEAR, False) for r in RISK_RATINGS],
    ("retention_age_years", "The retention age", *RETENTION_AGE_RANGE, False),
    ("small_number_threshold", "The small-number threshold", *SMALL_NUMBER_RANGE, False),
    ("consent_competence_age", "The age of consent", *COMPETENCE_AGE_RANGE, False),
    ("break_glass_hours", "The length of break-glass access", *BREAK_GLASS_HOURS_RANGE, False),
]
_UNITS = {"decision_hours": "hours", "review_days": "days", "alert_minutes": "minutes",
          "retention_age_years": "years", "consent_competence_age": "years", "break_glass_hours": "hours"}


def _require_administrator(actor: Actor) -> None:
    if not access.may_edit_partnership_settings(actor):
        raise access.NotAllowed("Only the partnership's administrator changes its settings")


def _history_context(actor: Actor) -> pghistory.context:
    return pghistory.context(
        user=actor.user.pk if actor.user is not None else None,
        agency_id=actor.agency.pk if actor.agency else None, agency=actor.agency.name if actor.agency else "",
    )


_text = inputs.text


def _markdown(value: Any, *, field: str, label: str, max_length: int, required: bool = False) -> str:
    value = _text(value, field=field, label=label, max_length=max_length, required=required)
    found = signs.problems(value)
    if found:
        raise DomainError(found[0], field=field, code="unsafe")
    return value


def _source_url(value: Any) -> str:
    value = _text(value, field="source_url", label="Source link", max_length=500, required=False)
    if value and (not signs.SAFE_LINK.match(value) or value.lower().startswith("mailto:")):
        raise DomainError("The source link must be a web address starting with https:// or http://",
                          field="source_url")
    return value


def _unit(field: str) -> str:
    return next((unit for prefix, unit in _UNITS.items() if field.startswith(prefix)), "")


def _rule_value(values: dict, field: str, label: str, low: int, high: int, optional: bool) -> int | None:
    value = values.get(field)
    if value in (None, ""):
        if optional:
            return None
        raise DomainError(f"Enter {label.lower()}", field=field, code="required")
    if isinstance(value, bool) or not isinstance(value, int):
        raise DomainError(f"{label} must be a whole number", field=field)
    unit = _unit(field)
    if value < low or value > high:
        if low >= 1 and value < 1:
            raise DomainError(f"{label} must be at least {low} {unit}: a limit of zero is no limit".strip(),
                              field=field, code="min_value")
        what = "a year" if high in (HOURS_IN_A_YEAR, DAYS_IN_A_YEAR, MINUTES_IN_A_YEAR) else f"{high} {unit}"
        raise DomainError(f"{label} must be between {low} and {high:,} {unit} (no more than {what})".replace("  ", " "),
                          field=field, code="out_of_range")
    return value


# ---------------------------------------------------------------------------
# The rules
# ---------------------------------------------------------------------------


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


@transaction.atomic
def rules_version_schedule(*, actor: Actor, effective_from: dt.date | None, values: dict, reason: str = "") -> PartnershipRules:
    """A new version of the partnership's rules, in force from the start of
    ``effective_from`` (from now, if that is today) until the next version.

    Who: the partnership's administrator. Guarantees: every value within its
    bounds (no limit of zero, none beyond a year); the date today or later,
    so nothing already done is judged by rules it did not have; no version
    already starting on or after that date (two versions would overlap:
    PostgreSQL's exclusion constraint holds it too); the version before it
    ends where this one begins. Deadlines already set are not touched.
    """
    _require_administrator(actor)
    now = timezone.now()
    today = timezone.localdate(now)
    if effective_from is None:
        raise DomainError("Enter the date the new rules take effect", field="effective_from", code="required")
    if effective_from < today:
        raise DomainError("The new rules must take effect today or later: past deadlines keep the rules they had",
                          field="effective_from", code="past")
    if effective_from > today + dt.timedelta(days=DAYS_IN_A_YEAR):
        raise DomainError("The new rules must take effect within a year", field="effective_from", code="far")
    cleaned = {field: _rule_value(values, field, label, low, high, optional)
               for field, label, low, high, optional in RULE_FIELDS}
    reason = _text(reason, field="reason", label="Why the rules change", max_length=REASON_MAX_LENGTH, required=False)
    starts = now if effective_from == today else _start_of(effective_from)
    partnership_id = actor.partnership_id
    versions = PartnershipRules.objects.select_for_update().filter(partnership_id=partnership_id)
    clash = versions.filter(effective_from__gte=_start_of(effective_from)).order_by("effective_from").first()
    if clash is not None:
        raise DomainError(
            f"These dates overlap the rules already set from {timezone.localtime(clash.effective_from):%-d %B %Y}: "
            "choose a date before that", field="effective_from", code="overlap",
        )
    with _history_context(actor):
        current = versions.filter(in_force_at(starts)).first()
        if current is not None:
            PartnershipRules.objects.filter(pk=current.pk).update(effective_until=starts)
        try:
            with transaction.atomic():
                return PartnershipRules.objects.create(
                    partnership_id=partnership_id, effective_from=starts, created_by=actor.user, reason=reason,
                    **cleaned,
                )
        except IntegrityError:
            raise DomainError("These dates overlap rules already set: reload the page and try again",
                              field="effective_from", code="overlap") from None


# ---------------------------------------------------------------------------
# The concern vocabulary
# ---------------------------------------------------------------------------


def _concern(actor: Actor, concern_id) -> Concern:
    try:
        return Concern.objects.select_for_update().get(pk=concern_id, partnership_id=actor.partnership_id)
    except (Concern.DoesNotExist, ValueError, TypeError):
        raise access.NotVisible("No such concern") from None


def _indicator(actor: Actor, indicator_id) -> Indicator:
    try:
        return Indicator.objects.select_for_update().select_related("concern").get(
            pk=indicator_id, concern__partnership_id=actor.partnership_id,
        )
    except (Indicator.DoesNotExist, ValueError, TypeError):
        raise access.NotVisible("No such indicator") from None


def _concern_fields(actor: Actor, *, label, signs_text, source_url, source_title, exclude: int | None = None) -> dict:
    label = _text(label, field="label", label="The concern's name", max_length=LABEL_MAX_LENGTH)
    same = Concern.objects.filter(partnership_id=actor.partnership_id, label__iexact=label)
    if exclude is not None:
        same = same.exclude(pk=exclude)
    if same.exists():
        raise DomainError(f"The vocabulary already has a concern called {label!r}", field="label", code="duplicate")
    return {
        "label": label,
        "signs": _markdown(signs_text, field="signs", label="Signs to look for", max_length=SIGNS_MAX_LENGTH),
        "source_url": _source_url(source_url),
        "source_title": _text(source_title, field="source_title", label="Source", max_length=200, required=False),
    }


def _new_code(partnership_id: int, label: str) -> str:
    base = (slugify(label).replace("-", "_") or "concern")[:28]
    if not base[0].isalpha():
        base = f"c_{base}"[:28]
    taken = set(Concern.objects.filter(partnership_id=partnership_id, code__startswith=base).values_list("code", flat=True))
    code, n = base, 2
    while code in taken:
        code, n = f"{base}_{n}", n + 1
    return code


@transaction.atomic
def concern_add(*, actor: Actor, label: str, signs_text: str = "", source_url: str = "", source_title: str = "") -> Concern:
    """Add a concern at the end of the partnership's vocabulary.

    Who: the partnership's administrator. Guarantees: a name no other
    concern of the partnership has; signs in safe Markdown (no HTML, no
    script or event handler, links to web pages and e-mail only); a source
    link that is a web address; a code made from the name, unique in the
    partnership and never changed after."""
    _require_administrator(actor)
    fields = _concern_fields(actor, label=label, signs_text=signs_text, source_url=source_url,
                             source_title=source_title)
    partnership_id = actor.partnership_id
    # One addition at a time per partnership (the code and position are read, then written).
    list(Concern.objects.select_for_update().filter(partnership_id=partnership_id).values_list("pk", flat=True))
    last = Concern.objects.filter(partnership_id=partnership_id).aggregate(last=Max("position"))["last"] or 0
    with _history_context(actor):
        return Concern.objects.create(
            partnership_id=partnership_id, code=_new_code(partnership_id, fields["label"]), position=last + 1,
            **fields,
        )


@transaction.atomic
def concern_change(*, actor: Actor, concern: Concern | int, label: str, signs_text: str = "", source_url: str = "",
                   source_title: str = "") -> Concern:
    """Rename a concern, or change its signs or source. Its code stays, so
    every referral that carries it reads the new name.

    Who: the partnership's administrator; a concern of another partnership
    is ``NotVisible``. Guarantees as ``concern_add``."""
    _require_administrator(actor)
    current = _concern(actor, getattr(concern, "pk", concern))
    fields = _concern_fields(actor, label=label, signs_text=signs_text, source_url=source_url,
                             source_title=source_title, exclude=current.pk)
    changed = [name for name, value in fields.items() if getattr(current, name) != value]
    if changed:
        for name in changed:
            setattr(current, name, fields[name])
        with _history_context(actor):
            current.save(update_fields=changed)
    return current


@transaction.atomic
def concern_retire(*, actor: Actor, concern: Concern | int, retired: bool = True) -> Concern:
    """Retire a concern (no new referral may choose it; those that carry it
    keep it and read it as before), or bring a retired one back.

    Who: the partnership's administrator. Never deletes: a concern in use
    cannot be deleted (the database refuses it)."""
    _require_administrator(actor)
    current = _concern(actor, getattr(concern, "pk", concern))
    if retired and current.retired_at is None:
        live = Concern.objects.filter(partnership_id=actor.partnership_id, retired_at__isnull=True)
        if live.count() <= 1:
            raise DomainError("Keep at least one concern referrers can choose", field="retired", code="last")
        current.retired_at = timezone.now()
    elif not retired and current.retired_at is not None:
        current.retired_at = None
    else:
        return current
    with _history_context(actor):
        current.save(update_fields=["retired_at"])
    return current


@transaction.atomic
def concern_move(*, actor: Actor, concern: Concern | int, direction: str) -> Concern:
    """Move a concern one place up or down the list referrers see.

    Who: the partnership's administrator. Guarantees: the positions of the
    partnership's concerns stay a plain sequence 1, 2, 3, ...; moving the
    first up or the last down changes nothing."""
    _require_administrator(actor)
    if direction not in ("up", "down"):
        raise DomainError("Choose up or down", field="direction", code="invalid_choice")
    current = _concern(actor, getattr(concern, "pk", concern))
    ordered = list(Concern.objects.select_for_update().filter(partnership_id=actor.partnership_id)
                   .order_by("position", "pk"))
    index = next(i for i, c in enumerate(ordered) if c.pk == current.pk)
    target = index - 1 if direction == "up" else index + 1
    if 0 <= target < len(ordered):
        ordered[index], ordered[target] = ordered[target], ordered[index]
    with _history_context(actor):
        for position, item in enumerate(ordered, start=1):
            if item.position != position:
                Concern.objects.filter(pk=item.pk).update(position=position)
    current.refresh_from_db()
    return current


def _indicator_text(actor: Actor, concern: Concern, text: Any, exclude: int | None = None) -> str:
    text = _text(text, field="text", label="The indicator", max_length=INDICATOR_MAX_LENGTH)
    found = signs.problems(text)
    if found:
        raise DomainError(found[0], field="text", code="unsafe")
    same = Indicator.objects.filter(concern=concern, text__iexact=text)
    if exclude is not None:
        same = same.exclude(pk=exclude)
    if same.exists():
        raise DomainError(f"{concern.label} already has the indicator {text!r}", field="text", code="duplicate")
    return text


@transaction.atomic
def indicator_add(*, actor: Actor, concern: Concern | int | None, text: str) -> Indicator:
    """Add an indicator to the end of a concern's checklist.

    Who: the partnership's administrator. Guarantees: an indicator belongs
    to a concern of the partnership (without one, a ``DomainError`` on
    ``concern``); its wording is new for that concern."""
    _require_administrator(actor)
    concern_id = getattr(concern, "pk", concern)
    if concern_id in (None, ""):
        raise DomainError("Select the concern this indicator is a sign of", field="concern", code="required")
    try:
        owner = _concern(actor, concern_id)
    except access.NotVisible:
        raise DomainError("Select a concern of this partnership's vocabulary", field="concern") from None
    text = _indicator_text(actor, owner, text)
    last = Indicator.objects.filter(concern=owner).aggregate(last=Max("position"))["last"] or 0
    with _history_context(actor):
        return Indicator.objects.create(concern=owner, text=text, position=last + 1)


def indicator_in_use(indicator: Indicator) -> bool:
    """Whether any referral of the indicator's partnership carries it (then
    its wording stays as the referrers saw it: retire it and add another).
    A lookup past the actor's reach, on purpose: it tells the administrator
    only that some referral ticked it, never which."""
    return Referral.objects.filter(partnership_id=indicator.concern.partnership_id,
                                   indicators__contains=[indicator.pk]).exists()


@transaction.atomic
def indicator_change(*, actor: Actor, indicator: Indicator | int, text: str) -> Indicator:
    """Reword an indicator no referral has ticked yet. Once one has, its
    wording is what that referrer saw and stays: retire it and add another.

    Who: the partnership's administrator."""
    _require_administrator(actor)
    current = _indicator(actor, getattr(indicator, "pk", indicator))
    text = _indicator_text(actor, current.concern, text, exclude=current.pk)
    if text == current.text:
        return current
    if indicator_in_use(current):
        raise DomainError("Referrals have ticked this indicator, so its wording stays as they saw it: "
                          "retire it and add a new one instead", field="text", code="in_use")
    current.text = text
    with _history_context(actor):
        current.save(update_fields=["text"])
    return current


@transaction.atomic
def indicator_retire(*, actor: Actor, indicator: Indicator | int, retired: bool = True) -> Indicator:
    """Take an indicator off the checklist referrers see (referrals that
    ticked it keep it), or put a retired one back. Never deletes.

    Who: the partnership's administrator."""
    _require_administrator(actor)
    current = _indicator(actor, getattr(indicator, "pk", indicator))
    if retired == (current.retired_at is not None):
        return current
    current.retired_at = timezone.now() if retired else None
    with _history_context(actor):
        current.save(update_fields=["retired_at"])
    return current


# ---------------------------------------------------------------------------
# Information-sharing agreement templates
# ---------------------------------------------------------------------------


@transaction.atomic
def agreement_template_save(*, actor: Actor, template: AgreementTemplate | int | None, title: str, body: str,
                            retired: bool = False) -> AgreementTemplate:
    """Add an information-sharing agreement template (``template`` None) or
    change one of the partnership's.

    Who: the partnership's administrator. Guarantees: a title no other
    template of the partnership has; the body in safe Markdown (as the
    signs). Every version stays in the history."""
    _require_administrator(actor)
    current = None
    if template is not None:
        try:
            current = AgreementTemplate.objects.select_for_update().get(
                pk=getattr(template, "pk", template), partnership_id=actor.partnership_id,
            )
        except (AgreementTemplate.DoesNotExist, ValueError, TypeError):
            raise access.NotVisible("No such template") from None
    title = _text(title, field="title", label="The template's title", max_length=200)
    body = _markdown(body, field="body", label="The agreement", max_length=TEMPLATE_MAX_LENGTH, required=True)
    same = AgreementTemplate.objects.filter(partnership_id=actor.partnership_id, title__iexact=title)
    if current is not None:
        same = same.exclude(pk=current.pk)
    if same.exists():
        raise DomainError(f"There is already a template called {title!r}", field="title", code="duplicate")
    retired_at = (current.retired_at or timezone.now()) if retired and current is not None else None
    with _history_context(actor):
        if current is None:
            return AgreementTemplate.objects.create(partnership_id=actor.partnership_id, title=title, body=body)
        current.title, current.body, current.retired_at = title, body, retired_at
        current.save()
    return current
