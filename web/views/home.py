"""Home pages per role, and the manager's caseload export. Thin: each asks
``casework.selectors``, which ask the access
policy. Referral intake is in ``views_referral``, screening in
``views_screening`` and the case pages in ``views_case``."""

from __future__ import annotations

import csv

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from agencies.models import Role
from casework import selectors
from contextwork import selectors as context_selectors
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


@page
def caseload_export(request):
    """The agency's open caseload as CSV, for its managers; written to the
    access log as an export."""
    actor = request.actor
    if not actor.has_role(Role.MANAGER):
        raise PermissionDenied("Only managers export the caseload")
    cases = list(selectors.agency_cases(actor).select_related("young_person", "key_worker").order_by("reference"))
    access.log_access(actor, "export", object_type="case", detail={"format": "csv", "ids": [c.pk for c in cases]})
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="caseload-{timezone.localdate():%Y-%m-%d}.csv"'
    writer = csv.writer(response)
    writer.writerow(["Case", "Young person", "Date of birth", "Risk", "Key worker", "Opened", "Next review"])
    for case in cases:
        worker = case.key_worker.get_full_name() or case.key_worker.get_username() if case.key_worker else ""
        writer.writerow([
            case.reference, _safe(case.young_person.display_name), case.young_person.date_of_birth.isoformat(),
            case.get_risk_level_display(), _safe(worker), timezone.localtime(case.opened_at).date().isoformat(),
            case.next_review_due.isoformat() if case.next_review_due else "",
        ])
    return response


def _safe(text: str) -> str:
    # A cell starting with = + - @ is a formula to a spreadsheet: defuse it.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
