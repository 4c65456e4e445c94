""""Signs to look for": Markdown a partnership writes, shown safely.

A partnership's administrator writes each concern's signs (and its
information-sharing agreement templates) in Markdown. Two steps keep the
pages safe:

* ``problems`` refuses what must never be saved: any raw HTML (a script, an
  event handler such as ``onerror=``, or any other tag), a link that is not
  ``https://``, ``http://`` or ``mailto:`` (``javascript:``, ``data:`` and
  the rest, however they are disguised) and images. The form shows the
  problem; nothing is stripped silently, so what the partnership reads back
  is what it wrote.
* ``render`` turns the Markdown into HTML with raw HTML switched off
  (CommonMark by markdown-it-py), then cleans that HTML with nh3 (the
  Ammonia sanitiser) against a short allowlist of tags, attributes and URL
  schemes, adding the GOV.UK classes. So even a row written by another path
  than the form renders harmlessly.
"""

from __future__ import annotations

import re

import nh3
from markdown_it import MarkdownIt

# Links a partnership may write: to web pages and e-mail addresses only.
SAFE_LINK = re.compile(r"^(https?://|mailto:)", re.IGNORECASE)
_EVENT_HANDLER = re.compile(r"\bon[a-z]+\s*=", re.IGNORECASE)
_SCRIPT = re.compile(r"<\s*/?\s*script\b", re.IGNORECASE)
_TAG = re.compile(r"<\s*/?\s*([a-zA-Z][a-zA-Z0-9-]*)")

ALLOWED_TAGS = {"p", "ul", "ol", "li", "strong", "em", "a", "br", "code", "blockquote", "h3", "h4", "hr"}
GOVUK_CLASSES = {
    "p": {"class": "govuk-body"},
    "ul": {"class": "govuk-list govuk-list--bullet"},
    "ol": {"class": "govuk-list govuk-list--number"},
    "a": {"class": "govuk-link"},
    "h3": {"class": "govuk-heading-s"},
    "h4": {"class": "govuk-heading-s"},
    "blockquote": {"class": "govuk-inset-text"},
    "hr": {"class": "govuk-section-break govuk-section-break--m govuk-section-break--visible"},
}


def _inspector() -> MarkdownIt:
    # Raw HTML on and every link let through, so that nothing the writer
    # typed escapes the inspection below.
    md = MarkdownIt("commonmark", {"html": True})
    md.validateLink = lambda url: True
    return md


def _renderer() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False}).disable("image")


_INSPECTOR = _inspector()
_RENDERER = _renderer()


def _tokens(tokens):
    for token in tokens:
        yield token
        if token.children:
            yield from _tokens(token.children)


def problems(text: str) -> list[str]:
    """What makes this Markdown unsafe to save, in words for the form
    (empty: safe). Each kind of problem is said once."""
    found: list[str] = []

    def say(message: str) -> None:
        if message not in found:
            found.append(message)

    for token in _tokens(_INSPECTOR.parse(text or "")):
        if token.type in ("html_block", "html_inline"):
            content = token.content
            if _SCRIPT.search(content):
                say("Remove the script: signs to look for cannot run code")
            elif _EVENT_HANDLER.search(content):
                say("Remove the event handler (such as onerror= or onclick=): signs to look for cannot run code")
            else:
                tag = _TAG.search(content)
                name = f"<{tag.group(1).lower()}>" if tag else "HTML"
                say(f"Write the signs in Markdown, not HTML: remove {name}")
        elif token.type == "link_open":
            href = "".join(str(token.attrGet("href") or "").split())
            if not SAFE_LINK.match(href):
                say("Links must start with https://, http:// or mailto: (javascript: and other links are not allowed)")
        elif token.type == "image":
            say("Images cannot be shown here: link to the page they are on instead")
    return found


def render(text: str) -> str:
    """Safe HTML for the Markdown, with GOV.UK classes (for ``mark_safe``
    in the template filter)."""
    if not text:
        return ""
    html = _RENDERER.render(text)
    cleaned = nh3.clean(
        html, tags=ALLOWED_TAGS, attributes={"a": {"href"}}, url_schemes={"http", "https", "mailto"},
        set_tag_attribute_values=GOVUK_CLASSES, link_rel="noopener noreferrer",
    )
    # Quotes as Django's own escaping writes them (nh3 writes every attribute
    # in double quotes, so a single quote is text, or inside one, where the
    # entity means the same).
    return cleaned.replace("'", "&#x27;")
