"""The content security policy, enforced by a real browser.

The journeys' context bypasses CSP so that axe can be injected; this one
does not. Every page visited must load without a single violation, and
GOV.UK Frontend's JavaScript (an external module) must still run under it.
"""

from __future__ import annotations

import pytest

from tests.e2e.test_journey import sign_in, sign_out
from tests.web.conftest import owned_case  # noqa: F401  (the fixture)

PAGES = ["/", "/referrals/new/", "/notifications/", "/api/docs/"]


@pytest.fixture
def strict_context(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    yield context
    context.close()


def watch(page) -> list[str]:
    problems: list[str] = []
    page.on("console", lambda msg: msg.type == "error" and problems.append(f"console on {page.url}: {msg.text[:80]}"))
    page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
    return problems


def test_pages_run_under_the_policy_without_violations(live_server, strict_context, cast, owned_case):
    page = strict_context.new_page()
    problems = watch(page)

    response = page.goto(f"{live_server.url}/accounts/login/")
    policy = response.headers["content-security-policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy

    sign_in(page, live_server, cast.user("owner", "manager"))
    for path in [*PAGES, f"/cases/{owned_case.pk}/"]:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        if path != "/api/docs/":
            # The module script ran: GOV.UK Frontend marked the page as supported.
            assert "govuk-frontend-supported" in page.eval_on_selector("body", "b => b.className"), path
    # The API documentation (Swagger UI) rendered from its external init script.
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".swagger-ui .info", timeout=15_000)
    page.goto(f"{live_server.url}/")
    sign_out(page)

    violations = [p for p in problems if "Content Security Policy" in p or "pageerror" in p]
    assert violations == [], violations


def test_an_injected_inline_script_is_refused(live_server, strict_context, cast):
    """The policy is not decorative: a script smuggled into a page does not run."""
    page = strict_context.new_page()
    problems = watch(page)
    page.goto(f"{live_server.url}/accounts/login/")
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.__pwned = true'; document.body.appendChild(s); }"
    )
    assert page.evaluate("() => window.__pwned === true") is False
    assert any("Content Security Policy" in p for p in problems), problems
