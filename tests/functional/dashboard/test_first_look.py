"""The panels as a new user finds them (issue 12): whose document a number is (numbers repeat
across issuers, so every list, the document page and a dry run name the issuer), the real count
of subscriptions a run billed, the issuer's address and how to pay it on the document and its
PDF, navigation entries told apart, possessives of names ending in s, and one date format.

The panel clock is 2026-02-10 (conftest.PANEL_NOW). The world of conftest.py: Alpha Reseller
(reseller1) owes Cloud Distributor INV-000002 (250.50, due 14 Feb 2026) and holds 80.00 of
credit; Customer One owes Alpha Reseller its own INV-000001 (45.00, issued 10 Jan 2026).
"""

import html as htmllib
import io
import re
import uuid

import pytest
from django.urls import reverse
from pypdf import PdfReader

from billing.runs import run_start
from dashboard.presentation import possessive
from resellers import services as accounts
from tests import factories as f
from tests.factories import billing as bf
from tests.factories.billing import d
from tests.functional.dashboard.helpers import field

pytestmark = pytest.mark.django_db

PROVIDER_DETAILS = {
    "address_line1": "1200 Harbor Boulevard",
    "address_line2": "Suite 800",
    "city": "Seattle",
    "region": "WA",
    "postal_code": "98101",
    "country": "us",
    "tax_id": "EIN 91-7654321",
    "payment_instructions": "Bank transfer to Cloud Distributor Inc.\n"
    "Account number: 4401 2290 7713\nABA routing number: 125000024",
}
ISO_DATE = re.compile(r"(?<![\w:/=-])\d{4}-\d{2}-\d{2}(?![\w-])")


def visible(html: str) -> str:
    """The page's text as a person reads it: no tags, attributes or form values."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", html)
    return re.sub(r"\s+", " ", htmllib.unescape(text))


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def row_cells(html: str, attr: str, value) -> list[str]:
    """The cells' text of the table row carrying `attr="value"`."""
    row = re.search(rf'<tr[^>]*{attr}="{value}"[^>]*>(.*?)</tr>', html, re.S)
    assert row, f"no row {attr}={value}"
    return [
        visible(cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)
    ]


# --- whose document: the issuer -----------------------------------------------------------------


def test_two_invoices_numbered_alike_name_their_issuers_on_their_pages(login, world):
    """Cloud Distributor's INV-000001 to Alpha Reseller and Alpha Reseller's INV-000001 to
    Customer One: each page says whose it is, in its heading and its title."""
    ours, theirs = world.docs.r1_inv1, world.docs.c1_inv
    assert ours.display_number == theirs.display_number == "INV-000001"
    client = login(world.staff)

    page = client.get(reverse("document_detail", args=[ours.pk])).content.decode()
    assert field(page, "issuer_heading") == "issued by Cloud Distributor"
    assert "<title>Invoice INV-000001 · Cloud Distributor" in page
    page = client.get(reverse("document_detail", args=[theirs.pk])).content.decode()
    assert field(page, "issuer_heading") == "issued by Alpha Reseller"


def test_the_unpaid_documents_to_pay_with_credit_name_their_issuer(login, world):
    page = login(world.r1_user).get(reverse("account")).content.decode()
    form = page[page.index('id="documents-field"') :]
    header = re.search(r"<thead>(.*?)</thead>", form, re.S).group(1)
    assert "<th>Issued by</th>" in header
    assert re.findall(r'<td data-field="issuer">([^<]*)</td>', form) == ["Cloud Distributor"]
    # the other reseller's page is not its to see
    response = login(world.r2_user).get(reverse("reseller_detail", args=[world.r1.pk]))
    assert response.status_code in (403, 404)


def test_a_dry_run_names_who_issues_each_invoice(client):
    w = bf.world()
    bf.subscribe(w, today=d("2026-01-01"))
    run_start(run_date=d("2026-01-01"), inline=True)
    client.force_login(w.staff)

    response = client.post(
        reverse("billing_runs"),
        {
            "kind": "billing",
            "run_date": "2026-02-01",
            "dry_run": "on",
            "submission_key": uuid.uuid4().hex,
        },
    )
    page = response.content.decode()
    sections = re.findall(
        r'<section class="card planned-invoice" data-account="(\d+)" data-issuer="(\d+)">'
        r'.*?data-field="issuer">([^<]*)<',
        page,
        re.S,
    )
    assert sorted(sections) == sorted(
        [
            (str(w.customer.pk), str(w.reseller.pk), "Reseller R"),
            (str(w.reseller.pk), str(w.provider.pk), "Cloud Distributor"),
        ]
    )
    assert "numbered in Reseller R's own series" in htmllib.unescape(page)

    client.force_login(w.reseller_user)  # runs are the provider's
    refused = client.post(
        reverse("billing_runs"),
        {"kind": "billing", "run_date": "2026-02-01", "dry_run": "on", "submission_key": "x"},
    )
    assert refused.status_code == 403


# --- the runs page's subscription count ---------------------------------------------------------


