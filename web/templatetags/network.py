"""The network picture's data, carried in the page as JSON for its script."""

from __future__ import annotations

import json

from django import template
from django.utils.html import format_html
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
