from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from oauth2_provider import views as oauth2_views

from config.health import health

urlpatterns = [
    path("admin/", admin.site.urls),
    path("health/", health, name="health"),
    # The partner API: tokens (client credentials only; no authorize or
    # application-management pages), v1, its schema and docs.
    path("o/token/", oauth2_views.TokenView.as_view(), name="oauth2-token"),
    path("o/revoke_token/", oauth2_views.RevokeTokenView.as_view(), name="oauth2-revoke-token"),
    path("api/v1/", include("api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file, so the
    # page runs under the strict content security policy.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api/docs.html"),
        name="api-docs",
    ),
    path("accounts/two-factor/", include("agencies.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("web.urls")),
]

# While the database is unavailable, a 503 page or problem document, not a 500.
handler500 = "config.errors.server_error"
handler400 = "config.errors.bad_request"
