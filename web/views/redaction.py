"""Pages of redaction (issue 18): withholding words of a chronology entry,
a referral's account or an intervention from other agencies, and the
chronology as a spreadsheet, as the reader's agency may see it.

Who may withhold is ``access.may_withhold_passage`` (the author's agency);
what each agency is then shown is ``safeguarding.redaction.shown``."""

from __future__ import annotations

from django.contrib import messages
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from agencies import selectors as agency_selectors
from casework import selectors
from lib.errors import DomainError
from lib.spreadsheets import csv_lines
from safeguarding import access, redaction
from safeguarding.models import RecordField
from web import forms
from web.kit import add_domain_error, page, posted

CHRONOLOGY_COLUMNS = ["When", "Recorded", "Kind", "Agency", "Author", "Who can see it", "Corrects", "Entry"]


def _withhold_page(request, *, record, fields: list[str], back: str, caption: str, title: str, partnership_id):
    actor = request.actor
    if not access.may_withhold_passage(actor, record):
        raise access.NotAllowed("Only the author's agency withholds words of this record")
    access.log_access(actor, "view", record)
    choices = [(name, RecordField(redaction.FIELDS[type(record)][name]).label.split(": ")[-1]) for name in fields]
    agencies = [
        (str(a.pk), a.name) for a in agency_selectors.directory(partnership=partnership_id, exclude=actor.agency.pk)
    ]
    form = forms.WithholdForm(posted(request), fields=choices, agencies=agencies)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            redaction.passage_withhold(
                actor=actor, record=record, field=data["field"], passage=data["passage"], whole=data["whole"],
                category=data["category"], withheld_from=data["withheld_from"],
                agencies=[int(pk) for pk in data["agencies"]], released_to=[int(pk) for pk in data["released_to"]],
                ask=data["ask"], reason=data["reason"],
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, "The words are withheld. Other agencies see a marker in their place.")
            return redirect(back)
    texts = [(label, redaction.shown(actor, record, name)) for name, label in choices]
    return render(request, "safeguarding/withhold.html", {
        "form": form, "title": title, "caption": caption, "back": back, "texts": texts,
        "withheld": redaction.passages_of(actor, record),
    })


@page
def note_withhold(request, case_id: int, note_id: int):
    case = access.get_case(request.actor, case_id, log=False)
    note = selectors.case_note(request.actor, case, note_id)
    return _withhold_page(
        request, record=note, fields=["text"], back=reverse("case-detail", args=[case.pk]) + "#chronology",
        caption=f"Case {case.reference}: {case.young_person.display_name}",
        title=f"Withhold words of the entry of {timezone.localtime(note.occurred_at):%-d %b %Y %H:%M}",
        partnership_id=case.partnership_id,
    )


@page
def intervention_withhold(request, case_id: int, intervention_id: int):
    case = access.get_case(request.actor, case_id, log=False)
    intervention = selectors.case_intervention(request.actor, case, intervention_id)
    return _withhold_page(
        request, record=intervention, fields=["goals", "outcome"], back=reverse("case-detail", args=[case.pk]),
        caption=f"Case {case.reference}: {case.young_person.display_name}",
        title=f"Withhold words of the intervention: {intervention.get_kind_display()}",
        partnership_id=case.partnership_id,
    )


@page
def referral_withhold(request, referral_id: int):
    referral = access.get_referral(request.actor, referral_id, log=False)
    return _withhold_page(
        request, record=referral, fields=["account"], back=reverse("referral-detail", args=[referral.pk]),
        caption=f"Referral {referral.reference}", title="Withhold words of the referral",
        partnership_id=referral.partnership_id,
    )


@page
def passage_release(request, passage_id: int):
    actor = request.actor
    passage = redaction.passage_for_author(actor, passage_id)
    record = redaction.record_of(passage)
    back = (reverse("referral-detail", args=[passage.referral_id]) if passage.referral_id is not None
            else reverse("case-detail", args=[passage.case_id]))
    released = {a.pk for a in passage.released_to.all()}
    agencies = [
        (str(a.pk), a.name) for a in agency_selectors.directory(partnership=passage.partnership_id,
                                                                exclude=passage.agency_id)
        if a.pk not in released
    ]
    form = forms.ReleaseForm(posted(request), agencies=agencies)
    if request.method == "POST" and form.is_valid():
        try:
            redaction.passage_release(actor=actor, passage=passage, reason=form.cleaned_data["reason"],
                                      agencies=[int(pk) for pk in form.cleaned_data["agencies"]])
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, "The words are released to the agencies chosen.")
            return redirect(back)
    access.log_access(actor, "view", record)
    return render(request, "safeguarding/release.html", {"form": form, "passage": passage, "back": back})


@page
def chronology_export(request, case_id: int):
    """The chronology the reader's agency may see, as a spreadsheet: every
    entry's text through ``redaction.shown``, the export in the access log."""
    actor = request.actor
    # Break-glass opens the case page to read, never an export (issue 18).
    case = access.get_case(actor, case_id, log=False, by_break_glass=False)
    notes = list(selectors.case_notes(actor, case).select_related("corrects").order_by("occurred_at", "pk"))
    access.log_access(actor, "export", case, detail={"format": "csv", "what": "chronology",
                                                     "ids": [n.pk for n in notes]})

    def rows():
        yield CHRONOLOGY_COLUMNS
        for n in notes:
            yield [
                timezone.localtime(n.occurred_at).isoformat(timespec="minutes"),
                timezone.localtime(n.recorded_at).isoformat(timespec="minutes"), n.get_kind_display(),
                n.agency.name, n.author.get_full_name() or n.author.get_username(), n.get_visibility_display(),
                str(n.corrects_id or ""), redaction.shown(actor, n, "text"),
            ]

    response = StreamingHttpResponse(csv_lines(rows()), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="chronology-{case.reference}-{timezone.localdate():%Y-%m-%d}.csv"'
    )
    return response
