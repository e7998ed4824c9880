"""manage.py seed_demo: the demo installation, made through the services, twice changes nothing."""

import datetime
from collections import Counter
from decimal import Decimal as D
from io import StringIO

import pytest
import time_machine
from django.apps import apps
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory

from billing.gateway import TestGateway
from billing.models import Balance, Document, DocumentType, GatewayCharge
from billing.selectors import account_financials, balance_mismatches
from dashboard.product_mix import product_mix
from orders.models import (
    Catalogue,
    CatalogueAssignment,
    Order,
    OrderStatus,
    PriceListAssignment,
    Product,
    Subscription,
    SubscriptionStatus,
    UsageRecord,
)
from orders.selectors import (
    catalogue_products,
    orders_for_distributor,
    orders_pending_approval,
    orders_unexecuted,
    price_quote,
)
from orders.services import TOKEN_WARNING
from resellers.models import Account, AuditEvent, PaymentMethod, User

TODAY = datetime.date(2026, 3, 15)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_gateway():
    TestGateway.reset()  # the built-in gateway remembers charges per process


def _seed() -> str:
    out = StringIO()
    with time_machine.travel(datetime.datetime(2026, 3, 15, 12, tzinfo=datetime.UTC), tick=False):
        call_command("seed_demo", stdout=out)
    return out.getvalue()


def _counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


def _state() -> tuple:
    """What a second run could change without adding a row."""
    return (
        sorted(Order.objects.values_list("pk", "status", "reservation_id", "status_message")),
        sorted(Balance.objects.values_list("pk", "open_debt", "credit_balance")),
        sorted(Account.objects.values_list("pk", "order_approval_required", "credit_limit")),
    )


def _account(username: str) -> Account:
    return User.objects.get(username=username).account


def _order(key: str) -> Order:
    return Order.objects.get(notes=key, parent__isnull=True)


def test_second_run_adds_nothing_and_balances_verify():
    first = _seed()
    after_first, state = _counts(), _state()
    second = _seed()

    assert _counts() == after_first
    assert _state() == state
    assert "nothing added" in second
    assert "Created" in first
    assert after_first["billing.Document"] > 0 and after_first["billing.Application"] > 0
    out = StringIO()
    call_command("verify_balances", stdout=out)
    assert "agree" in out.getvalue()


def test_prints_the_logins_and_where_to_go():
    out = _seed()
    for login in ("provider", "reseller1", "reseller2", "reseller3", "reseller4", "customer3"):
        assert f"  {login} " in out
    assert "password for each: demo" in out
    assert "http://127.0.0.1:8000/" in out


def test_logins_act_for_the_accounts_design_names():
    _seed()
    login = RequestFactory().post("/login/")  # axes counts logins per request: it needs one
    users = {name: authenticate(login, username=name, password="demo") for name in
             ("provider", "reseller1", "reseller2", "customer1")}  # fmt: skip
    assert all(users.values())
    provider, r1, r2, c1 = (users[n] for n in ("provider", "reseller1", "reseller2", "customer1"))
    assert provider.is_provider_staff and provider.is_staff and provider.is_superuser
    assert provider.account.name == "Cloud Distributor" and provider.account.currency == "USD"
    assert r1.account.is_reseller and r2.account.is_reseller and r1.account != r2.account
    assert not (r1.is_staff or r2.is_staff or c1.is_staff)
    assert c1.account.is_customer and c1.account.parent == r1.account
    assert c1.account.issuer == r1.account  # resale: the reseller bills its own customer


