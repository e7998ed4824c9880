"""Paying chosen documents by card (billing.card_payments, seed 003's first way): applied to
exactly those documents, oldest due first among them, never over-applied, the rest left as
credit balance; refused with nothing written; one charge per key, after a timeout too."""

import datetime
from decimal import Decimal as D

import pytest

from billing import card_payments, topups
from billing.gateway import TestGateway
from billing.models import Application, Document, DocumentStatus, DocumentType, GatewayCharge
from billing.selectors import account_financials, balance_mismatches
from resellers.exceptions import PermissionDenied
from resellers.models import Account
from tests import factories as f

JAN5 = datetime.date(2026, 1, 5)
MAR1 = datetime.date(2026, 3, 1)


@pytest.fixture(autouse=True)
def _gateway():
    TestGateway.reset()
    yield
    TestGateway.reset()


@pytest.fixture
def alpha(reseller_a):
    """Net terms. Three open invoices, due 10 Jan (100.00), 5 Feb (200.00), 20 Jan (50.00)."""
    reseller_a.inv_jan10 = f.invoice(
        reseller_a, "100.00", JAN5, due_date=datetime.date(2026, 1, 10)
    )
    reseller_a.inv_feb5 = f.invoice(reseller_a, "200.00", JAN5, due_date=datetime.date(2026, 2, 5))
    reseller_a.inv_jan20 = f.invoice(reseller_a, "50.00", JAN5, due_date=datetime.date(2026, 1, 20))
    return reseller_a


@pytest.fixture
def alpha_user(alpha):
    return f.user(account=alpha, username="alpha")


@pytest.fixture
def alpha_card(alpha):
    return f.card(alpha, token="tok_alpha")


def pay(account, documents, method, amount=None, key="k1", user=None):
    return card_payments.documents_pay(
        account=account,
        documents=documents,
        payment_method=method,
        amount=amount,
        idempotency_key=key,
        acting_user=user,
        today=MAR1,
    )


def open_amounts(*documents) -> list[D]:
    return [Document.objects.get(pk=d.pk).open_amount for d in documents]


def written(account) -> tuple[int, int, int]:
    return (
        Document.objects.filter(recipient=account, doc_type=DocumentType.PAYMENT).count(),
        GatewayCharge.objects.filter(payment_method__account=account).count(),
        Application.objects.filter(debit_document__recipient=account).count(),
    )


def test_the_chosen_documents_are_paid_in_full_and_nothing_else(alpha, alpha_user, alpha_card):
    payment = pay(alpha, [alpha.inv_feb5, alpha.inv_jan20], alpha_card, user=alpha_user)

    assert (payment.total, payment.open_amount) == (D("250.00"), D("0.00"))
    assert open_amounts(alpha.inv_feb5, alpha.inv_jan20, alpha.inv_jan10) == [0, 0, D("100.00")]
    assert Document.objects.get(pk=alpha.inv_feb5.pk).status == DocumentStatus.PAID
    assert (payment.issuer_id, payment.payment_method_id) == (alpha.issuer_id, alpha_card.pk)
    assert "INV-" in payment.reference and payment.reference.startswith("Payment for")
    assert balance_mismatches() == []


def test_part_of_their_total_pays_the_oldest_due_among_them_first(alpha, alpha_card):
    pay(alpha, [alpha.inv_feb5, alpha.inv_jan20], alpha_card, amount="120.00")

    # 20 Jan before 5 Feb; 10 Jan was not chosen and stays open
    assert open_amounts(alpha.inv_jan20, alpha.inv_feb5, alpha.inv_jan10) == [
        0,
        D("130.00"),
        D("100.00"),
    ]
    assert balance_mismatches() == []


def test_more_than_is_open_stays_as_credit_balance_never_over_applied(alpha, alpha_card):
    before = account_financials(account=alpha)

    payment = pay(alpha, [alpha.inv_jan20], alpha_card, amount="80.00")

    assert open_amounts(alpha.inv_jan20, alpha.inv_jan10) == [0, D("100.00")]
    assert payment.open_amount == D("30.00")
    after = account_financials(account=alpha)
    assert after.credit_balance - before.credit_balance == D("30.00")
    assert after.balance - before.balance == D("80.00")


def test_a_prepaid_payer_pays_the_chosen_document_before_older_debt(provider):
    """The ledger's automatic application for a prepaid account comes after the chosen
    documents: it used to spend the payment on older debt first."""
    prepaid = f.reseller(parent=provider, name="Prepaid R", credit_terms="prepaid")
    older = f.invoice(prepaid, "40.00", JAN5, due_date=JAN5)
    chosen = f.invoice(prepaid, "60.00", datetime.date(2026, 2, 1))
    card = f.card(prepaid, token="tok_prepaid")

    payment = pay(prepaid, [chosen], card, amount="70.00")

    assert open_amounts(chosen, older) == [0, D("30.00")]  # the 10.00 left went to older debt
    assert payment.open_amount == 0
    assert balance_mismatches() == []


