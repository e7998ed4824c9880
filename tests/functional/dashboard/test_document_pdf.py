"""The document page read as an invoice, and its PDF at /documents/<pk>/pdf/.

The panel clock is 2026-02-10 (conftest.PANEL_NOW). The invoice below, provider -> reseller1,
issued 5 Jan 2026 and due 31 Jan 2026:
  Cloud Server M   1 Jan 2026 - 1 Feb 2026 (stored, exclusive)  2 x 12.50 = 25.00, tax 20% 5.00
  Setup fee        no period                                     1 x 10.00 = 10.00, no tax
  subtotal 35.00, tax 5.00, total 40.00; a 15.00 payment applied -> paid 15.00, open 25.00;
  past its due date and open, so overdue.
"""

import datetime
import io
import re
from decimal import Decimal as D

import pytest
from django.urls import reverse
from pypdf import PdfReader

from billing import ledger
from billing.models import Document, DocumentType
from billing.runs import run_start
from tests import factories as f
from tests.factories import api as fa
from tests.factories import billing as bf
from tests.functional.dashboard.helpers import field

JAN5 = datetime.date(2026, 1, 5)
JAN31 = datetime.date(2026, 1, 31)
FEB1 = datetime.date(2026, 2, 1)
MAR1 = datetime.date(2026, 3, 1)

SERVER = ledger.LineSpec(
    description="Cloud Server M",
    unit_price=D("12.50"),
    quantity=D("2"),
    tax_rate=D("0.2"),
    period_start_date=datetime.date(2026, 1, 1),
    period_end_date=datetime.date(2026, 2, 1),
)
SETUP = ledger.LineSpec(description="Setup fee", unit_price=D("10.00"))


def _document(recipient, *, lines, issue_date=None, due_date=None):
    document = ledger.document_create(
        doc_type=DocumentType.INVOICE,
        issuer=recipient.issuer,
        recipient=recipient,
        lines=lines,
        due_date=due_date,
    )
    if issue_date is None:
        return document
    return ledger.document_issue(document=document, issue_date=issue_date)


@pytest.fixture
def invoice(world):
    fa.contact(world.r1, "Bella Billing", is_bill_to=True, phone="+1 555 0199")
    inv = _document(world.r1, lines=[SERVER, SETUP], issue_date=JAN5, due_date=JAN31)
    f.payment(world.r1, "15.00", FEB1, apply_to=[inv])
    inv.refresh_from_db()
    return inv


