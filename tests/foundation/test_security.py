"""Security headers on every response (app.security), and no inline script or style anywhere."""
from __future__ import annotations

import re
from pathlib import Path

from app import create_app
from config import ProductionConfig
from tests.security import NONCE, assert_security_headers, directives

APP = Path(__file__).resolve().parents[2] / "app"
SCRIPT_TAG = re.compile(r"<script\b[^>]*>", re.I)
# What a browser would refuse under style-src 'self' and script-src without 'unsafe-inline'.
INLINE = {
    "a <style> block": re.compile(r"<style\b", re.I),
    "a style attribute": re.compile(r"""\sstyle\s*=\s*["'{]""", re.I),
    "an on* handler": re.compile(
        r"""\son(?:click|dblclick|load|unload|beforeunload|error|change|input|submit|reset|focus\w*|blur"""
        r"""|key\w+|mouse\w+|pointer\w+|touch\w+|select|scroll|resize|drag\w*|drop|copy|cut|paste"""
        r"""|contextmenu|wheel|animation\w+|transition\w+|hashchange|popstate|toggle|invalid)\s*=""", re.I),
    "a javascript: link": re.compile(r"javascript:", re.I),
}


def _is_email(path: Path) -> bool:
    # E-mails are read in mail programs, which ignore stylesheets: they keep their inline styles
    # and are never served as pages.
    return "emails" in path.relative_to(APP).parts


def _inline_code(text: str) -> list[str]:
    found = [what for what, pattern in INLINE.items() if pattern.search(text)]
    return found + ["an inline <script>" for tag in SCRIPT_TAG.findall(text) if "src=" not in tag]


def _problems(path: Path) -> list[str]:
    return [f"{path.relative_to(APP)}: {what}" for what in _inline_code(path.read_text(encoding="utf-8"))]


def test_no_template_has_inline_script_or_style():
    templates = [p for p in (APP / "templates").rglob("*.html") if not _is_email(p)]
    assert len(templates) > 50
    problems = [problem for path in templates for problem in _problems(path)]
    assert not problems, "\n".join(problems)


def test_no_python_module_writes_inline_script_or_style():
    problems = [problem for path in APP.rglob("*.py") for problem in _problems(path)]
    assert not problems, "\n".join(problems)


def test_the_scan_catches_each_kind_of_inline_code():
    page = ('<p style="color: red" onclick="go()"><style>p{}</style><script>go()</script>'
            '<a href="javascript:go()">x</a><script src="/static/app.js"></script>'
            "<a href=\"{{ url_for('reports.mix', only='all') }}\">all</a>")
    assert len(_inline_code(page)) == 5


def test_a_page_has_every_security_header_and_its_one_script_carries_the_nonce(client):
    response = client.get("/programme")
    assert response.status_code == 200
    assert_security_headers(response)
    assert "Strict-Transport-Security" not in response.headers  # not outside production
    [nonce] = NONCE.findall(directives(response)["script-src"])
    tags = SCRIPT_TAG.findall(response.get_data(as_text=True))
    inline = [tag for tag in tags if "src=" not in tag]
    assert inline == [f'<script nonce="{nonce}">'], "only GOV.UK's js-enabled script, with the nonce"
    assert all('type="module"' in tag for tag in tags if "src=" in tag)
    again = client.get("/programme")
    assert NONCE.findall(directives(again)["script-src"]) != [nonce], "a fresh nonce per response"


def test_signed_in_pages_error_pages_and_calendar_feeds_are_not_stored(client, login_as, make_user):
    assert_security_headers(client.get("/no-such-page"))
    assert_security_headers(client.get("/programme.ics"))
    login_as(make_user())
    for path in ("/my-bookings", "/account"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_security_headers(response)


def test_static_files_may_be_cached_but_keep_the_other_headers(client):
    response = client.get("/static/app.css")
    assert response.status_code == 200
    assert_security_headers(response, no_store=False)
    assert "no-store" not in response.headers.get("Cache-Control", "")
    response.close()


def test_hsts_only_in_production():
    class Production(ProductionConfig):
        SECRET_KEY = "a-long-random-production-secret"
        SQLALCHEMY_DATABASE_URI = "sqlite://"

    response = create_app(Production).test_client().get("/no-such-page")
    assert response.status_code == 404
    assert_security_headers(response)
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
