"""A customer pays a chosen invoice by card in a real browser (seed 003's first way): its reseller
takes card payments; from My account to the invoice, Pay by card, the invoice ticked alone, the
card charged, the invoice paid and the older one left open."""

import datetime
import re
from decimal import Decimal as D
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from billing.gateway import TestGateway
from billing.models import Document, DocumentType
from billing.selectors import balance_mismatches
from resellers import services as accounts
from tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def books(transactional_db):
    """Alpha Reseller takes card payments; its customer Carla (net 30) has two open invoices
    from it, 40.00 (older) and 45.00, and a card."""
    TestGateway.reset()
    provider = f.provider()
    alpha = f.reseller(parent=provider, name="Alpha Reseller")
    accounts.reseller_set_card_payments(reseller=alpha, enabled=True, acting_user=None)
    carla = f.customer(
        parent=alpha, name="Carla Customer", credit_terms="net_terms", payment_terms_days=30
    )
    f.user(account=carla, username="carla", password="pw")
    older = f.invoice(carla, "40.00", datetime.date(2026, 1, 5))
    chosen = f.invoice(carla, "45.00", datetime.date(2026, 2, 5))
    card = f.card(carla, token="tok_carla", default=True)
    yield SimpleNamespace(alpha=alpha, carla=carla, older=older, chosen=chosen, card=card)
    TestGateway.reset()


def test_a_customer_pays_a_chosen_invoice_by_card(page, live_server, books, shot):
    page.goto(live_server.url + "/login/")
    page.get_by_label("Username").fill("carla")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/account/$"))

    number = books.chosen.display_number
    page.locator("#documents").get_by_role("link", name=number).click()
    page.get_by_role("link", name="Pay by card").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Pay documents")
    expect(page.get_by_label(f"Invoice {number}")).to_be_checked()
    expect(page.get_by_label(f"Invoice {books.older.display_number}")).not_to_be_checked()
    shot(page, "1-pay-form")

    page.get_by_role("button", name="Pay by card").click()

    expect(page.locator(".messages")).to_contain_text(f"paid {number} (45.00 USD)")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Payment")
    shot(page, "2-paid")
    assert Document.objects.get(pk=books.chosen.pk).open_amount == 0
    assert Document.objects.get(pk=books.older.pk).open_amount == D("40.00")
    payment = Document.objects.get(recipient=books.carla, doc_type=DocumentType.PAYMENT)
    assert (payment.total, payment.issuer_id) == (D("45.00"), books.alpha.pk)
    assert len(TestGateway.charges) == 1
    assert balance_mismatches() == []
