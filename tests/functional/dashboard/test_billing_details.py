"""Billing details from the panels (dashboard/details_views.py): provider staff edit the
provider's company details and a reseller's or customer's; a reseller's or customer's users edit
their own. The documents the account issues then print the new letterhead and payment
instructions; a bad country is a form error and writes nothing; another tenant gets 404 or 403."""

import io
import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from pypdf import PdfReader

from resellers.models import Account, AuditEvent
from resellers.services import BILLING_DETAILS_FIELDS
from tests.functional.dashboard.helpers import field

pytestmark = pytest.mark.django_db

COMPANY = {
    "address_line1": "1200 Harbor Boulevard",
    "address_line2": "Suite 800",
    "city": "Seattle",
    "region": "WA",
    "postal_code": "98101",
    "country": "us",
    "tax_id": "EIN 91-7654321",
    "payment_instructions": "Bank transfer to Cloud Distributor Inc.\n"
    "Account number: 4401 2290 7713",
}
RESELLER = {
    "address_line1": "7 Alpha Street",
    "address_line2": "",
    "city": "Portland",
    "region": "OR",
    "postal_code": "97201",
    "country": "US",
    "tax_id": "EIN 12-3456789",
    "payment_instructions": "Wire to Alpha Reseller LLC\nIBAN: US00 ALPH 0000 1111",
}


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def details(account: Account) -> dict:
    account.refresh_from_db()
    return {name: getattr(account, name) for name in BILLING_DETAILS_FIELDS}


def audit_rows(account: Account):
    return AuditEvent.objects.filter(account=account, action="account.billing_details")


def message_texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- provider staff ---------------------------------------------------------------------------


def test_staff_edit_the_company_details_and_the_providers_documents_print_them(login, world):
    client = login(world.staff)
    billing = client.get(reverse("billing")).content.decode()
    assert 'href="/billing/company/">Company details</a>' in billing

    page = client.get(reverse("company_details"))
    assert page.status_code == 200
    assert page.context["account"] == world.provider
    assert 'aria-current="page">Company details' in page.content.decode()

    response = client.post(reverse("company_details"), COMPANY, follow=True)
    assert response.redirect_chain == [(reverse("company_details"), 302)]
    assert message_texts(response) == [
        "Company details of Cloud Distributor saved: Address, Address (line 2), City, Region, "
        "Postal code, Country, Tax ID, Payment instructions."
    ]
    assert details(world.provider) == {**COMPANY, "country": "US"}
    [row] = audit_rows(world.provider)
    assert row.actor == world.staff
    assert row.details == {"changed": sorted(BILLING_DETAILS_FIELDS)}

    # an invoice the provider issued to reseller1, as reseller1 reads it
    invoice = world.docs.r1_inv2
    reader = login(world.r1_user)
    text = pdf_text(reader.get(reverse("document_pdf", args=[invoice.pk])).content)
    assert (
        "ISSUED BY Cloud Distributor 1200 Harbor Boulevard Suite 800 Seattle, WA 98101 US "
        "Tax ID: EIN 91-7654321" in text
    )
    assert "Bank transfer to Cloud Distributor Inc. Account number: 4401 2290 7713" in text
    html = reader.get(reverse("document_detail", args=[invoice.pk])).content.decode()
    assert "Seattle, WA 98101" in html
    assert "Account number: 4401 2290 7713" in html


def test_saving_unchanged_details_writes_nothing(login, world):
    client = login(world.staff)
    initial = client.get(reverse("company_details")).context["form"].initial
    response = client.post(reverse("company_details"), initial, follow=True)
    assert message_texts(response) == ["Nothing changed in the company details."]
    assert not audit_rows(world.provider).exists()


def test_staff_edit_a_resellers_details_and_its_customers_documents_print_them(login, world):
    client = login(world.staff)
    page = client.get(reverse("reseller_detail", args=[world.r1.pk])).content.decode()
    edit_url = reverse("reseller_details_edit", args=[world.r1.pk])
    assert f'href="{edit_url}">Edit billing details</a>' in page
    assert field(page, "tax_id") == "—"

    form = client.get(edit_url)
    assert form.status_code == 200
    assert 'aria-current="page">Resellers' in form.content.decode()
    response = client.post(edit_url, RESELLER)
    assert response.status_code == 302
    assert response["Location"] == reverse("reseller_detail", args=[world.r1.pk]) + (
        "#account-details"
    )
    assert details(world.r1) == RESELLER
    assert audit_rows(world.r1).get().actor == world.staff

    page = client.get(reverse("reseller_detail", args=[world.r1.pk])).content.decode()
    assert field(page, "tax_id") == "EIN 12-3456789"
    assert "Portland, OR 97201" in page
    assert "IBAN: US00 ALPH 0000 1111" in page

    # customer1's invoice, issued by reseller1 (a resale reseller)
    invoice = world.docs.c1_inv
    reader = login(world.c1_user)
    text = pdf_text(reader.get(reverse("document_pdf", args=[invoice.pk])).content)
    assert (
        "ISSUED BY Alpha Reseller 7 Alpha Street Portland, OR 97201 US Tax ID: EIN 12-3456789"
        in text
    )
    assert "Wire to Alpha Reseller LLC IBAN: US00 ALPH 0000 1111" in text
    html = reader.get(reverse("document_detail", args=[invoice.pk])).content.decode()
    assert "Portland, OR 97201" in html
    assert "IBAN: US00 ALPH 0000 1111" in html
    # the provider's own letterhead is untouched
    assert details(world.provider)["address_line1"] == ""


