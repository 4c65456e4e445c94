"""Browser journeys: Debian's Chromium driven by Playwright, against
pytest-django's ``live_server``, with an axe-core scan of every page.

Chromium comes from the distribution (``apt-get install chromium``; CI's
``.ci/run`` installs it when missing), never from ``playwright install``.
axe-core comes from ``node_modules`` (``npm ci``, run by ``make``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest


ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
BLOCKING_IMPACTS = {"serious", "critical"}


def known_govuk_frontend_issue(rule: str, node: dict) -> bool:
    """GOV.UK Frontend sets ``aria-expanded`` on radios that reveal
    conditional questions. The ARIA spec does not list it for radios, so axe
    calls it critical; the Design System keeps it on purpose because screen
    readers announce it (alphagov/govuk-frontend#979, listed in its known
    issues, #1280). Only that exact case is set aside, and it is reported."""
    return (
        rule == "aria-allowed-attr"
        and "govuk-radios__input" in node.get("html", "")
        and "aria-expanded" in node.get("failureSummary", "")
        and "aria-controls" in node.get("html", "")
    )


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(autouse=True)
def _orm_beside_playwright(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the test's own
    # ORM calls (setting up data, checking results) are still plain
    # synchronous ones. Allowed for these tests only, not the whole session.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does this)")
    if not AXE.exists():
        pytest.fail("node_modules/axe-core is missing: run `npm ci` (make does this)")
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


class Scanner:
    """Runs axe-core on each page a journey visits and saves a screenshot."""

    def __init__(self, test_name: str):
        self.test_name = test_name
        self.count = 0
        self.problems: list[str] = []
        self.known: list[str] = []
        self.scanned: list[str] = []
        ARTIFACTS.mkdir(exist_ok=True)

    def __call__(self, page, label: str) -> None:
        self.count += 1
        page.wait_for_load_state("load")
        page.screenshot(path=str(ARTIFACTS / f"{self.test_name}-{self.count:02d}-{label}.png"), full_page=True)
        result = self._axe(page)
        self.scanned.append(f"{label}: {page.url}")
        for violation in result["violations"]:
            if violation.get("impact") not in BLOCKING_IMPACTS:
                continue
            nodes = [n for n in violation["nodes"] if not known_govuk_frontend_issue(violation["id"], n)]
            if len(nodes) < len(violation["nodes"]):
                self.known.append(f"{label}: {violation['id']} on GOV.UK conditional-reveal radios")
            if nodes:
                targets = [n["target"] for n in nodes][:3]
                self.problems.append(f"{label} ({page.url}): {violation['id']} [{violation['impact']}] {targets}")

    @staticmethod
    def _axe(page) -> dict:
        """axe-core's findings on the page shown. A click that submits a
        form returns before the next page arrives; if it arrives while axe
        runs, the run is lost with the old page, so it runs again on the
        new one (once: a second loss is a real fault)."""
        from playwright.sync_api import Error

        def run() -> dict:
            page.add_script_tag(path=str(AXE))
            return page.evaluate(
                "async () => await axe.run(document, {resultTypes: ['violations'],"
                " runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa',"
                " 'best-practice']}})"
            )

        try:
            return run()
        except Error as error:
            if "context was destroyed" not in str(error):
                raise
        page.wait_for_load_state("load")
        return run()

    def report(self) -> None:
        (ARTIFACTS / f"{self.test_name}-axe.json").write_text(
            json.dumps({"pages": self.scanned, "serious_or_critical": self.problems,
                        "known_govuk_frontend_issue": self.known}, indent=2)
        )


@pytest.fixture
def context(browser):
    # bypass_csp: axe is injected by the test, not served by the app, so a
    # strict Content-Security-Policy on the pages must not block it.
    context = browser.new_context(bypass_csp=True, accept_downloads=True, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    yield context
    context.close()


@pytest.fixture
def scan(request):
    scanner = Scanner(request.node.name)
    yield scanner
    scanner.report()
