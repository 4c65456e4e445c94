"""Home pages per role, and the manager's caseload export. Thin: each asks
``casework.selectors``, which ask the access
policy. Referral intake is in ``views_referral``, screening in
``views_screening`` and the case pages in ``views_case``."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from agencies.models import Role
from casework import selectors
from contextwork import selectors as context_selectors
from lib.spreadsheets import csv_lines
from safeguarding import access
from web import charts
from web.kit import page, paginate


@page
def home(request):
    actor = request.actor
    today = timezone.localdate()
    context = {
        "actor": actor, "today": today, "due_soon": today + timezone.timedelta(days=selectors.DUE_SOON_DAYS),
        "edits_partnership_settings": access.may_edit_partnership_settings(actor),
        "sees_settings_history": access.may_see_partnership_settings_history(actor),
        "reads_monitoring": access.may_read_monitoring(actor),
    }
    shown_cases = []
    if actor.has_role(Role.PRACTITIONER):
        context["my_cases"] = paginate(request, selectors.my_cases(actor), param="mine")
        context["my_referrals"] = selectors.my_referrals(actor)
        context["show_mine"] = True
        shown_cases += list(context["my_cases"].object_list)
    if actor.screens_referrals:
        queue = paginate(request, selectors.screening_queue(actor), param="queue")
        selectors.with_time_left(queue.object_list)
        context.update(queue=queue, show_queue=True,
                       open_enquiries=selectors.enquiries_received(actor).filter(status="open").count())
    if actor.has_role(Role.MANAGER):
        figures = selectors.referral_outcomes_by_month(actor, today)
        context.update(
            loads=selectors.caseload_by_key_worker(actor, today),
            late_referrals=selectors.late_referrals(actor),
            quiet_cases=selectors.quiet_cases(actor),
            figures=figures,
            chart=charts.chart_bars(figures),
            show_manager=True,
        )
        shown_cases += context["quiet_cases"]
    if actor.works_cases:
        context["my_actions"] = context_selectors.my_actions(actor)
        context.update(cases=paginate(request, selectors.caseload(actor)), show_cases=True)
        shown_cases += list(context["cases"].object_list)
    if shown_cases:
        selectors.log_page(actor, "case", {c.pk: c for c in shown_cases}.values())
    return render(request, "referrals/home.html", context)


# Cases read per query while the export streams: memory stays flat
# whatever the size of the caseload.
EXPORT_CHUNK = 500
CASELOAD_COLUMNS = ["Case", "Young person", "Date of birth", "Risk", "Key worker", "Opened", "Next review"]


@page
def caseload_export(request):
    """The agency's open caseload as CSV, for its managers; written to the
    access log as an export, naming every case the file can hold.

    The rows stream: the ids are read (and logged) first, then the cases a
    chunk at a time while the response is sent, each chunk through the same
    selector, so a case that left the caseload in between is left out and
    nothing is written that the log does not name. Every cell is defused
    for spreadsheets (``lib.spreadsheets``).
    """
    actor = request.actor
    if not actor.has_role(Role.MANAGER):
        raise PermissionDenied("Only managers export the caseload")
    ids = list(selectors.agency_cases(actor).order_by("reference").values_list("pk", flat=True))
    access.log_access(actor, "export", object_type="case", detail={"format": "csv", "ids": ids})
    response = StreamingHttpResponse(csv_lines(_caseload_rows(actor, ids)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="caseload-{timezone.localdate():%Y-%m-%d}.csv"'
    return response


def _caseload_rows(actor, ids: list[int]):
    yield CASELOAD_COLUMNS
    # The response is sent after the request's middleware has left the
    # actor's partnership: the rows are read back inside it.
    with access.within_partnership(actor):
        for start in range(0, len(ids), EXPORT_CHUNK):
            chunk = ids[start:start + EXPORT_CHUNK]
            found = selectors.agency_cases(actor).filter(pk__in=chunk).select_related("young_person", "key_worker")
            cases = {case.pk: case for case in found}
            for case in (cases[pk] for pk in chunk if pk in cases):
                worker = case.key_worker.get_full_name() or case.key_worker.get_username() if case.key_worker else ""
                yield [
                    case.reference, case.young_person.display_name, case.young_person.date_of_birth.isoformat(),
                    case.get_risk_level_display(), worker, timezone.localtime(case.opened_at).date().isoformat(),
                    case.next_review_due.isoformat() if case.next_review_due else "",
                ]
