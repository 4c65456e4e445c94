"""``{{ concern.signs|signs }}``: a partnership's Markdown, rendered safely
(``partnerships.signs.render``: raw HTML off, then cleaned by nh3)."""

from __future__ import annotations

from django import template
from django.utils.safestring import mark_safe

from partnerships import signs as markdown

register = template.Library()


@register.filter(name="signs")
def render_signs(text: str) -> str:
    return mark_safe(markdown.render(text or ""))  # noqa: S308 (cleaned by nh3 against an allowlist)


@register.filter
def concern_for(form, code: str):
    """The concern of a concerns form's option (``form.concerns_by_code``)."""
    return getattr(form, "concerns_by_code", {}).get(code)
