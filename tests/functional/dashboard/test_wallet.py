"""/account/wallet/ (dashboard/wallet_views.py, seed 003's "Wallet and Transactions"): an
account's figures, open documents and transactions; one card payment over the open documents,
oldest due first, the rest left as credit balance; "apply my credit" to ticked documents; the
read-only wallets of staff and of a resale reseller's customer; and top-ups by the customers of a
reseller that takes cards.

conftest's world, on 10 Feb 2026: reseller1 owes INV 250.50 (due 14 Feb) and has 80.00 of credit
balance (50.00 of a payment, a 30.00 credit memo), card r1_card; reseller2 owes INV 400.00, due
31 Jan (overdue); customer1 (of reseller1, prepaid, no card payments) owes 25.00 of INV 45.00."""

import datetime
import re
import uuid
from decimal import Decimal as D

import pytest
from django.urls import reverse

from billing import ledger
from billing.gateway import TestGateway
from billing.models import Application, Document, DocumentType, GatewayCharge
from billing.selectors import account_financials, balance_mismatches
from resellers.services import account_billing_details_set, reseller_set_card_payments
from tests import factories as f
from tests.functional.dashboard.helpers import amount, figure

URL = "/account/wallet/"
PAY_URL = "/account/wallet/pay/"
CREDIT_URL = "/account/wallet/apply-credit/"
FEB5 = datetime.date(2026, 2, 5)
FEB20 = datetime.date(2026, 2, 20)


@pytest.fixture(autouse=True)
def _gateway():
    TestGateway.reset()
    yield
    TestGateway.reset()


@pytest.fixture
def older(world):
    """reseller1: INV 40.00 due 5 Feb (before INV 250.50's 14 Feb: overdue on 10 Feb)."""
    return f.invoice(world.r1, "40.00", datetime.date(2026, 1, 5), due_date=FEB5)


@pytest.fixture
def newer(world):
    """reseller1: INV 100.00 due 20 Feb (after INV 250.50's 14 Feb)."""
    return f.invoice(world.r1, "100.00", datetime.date(2026, 1, 21), due_date=FEB20)


def pay(client, method, amount_text, key=None):
    return client.post(
        PAY_URL,
        {
            "payment_method": method.pk,
            "amount": amount_text,
            "submission_key": key or uuid.uuid4().hex,
        },
    )


def open_amount(document) -> D:
    return Document.objects.get(pk=document.pk).open_amount


def payments_of(account):
    return Document.objects.filter(recipient=account, doc_type=DocumentType.PAYMENT)


def written(account) -> tuple[int, int, int]:
    """The account's payments, gateway charges and applications."""
    return (
        payments_of(account).count(),
        GatewayCharge.objects.filter(payment_method__account=account).count(),
        Application.objects.filter(debit_document__recipient=account).count(),
    )


def rows(html: str, table: str) -> list[str]:
    """The `data-<table>` attribute of each row, in page order (`document`, `transaction`)."""
    return re.findall(rf'<tr [^>]*data-{table}="([^"]+)"', html)


def row(html: str, attribute: str) -> str:
    match = re.search(rf"<tr [^>]*{attribute}[^>]*>.*?</tr>", html, re.S)
    assert match, f"no row {attribute}"
    return match.group(0)


# --- the page ------------------------------------------------------------------------------------


