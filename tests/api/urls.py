"""The API's routes alone, as config/urls.py mounts them: the API tests run
against these so that they test the API whatever the web pages are doing
(test_wiring.py checks config/urls.py mounts the same)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from oauth2_provider import views as oauth2_views

urlpatterns = [
    path("o/token/", oauth2_views.TokenView.as_view(), name="oauth2-token"),
    path("o/revoke_token/", oauth2_views.RevokeTokenView.as_view(), name="oauth2-revoke-token"),
    path("api/v1/", include("api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
