"""Small helpers for drawing GOV.UK Design System components by hand."""

from __future__ import annotations

import datetime as dt

from django import template

register = template.Library()


@register.filter
def date_parts(bound_field) -> list[str]:
    """Day, month and year as typed (bound form) or from the initial date."""
    value = bound_field.value()
    if isinstance(value, dt.date):
        return [str(value.day), str(value.month), str(value.year)]
    if isinstance(value, (list, tuple)):
        return [str(v or "") for v in (list(value) + ["", "", ""])[:3]]
    return ["", "", ""]


@register.filter
def first_input_id(bound_field) -> str:
    """Where the error summary links for a field: its first input."""
    kind = bound_field.widget_type
    if kind == "dateparts":
        return f"{bound_field.auto_id}-day"
    if kind in ("radioselect", "checkboxselectmultiple"):
        return f"{bound_field.auto_id}_0"
    return bound_field.auto_id


@register.filter
def index(sequence, i):
    try:
        return sequence[i]
    except (IndexError, KeyError, TypeError):
        return ""


@register.filter
def risk_tag(level: str) -> str:
    return {"red": "govuk-tag--red", "amber": "govuk-tag--orange", "green": "govuk-tag--green"}.get(level, "govuk-tag--grey")


@register.filter
def duration(delta: dt.timedelta | None) -> str:
    """A working-time span for people: "3 hours 20 minutes", "overdue by 2 hours"."""
    if delta is None:
        return ""
    seconds = int(delta.total_seconds())
    overdue = seconds < 0
    seconds = abs(seconds)
    hours, minutes = seconds // 3600, (seconds % 3600) // 60
    parts = []
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    text = " ".join(parts)
    return f"overdue by {text}" if overdue else text
