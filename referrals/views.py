"""Pages for casework. Thin: each asks a selector, which asks the access policy."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render

from agencies.models import Agency
from referrals import selectors
from safeguarding.decorators import actor_required


@actor_required
def home(request):
    actor = request.actor
    page = Paginator(selectors.caseload(actor), 25).get_page(request.GET.get("page"))
    if page.object_list:
        selectors.log_list(actor, "case", page.object_list)
    referrals = selectors.recent_referrals(actor)
    if referrals:
        selectors.log_list(actor, "referral", referrals)
    return render(
        request,
        "referrals/home.html",
        {
            "actor": actor,
            "cases": page,
            "referrals": referrals,
            "agencies": Agency.objects.filter(is_active=True).order_by("kind", "name"),
        },
    )


@actor_required
def case_detail(request, case_id: int):
    return render(request, "referrals/case_detail.html", {"file": selectors.case_file(request.actor, case_id)})
