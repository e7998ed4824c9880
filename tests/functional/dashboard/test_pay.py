"""/account/pay/: an account pays chosen open documents by card from the panel (a document's
page links here with it ticked); a resale reseller turns its customers' card payments on or off
(/account/card-payments/). reseller1 (conftest): INV 250.50 open, card r1_card; customer1 (of
reseller1, prepaid): INV 45.00 from reseller1 with 25.00 open."""

import uuid
from decimal import Decimal as D

import pytest
from django.urls import reverse

from billing.gateway import TestGateway
from billing.models import Document, DocumentType, GatewayCharge
from billing.selectors import balance_mismatches
from resellers.models import AuditEvent
from tests import factories as f

URL = "/account/pay/"


@pytest.fixture(autouse=True)
def _gateway():
    TestGateway.reset()
    yield
    TestGateway.reset()


def post(client, documents, method, amount="", key=None):
    return client.post(
        URL,
        {
            "documents": [d.pk for d in documents],
            "payment_method": method.pk,
            "amount": amount,
            "submission_key": key or uuid.uuid4().hex,
        },
    )


def payments_of(account):
    return Document.objects.filter(recipient=account, doc_type=DocumentType.PAYMENT)


def open_amount(document) -> D:
    return Document.objects.get(pk=document.pk).open_amount


def test_a_reseller_pays_an_invoice_from_its_page(world, login):
    client = login(world.r1_user)
    invoice = world.docs.r1_inv2
    page = client.get(reverse("document_detail", args=[invoice.pk])).content.decode()
    assert f'href="{URL}?document={invoice.pk}" data-action="pay"' in page

    form = client.get(URL, {"document": invoice.pk}).context["form"]
    assert list(form.initial["documents"]) == [invoice.pk]  # only the one it came from
    before = payments_of(world.r1).count()

    response = post(client, [invoice], world.r1_card)

    assert response.status_code == 302, response.content
    payment = payments_of(world.r1).latest("pk")
    assert payments_of(world.r1).count() == before + 1
    assert response.url == reverse("document_detail", args=[payment.pk])
    assert (payment.total, open_amount(invoice)) == (D("250.50"), 0)
    followed = client.get(response.url).content.decode()
    assert f"paid {invoice.display_number} (250.50 USD)" in followed
    assert balance_mismatches() == []


def test_a_double_submit_pays_once_and_a_decline_writes_nothing(world, login):
    client = login(world.r1_user)
    invoice = world.docs.r1_inv2
    declined = f.card(world.r1, token="tok_decline_r1")
    before = (payments_of(world.r1).count(), GatewayCharge.objects.count())

    refused = post(client, [invoice], declined)
    assert refused.status_code == 200
    assert "declined" in refused.context["form"].errors["payment_method"][0]
    assert (payments_of(world.r1).count(), GatewayCharge.objects.count()) == before

    key = uuid.uuid4().hex
    post(client, [invoice], world.r1_card, amount="100.00", key=key)
    post(client, [invoice], world.r1_card, amount="100.00", key=key)
    assert payments_of(world.r1).count() == before[0] + 1
    assert open_amount(invoice) == D("150.50")


def test_another_tenants_document_is_no_choice(world, login):
    client = login(world.r2_user)
    listed = client.get(URL, {"document": world.docs.r1_inv2.pk}).context["form"]
    assert world.docs.r1_inv2.pk not in [d.pk for d in listed.fields["documents"].queryset]

    response = post(client, [world.docs.r1_inv2], world.r2_card)

    assert response.status_code == 200 and "documents" in response.context["form"].errors
    assert open_amount(world.docs.r1_inv2) == D("250.50")
    page = client.get(reverse("document_detail", args=[world.docs.r1_inv2.pk]))
    assert page.status_code == 404


def test_a_customer_pays_its_reseller_by_card_once_the_reseller_takes_cards(world, login):
    client = login(world.c1_user)
    invoice = world.docs.c1_inv
    page = client.get(reverse("document_detail", args=[invoice.pk])).content.decode()
    assert 'data-action="pay"' not in page
    offline = client.get(URL).content.decode()
    assert 'id="pay-offline"' in offline and "does not take card payments online" in offline
    assert client.post(URL, {"documents": [invoice.pk]}).status_code == 404

    reseller = login(world.r1_user)
    reseller.post(reverse("own_card_payments"), {"enabled": "on"})
    world.r1.refresh_from_db()
    assert world.r1.card_payments
    assert AuditEvent.objects.filter(action="account.card_payments", account=world.r1).exists()

    client = login(world.c1_user)
    card = f.card(world.c1, token="tok_customer_one")
    page = client.get(reverse("document_detail", args=[invoice.pk])).content.decode()
    assert 'data-action="pay"' in page
    response = post(client, [invoice], card)

    assert response.status_code == 302
    payment = payments_of(world.c1).latest("pk")
    assert payment.issuer_id == world.r1.pk and open_amount(invoice) == 0
    assert balance_mismatches() == []


def test_only_a_resale_resellers_users_switch_card_payments(world, login):
    for user in (world.c1_user, world.ref_user):
        response = login(user).post(reverse("own_card_payments"), {"enabled": "on"})
        assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="account.card_payments").exists()
    html = login(world.r1_user).get(reverse("account")).content.decode()
    assert 'id="card-payments"' in html and 'data-field="card_payments"' in html
    assert 'id="card-payments"' not in login(world.c1_user).get(reverse("account")).content.decode()
