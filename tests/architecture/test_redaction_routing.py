"""Every read of a record's free text goes through the one redaction
decision (``safeguarding.redaction.shown``; issue 18).

The words withheld are not in the records' fields (they hold a token), so a
read that forgets redaction leaks nothing; it shows a token instead of the
words or the marker. These checks catch that: a template or an output
serializer reading a chronology entry's text, a referral's account or an
intervention's goals or outcome directly fails here."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from rest_framework import serializers

from api import serializers as s

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
READ = re.compile(r"\b(\w+)\.(text|account|goals|outcome)\b")

# Reads of fields with these names that are not a case record's free text.
NOT_CASE_RECORDS = {
    ("contexts/detail.html", "note.text"): "a context's chronology (ContextNote), not a case's",
    ("contexts/form.html", "original.text"): "a context's chronology (ContextNote), not a case's",
    ("panels/detail.html", "minute.text"): "a panel's minutes",
    ("partnerships/awareness.html", "indicator.text"): "the vocabulary",
    ("partnerships/awareness_print.html", "indicator.text"): "the vocabulary",
    ("partnerships/concern_form.html", "indicator.text"): "the vocabulary",
    ("partnerships/settings.html", "indicator.text"): "the vocabulary",
    ("referrals/referral_indicators.html", "indicator.text"): "the vocabulary",
    ("partnerships/indicator_form.html", "form.text"): "a form field",
    ("referrals/referral_account.html", "form.account"): "a form field",
    ("referrals/referral_check.html", "draft.account"): "the referrer's own words, before the referral exists",
    ("referrals/referral_check.html", "e.text"): "an error message",
    ("referrals/home.html", "label.text"): "a chart's label",
    ("referrals/case_detail.html", "case.outcome"): "the case's closure outcome (not a field passages are withheld from)",
    ("referrals/includes/transfer_panel.html", "entry.text"):
        "the chronology as sent to another partnership, redacted when sent (casework.transfers)",
    ("safeguarding/withhold.html", "p.text"): "the author's agency's own withheld words, listed only to it",
    ("safeguarding/release.html", "passage.text"): "the words being released, shown only to the author's agency",
    ("monitoring/bar_chart.html", "bar.text"): "a monitoring figure's words (a count, or 'fewer than 5'), no record's",
    ("monitoring/report.html", "cell.text"): "a monitoring figure's words (a count, or 'fewer than 5'), no record's",
    ("monitoring/report.html", "item.text"): "a monitoring figure's words (a count, or 'fewer than 5'), no record's",
    ("monitoring/report.html", "total.text"): "a monitoring figure's words (a count, or 'fewer than 5'), no record's",
    ("monitoring/report.html", "ward.text"): "a monitoring figure's words (a count, or 'fewer than 5'), no record's",
}
FREE_TEXT = {"text", "account", "goals", "outcome"}
# Output serializers' fields of those names that are not a case record's free text.
NOT_CASE_RECORD_FIELDS = {("CaseOut", "outcome"): "the case's closure outcome", ("IndicatorOut", "text"): "the vocabulary"}


def test_no_template_reads_a_records_free_text_directly():
    found = set()
    for path in TEMPLATES.rglob("*.html"):
        name = path.relative_to(TEMPLATES).as_posix()
        for match in READ.finditer(path.read_text()):
            found.add((name, match.group(0)))
    unexplained = sorted(found - set(NOT_CASE_RECORDS))
    assert not unexplained, (
        "Show a record's free text with {% shown record \"field\" as words %} (web/templatetags/redaction.py), "
        f"or say here why it is not a case record's: {unexplained}"
    )
    assert set(NOT_CASE_RECORDS) <= found, f"stale entries: {sorted(set(NOT_CASE_RECORDS) - found)}"


def test_every_output_serializer_shows_free_text_through_redaction():
    checked = []
    for name, cls in inspect.getmembers(s, inspect.isclass):
        if not issubclass(cls, serializers.Serializer) or not name.endswith("Out"):
            continue
        for field_name, field in cls._declared_fields.items():
            if field_name in FREE_TEXT and (name, field_name) not in NOT_CASE_RECORD_FIELDS:
                assert isinstance(field, s.Shown), f"{name}.{field_name} must be a Shown field"
                checked.append(f"{name}.{field_name}")
    assert sorted(checked) == ["InterventionOut.goals", "InterventionOut.outcome", "NoteOut.text",
                               "ReferralOut.account"]


def test_a_shown_field_without_an_actor_shows_markers_only(db):
    """Forgetting to pass the actor fails closed."""
    from referrals.models import CaseNote

    note = CaseNote(pk=10**12, text="Met ⟦withheld:1⟧ at school")
    assert s.NoteOut().fields["text"].to_representation(note) == "Met [withheld — ask the case's lead] at school"
