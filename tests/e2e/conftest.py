"""Browser journeys: the real app served over HTTP in a thread, driven in Debian's Chromium.

`live_server` serves the same database the tests use (with CSRF on, as in production);
`browser_page` is a Playwright page; `assert_accessible(page)` runs axe-core in the page. The
content security policy is enforced as in production, and a journey fails if the browser refuses
anything under it (a `securitypolicyviolation` event or a console error naming the policy).
"""
from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from tests.conftest import TEST_PASSWORD, make_test_config

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


class LiveServer:
    def __init__(self, app):
        self.app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self):
        self._thread.start()

    def stop(self):
        self._server.shutdown()
        self._thread.join(timeout=5)


@pytest.fixture
def live_server(app, smtp_server):
    """Serve a second app instance (CSRF on, links built on the server's own URL)."""
    from app import create_app

    served = create_app(make_test_config(smtp_server.port, WTF_CSRF_ENABLED=True))
    server = LiveServer(served)
    served.config["BASE_URL"] = server.url
    app.config["BASE_URL"] = server.url
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# Runs before any page script (Playwright injects it, outside the page's policy).
REPORT_VIOLATIONS = """
document.addEventListener('securitypolicyviolation', (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || 'inline code'}`
    + ` at ${event.sourceFile || document.location.href}:${event.lineNumber}`)
})
"""


class _PolicyWatch:
    """Console errors in which the browser says the content security policy refused something."""

    def __init__(self, context):
        self.violations: list[str] = []
        context.add_init_script(REPORT_VIOLATIONS)
        context.on("console", self._on_console)

    def _on_console(self, message) -> None:
        text = message.text
        if message.type == "error" and ("CSP violation" in text or "Content Security Policy" in text):
            self.violations.append(f"{message.page.url if message.page else '?'}: {text}")

    def check(self) -> None:
        assert not self.violations, "Content security policy violations:\n" + "\n".join(self.violations)


@pytest.fixture
def open_page(chromium, live_server):
    """Open a page in a fresh browser context: open_page(viewport=..., accept_downloads=True).

    Every context is watched for content security policy violations and closed at the end.
    """
    opened = []

    def _open(**options):
        context = chromium.new_context(base_url=live_server.url, **options)
        opened.append((context, _PolicyWatch(context)))
        page = context.new_page()
        page.set_default_timeout(15000)
        return page

    yield _open
    for context, _watch in opened:
        context.close()
    for _context, watch in opened:
        watch.check()


@pytest.fixture
def browser_page(open_page):
    return open_page(viewport={"width": 1280, "height": 900})


@pytest.fixture
def phone_page(open_page):
    """A phone-sized page (trainers mark registers on their phones)."""
    return open_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)


def assert_accessible(page) -> None:
    """Run axe-core (WCAG 2.2 A and AA rules) in the page and fail on any violation."""
    # After a click the next page may still be arriving: check it once its <main> is there.
    page.wait_for_load_state()
    page.locator("main").wait_for()
    # Evaluated through DevTools rather than added as an inline <script>, which the policy refuses.
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        """async () => await axe.run(document, {runOnly: {type: 'tag',
            values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}})"""
    )
    violations = [
        {"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
    ]
    assert not violations, f"axe-core on {page.url}:\n" + json.dumps(violations, indent=2)


def sign_in(page, email: str, password: str = TEST_PASSWORD) -> None:
    """Sign in through the form and wait until the signed-in page has arrived.

    Going to the next address while the sign-in's redirect is still loading races the browser's
    own navigation; wait for it to finish first.
    """
    page.goto("/sign-in")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/sign-in"))
    page.wait_for_load_state()
