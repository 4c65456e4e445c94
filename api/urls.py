from django.urls import path, re_path, register_converter

from api import (
    auth,  # noqa: F401  (registers the OpenAPI security scheme)
    views,
)


class IdConverter:
    """A database id: up to 18 digits, so it always fits a bigint. Anything
    else falls through to the catch-all below: a 404 problem, like an id that
    is not visible."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(value)


register_converter(IdConverter, "id")

app_name = "api-v1"

urlpatterns = [
    path("agencies/", views.AgencyList.as_view(), name="agencies"),
    path("referrals/", views.ReferralListCreate.as_view(), name="referrals"),
    path("referrals/<id:referral_id>/", views.ReferralDetail.as_view(), name="referral"),
    path("young-people/matches/", views.YoungPersonMatches.as_view(), name="young-person-matches"),
    path("cases/", views.CaseList.as_view(), name="cases"),
    path("cases/<id:case_id>/", views.CaseDetail.as_view(), name="case"),
    path("cases/<id:case_id>/notes/", views.NoteListCreate.as_view(), name="notes"),
    path("cases/<id:case_id>/notes/<id:note_id>/correct/", views.NoteCorrect.as_view(), name="note-correct"),
    path("cases/<id:case_id>/interventions/", views.InterventionListCreate.as_view(), name="interventions"),
    path(
        "cases/<id:case_id>/interventions/<id:intervention_id>/", views.InterventionUpdate.as_view(),
        name="intervention",
    ),
    path("cases/<id:case_id>/reviews/", views.ReviewList.as_view(), name="reviews"),
    path("cases/<id:case_id>/context-links/", views.CaseContextLinks.as_view(), name="case-context-links"),
    path("contexts/", views.ContextListCreate.as_view(), name="contexts"),
    path("contexts/<id:context_id>/", views.ContextDetail.as_view(), name="context"),
    path("contexts/<id:context_id>/links/", views.ContextLinkList.as_view(), name="context-links"),
    re_path(r"^.*$", views.NotFound.as_view(), name="not-found"),
]