def test_three_kinds_of_reseller():
    _seed()
    r1 = User.objects.get(username="reseller1").account
    r2 = User.objects.get(username="reseller2").account
    referral = Account.objects.get(reseller_model=Account.ResellerModel.REFERRAL)

    assert r1.reseller_model == r2.reseller_model == Account.ResellerModel.RESALE
    assert r1.is_net_terms and r1.credit_limit == D("5000.00")
    assert r1.daily_invoicing == Account.DailyInvoicing.PREPAID_ONLY
    card = r1.payment_methods.get(is_default=True)
    assert card.kind == PaymentMethod.Kind.CARD and card.token_is_active(TODAY)
    assert r1.auto_topup_enabled and r1.auto_topup_payment_method == card
    assert r2.is_net_terms
    assert r2.payment_methods.get(is_default=True).kind == PaymentMethod.Kind.CASH
    assert referral.reseller_code
    for reseller in (r1, r2, referral):
        assert reseller.children.filter(kind=Account.Kind.CUSTOMER).count() >= 2
        assert reseller.contacts.filter(is_bill_to=True).exists()
        assert reseller.contacts.filter(is_primary=True).exists()
    # A referral reseller's customers are billed by the provider.
    for customer in referral.children.all():
        assert customer.issuer == referral.parent
    # reseller3 acts for it (seed 003), with a commission for its payouts
    assert User.objects.get(username="reseller3").account == referral
    assert referral.commission_rate == D("0.1000")


def test_balances_are_the_hand_computed_ones():
    _seed()
    r1 = User.objects.get(username="reseller1").account
    r2 = User.objects.get(username="reseller2").account
    c1 = User.objects.get(username="customer1").account

    # Provider -> reseller1: invoices 1,200 (500 paid by card) and 800 (100 of a 150 credit memo);
    # the card charge of 54.00 for the approved order prepays it: the night's daily invoice of
    # 54.00 is issued and settled with it (paid), so it uses no credit. Orders pending approval
    # reserve nothing.
    fig = account_financials(account=r1)
    assert (fig.open_debt, fig.credit_balance, fig.balance) == (D("1400.00"), D(50), D(-1350))
    [daily] = Document.objects.filter(recipient=r1, billing_key=f"daily:{TODAY}")
    assert (daily.total, daily.status) == (D("54.00"), "paid")
    assert (fig.uninvoiced, fig.reserved, fig.available_credit) == (D(0), D(0), D("3600.00"))
    # Provider -> reseller2: 300 paid in full, 345 open, a 100 top-up unapplied. Orders: 55 + 144
    # executed (uninvoiced), the 144 corrected to 134 (the demo's corrected transaction), 270 +
    # 270 reserved for the distributor's manual execution.
    fig = account_financials(account=r2)
    assert (fig.open_debt, fig.credit_balance) == (D(345), D(100))
    assert (fig.uninvoiced, fig.reserved, fig.available_credit) == (D(189), D(540), D(926))
    # Proseware's approved order stopped at its expired token: nothing reserved or spent.
    assert account_financials(account=_account("reseller4")).available_credit == D("3000.00")
    # reseller1 -> customer1: 250 + 8% tax = 270, 100 paid; and tonight's billing-date run
    # invoices its order's first period in advance, 62.50; the demo's correcting order (one
    # licence too many) credits it 12.50, which stays its credit balance.
    fig = account_financials(account=c1)
    assert (fig.open_debt, fig.credit_balance) == (D("232.50"), D("12.50"))
    [first_period] = Document.objects.filter(recipient=c1, billing_key=f"billing:{TODAY}")
    assert first_period.total == D("62.50")

    overdue = Document.objects.filter(recipient=r1).overdue(as_of=TODAY)
    assert [d.open_amount for d in overdue] == [D("700.00")]
    memo = Document.objects.exclude(reference__startswith="correction:").get(
        recipient=r1, doc_type=DocumentType.CREDIT_MEMO
    )
    assert memo.open_amount == D("50.00")
    assert Document.objects.filter(issuer=r1).exclude(status="draft").count() >= 3