def test_the_same_key_pays_once_and_another_amount_under_it_is_refused(alpha, alpha_card):
    first = pay(alpha, [alpha.inv_jan10], alpha_card, key="same")
    again = pay(alpha, [alpha.inv_jan10], alpha_card, key="same")

    assert again.pk == first.pk and written(alpha)[:2] == (1, 1)
    with pytest.raises(topups.TopupKeyReused):
        pay(alpha, [alpha.inv_jan10], alpha_card, amount="10.00", key="same")


def test_a_timeout_is_completed_by_the_same_key_without_charging_twice(alpha):
    card = f.card(alpha, token="tok_timeout_alpha")
    with pytest.raises(topups.TopupGatewayError) as timed_out:
        pay(alpha, [alpha.inv_jan10], card, key="t1")
    assert timed_out.value.timed_out and written(alpha) == (0, 0, 0)

    payment = pay(alpha, [alpha.inv_jan10], card, key="t1")

    assert open_amounts(alpha.inv_jan10) == [0] and payment.total == D("100.00")
    assert written(alpha)[:2] == (1, 1)
    assert len(TestGateway.charges) == 1


def test_a_timed_out_charge_is_booked_even_if_the_documents_were_paid_meanwhile(alpha):
    """The gateway took the money but its answer was lost; before the retry, staff recorded a
    payment of the invoice. The retry completes that charge (never refused, never charged
    twice) and books it as credit balance: no money taken without a payment."""
    card = f.card(alpha, token="tok_timeout_alpha")
    with pytest.raises(topups.TopupGatewayError):
        pay(alpha, [alpha.inv_jan10], card, key="t2")
    f.payment(alpha, "100.00", MAR1, apply_to=[alpha.inv_jan10])
    assert open_amounts(alpha.inv_jan10) == [0]

    payment = pay(alpha, [alpha.inv_jan10], card, key="t2")

    assert payment.total == D("100.00") and payment.open_amount == D("100.00")  # credit balance
    assert len(TestGateway.charges) == 1
    assert pay(alpha, [alpha.inv_jan10], card, key="t2").pk == payment.pk
    with pytest.raises(topups.TopupKeyReused):
        pay(alpha, [alpha.inv_jan10], f.card(alpha, token="tok_other"), key="t2")
    assert balance_mismatches() == []


def test_a_timed_out_retry_with_another_amount_is_refused(alpha):
    card = f.card(alpha, token="tok_timeout_alpha")
    with pytest.raises(topups.TopupGatewayError):
        pay(alpha, [alpha.inv_jan10], card, key="t4")
    with pytest.raises(topups.TopupKeyReused):
        pay(alpha, [alpha.inv_jan10], card, amount="40.00", key="t4")
    assert pay(alpha, [alpha.inv_jan10], card, key="t4").total == D("100.00")
    assert len(TestGateway.charges) == 1


@pytest.mark.parametrize(
    ("case", "field"),
    [
        ("nothing chosen", "documents"),
        ("another account's document", "documents"),
        ("a credit memo", "documents"),
        ("a paid invoice", "documents"),
        ("a declined card", "payment_method"),
        ("a cash method", "payment_method"),
        ("another account's card", "payment_method"),
        ("zero", "amount"),
        ("three decimals", "amount"),
    ],
)
def test_refused_with_nothing_written(alpha, alpha_card, reseller_b, case, field):
    documents, method, amount = [alpha.inv_jan10], alpha_card, None
    if case == "nothing chosen":
        documents = []
    elif case == "another account's document":
        documents = [f.invoice(reseller_b, "10.00", JAN5)]
    elif case == "a credit memo":
        documents = [f.credit_memo(alpha, "10.00", JAN5)]
    elif case == "a paid invoice":
        paid = f.invoice(alpha, "10.00", JAN5)
        f.payment(alpha, "10.00", JAN5, apply_to=[paid])
        documents = [paid]
    elif case == "a declined card":
        method = f.card(alpha, token="tok_decline_alpha")
    elif case == "a cash method":
        from resellers.models import PaymentMethod
        from resellers.services import payment_method_create

        method = payment_method_create(account=alpha, kind=PaymentMethod.Kind.CASH)
    elif case == "another account's card":
        method = f.card(reseller_b, token="tok_bravo")
    elif case == "zero":
        amount = "0"
    elif case == "three decimals":
        amount = "1.005"
    before = written(alpha)

    with pytest.raises(topups.TopupError) as refused:
        pay(alpha, documents, method, amount=amount)

    assert refused.value.field == field
    assert written(alpha) == before and open_amounts(alpha.inv_jan10) == [D("100.00")]


