"""The GOV.UK page template and its assets, served from our own static files."""

from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.urls import reverse


def test_govuk_frontend_assets_are_found_from_node_modules():
    assert finders.find("govuk/govuk-frontend.min.css"), "run `npm ci` (make does)"
    assert finders.find("govuk/govuk-frontend.min.js")
    assert finders.find("js/init.js")
    assert (Path(settings.WHITENOISE_ROOT) / "assets" / "fonts").is_dir()


def test_sign_in_page_uses_the_govuk_template(client):
    body = client.get(reverse("login")).content.decode()
    assert 'class="govuk-template"' in body
    assert "govuk-skip-link" in body
    assert "govuk-phase-banner" in body
    assert "call 999" in body
    assert 'type="module" src="/static/js/init.js"' in body
    # No inline script or style: a strict Content-Security-Policy needs none.
    assert "<script>" not in body and " style=" not in body and "<style" not in body


def test_fonts_are_served_where_the_compiled_css_asks(client, settings):
    from whitenoise.middleware import WhiteNoiseMiddleware  # noqa: F401

    css = Path(finders.find("govuk/govuk-frontend.min.css")).read_text()
    assert "url(/assets/fonts/" in css
    font = next((Path(settings.WHITENOISE_ROOT) / "assets" / "fonts").glob("*.woff2"))
    response = client.get(f"/assets/fonts/{font.name}")
    assert response.status_code == 200