def test_second_run_keeps_what_a_user_changed():
    from resellers.models import AuditEvent
    from resellers.services import account_update_financials

    _seed()
    northwind = Account.objects.get(name="Northwind Cloud Services")
    account_update_financials(account=northwind, acting_user=None, auto_topup_threshold=D("750.00"))
    # Staff change a price and a catalogue; Southridge cancels an order and wants approval back.
    from orders.models import PriceListItem
    from orders.services import order_cancel
    from resellers.services import customer_set_order_approval

    item = PriceListItem.objects.get(price_list__name="Gold partner prices")
    PriceListItem.objects.filter(pk=item.pk).update(unit_price=D("10.50"))
    essentials = Catalogue.objects.get(name="Essentials catalogue")
    essentials.products.remove(Product.objects.get(sku="DEMO-ACRONIS-CP"))
    sam = User.objects.get(username="reseller2")
    order_cancel(order=_order("DEMO-SR-ORD-9"), acting_user=sam)
    customer_set_order_approval(customer=_account("customer3"), required=True, acting_user=sam)
    audits, counts = AuditEvent.objects.count(), _counts()
    _seed()
    northwind.refresh_from_db()
    assert northwind.auto_topup_threshold == D("750.00")
    assert AuditEvent.objects.count() == audits and _counts() == counts
    assert PriceListItem.objects.get(pk=item.pk).unit_price == D("10.50")
    assert essentials.products.count() == 3
    assert _order("DEMO-SR-ORD-9").status == OrderStatus.CANCELLED
    assert _account("customer3").order_approval_required


def test_accounts_signed_up_before_their_documents():
    _seed()
    northwind = Account.objects.get(name="Northwind Cloud Services")
    first_issue = Document.objects.filter(recipient=northwind).order_by("issue_date").first()
    assert northwind.created_at.date() < first_issue.issue_date
    contacts = list(northwind.contacts.order_by("created_at"))
    assert [c.created_at.date() for c in contacts] == [northwind.created_at.date()] * 2


def test_a_catalogue_of_every_product_and_billing_type():
    _seed()
    products = Product.objects.filter(sku__startswith="DEMO-")

    assert 8 <= products.count() <= 10
    assert {p.product_type for p in products} == set(Product.ProductType.values)
    assert {p.billing_type for p in products} == set(Product.BillingType.values)
    assert products.filter(auto_executed=False).exists()
    assert products.filter(trial_days=30).exists()
    default = Catalogue.objects.get(is_default=True)
    assert set(default.products.all()) == set(products)
    [smaller] = CatalogueAssignment.objects.all()
    assert smaller.account == _account("customer2")  # Fabrikam sees the smaller catalogue only
    assert 0 < catalogue_products(account=smaller.account).count() < products.count()
    assert catalogue_products(account=_account("customer1")).count() == products.count()


def test_price_lists_give_cost_and_amount_and_referral_customers_pay_catalogue_prices():
    _seed()
    m365 = Product.objects.get(sku="DEMO-M365-BS")
    basic = Product.objects.get(sku="DEMO-M365-BB")
    ri = Product.objects.get(sku="DEMO-AZ-RI-D2S")
    r1, r2 = _account("reseller1"), _account("reseller2")
    contoso, tailspin = _account("customer1"), _account("customer3")

    for reseller in (r1, r2, _account("reseller4")):
        assert PriceListAssignment.objects.get(buyer=reseller).price_list.seller.is_provider
        for customer in reseller.children.all():
            assert PriceListAssignment.objects.get(buyer=customer).price_list.seller == reseller

    def quote(product, customer, reseller):
        q = price_quote(product=product, customer=customer, credit_account=reseller)
        return q.unit_cost, q.unit_price

    assert quote(m365, contoso, r1) == (D("10.80"), D("12.50"))  # explicit prices both sides
    assert quote(basic, contoso, r1) == (D("4.80"), D("6.00"))  # catalogue -20 %, then +25 %
    assert quote(ri, tailspin, r2) == (D("720.00"), D("864.00"))  # explicit cost, then +20 %
    litware = Account.objects.get(name="Litware Inc")  # a referral customer
    assert not PriceListAssignment.objects.filter(buyer=litware).exists()
    assert quote(m365, litware, litware) == (D("12.50"), D("12.50"))


