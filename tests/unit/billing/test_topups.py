"""Top-ups through the gateway (billing.topups): what they book, what they refuse with nothing
written, and idempotency. Automatic top-up: test_auto_topups.py."""

import datetime
from decimal import Decimal as D

import pytest

from billing import topups
from billing.gateway import TestGateway
from billing.models import Application, Document, DocumentStatus, DocumentType, GatewayCharge
from billing.selectors import account_financials
from resellers.exceptions import PermissionDenied
from resellers.models import Account
from tests import factories as f
from tests.factories import api as fa

JAN5 = datetime.date(2026, 1, 5)
MAR1 = datetime.date(2026, 3, 1)


@pytest.fixture(autouse=True)
def _gateway():
    TestGateway.reset()  # the built-in gateway remembers keys per process
    yield
    TestGateway.reset()


@pytest.fixture
def alpha(reseller_a):
    """Net terms, limit 1,000, an invoice of 600.00: balance -600.00, credit balance 0."""
    f.invoice(reseller_a, "600.00", JAN5)
    return reseller_a


@pytest.fixture
def alpha_user(alpha):
    return f.user(account=alpha, username="alpha")


@pytest.fixture
def alpha_card(alpha):
    return f.card(alpha, token="tok_alpha")


def pay(account, method, amount, key="k1", user=None, today=MAR1):
    return topups.topup_pay(
        account=account,
        payment_method=method,
        amount=amount,
        idempotency_key=key,
        acting_user=user,
        today=today,
    )


def written(account) -> tuple[int, int]:
    return (
        Document.objects.filter(recipient=account, doc_type=DocumentType.PAYMENT).count(),
        GatewayCharge.objects.filter(payment_method__account=account).count(),
    )


def test_a_top_up_raises_balance_and_credit_balance_by_exactly_the_amount(
    alpha, alpha_user, alpha_card
):
    before = account_financials(account=alpha)

    payment = pay(alpha, alpha_card, D("300.00"), user=alpha_user)

    after = account_financials(account=alpha)
    assert after.balance - before.balance == D("300.00")
    assert after.credit_balance - before.credit_balance == D("300.00")
    assert after.open_debt == before.open_debt == D("600.00")  # net terms: not applied
    assert after.available_credit == before.available_credit  # seed 002: not by itself
    assert (payment.doc_type, payment.status) == (DocumentType.PAYMENT, DocumentStatus.ISSUED)
    assert (payment.total, payment.open_amount) == (D("300.00"), D("300.00"))
    assert (payment.issuer_id, payment.recipient_id) == (alpha.issuer_id, alpha.pk)
    assert (payment.reference, payment.payment_method_id) == ("Top-up", alpha_card.pk)
    assert payment.issue_date == MAR1
    charge = GatewayCharge.objects.get(payment=payment)
    assert charge.idempotency_key == f"topup:{alpha.pk}:k1"
    assert TestGateway.attempts == {f"topup:{alpha.pk}:k1": 1}
    assert topups.payments_visible(user=alpha_user).get(pk=payment.pk).is_topup


def test_a_prepaid_accounts_top_up_pays_its_open_documents_first(referral_reseller):
    account = referral_reseller  # prepaid
    invoice = f.invoice(account, "70.00", JAN5)
    card = f.card(account)
    before = account_financials(account=account)

    payment = pay(account, card, "100")

    after = account_financials(account=account)
    assert after.balance - before.balance == D("100.00")
    assert (before.open_debt, after.open_debt) == (D("70.00"), D("0.00"))
    assert after.credit_balance == D("30.00")
    assert Application.objects.get(credit_document=payment).debit_document == invoice
    assert payment.total == D("100.00")  # "100" is stored as 100.00


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "more than zero"),
        ("0.00", "more than zero"),
        ("-5.00", "without a sign"),
        ("10.005", "Too many decimals: USD has at most 2"),
        ("abc", "Enter an amount"),
        ("NaN", "Enter an amount"),
        ("1e2", "no sign, exponent"),
        ("\uff11e5", "Enter an amount"),  # full-width digits
        ("1" * 13, "too large"),
    ],
)
def test_a_bad_amount_is_refused_on_amount_with_nothing_written(
    alpha, alpha_user, alpha_card, amount, message
):
    with pytest.raises(topups.TopupError) as exc:
        pay(alpha, alpha_card, amount, user=alpha_user)

    assert exc.value.field == "amount" and message in exc.value.message
    assert written(alpha) == (0, 0)
    assert TestGateway.attempts == {}  # the card was never sent


def test_another_accounts_payment_method_is_refused(alpha, alpha_user, reseller_b):
    bravo_card = f.card(reseller_b, token="tok_bravo")

    with pytest.raises(topups.TopupError) as exc:
        pay(alpha, bravo_card, "10.00", user=alpha_user)

    assert exc.value.field == "payment_method"
    assert written(alpha) == written(reseller_b) == (0, 0)
    assert TestGateway.attempts == {}


