"""Content Security Policy (django-csp, config/settings/base.py): every page carries it, none
allows inline script or style, and no template relies on either.

The exceptions are the emails' HTML (receipts, automatic top-up notices: mail clients, never a
page of the site) and templates/billing/document_pdf.html: WeasyPrint renders it to the PDF
(billing.documents_pdf), no browser ever receives it as HTML (the panel and the API serve the
PDF as an attachment), so its <style> stays where WeasyPrint reads it, with no fetcher at all.
"""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tests import factories as f

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"
PDF_ONLY = {"billing/document_pdf.html"}
# Read by mail clients, which drop <link>ed and most <style> stylesheets: inline style is how an
# email is styled, and no page of the site serves them (billing.receipts, billing.auto_topups,
# billing.dunning).
EMAIL_ONLY = {
    "billing/receipt_email.html",
    "billing/auto_topup_failed_email.html",
    "billing/dunning_email.html",
}

# What a CSP without 'unsafe-inline' blocks (or a policy-free page would need): inline <script>
# (one with a src is a file), <style> blocks, style="" attributes, on*="" event handlers, and
# javascript: URLs.
INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style\b", re.I), "<style> block"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "inline event handler"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def directives(header: str) -> dict[str, list[str]]:
    parts = (part.strip().split() for part in header.split(";") if part.strip())
    return {name: sources for name, *sources in parts}


def assert_strict(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    policy = directives(header)
    assert "'unsafe-inline'" not in header and "'unsafe-eval'" not in header
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    return policy


def test_no_template_has_inline_script_style_or_handlers():
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        name = path.relative_to(TEMPLATES).as_posix()
        if name in PDF_ONLY | EMAIL_ONLY:
            continue
        text = path.read_text()
        for pattern, what in INLINE:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{name}:{line}: {what}: {match.group(0).strip()}")
    assert found == []


def test_the_scan_would_catch_each_kind():
    samples = [
        "<script>alert(1)</script>",
        "<style>p{}</style>",
        '<p style="color:red">',
        '<form onsubmit="return confirm()">',
        '<a href="javascript:void(0)">',
    ]
    for sample, (pattern, _) in zip(samples, INLINE, strict=True):
        assert pattern.search(sample), sample
    assert not any(p.search('<script src="/static/x.js" defer></script>') for p, _ in INLINE)


def test_the_pdf_template_is_only_rendered_to_pdf(client):
    """The exempted template is WeasyPrint's input, not a page: nothing else names it."""
    sources = [
        p
        for p in Path(settings.BASE_DIR).glob("*/**/*.py")
        if ".venv" not in p.parts and "tests" not in p.parts
    ]
    users = {p.relative_to(settings.BASE_DIR).as_posix() for p in sources
             if "document_pdf.html" in p.read_text()}  # fmt: skip
    assert users == {"billing/documents_pdf.py"}


def test_a_panel_page_has_the_policy(client, provider_user):
    client.force_login(provider_user)

    response = client.get("/billing/")

    assert response.status_code == 200
    assert assert_strict(response)["img-src"] == ["'self'"]
    html = response.content.decode()
    assert '<script src="/static/dashboard/panel.js" defer></script>' in html


def test_the_login_page_has_the_policy(client):
    response = client.get("/login/")
    assert response.status_code == 200
    assert_strict(response)


def test_swagger_ui_loads_its_script_and_style_from_files(client, provider_user):
    client.force_login(provider_user)

    page = client.get("/api/v1/docs/")

    assert page.status_code == 200
    # Swagger UI's CSS draws its icons as data: SVGs: allowed as images, on this page only
    assert assert_strict(page)["img-src"] == ["'self'", "data:"]
    html = page.content.decode()
    for pattern, what in INLINE:
        assert not pattern.search(html), what
    assert '<script src="/api/v1/docs/?script=' in html
    assert "/static/api/swagger_ui.css" in html
    script = client.get("/api/v1/docs/", {"script": ""})
    assert script.status_code == 200
    assert "javascript" in script["Content-Type"] and "SwaggerUIBundle" in script.content.decode()


def test_the_admin_renders_under_the_policy(client, provider):
    """Django 5.2's admin loads every script from a file (its data rides on data- attributes);
    the one inline <style> it has (a change list without actions) is not used here."""
    admin = f.user(account=provider, username="root")
    admin.is_superuser = True
    admin.save(update_fields=["is_superuser"])
    client.force_login(admin)
    pages = ["admin:index", "admin:resellers_account_changelist", "admin:resellers_account_add"]

    for url in (reverse(name) for name in pages):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_strict(response)
        html = response.content.decode()
        inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html)
        assert inline == [], (url, inline)
        assert "<style" not in html, url