def _statuses(reseller: Account) -> Counter:
    """The reseller's orders by status, the demo's correcting order aside."""
    return Counter(
        Order.objects.filter(credit_account=reseller, parent__isnull=True)
        .exclude(order_type="correction")
        .values_list("status", flat=True)
    )


def test_orders_in_every_status_fill_every_list():
    _seed()
    r1, r2, r4 = (_account(n) for n in ("reseller1", "reseller2", "reseller4"))
    S = OrderStatus

    # Northwind pays by card: every customer order waits for approval; one approved and charged.
    assert _statuses(r1) == Counter({S.PENDING_APPROVAL: 3, S.COMPLETED: 1})
    assert orders_pending_approval(reseller=r1).count() == 3
    charged = _order("DEMO-NW-ORD-1")
    assert charged.status == S.COMPLETED and charged.approved_by.username == "reseller1"
    charge = GatewayCharge.objects.get(payment=charged.payment)
    assert charge.payment_method == r1.payment_methods.get(is_default=True)
    assert charge.amount == charged.total_cost == D("54.00")

    # Southridge pays cash: every other outcome of the chain.
    assert _statuses(r2) == Counter({
        S.COMPLETED: 2, S.SUBMITTED_TO_DISTRIBUTOR: 1, S.SUBMITTED: 1, S.UNEXECUTED_CREDIT: 3,
        S.CANCELLED: 1, S.PENDING_APPROVAL: 1,
    })  # fmt: skip
    assert _account("customer3").order_approval_required is False
    assert _order("DEMO-SR-ORD-1").approved_at is None  # no approval needed: completed at once
    mixed = _order("DEMO-SR-ORD-4")
    assert mixed.status == S.SUBMITTED
    assert sorted(mixed.sub_orders.values_list("status", flat=True)) == [
        S.COMPLETED, S.SUBMITTED_TO_DISTRIBUTOR]  # fmt: skip
    approved_short = _order("DEMO-SR-ORD-6")
    assert approved_short.status == S.UNEXECUTED_CREDIT and approved_short.was_approved
    unexecuted = set(orders_unexecuted(reseller=r2))
    pending = set(orders_pending_approval(reseller=r2))
    assert approved_short in unexecuted and approved_short in pending  # in both lists
    assert {o.notes for o in unexecuted} == {"DEMO-SR-ORD-5", "DEMO-SR-ORD-6", "DEMO-SR-ORD-7"}
    assert {o.notes for o in pending} == {"DEMO-SR-ORD-6", "DEMO-SR-ORD-9"}
    own = _order("DEMO-SR-ORD-7")
    assert own.customer is None and own.status == S.UNEXECUTED_CREDIT  # customer blank
    assert _order("DEMO-SR-ORD-8").status == S.CANCELLED
    for_distributor = set(orders_for_distributor())
    assert _order("DEMO-SR-ORD-3") in for_distributor
    assert mixed.sub_orders.get(status=S.SUBMITTED_TO_DISTRIBUTOR) in for_distributor

    # Proseware approved, but its card's token expired: Pending with seed 004's warning.
    assert r4.payment_methods.get(is_default=True).kind == PaymentMethod.Kind.CARD
    assert not r4.payment_methods.get(is_default=True).token_is_active(TODAY)
    [stuck] = Order.objects.filter(credit_account=r4)
    assert (stuck.status, stuck.status_message) == (S.PENDING, TOKEN_WARNING)
    assert stuck.was_approved and stuck.reservation is None


def test_subscriptions_come_from_the_completed_orders():
    _seed()
    subscriptions = Subscription.objects.select_related("order")

    assert subscriptions.exists()
    assert {s.order.status for s in subscriptions} == {OrderStatus.COMPLETED}
    assert {s.start_date for s in subscriptions} == {TODAY}
    statuses = Counter(subscriptions.values_list("status", flat=True))
    # Fourth Coffee's, suspended by the demo's dunning run (50 days overdue).
    assert statuses == Counter(
        {
            SubscriptionStatus.ACTIVE: 4,
            SubscriptionStatus.TRIAL: 1,
            SubscriptionStatus.SUSPENDED: 1,
        }
    )
    assert subscriptions.get(status=SubscriptionStatus.SUSPENDED).account.name == "Fourth Coffee"
    trial = subscriptions.get(status=SubscriptionStatus.TRIAL)
    assert trial.trial_end_date == TODAY + datetime.timedelta(days=30)
    assert subscriptions.get(order=_order("DEMO-NW-ORD-1")).account == _account("customer1")


