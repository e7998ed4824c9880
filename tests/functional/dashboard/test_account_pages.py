"""Reseller and customer users: their own account page, a resale reseller's customers, a referral
reseller's details-only view, and credit memos that read "closed" (seed 002)."""

from decimal import Decimal as D

import pytest
from django.urls import reverse

from tests.functional.dashboard.helpers import amount, field, figure

pytestmark = pytest.mark.django_db


def test_reseller_account_page_shows_read_only_financials_and_figures(login, world):
    html = login(world.r1_user).get(reverse("account")).content.decode()
    assert "Financial Information" in html
    assert field(html, "credit_limit") == "1,000.00 USD"
    assert field(html, "daily_invoicing") == "Prepaid purchases only"
    assert "/edit/" not in html  # read-only
    assert amount(figure(html, "balance")) == D("-170.50")
    assert amount(figure(html, "credit_balance")) == D("80.00")
    assert amount(figure(html, "credit_limit")) == D("1000.00")
    assert amount(figure(html, "available_credit")) == D("749.50")


def test_reseller_account_page_lists_documents_and_customers(login, world):
    response = login(world.r1_user).get(reverse("account"))
    html = response.content.decode()
    docs = world.docs
    for doc in (docs.r1_inv1, docs.r1_inv2, docs.r1_cm, docs.r1_pay):
        assert f'href="/documents/{doc.pk}/"' in html
    assert f'href="/account/customers/{world.c1.pk}/"' in html
    rows = {r.record.pk: r for r in response.context["documents_table"].rows}
    assert rows[docs.r1_inv2.pk].get_cell("open_amount") == "250.50 USD"
    assert rows[docs.r1_pay.pk].get_cell("open_amount") == "50.00 USD"


def test_credit_memo_reads_closed_to_the_reseller(login, world):
    client = login(world.r1_user)
    cm = world.docs.r1_cm
    response = client.get(reverse("account"))
    row = next(r for r in response.context["documents_table"].rows if r.record.pk == cm.pk)
    assert row.get_cell("status") == "Closed"
    assert row.get_cell("open_amount") == "—"
    # its value is still in the credit balance
    assert amount(figure(response.content.decode(), "credit_balance")) == D("80.00")

    html = client.get(reverse("document_detail", args=[cm.pk])).content.decode()
    assert field(html, "status") == "Closed"
    assert field(html, "open_amount") == "—"
    assert 'id="applications"' not in html


def test_resale_reseller_sees_its_customers_details_figures_and_documents(login, world):
    client = login(world.r1_user)
    listing = client.get(reverse("own_customer_list")).content.decode()
    assert f'href="/account/customers/{world.c1.pk}/"' in listing

    html = client.get(reverse("own_customer_detail", args=[world.c1.pk])).content.decode()
    assert "Carl One" in html  # contacts
    assert amount(figure(html, "balance")) == D("-25.00")
    assert f'href="/documents/{world.docs.c1_inv.pk}/"' in html
    inv = client.get(reverse("document_detail", args=[world.docs.c1_inv.pk])).content.decode()
    assert field(inv, "open_amount") == "25.00 USD"


def test_referral_reseller_sees_customer_details_but_no_documents_or_figures(login, world):
    client = login(world.ref_user)
    response = client.get(reverse("own_customer_detail", args=[world.refc.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert world.refc.name in html
    assert "Rita Referred" in html and "rita@example.com" in html
    assert field(html, "status") == "Active"
    assert field(html, "created_at") == "10 Feb 2026"  # signed up at the pinned clock
    assert "data-figure" not in html
    assert "Financial Information" not in html
    assert "/documents/" not in html
    assert 'id="details-only"' in html
    assert response.context["page"].documents is None


def test_customer_account_page(login, world):
    html = login(world.c1_user).get(reverse("account")).content.decode()
    assert amount(figure(html, "balance")) == D("-25.00")
    assert amount(figure(html, "credit_balance")) == D("0.00")
    assert figure(html, "credit_limit") == "None (prepaid)"
    assert f'href="/documents/{world.docs.c1_inv.pk}/"' in html
    assert 'id="customers"' not in html
    assert "daily_invoicing" not in html


def test_provider_staff_on_account_page_go_to_billing(login, world):
    response = login(world.staff).get(reverse("account"))
    assert response.status_code == 302
    assert response.url == reverse("billing")
