"""Free text of case records on the pages, as the signed-in agency may see
it: ``{% shown note "text" as words %}{{ words|linebreaks }}``.

Every page shows a chronology entry's text, a referral's account and an
intervention's goals and outcome through this tag, which asks the one
decision (``safeguarding.redaction.shown``); ``tests/architecture`` fails a
template that reads those fields directly."""

from __future__ import annotations

from django import template

from safeguarding import redaction

register = template.Library()


@register.simple_tag(takes_context=True)
def shown(context, record, field: str) -> str:
    request = context.get("request")
    # No signed-in actor: a reader outside every agency, shown markers only.
    return redaction.shown(getattr(request, "actor", None), record, field)