def test_the_demo_holds_a_correcting_order_and_a_corrected_transaction():
    """Seed 001 §4 in the demo: Tailspin's invoiced Microsoft 365 price corrected by a correcting
    order (a credit memo of the difference, before tax), and Southridge's uninvoiced backup
    charge corrected from 144.00 to 134.00."""
    _seed()
    original = Order.objects.get(notes="DEMO-SR-ORD-1", parent__isnull=True)
    [correction] = original.corrections.all()
    assert correction.order_type == "correction"
    item = original.items.get(product__sku="DEMO-M365-BS")
    memo = Document.objects.get(reference=f"correction:{correction.pk}")
    assert (memo.doc_type, memo.recipient, memo.subtotal) == (
        "credit_memo",
        _account("customer3"),
        item.quantity * (item.unit_price - D("12.00")),
    )
    assert memo.subtotal > 0
    assert AuditEvent.objects.filter(
        action="reseller_transaction.correct", details__after="134.00"
    ).exists()
    # Northwind's card-paid order for Contoso, one licence too many: refunded to the card
    paid = Order.objects.get(notes="DEMO-NW-ORD-1", parent__isnull=True)
    [refunding] = paid.corrections.all()
    docs = Document.objects.filter(reference=f"correction:{refunding.pk}")
    assert sorted((d.doc_type, d.recipient.name, d.total, d.status) for d in docs) == [
        ("credit_memo", "Contoso Ltd", D("12.50"), "issued"),
        ("credit_memo", "Northwind Cloud Services", D("10.80"), "closed"),
    ]
    refund = Document.objects.get(doc_type="refund", recipient=_account("reseller1"))
    assert refund.total == D("10.80") and refund.reference.startswith("re_")
    # Tailspin's Azure usage reported as 30.00, corrected to 25.00 before billing
    fix = UsageRecord.objects.get(corrects__isnull=False)
    assert (fix.corrects.amount, fix.amount) == (D("30.00"), D("-5.00"))
    assert balance_mismatches() == []
    before = (Order.objects.count(), Document.objects.count(), UsageRecord.objects.count())
    _seed()  # a second run corrects nothing again
    assert (Order.objects.count(), Document.objects.count(), UsageRecord.objects.count()) == before


def test_each_resale_resellers_product_mix_names_real_products():
    _seed()

    def mix(username, period):
        result = product_mix(account=_account(username), period=period, today=TODAY)
        return {s.product: s.amount for s in result.slices}

    northwind_before = mix("reseller1", "last_3_months")
    northwind = mix("reseller1", "this_month")
    southridge = mix("reseller2", "this_month")
    proseware = mix("reseller4", "last_3_months")

    assert northwind_before == {  # 45 days ago, by hand: 40 seats x 10.80 and Azure
        "Azure consumption": D("768.00"),
        "Microsoft 365 Business Standard": D("432.00"),
    }
    # 10 days ago by hand (45 seats, backup) and tonight's daily invoice of Contoso's order
    assert northwind == {
        "Microsoft 365 Business Standard": D("486.00") + D("54.00"),
        "Managed backup storage, per TB": D("314.00"),
    }
    assert southridge == {"Google Workspace Business Starter": D("300.00"), "Other": D("45.00")}
    assert proseware["Azure Reserved VM Instance D2s v5, 1 year"] == D("720.00")
    assert sum(proseware.values()) == D("829.00")
    # paid in full before its card expired: Proseware's credit is untouched
    assert account_financials(account=_account("reseller4")).available_credit == D("3000.00")
