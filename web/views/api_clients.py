"""An agency administrator's page for their agency's partner-API clients:
list, issue (the secret is shown once, in the response to the POST, and
kept nowhere else) and revoke.

Anyone but an administrator of an agency gets the 403 page (the service's
``NotAllowed``, asked first so nothing is listed); another agency's client
is a 404."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from agencies import services
from agencies.models import ApiClient, ApiScope, Role
from referrals.errors import DomainError
from referrals.web import add_domain_error, page, posted
from safeguarding import access


class IssueForm(forms.Form):
    """Parses only; the service says what is missing or wrong."""

    name = forms.CharField(
        label="Client name", required=False,
        help_text="The partner system's name, e.g. Police case system",
    )
    scopes = forms.MultipleChoiceField(
        label="What may it do?", required=False, choices=ApiScope.choices, widget=forms.CheckboxSelectMultiple,
        help_text="Select all that apply. Adding to cases needs reading them too.",
    )


def _require_admin(actor) -> None:
    if actor.agency is None or not actor.has_role(Role.AGENCY_ADMIN):
        raise access.NotAllowed("Only the agency's administrators manage API clients")


def _clients(actor):
    return ApiClient.objects.filter(agency=actor.agency).select_related("application").order_by("revoked_at", "name")


@never_cache
@page
def api_clients(request):
    actor = request.actor
    _require_admin(actor)
    form = IssueForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            client, secret = services.api_client_issue(
                actor=actor, name=form.cleaned_data["name"], scopes=form.cleaned_data["scopes"],
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            # Rendered, not redirected: the secret exists only in this response.
            return render(request, "referrals/api_client_issued.html", {"client": client, "secret": secret})
    return render(request, "referrals/api_clients.html", {
        "actor": actor, "clients": list(_clients(actor)), "form": form, "scope_labels": dict(ApiScope.choices),
    })


@page
def api_client_revoke(request, client_id: int):
    actor = request.actor
    _require_admin(actor)
    client = _clients(actor).filter(pk=client_id).first()
    if client is None:
        raise access.NotVisible("No such API client")
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