def _page(client, document) -> str:
    response = client.get(reverse("document_detail", args=[document.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _pdf(client, document):
    return client.get(reverse("document_pdf", args=[document.pk]))


def _text(pdf: bytes) -> str:
    """The PDF's text, whitespace folded to single spaces."""
    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


CELLS = ("description", "period", "quantity", "unit_price", "amount", "tax_rate", "tax_amount")


def _line(html: str, position: int) -> dict[str, str]:
    """Line `position` of the lines table, by its cells in billing/_document_lines.html's order."""
    row = re.search(rf'<tr data-line="{position}">(.*?)</tr>', html, re.S)
    assert row, f"no line {position} on the page"
    return dict(zip(CELLS, re.findall(r"<td[^>]*>([^<]*)</td>", row.group(1)), strict=True))


# --- the page ---------------------------------------------------------------------------------


def test_page_reads_like_an_invoice(login, world, invoice):
    html = _page(login(world.r1_user), invoice)

    assert field(html, "number") == invoice.display_number
    assert field(html, "type") == "Invoice"
    assert field(html, "issue_date") == "5 Jan 2026"
    assert field(html, "due_date") == "31 Jan 2026"
    assert field(html, "currency") == "USD"
    text = re.sub(r"\s+", " ", html)
    assert '<dt>Issued by</dt><dd data-field="issuer">Cloud Distributor</dd>' in text
    assert '<dt>Issued to</dt><dd data-field="recipient">Alpha Reseller</dd>' in text
    assert "Bella Billing<br>bella.billing@example.com<br>+1 555 0199" in html
    assert _line(html, 1) == {
        "description": "Cloud Server M",
        "period": "1 Jan 2026 \u2013 31 Jan 2026",  # the stored end is exclusive
        "quantity": "2",
        "unit_price": "12.50",
        "amount": "25.00 USD",
        "tax_rate": "20%",
        "tax_amount": "5.00 USD",
    }
    assert _line(html, 2)["period"] == ""  # a one-off charge has no period
    assert _line(html, 2)["tax_rate"] == "0%"
    assert field(html, "subtotal") == "35.00 USD"
    assert field(html, "tax_total") == "5.00 USD"
    assert field(html, "total") == "40.00 USD"
    assert field(html, "paid") == "15.00 USD"
    assert field(html, "open_amount") == "25.00 USD"
    assert f'href="/documents/{invoice.pk}/pdf/"' in html


def test_an_open_invoice_past_its_due_date_reads_overdue(login, world, invoice):
    html = _page(login(world.r1_user), invoice)
    assert field(html, "status") == "Overdue"
    assert field(html, "overdue") == "Overdue"

    later = _document(world.r1, lines=[SETUP], issue_date=FEB1, due_date=MAR1)
    html = _page(login(world.r1_user), later)
    assert field(html, "status") == "Issued"
    assert 'data-field="overdue"' not in html


def test_a_paid_invoice_is_not_overdue_and_shows_what_was_paid(login, world):
    inv1 = world.docs.r1_inv1  # 100.00, paid in full by the world's payment
    html = _page(login(world.r1_user), inv1)
    assert field(html, "status") == "Paid"
    assert field(html, "paid") == "100.00 USD"
    assert field(html, "open_amount") == "0.00 USD"
    assert 'data-field="overdue"' not in html
    assert 'id="applications"' in html  # the applications are still listed


def test_staff_see_a_draft_marked_draft_and_others_do_not_see_it(login, world):
    draft = _document(world.r1, lines=[SERVER, SETUP])
    html = _page(login(world.staff), draft)
    assert field(html, "status") == "Draft"
    assert 'data-field="draft"' in html
    assert field(html, "number") == f"INV-DRAFT-{draft.pk}"
    assert field(html, "issue_date") == "Not issued yet"
    assert field(html, "total") == "40.00 USD"  # the sums of its lines until it is issued
    assert field(html, "open_amount") == "—"

    client = login(world.r1_user)
    assert client.get(reverse("document_detail", args=[draft.pk])).status_code == 404
    assert _pdf(client, draft).status_code == 404


# --- the PDF ----------------------------------------------------------------------------------


def test_pdf_is_a_download_with_the_invoice_in_it(login, world, invoice):
    response = _pdf(login(world.r1_user), invoice)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    number = invoice.display_number
    assert response["Content-Disposition"] == f'attachment; filename="{number}.pdf"'
    assert response.content.startswith(b"%PDF")
    text = _text(response.content)
    assert number in text
    assert "Cloud Server M" in text and "1 Jan 2026 \u2013 31 Jan 2026" in text
    assert "Attn: Bella Billing" in text
    assert "20%" in text and "5.00 USD" in text
    assert "40.00 USD" in text  # total
    assert "15.00 USD" in text and "25.00 USD" in text  # paid, due
    assert "31 Jan 2026 (overdue)" in text
    assert "DRAFT" not in text


def test_a_drafts_pdf_is_labelled_draft(login, world):
    draft = _document(world.r1, lines=[SETUP])
    response = _pdf(login(world.staff), draft)
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="INV-DRAFT-{draft.pk}.pdf"'
    text = _text(response.content)
    assert "DRAFT" in text and "Not issued yet" in text


def test_a_resale_reseller_downloads_its_customers_invoice(login, world):
    c1_inv = world.docs.c1_inv
    response = _pdf(login(world.r1_user), c1_inv)
    assert response.status_code == 200
    assert "Customer One" in _text(response.content)
    assert _pdf(login(world.c1_user), c1_inv).status_code == 200  # and so does the customer


@pytest.mark.parametrize(
    ("who", "doc"),
    [
        ("r2_user", "r1_inv1"),  # another reseller
        ("r2_user", "c1_inv"),  # another reseller's customer
        ("c1_user", "r1_inv1"),  # its reseller's own invoice
        ("c2_user", "c1_inv"),  # another customer
        ("ref_user", "refc_inv"),  # referral: its customers' documents are not its business
        ("refc_user", "c1_inv"),
    ],
)
def test_another_tenant_gets_404_for_page_and_pdf(login, world, who, doc):
    client = login(getattr(world, who))
    document = getattr(world.docs, doc)
    assert client.get(reverse("document_detail", args=[document.pk])).status_code == 404
    response = _pdf(client, document)
    assert response.status_code == 404
    assert not response.content.startswith(b"%PDF")


def test_a_referral_reseller_downloads_only_its_own_invoices(login, world):
    own = f.invoice(world.ref, "20.00", JAN5)
    client = login(world.ref_user)
    assert _pdf(client, own).status_code == 200
    assert _pdf(client, world.docs.refc_inv).status_code == 404


def test_anonymous_is_sent_to_log_in(client, world, invoice):
    for url in (
        reverse("document_detail", args=[invoice.pk]),
        reverse("document_pdf", args=[invoice.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


# --- the run that issued it ---------------------------------------------------------------------


@pytest.fixture
def run_world(db):
    """tests.factories.billing.world(), subscribed on 1 Jan 2026, and the billing-date run of
    1 Feb 2026 (really run), which issues R's and C's invoices."""
    w = bf.world()
    bf.subscribe(w, today=datetime.date(2026, 1, 1))
    w.run = run_start(run_date=FEB1, inline=True)
    w.r_inv = Document.objects.get(billing_run=w.run, recipient=w.reseller)
    w.c_inv = Document.objects.get(billing_run=w.run, recipient=w.customer)
    return w


def test_staff_see_the_run_that_issued_a_document_and_open_it(login, run_world):
    w = run_world

    html = login(w.staff).get(reverse("document_detail", args=[w.c_inv.pk])).content.decode()

    assert (
        f'data-field="billing_run"><a href="/billing/runs/{w.run.pk}/">'
        f"Issued by billing run #{w.run.pk} (Billing date, 1 Feb 2026)</a>"
    ) in html


@pytest.mark.parametrize("who", ["reseller", "customer"])
def test_others_read_the_runs_date_with_no_link(login, run_world, who):
    w = run_world
    user = w.reseller_user if who == "reseller" else f.user(account=w.customer)
    document = w.r_inv if who == "reseller" else w.c_inv

    html = login(user).get(reverse("document_detail", args=[document.pk])).content.decode()

    assert field(html, "billing_run") == "Billing run of 1 Feb 2026"
    assert "/billing/runs/" not in html and f"#{w.run.pk}" not in html


def test_a_document_no_run_issued_names_no_run(login, world, invoice):
    html = login(world.staff).get(reverse("document_detail", args=[invoice.pk])).content.decode()
    assert 'data-field="billing_run"' not in html