def test_a_run_that_invoiced_a_first_period_counts_its_subscription(client):
    """The order charged the subscription's first period when it was executed; the run that
    invoiced that charge billed the subscription: 1, not 0. The next month's run bills it on the
    customer's invoice and on its reseller's billing order: still one subscription."""
    w = bf.world()
    bf.subscribe(w, today=d("2026-01-01"))
    jan = run_start(run_date=d("2026-01-01"), inline=True)
    feb = run_start(run_date=d("2026-02-01"), inline=True)
    client.force_login(w.staff)

    page = client.get(reverse("billing_runs")).content.decode()
    header = re.findall(
        r"<th[^>]*>(.*?)</th>", re.search(r"<thead>(.*?)</thead>", page, re.S)[1], re.S
    )
    column = [visible(h).strip() for h in header].index("Subscriptions")
    assert row_cells(page, "data-run", jan.pk)[column] == "1"
    assert row_cells(page, "data-run", feb.pk)[column] == "1"
    assert row_cells(page, "data-run", feb.pk)[column - 1] == "2"  # invoices: customer, reseller

    detail = client.get(reverse("billing_run_detail", args=[jan.pk])).content.decode()
    assert re.search(r'data-figure="subscriptions_billed">1<', detail)

    client.force_login(w.reseller_user)
    assert client.get(reverse("billing_runs")).status_code == 403
    assert client.get(reverse("billing_run_detail", args=[jan.pk])).status_code == 403


# --- the issuer's address and how to pay it -----------------------------------------------------


def test_the_pdf_prints_the_issuers_address_and_how_to_pay_it(login, world):
    accounts.account_billing_details_set(
        account=world.provider, acting_user=world.staff, **PROVIDER_DETAILS
    )
    invoice = world.docs.r1_inv2  # 250.50, due 14 Feb 2026 (issued 15 Jan, net 30)

    response = login(world.r1_user).get(reverse("document_pdf", args=[invoice.pk]))
    assert response.status_code == 200
    text = pdf_text(response.content)
    assert (
        "ISSUED BY Cloud Distributor 1200 Harbor Boulevard Suite 800 Seattle, WA 98101 US "
        "Tax ID: EIN 91-7654321" in text
    )
    assert "HOW TO PAY Amount due 250.50 USD Due date 14 Feb 2026 (Net 30 days)" in text
    assert f"Payment reference {invoice.display_number}" in text
    assert "Bank transfer to Cloud Distributor Inc. Account number: 4401 2290 7713" in text
    assert f"Quote {invoice.display_number} with your payment" in text

    # the page says the same
    page = login(world.r1_user).get(reverse("document_detail", args=[invoice.pk]))
    page = page.content.decode()
    assert field(page, "amount_due") == "250.50 USD"
    assert field(page, "payment_reference") == invoice.display_number
    assert "Account number: 4401 2290 7713" in page
    assert "Seattle, WA 98101" in page

    # another tenant cannot print it
    response = login(world.r2_user).get(reverse("document_pdf", args=[invoice.pk]))
    assert response.status_code == 404


def test_without_stored_instructions_the_pdf_says_whom_to_ask_and_a_paid_one_owes_nothing(
    login, world
):
    client = login(world.r1_user)
    text = pdf_text(client.get(reverse("document_pdf", args=[world.docs.r1_inv2.pk])).content)
    assert "HOW TO PAY" in text
    assert "Contact Cloud Distributor for its payment details." in text

    paid = pdf_text(client.get(reverse("document_pdf", args=[world.docs.r1_inv1.pk])).content)
    assert "HOW TO PAY" not in paid
    assert "Paid in full: nothing is due." in paid


# --- navigation, possessives, dates -------------------------------------------------------------


def _nav(page: str) -> list[str]:
    nav = re.search(r'<nav class="topnav"[^>]*>(.*?)</nav>', page, re.S).group(1)
    return [visible(link).strip() for link in re.findall(r"<a [^>]*>(.*?)</a>", nav, re.S)]


def test_the_navigation_tells_orders_from_a_new_order(login, world):
    assert {"Orders", "New order"} <= set(
        _nav(login(world.r1_user).get("/account/").content.decode())
    )
    customer_nav = _nav(login(world.c1_user).get("/account/").content.decode())
    assert {"My orders", "New order"} <= set(customer_nav)
    assert "Order" not in customer_nav


def test_a_name_ending_in_s_takes_an_apostrophe_alone(login, world):
    assert possessive("Wide World Importers") == "Wide World Importers'"
    assert possessive("Contoso Ltd") == "Contoso Ltd's"
    wwi = f.customer(parent=world.r1, name="Wide World Importers")

    page = visible(
        login(world.staff).get(reverse("customer_detail", args=[wwi.pk])).content.decode()
    )
    assert "Wide World Importers' orders" in page
    assert "Importers's" not in page


def test_every_date_reads_in_the_settings_format(login, world, settings):
    staff = login(world.staff)
    pages = [
        reverse("reseller_detail", args=[world.r1.pk]),
        reverse("customer_detail", args=[world.c1.pk]),
        reverse("document_detail", args=[world.docs.r1_inv1.pk]),
    ]
    for url in pages:
        assert not ISO_DATE.findall(visible(staff.get(url).content.decode())), url
    own = visible(login(world.r1_user).get(reverse("account")).content.decode())
    assert not ISO_DATE.findall(own)
    assert "15 Jan 2026 14 Feb 2026" in own  # INV-000002's issue and due dates

    settings.DATE_FORMAT = settings.SHORT_DATE_FORMAT = "d.m.Y"  # one setting moves them all
    own = visible(login(world.r1_user).get(reverse("account")).content.decode())
    assert "15.01.2026 14.02.2026" in own
    document = visible(login(world.staff).get(pages[2]).content.decode())
    assert "Issue date 01.01.2026" in document
