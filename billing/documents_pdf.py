"""A document's PDF: its sheet (billing.document_layout) rendered from the Django template
`billing/document_pdf.html` by WeasyPrint. The panels' /documents/<pk>/pdf/ and the API's
documents/{id}/pdf/ serve it; both decide first who may see the document.

A draft prints too, watermarked DRAFT, with "Not issued yet" for its date and the sums of its
lines for totals. WeasyPrint needs Pango and HarfBuzz-Subset (Debian: libpango-1.0-0,
libpangoft2-1.0-0, libharfbuzz-subset0) and a font (fonts-dejavu-core); bin/_common.sh's
ensure_pdf_libs installs them where they are missing.

The template loads nothing from outside, and the fetcher allows no protocol at all, so no text in a
document (a description, a name) can make the renderer read a file or reach the network.
"""

from __future__ import annotations

from django.template.loader import render_to_string

from billing.document_layout import DocumentLayout

CONTENT_TYPE = "application/pdf"
TEMPLATE = "billing/document_pdf.html"


def document_pdf(*, layout: DocumentLayout) -> bytes:
    """The PDF of one document sheet."""
    # Imported on use: loading Pango costs a moment, which only PDF requests should pay.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    html = render_to_string(TEMPLATE, {"layout": layout})
    return HTML(string=html, url_fetcher=URLFetcher(allowed_protocols=())).write_pdf()


def content_disposition(layout: DocumentLayout) -> str:
    """`attachment; filename="INV-000012.pdf"` (numbers are ASCII letters, digits and dashes)."""
    return f'attachment; filename="{layout.filename}"'