def test_only_the_accounts_own_users_or_staff_pay_its_documents(alpha, alpha_card, reseller_b):
    stranger = f.user(account=reseller_b, username="bravo")
    with pytest.raises(PermissionDenied):
        pay(alpha, [alpha.inv_jan10], alpha_card, user=stranger)
    assert written(alpha) == (0, 0, 0)


def test_a_resale_resellers_customer_pays_by_card_only_when_it_takes_cards(alpha):
    customer = f.customer(parent=alpha, name="Customer C")
    invoice = f.invoice(customer, "45.00", JAN5)  # issued by its reseller
    card = f.card(customer, token="tok_customer")

    with pytest.raises(topups.TopupError) as refused:
        pay(customer, [invoice], card)
    assert refused.value.field == "payment_method"
    assert "does not take card payments online" in refused.value.message
    assert written(customer) == (0, 0, 0)

    Account.objects.filter(pk=alpha.pk).update(card_payments=True)
    customer.refresh_from_db()
    payment = pay(customer, [invoice], card)

    assert payment.issuer_id == alpha.pk and open_amounts(invoice) == [0]
    assert balance_mismatches() == []


def test_a_document_paid_between_the_check_and_the_booking_leaves_the_money_as_credit(
    alpha, alpha_card
):
    """The card is charged outside any transaction: a document paid meanwhile must not make the
    booking fail (the charge would be lost), nor be paid twice."""
    from billing import ledger

    f.payment(alpha, "50.00", MAR1, apply_to=[alpha.inv_jan20])  # paid meanwhile

    payment = ledger.card_charge(
        payment_method=alpha_card,
        amount=D("50.00"),
        idempotency_key="race-1",
        charge_date=MAR1,
        apply_to=[alpha.inv_jan20],  # as checked before the charge
    )

    assert payment.open_amount == D("50.00")  # credit balance, not over-applied
    assert open_amounts(alpha.inv_jan20) == [0]
    assert GatewayCharge.objects.filter(idempotency_key="race-1").count() == 1
    assert balance_mismatches() == []


# --- the wallet: all open documents, oldest due first (seed 003's second way) --------------------


def wallet(account, method, amount, key="w1", user=None):
    return card_payments.wallet_pay(
        account=account,
        payment_method=method,
        amount=amount,
        idempotency_key=key,
        acting_user=user,
        today=MAR1,
    )


def test_a_wallet_payment_pays_every_open_document_oldest_due_first(alpha, alpha_user, alpha_card):
    payment = wallet(alpha, alpha_card, "170.00", user=alpha_user)

    # 10 Jan (100.00), then 20 Jan (50.00), then 20.00 of 5 Feb
    assert open_amounts(alpha.inv_jan10, alpha.inv_jan20, alpha.inv_feb5) == [0, 0, D("180.00")]
    assert (payment.total, payment.open_amount) == (D("170.00"), 0)
    assert balance_mismatches() == []


def test_a_wallet_payment_of_more_than_is_open_leaves_the_rest_as_credit(alpha, alpha_card):
    payment = wallet(alpha, alpha_card, "400.00")

    assert open_amounts(alpha.inv_jan10, alpha.inv_jan20, alpha.inv_feb5) == [0, 0, 0]
    assert payment.open_amount == D("50.00")
    assert account_financials(account=alpha).credit_balance == D("50.00")
    assert balance_mismatches() == []


def test_with_nothing_open_a_wallet_payment_is_refused_but_its_replay_is_not(alpha, alpha_card):
    paid = wallet(alpha, alpha_card, "350.00", key="all")
    before = written(alpha)

    again = wallet(alpha, alpha_card, "350.00", key="all")  # a double submit, after the fact
    assert again.pk == paid.pk and written(alpha) == before
    with pytest.raises(topups.TopupError) as refused:
        wallet(alpha, alpha_card, "10.00", key="new")
    assert refused.value.field == "apply_to" and "top up" in refused.value.message
    assert written(alpha) == before


def test_only_the_accounts_own_users_or_staff_make_a_wallet_payment(alpha, alpha_card, reseller_b):
    with pytest.raises(PermissionDenied):
        wallet(alpha, alpha_card, "10.00", user=f.user(account=reseller_b, username="bravo"))
    assert written(alpha) == (0, 0, 0)