def test_offline_methods_cannot_be_charged_online(alpha, alpha_user):
    cash = fa.cash(alpha)

    with pytest.raises(topups.TopupError) as exc:
        pay(alpha, cash, "10.00", user=alpha_user)

    assert exc.value.field == "payment_method"
    assert "Only a credit card can be charged online" in exc.value.message
    assert "provider staff then record it" in exc.value.message
    assert written(alpha) == (0, 0)


def test_an_expired_card_cannot_be_charged(alpha, alpha_user):
    card = f.card(alpha, expiry=datetime.date(2026, 2, 28))

    with pytest.raises(topups.TopupError) as exc:
        pay(alpha, card, "10.00", user=alpha_user)

    assert exc.value.field == "payment_method" and "expired" in exc.value.message
    assert written(alpha) == (0, 0)


def test_a_declined_card_writes_nothing(alpha, alpha_user):
    card = f.card(alpha, token="tok_decline_1")
    before = account_financials(account=alpha)

    with pytest.raises(topups.TopupDeclined) as exc:
        pay(alpha, card, "10.00", user=alpha_user)

    assert exc.value.field == "payment_method" and "declined" in exc.value.message
    assert written(alpha) == (0, 0)
    assert account_financials(account=alpha) == before


def test_a_gateway_error_writes_nothing(alpha, alpha_user):
    card = f.card(alpha, token="tok_fail_1")

    with pytest.raises(topups.TopupGatewayError) as exc:
        pay(alpha, card, "10.00", user=alpha_user)

    assert not exc.value.timed_out and "returned an error" in exc.value.message
    assert written(alpha) == (0, 0)


def test_after_a_timeout_a_retry_with_the_same_key_books_the_one_charge(alpha, alpha_user):
    card = f.card(alpha, token="tok_timeout_1")

    with pytest.raises(topups.TopupGatewayError) as exc:
        pay(alpha, card, "10.00", user=alpha_user)
    assert exc.value.timed_out and "did not answer in time" in exc.value.message
    assert written(alpha) == (0, 0)

    payment = pay(alpha, card, "10.00", user=alpha_user)

    assert written(alpha) == (1, 1) and payment.total == D("10.00")
    assert len(TestGateway.charges) == 1  # charged once at the gateway
    assert TestGateway.attempts == {f"topup:{alpha.pk}:k1": 2}


def test_the_same_key_books_one_top_up(alpha, alpha_user, alpha_card):
    first = pay(alpha, alpha_card, "50.00", user=alpha_user)
    second = pay(alpha, alpha_card, D("50"), user=alpha_user)

    assert first.pk == second.pk
    assert written(alpha) == (1, 1)
    assert TestGateway.attempts == {f"topup:{alpha.pk}:k1": 1}  # not even sent again
    assert account_financials(account=alpha).credit_balance == D("50.00")


def test_the_same_key_with_another_amount_is_refused(alpha, alpha_user, alpha_card):
    pay(alpha, alpha_card, "50.00", user=alpha_user)

    with pytest.raises(topups.TopupKeyReused):
        pay(alpha, alpha_card, "60.00", user=alpha_user)

    assert written(alpha) == (1, 1)


def test_keys_are_scoped_to_the_account(alpha, alpha_card, reseller_b):
    bravo_card = f.card(reseller_b, token="tok_bravo")

    a = pay(alpha, alpha_card, "50.00", key="same")
    b = pay(reseller_b, bravo_card, "70.00", key="same")

    assert a.pk != b.pk and (a.recipient_id, b.recipient_id) == (alpha.pk, reseller_b.pk)


def test_who_may_top_up(alpha, alpha_card, provider, provider_user, reseller_b):
    bravo_user = f.user(account=reseller_b, username="bravo")
    with pytest.raises(PermissionDenied):
        pay(alpha, alpha_card, "10.00", user=bravo_user)
    assert written(alpha) == (0, 0)

    by_staff = pay(alpha, alpha_card, "10.00", user=provider_user)  # staff, for a reseller
    assert by_staff.recipient_id == alpha.pk

    resale_customer = f.customer(parent=alpha)
    with pytest.raises(topups.TopupError) as exc:
        pay(
            resale_customer,
            f.card(resale_customer),
            "10.00",
            user=f.user(account=resale_customer),
        )
    assert exc.value.field == "account" and "pay their reseller" in exc.value.message
    # ... unless its reseller takes cards (`Account.card_payments`): then it pays the reseller
    Account.objects.filter(pk=alpha.pk).update(card_payments=True)
    resale_customer.refresh_from_db()
    card = f.card(resale_customer, token="tok_resale_customer")
    topup = pay(resale_customer, card, "10.00", key="k-r1", user=f.user(account=resale_customer))
    assert (topup.issuer_id, topup.reference) == (alpha.pk, "Top-up")
    with pytest.raises(PermissionDenied):  # its own users only: not its reseller's
        pay(resale_customer, card, "10.00", key="k-r2", user=f.user(account=alpha))

    direct = f.customer(parent=provider)
    direct_user = f.user(account=direct)
    payment = pay(direct, f.card(direct), "10.00", user=direct_user)
    assert payment.issuer_id == provider.pk
    with pytest.raises(PermissionDenied):  # staff top up resellers only
        pay(direct, f.card(direct), "10.00", key="k2", user=provider_user)
