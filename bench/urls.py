"""The product's URLs plus one bare Django JSON view, the baseline the
intake throughput is compared with (served by the same gunicorn, settings
and middleware). Used only by ``bench.settings``."""

from django.http import JsonResponse
from django.urls import include, path


def bare(request):
    return JsonResponse({"ok": True})


handler500 = "config.errors.server_error"  # as config.urls: handlers are the root URLconf's
handler400 = "config.errors.bad_request"

urlpatterns = [
    path("bench/bare/", bare, name="bench-bare"),
    path("", include("config.urls")),
]