def test_the_wallet_shows_the_ledgers_figures_open_documents_and_transactions(world, login):
    client = login(world.r1_user)
    docs = world.docs

    response = client.get(URL)

    assert response.status_code == 200
    html = response.content.decode()
    fin = account_financials(account=world.r1)
    assert amount(figure(html, "balance")) == fin.balance == D("-170.50")
    assert amount(figure(html, "credit_balance")) == fin.credit_balance == D("80.00")
    assert amount(figure(html, "open_debt")) == fin.open_debt == D("250.50")
    assert amount(figure(html, "available_credit")) == fin.available_credit == D("749.50")
    assert rows(html, "document") == [str(docs.r1_inv2.pk)]  # the paid one is not open
    application = Application.objects.get(debit_document=docs.r1_inv1)
    assert rows(html, "transaction") == [  # newest first
        f"application-{application.pk}",  # applied when the world was built, 10 Feb
        f"payment-{docs.r1_pay.pk}",  # received 1 Feb
        f"credit_memo-{docs.r1_cm.pk}",  # 20 Jan
    ]
    paid = row(html, f'data-transaction="payment-{docs.r1_pay.pk}"')
    assert "150.00 USD" in paid and "50.00 USD" in paid  # 50.00 of it is still credit balance
    applied = row(html, f'data-transaction="application-{application.pk}"')
    assert docs.r1_pay.display_number in applied and docs.r1_inv1.display_number in applied
    # a credit memo reads closed to the reseller: its value is in the credit balance (seed 002)
    assert "30.00 USD" in row(html, f'data-transaction="credit_memo-{docs.r1_cm.pk}"')
    # nothing of reseller2's
    assert docs.r2_inv.display_number not in html


def test_an_overdue_document_is_marked_and_the_oldest_due_comes_first(world, login, older):
    html = login(world.r1_user).get(URL).content.decode()

    assert rows(html, "document") == [str(older.pk), str(world.docs.r1_inv2.pk)]
    overdue = row(html, f'data-document="{older.pk}"')
    assert re.search(r'class="overdue\b', overdue) and "<td >Overdue</td>" in overdue
    due = row(html, f'data-document="{world.docs.r1_inv2.pk}"')
    assert "overdue" not in due and "<td >Issued</td>" in due


def test_refunds_and_unlinked_applications_are_transactions_too(world, login):
    docs = world.docs
    refund = ledger.credit_refund(
        credit_document=docs.r1_pay,
        amount=D("20.00"),
        payment_method=world.r1_cash,
        idempotency_key="wallet-refund",
        issue_date=datetime.date(2026, 2, 9),
        acting_user=world.staff,
    )
    paid = Application.objects.get(debit_document=docs.r1_inv1)
    ledger.application_remove(application=paid, acting_user=world.staff)
    refunded = Application.objects.get(debit_document=refund)

    html = login(world.r1_user).get(URL).content.decode()

    keys = rows(html, "transaction")
    assert {f"refund-{refund.pk}", f"application-{refunded.pk}"} <= set(keys)
    unlinked = row(html, f'data-transaction="application-{paid.pk}"')
    assert 'class="unlinked' in unlinked and "Unlinked" in unlinked
    assert "20.00 USD" in row(html, f'data-transaction="refund-{refund.pk}"')
    # the figures are still the ledger's: INV 100.00 open again, 20.00 of the payment paid back
    fin = account_financials(account=world.r1)
    assert amount(figure(html, "open_debt")) == fin.open_debt == D("350.50")
    assert amount(figure(html, "credit_balance")) == fin.credit_balance == D("160.00")
    assert rows(html, "document") == [str(docs.r1_inv1.pk), str(docs.r1_inv2.pk)]
    assert balance_mismatches() == []


def test_the_transactions_are_paged(world, login):
    for day in range(1, 27):
        f.payment(world.r2, "1.00", datetime.date(2026, 1, day))
    client = login(world.r2_user)

    first = client.get(URL).content.decode()
    second = client.get(URL, {"tx-page": 2}).content.decode()

    assert len(rows(first, "transaction")) == 25
    assert "26 in all" in first
    assert len(rows(second, "transaction")) == 1  # the oldest, 1 Jan
    newest = payments_of(world.r2).order_by("-issue_date").first()
    assert rows(first, "transaction")[0] == f"payment-{newest.pk}"


