"""Seed 000's path in the provider control panel: Billing -> Resellers -> a reseller -> Edit."""

from decimal import Decimal as D

import pytest
from django.urls import reverse

from tests import factories as f
from tests.functional.dashboard.helpers import amount, field, figure

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(login, world):
    return login(world.staff)


def test_billing_page_links_to_resellers_and_customers(staff_client):
    response = staff_client.get(reverse("billing"))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="{reverse("reseller_list")}"' in html
    assert f'href="{reverse("customer_list")}"' in html
    assert ">Billing</a>" in html  # top navigation


def test_reseller_list_shows_every_reseller_with_links(staff_client, world):
    response = staff_client.get(reverse("reseller_list"))
    assert response.status_code == 200
    html = response.content.decode()
    for reseller in (world.r1, world.r2, world.ref):
        assert f'href="/billing/resellers/{reseller.pk}/"' in html
        assert reseller.name in html


def test_reseller_list_searches_by_name_and_code(staff_client, world):
    by_name = staff_client.get(reverse("reseller_list"), {"q": "bravo"}).content.decode()
    assert world.r2.name in by_name and world.r1.name not in by_name

    by_code = staff_client.get(
        reverse("reseller_list"), {"q": world.r1.reseller_code}
    ).content.decode()
    assert world.r1.name in by_code and world.r2.name not in by_code


def test_reseller_list_sorts(staff_client, world):
    asc = staff_client.get(reverse("reseller_list"), {"sort": "name"}).content.decode()
    desc = staff_client.get(reverse("reseller_list"), {"sort": "-name"}).content.decode()
    assert asc.index("Alpha Reseller") < asc.index("Referral Partner")
    assert desc.index("Alpha Reseller") > desc.index("Referral Partner")

    by_limit = staff_client.get(reverse("reseller_list"), {"sort": "credit_limit"})
    assert by_limit.status_code == 200


def test_reseller_list_pages(staff_client, world):
    for n in range(30):
        f.reseller(parent=world.provider, name=f"Zulu {n:02d}")
    first = staff_client.get(reverse("reseller_list")).content.decode()
    second = staff_client.get(reverse("reseller_list"), {"page": 2}).content.decode()
    assert "Alpha Reseller" in first and "Alpha Reseller" not in second
    assert "Zulu 29" not in first and "Zulu 29" in second
    assert "33 in all" in first


def test_reseller_page_shows_financial_information_and_edit_link(staff_client, world):
    response = staff_client.get(reverse("reseller_detail", args=[world.r1.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Financial Information" in html
    assert field(html, "credit_terms") == "Net terms"
    assert field(html, "credit_limit") == "1,000.00 USD"
    assert field(html, "payment_terms_days") == "30 days"
    assert field(html, "daily_invoicing") == "Prepaid purchases only"
    assert field(html, "credit_hold") == "No"
    assert field(html, "reseller_model") == "Resale"
    assert field(html, "reseller_code") == world.r1.reseller_code
    assert field(html, "customer_class").startswith("Default")
    assert f'href="/billing/resellers/{world.r1.pk}/edit/"' in html


def test_reseller_page_figures_match_hand_computed_amounts(staff_client, world):
    html = staff_client.get(reverse("reseller_detail", args=[world.r1.pk])).content.decode()
    assert amount(figure(html, "balance")) == D("-170.50")
    assert amount(figure(html, "credit_balance")) == D("80.00")
    assert amount(figure(html, "credit_limit")) == D("1000.00")
    assert amount(figure(html, "available_credit")) == D("749.50")
    assert figure(html, "credit_limit") == "1,000.00 USD"

    html2 = staff_client.get(reverse("reseller_detail", args=[world.r2.pk])).content.decode()
    assert amount(figure(html2, "balance")) == D("-400.00")
    assert amount(figure(html2, "available_credit")) == D("600.00")


def test_reseller_page_lists_documents_with_open_amounts_and_customers(staff_client, world):
    response = staff_client.get(reverse("reseller_detail", args=[world.r1.pk]))
    html = response.content.decode()
    docs = world.docs
    for doc in (docs.r1_inv1, docs.r1_inv2, docs.r1_cm, docs.r1_pay):
        assert f'href="/documents/{doc.pk}/"' in html
    assert f'href="/documents/{docs.r2_inv.pk}/"' not in html
    table = response.context["documents_table"]
    open_by_number = {row.record.display_number: row.get_cell("open_amount") for row in table.rows}
    assert open_by_number[docs.r1_inv1.display_number] == "0.00 USD"
    assert open_by_number[docs.r1_inv2.display_number] == "250.50 USD"
    assert open_by_number[docs.r1_pay.display_number] == "50.00 USD"
    # the provider sees the credit memo as it is: issued, 30.00 open
    assert open_by_number[docs.r1_cm.display_number] == "30.00 USD"
    assert 'class="num"' in html  # money right-aligned
    # its customers
    assert f'href="/billing/customers/{world.c1.pk}/"' in html
    assert world.c2.name not in html


def test_referral_reseller_page_lists_its_customers(staff_client, world):
    html = staff_client.get(reverse("reseller_detail", args=[world.ref.pk])).content.decode()
    assert field(html, "daily_invoicing") == "Does not apply (referral)"
    assert field(html, "reseller_model") == "Referral"
    assert f'href="/billing/customers/{world.refc.pk}/"' in html


def test_customer_list_and_pages(staff_client, world):
    response = staff_client.get(reverse("customer_list"))
    assert response.status_code == 200
    html = response.content.decode()
    for customer in (world.c1, world.c2, world.refc):
        assert f'href="/billing/customers/{customer.pk}/"' in html
    searched = staff_client.get(reverse("customer_list"), {"q": "referred"}).content.decode()
    assert world.refc.name in searched and world.c1.name not in searched

    c1 = staff_client.get(reverse("customer_detail", args=[world.c1.pk])).content.decode()
    assert amount(figure(c1, "balance")) == D("-25.00")
    assert f'href="/documents/{world.docs.c1_inv.pk}/"' in c1

    refc = staff_client.get(reverse("customer_detail", args=[world.refc.pk])).content.decode()
    assert amount(figure(refc, "balance")) == D("-80.00")
    assert f'href="/documents/{world.docs.refc_inv.pk}/"' in refc


def test_document_page_shows_lines_and_applications(staff_client, world):
    inv1 = world.docs.r1_inv1
    response = staff_client.get(reverse("document_detail", args=[inv1.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert inv1.display_number in html
    assert field(html, "total") == "100.00 USD"
    assert field(html, "open_amount") == "0.00 USD"
    assert field(html, "status") == "Paid"
    assert f'href="/documents/{world.docs.r1_pay.pk}/"' in html  # paid by the payment

    cm = staff_client.get(reverse("document_detail", args=[world.docs.r1_cm.pk])).content.decode()
    assert field(cm, "status") == "Issued"
    assert field(cm, "open_amount") == "30.00 USD"


def test_document_page_writes_lines_plainly(staff_client, world):
    html = staff_client.get(
        reverse("document_detail", args=[world.docs.r1_inv2.pk])
    ).content.decode()
    assert '<td class="num">250.50</td>' in html  # unit price
    assert '<td class="num">1</td>' in html  # quantity
    assert '<td class="num">250.50 USD</td>' in html  # amount
