"""The partnership's monitoring, for its reporting analysts: referrals,
cases, interventions, disproportionality, and contexts and panels by
quarter of a financial year, each chart with its table, the ward map, and
exports as CSV and OpenDocument. Thin: the figures come from
``monitoring.figures`` (the pseudonymised reporting schema, small numbers
suppressed); every page and export is written to the access log."""

from __future__ import annotations

from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from lib.spreadsheets import csv_lines
from monitoring import exports, figures
from safeguarding import access
from web import charts
from web.forms import MonitoringFiltersForm
from web.kit import page

EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
}


def _report(request, name: str):
    actor = request.actor
    if not access.may_read_monitoring(actor):
        raise access.NotAllowed("The monitoring is for the partnership's reporting analysts")
    if name not in figures.REPORTS:
        raise Http404
    years = figures.years(actor)
    form = MonitoringFiltersForm(
        request.GET or None, years=years, wards=figures.wards(actor), concerns=figures.concerns(actor),
        not_known=figures.WARD_NOT_KNOWN,
    )
    year, ward, concern = form.chosen(years[0])
    filters = figures.Filters(year=year, ward=ward, concern=concern)
    return form, figures.build(actor, name, filters)


@page
def report(request, name: str):
    form, built = _report(request, name)
    figures.log_reading(request.actor, name, built.filters)
    tables = [
        {"table": t, "chart": charts.chart_table(t.protected, t.measure)} for t in built.tables
    ]
    context = {
        "form": form, "report": built, "tables": tables, "reports": figures.REPORTS,
        "query": request.GET.urlencode() if form.is_bound and form.is_valid() else "",
    }
    if name == "referrals":
        context["map"] = charts.ward_map(figures.ward_map(request.actor, built))
    if "on_time" in built.extra:
        rows = built.extra["on_time"]
        context["on_time_chart"] = {
            **charts.chart_shares([r["period"] for r in rows], [r["value"] for r in rows], [r["share"] for r in rows]),
            "measure": "the share of panel actions completed on time (a full bar is 100%)",
        }
    return render(request, "monitoring/report.html", context)


@page
def export(request, name: str, kind: str):
    if kind not in EXPORT_TYPES:
        raise Http404
    _form, built = _report(request, name)
    figures.log_reading(request.actor, name, built.filters, export=kind)
    filename = f"monitoring-{name}-{built.filters.year}-{timezone.localdate():%Y-%m-%d}.{kind}"
    if kind == "csv":
        response = StreamingHttpResponse(csv_lines(exports.report_rows(built)), content_type=EXPORT_TYPES[kind])
    else:
        response = HttpResponse(exports.ods_bytes(built), content_type=EXPORT_TYPES[kind])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