def test_the_account_page_and_the_navigation_link_the_wallet(world, login):
    html = login(world.r1_user).get(reverse("account")).content.decode()
    assert f'id="wallet-link" href="{URL}"' in html
    assert f'<a href="{URL}">Wallet</a>' in html
    staff = login(world.staff).get(reverse("reseller_detail", args=[world.r1.pk]))
    wallet = reverse("reseller_wallet", args=[world.r1.pk])
    assert f'id="wallet-link" href="{wallet}"' in staff.content.decode()
    reseller = login(world.r1_user).get(reverse("own_customer_detail", args=[world.c1.pk]))
    wallet = reverse("own_customer_wallet", args=[world.c1.pk])
    assert f'id="wallet-link" href="{wallet}"' in reseller.content.decode()
    referral = login(world.ref_user).get(reverse("own_customer_detail", args=[world.refc.pk]))
    assert 'id="wallet-link"' not in referral.content.decode()


# --- one card payment, oldest due first ---------------------------------------------------------


def test_a_wallet_payment_pays_the_oldest_due_first_and_keeps_the_rest(world, login, older, newer):
    client = login(world.r1_user)
    invoice = world.docs.r1_inv2

    response = pay(client, world.r1_card, "300.00")

    assert response.status_code == 302 and response.url == URL
    payment = payments_of(world.r1).latest("pk")
    assert payment.total == D("300.00") and payment.payment_method == world.r1_card
    # 40.00 (due 5 Feb), then 250.50 (due 14 Feb), then 9.50 of 100.00 (due 20 Feb)
    assert [open_amount(older), open_amount(invoice), open_amount(newer)] == [0, 0, D("90.50")]
    assert payment.open_amount == 0
    page = client.get(response.url).content.decode()
    assert f"Payment {payment.display_number} of 300.00 USD charged to" in page
    assert balance_mismatches() == []


def test_more_than_is_open_stays_as_credit_balance(world, login, older):
    client = login(world.r1_user)
    before = account_financials(account=world.r1)

    pay(client, world.r1_card, "500.00")

    payment = payments_of(world.r1).latest("pk")
    assert open_amount(older) == open_amount(world.docs.r1_inv2) == 0
    assert payment.open_amount == D("500.00") - D("40.00") - D("250.50")
    after = account_financials(account=world.r1)
    assert after.credit_balance == before.credit_balance + D("209.50")
    assert after.open_debt == 0
    html = client.get(URL).content.decode()
    assert "209.50 USD stays as credit balance" in html
    assert amount(figure(html, "credit_balance")) == after.credit_balance
    assert 'id="nothing-open"' in html
    assert balance_mismatches() == []


def test_a_double_submit_with_the_same_key_pays_once(world, login):
    client = login(world.r1_user)
    key = uuid.uuid4().hex
    before = written(world.r1)

    first = pay(client, world.r1_card, "300.00", key=key)
    second = pay(client, world.r1_card, "300.00", key=key)  # after it paid all there was

    assert (first.status_code, second.status_code) == (302, 302)
    assert written(world.r1)[:2] == (before[0] + 1, before[1] + 1)
    assert TestGateway.attempts == {f"pay:{world.r1.pk}:panel:{key}": 1}
    assert payments_of(world.r1).latest("pk").open_amount == D("49.50")
    assert balance_mismatches() == []


def test_a_declined_card_writes_nothing_but_the_declined_attempt(world, login):
    card = f.card(world.r1, token="tok_decline_wallet")
    client = login(world.r1_user)
    key = uuid.uuid4().hex
    before = (written(world.r1), account_financials(account=world.r1))

    response = pay(client, card, "100.00", key=key)

    assert response.status_code == 200
    form = response.context["card_form"]
    assert "declined" in form.errors["payment_method"][0]
    assert form["submission_key"].value() != key  # the next try is a new charge
    assert "Nothing was charged or recorded." in response.content.decode()
    assert (written(world.r1), account_financials(account=world.r1)) == before
    assert TestGateway.attempts == {f"pay:{world.r1.pk}:panel:{key}": 1}
    assert TestGateway.charges == {}
    assert open_amount(world.docs.r1_inv2) == D("250.50")


