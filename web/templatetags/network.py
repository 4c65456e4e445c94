"""The network picture's data, carried in the page as JSON for its script."""

from __future__ import annotations

import json

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

register = template.Library()

# Like Django's json_script, and quotes too: nothing of what people typed
# appears in the page as typed, even inside a data block.
_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026", ord("'"): "\\u0027"}


@register.simple_tag
def network_data(graph: dict, element_id: str = "network-data"):
    """``<script type="application/json">`` holding the graph (a data block:
    never run, so the content-security policy has nothing to allow)."""
    payload = json.dumps(graph, separators=(",", ":")).translate(_ESCAPES)
    return format_html('<script id="{}" type="application/json">{}</script>', element_id, mark_safe(payload))


@register.simple_tag
def network_rows(rows):
    """The table alternative's body rows, built in one pass: a network of
    hundreds of people and contexts is hundreds of rows, which the template
    language's loop renders several times slower than this."""
    cells = []
    for row in rows:
        node = row["node"]
        name = format_html('<a class="govuk-link" href="{}">{}</a>', node.href, node.label) if node.href else node.label
        if node.kind == "context":
            kind = node.detail
        elif node.kind == "case":
            kind = f"Young person ({node.detail})"
        else:
            kind = "Young person"
        cells.append((name, kind, "; ".join(row["links"])))
    return format_html_join(
        "\n", '<tr class="govuk-table__row"><th scope="row" class="govuk-table__header">{}</th>'
              '<td class="govuk-table__cell">{}</td><td class="govuk-table__cell">{}</td></tr>', cells,
    )
