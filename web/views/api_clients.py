"""An agency administrator's page for their agency's partner-API clients:
list (with the partnership each works in), issue (for an agency in several
partnerships, in the one chosen; the secret is shown once, in the response
to the POST, and kept nowhere else) and revoke.

Anyone but an administrator of an agency gets the 403 page (the service's
``NotAllowed``, asked first so nothing is listed); another agency's client
is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from agencies.models import ApiScope
from api import selectors, services
from lib.errors import DomainError
from safeguarding import access
from web import forms
from web.kit import add_domain_error, page, posted


@never_cache
@page
def api_clients(request):
    actor = request.actor
    clients = list(selectors.agency_api_clients(actor))
    partnerships = access.partnerships_of(actor.agency)
    form = forms.ApiClientIssueForm(posted(request), partnerships=partnerships)
    if request.method == "POST" and form.is_valid():
        try:
            client, secret = services.api_client_issue(
                actor=actor, name=form.cleaned_data["name"], scopes=form.cleaned_data["scopes"],
                partnership=form.cleaned_data.get("partnership"),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            # Rendered, not redirected: the secret exists only in this response.
            return render(request, "referrals/api_client_issued.html", {"client": client, "secret": secret})
    return render(request, "referrals/api_clients.html", {
        "actor": actor, "clients": clients, "form": form, "scope_labels": dict(ApiScope.choices),
    })


@page
def api_client_revoke(request, client_id: int):
    actor = request.actor
    client = selectors.agency_api_client(actor, client_id)
    error = None
    if request.method == "POST":
        try:
            services.api_client_revoke(actor=actor, client=client)
        except DomainError as refusal:
            error = refusal.message
        else:
            messages.success(request, f"API client {client.name} revoked: its tokens no longer work")
            return redirect("api-clients")
    return render(request, "referrals/api_client_revoke.html", {"client": client, "error": error})