def test_after_a_gateway_timeout_submitting_again_completes_once(world, login):
    card = f.card(world.r1, token="tok_timeout_wallet")
    client = login(world.r1_user)
    key = uuid.uuid4().hex
    before = written(world.r1)

    timed_out = pay(client, card, "100.00", key=key)
    assert timed_out.status_code == 200
    assert "did not answer in time" in timed_out.context["card_form"].non_field_errors()[0]
    assert timed_out.context["card_form"]["submission_key"].value() == key  # kept
    assert written(world.r1) == before

    again = pay(client, card, "100.00", key=key)

    assert again.status_code == 302
    assert written(world.r1)[:2] == (before[0] + 1, before[1] + 1)
    assert open_amount(world.docs.r1_inv2) == D("150.50")
    assert balance_mismatches() == []


def test_another_tenants_card_is_no_choice(world, login):
    before = (written(world.r1), written(world.r2))

    response = pay(login(world.r2_user), world.r1_card, "10.00")

    assert response.status_code == 200
    assert response.context["card_form"].errors["payment_method"] == ["Choose one of your cards."]
    assert (written(world.r1), written(world.r2)) == before


# --- apply my credit ---------------------------------------------------------------------------


def test_apply_my_credit_pays_the_chosen_documents_oldest_due_first(world, login, older, newer):
    client = login(world.r1_user)
    invoice = world.docs.r1_inv2
    html = client.get(URL).content.decode()
    assert 'id="apply-credit"' in html and "80.00 USD" in html

    response = client.post(CREDIT_URL, {"documents": [newer.pk, invoice.pk]})  # not `older`

    assert response.status_code == 302 and response.url == URL
    # 80.00 of credit balance, all to INV 250.50 (due 14 Feb, before 100.00's 20 Feb)
    assert [open_amount(invoice), open_amount(newer)] == [D("170.50"), D("100.00")]
    assert open_amount(older) == D("40.00")  # not chosen
    assert account_financials(account=world.r1).credit_balance == 0
    page = client.get(URL).content.decode()
    assert f"Paid 80.00 USD with your credit balance: 80.00 USD to {invoice.display_number}" in page
    assert 'id="no-credit"' in page  # none left to apply
    assert balance_mismatches() == []


def test_apply_my_credit_never_applies_more_than_is_open(world, login, older):
    client = login(world.r1_user)

    client.post(CREDIT_URL, {"documents": [older.pk]})

    assert open_amount(older) == 0
    assert open_amount(world.docs.r1_inv2) == D("250.50")
    assert account_financials(account=world.r1).credit_balance == D("40.00")
    assert balance_mismatches() == []


def test_without_a_credit_balance_it_says_so_and_applies_nothing(world, login):
    client = login(world.r2_user)
    html = client.get(URL).content.decode()
    assert 'id="no-credit"' in html and "no credit balance to apply" in html
    before = written(world.r2)

    response = client.post(CREDIT_URL, {"documents": [world.docs.r2_inv.pk]}, follow=True)

    assert "Nothing was applied: there is no credit balance left to apply." in (
        response.content.decode()
    )
    assert written(world.r2) == before


def test_another_tenants_document_cannot_be_ticked(world, login):
    response = login(world.r2_user).post(CREDIT_URL, {"documents": [world.docs.r1_inv2.pk]})

    assert response.status_code == 200 and "documents" in response.context["pay_form"].errors
    assert open_amount(world.docs.r1_inv2) == D("250.50")


# --- who sees which wallet ----------------------------------------------------------------------


def test_staff_and_a_resale_reseller_see_a_wallet_read_only(world, login):
    staff = login(world.staff)
    html = staff.get(reverse("reseller_wallet", args=[world.r1.pk])).content.decode()
    assert amount(figure(html, "credit_balance")) == D("80.00")
    assert rows(html, "document") == [str(world.docs.r1_inv2.pk)]
    assert 'id="wallet-pay"' not in html and 'id="apply-credit"' not in html
    assert staff.get(reverse("customer_wallet", args=[world.c1.pk])).status_code == 200
    assert staff.get(URL).status_code == 302  # the provider has no wallet of its own

    reseller = login(world.r1_user)
    html = reseller.get(reverse("own_customer_wallet", args=[world.c1.pk])).content.decode()
    assert amount(figure(html, "open_debt")) == D("25.00")
    assert rows(html, "document") == [str(world.docs.c1_inv.pk)]
    assert 'id="wallet-pay"' not in html and 'id="apply-credit"' not in html