def test_staff_edit_a_customers_details(login, world):
    client = login(world.staff)
    page = client.get(reverse("customer_detail", args=[world.c1.pk])).content.decode()
    edit_url = reverse("customer_details_edit", args=[world.c1.pk])
    assert f'href="{edit_url}"' in page

    response = client.post(edit_url, {"address_line1": "9 Customer Road", "country": "de"})
    assert response["Location"] == reverse("customer_detail", args=[world.c1.pk]) + (
        "#account-details"
    )
    world.c1.refresh_from_db()
    assert world.c1.address_lines == ("9 Customer Road", "DE")
    assert audit_rows(world.c1).get().details == {"changed": ["address_line1", "country"]}
    # a customer's pk is not a reseller's page, nor the other way round
    assert client.get(reverse("reseller_details_edit", args=[world.c1.pk])).status_code == 404
    assert client.get(reverse("customer_details_edit", args=[world.r1.pk])).status_code == 404


def test_staff_on_the_own_details_page_go_to_the_company_details(login, world):
    response = login(world.staff).get(reverse("own_details_edit"))
    assert response.status_code == 302
    assert response["Location"] == reverse("company_details")


# --- reseller and customer users --------------------------------------------------------------


def test_a_reseller_user_edits_its_own_details(login, world):
    client = login(world.r1_user)
    page = client.get(reverse("account")).content.decode()
    assert f'href="{reverse("own_details_edit")}">Edit billing details</a>' in page

    form = client.get(reverse("own_details_edit"))
    assert form.status_code == 200
    assert form.context["account"] == world.r1
    assert 'class="subnav"' not in form.content.decode()  # not the provider panel
    response = client.post(reverse("own_details_edit"), RESELLER, follow=True)
    assert response.redirect_chain == [(reverse("account") + "#account-details", 302)]
    assert message_texts(response)[0].startswith("Billing details of Alpha Reseller saved:")
    assert details(world.r1) == RESELLER
    assert audit_rows(world.r1).get().actor == world.r1_user
    assert field(response.content.decode(), "tax_id") == "EIN 12-3456789"

    # its customers' documents now say how to pay it
    text = pdf_text(
        login(world.c1_user).get(reverse("document_pdf", args=[world.docs.c1_inv.pk])).content
    )
    assert "Wire to Alpha Reseller LLC IBAN: US00 ALPH 0000 1111" in text


def test_a_customer_edits_its_own_details_and_never_its_resellers(login, world):
    before = details(world.r1)
    client = login(world.c1_user)
    page = client.get(reverse("account")).content.decode()
    assert f'href="{reverse("own_details_edit")}"' in page

    client.post(reverse("own_details_edit"), {"address_line1": "1 Customer Lane"})
    assert details(world.c1)["address_line1"] == "1 Customer Lane"

    edit_url = reverse("reseller_details_edit", args=[world.r1.pk])
    assert client.get(edit_url).status_code == 404
    assert client.post(edit_url, RESELLER).status_code == 404
    assert client.post(reverse("company_details"), COMPANY).status_code == 403
    assert details(world.r1) == before
    assert not audit_rows(world.r1).exists()


def test_a_reseller_sees_no_edit_link_on_its_customers_page(login, world):
    page = login(world.r1_user).get(reverse("own_customer_detail", args=[world.c1.pk]))
    assert "Edit billing details" not in page.content.decode()


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize("country", ["USA", "1"])
def test_a_bad_country_is_a_form_error_and_writes_nothing(login, world, country):
    for user, url in (
        (world.staff, reverse("reseller_details_edit", args=[world.r1.pk])),
        (world.r1_user, reverse("own_details_edit")),
    ):
        before = details(world.r1)
        response = login(user).post(url, {**RESELLER, "country": country})
        assert response.status_code == 200
        form = response.context["form"]
        assert list(form.errors) == ["country"]
        html = response.content.decode()
        assert "Nothing was saved." in html
        assert 'id="country-error"' in html
        assert details(world.r1) == before
    assert not audit_rows(world.r1).exists()


def test_another_tenant_gets_404_or_403_and_nothing_changes(login, world):
    before = {account.pk: details(account) for account in (world.provider, world.r1, world.c1)}
    client = login(world.r2_user)
    refusals = [
        (reverse("reseller_details_edit", args=[world.r1.pk]), 404),  # not in its scope
        (reverse("customer_details_edit", args=[world.c1.pk]), 404),
        (reverse("company_details"), 403),
        (reverse("reseller_details_edit", args=[world.r2.pk]), 403),  # its own: staff only
        (reverse("customer_details_edit", args=[world.c2.pk]), 403),  # its customer: staff only
    ]
    for url, status in refusals:
        assert client.get(url).status_code == status, url
        assert client.post(url, RESELLER).status_code == status, url
    after = {account.pk: details(account) for account in (world.provider, world.r1, world.c1)}
    assert after == before
    assert not AuditEvent.objects.filter(action="account.billing_details").exists()


def test_anonymous_users_are_sent_to_sign_in(client, world):
    for url in (
        reverse("company_details"),
        reverse("reseller_details_edit", args=[world.r1.pk]),
        reverse("own_details_edit"),
    ):
        response = client.post(url, RESELLER)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    assert not AuditEvent.objects.filter(action="account.billing_details").exists()