def test_another_tenants_wallet_is_404(world, login):
    r2 = login(world.r2_user)
    assert r2.get(reverse("own_customer_wallet", args=[world.c1.pk])).status_code == 404
    assert r2.get(reverse("reseller_wallet", args=[world.r1.pk])).status_code == 404
    assert r2.get(reverse("customer_wallet", args=[world.c1.pk])).status_code == 404
    # a referral reseller sees its customers' details, never their figures
    referral = login(world.ref_user)
    assert referral.get(reverse("own_customer_wallet", args=[world.refc.pk])).status_code == 404
    customer = login(world.c1_user)
    assert customer.get(reverse("own_customer_wallet", args=[world.c2.pk])).status_code == 404
    assert customer.get(reverse("own_customer_wallet", args=[world.c1.pk])).status_code == 404
    # the provider panel's wallet is for provider staff (its own account: 404)
    assert login(world.r1_user).get(reverse("reseller_wallet", args=[world.r1.pk])).status_code in (
        403,
        404,
    )
    assert login(world.r1_user).get(reverse("customer_wallet", args=[world.c1.pk])).status_code == (
        403
    )


# --- a reseller's customers ---------------------------------------------------------------------


def test_a_customer_of_a_reseller_without_card_payments_is_told_how_to_pay_it(world, login):
    account_billing_details_set(
        account=world.r1, acting_user=None, payment_instructions="IBAN DE00 1234"
    )
    client = login(world.c1_user)
    card = f.card(world.c1, token="tok_customer_wallet")  # a card, but its reseller takes none

    html = client.get(URL).content.decode()

    assert 'id="pay-offline"' in html
    assert "does not take card payments online" in html and "IBAN DE00 1234" in html
    assert 'action="/account/wallet/pay/"' not in html and 'id="topup-link"' not in html
    assert amount(figure(html, "open_debt")) == D("25.00")
    assert pay(client, card, "25.00").status_code == 404
    assert written(world.c1)[1] == 0


def test_once_the_reseller_takes_cards_its_customer_pays_from_the_wallet(world, login):
    reseller_set_card_payments(reseller=world.r1, enabled=True, acting_user=world.r1_user)
    card = f.card(world.c1, token="tok_customer_wallet")
    client = login(world.c1_user)
    assert 'action="/account/wallet/pay/"' in client.get(URL).content.decode()

    response = pay(client, card, "30.00")

    assert response.status_code == 302
    payment = payments_of(world.c1).latest("pk")
    assert payment.issuer_id == world.r1.pk and payment.total == D("30.00")
    assert open_amount(world.docs.c1_inv) == 0
    # customer1 is prepaid: what is left over stays as its credit balance
    assert account_financials(account=world.c1).credit_balance == D("5.00")
    assert balance_mismatches() == []


def test_a_customer_tops_up_once_its_reseller_takes_cards(world, login):
    client = login(world.c1_user)
    card = f.card(world.c1, token="tok_customer_topup")
    assert client.get("/account/topup/").status_code == 404
    assert 'id="topup-link"' not in client.get(reverse("account")).content.decode()

    reseller_set_card_payments(reseller=world.r1, enabled=True, acting_user=world.r1_user)
    assert 'id="topup-link"' in client.get(reverse("account")).content.decode()
    assert 'id="topup-link"' in client.get(URL).content.decode()
    response = client.post(
        "/account/topup/",
        {"payment_method": card.pk, "amount": "50.00", "submission_key": uuid.uuid4().hex},
    )

    assert response.status_code == 302
    topup = payments_of(world.c1).get(reference="Top-up")
    assert (topup.issuer_id, topup.total) == (world.r1.pk, D("50.00"))
    # prepaid: it pays the 25.00 open first, the rest stays as credit balance
    assert open_amount(world.docs.c1_inv) == 0
    assert account_financials(account=world.c1).credit_balance == D("25.00")
    assert balance_mismatches() == []
