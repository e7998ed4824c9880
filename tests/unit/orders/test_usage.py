"""orders.usage.usage_record: one record per reference, the dates it accepts, and the record the
billing run then bills in arrears."""

from decimal import Decimal as D

import pytest

from billing import runs
from billing.models import ResellerTransaction
from orders.models import UsageRecord
from orders.usage import UsageReferenceConflict, usage_record
from resellers.exceptions import ApplicationError, PermissionDenied
from tests.factories import billing as bf
from tests.factories.billing import d
from tests.threads import run_together

JAN1 = d("2026-01-01")
TODAY = d("2026-01-20")


@pytest.fixture
def w(db):
    return bf.world()


@pytest.fixture
def storage(w):
    """Customer C's usage subscription (Storage GB: 0.15 to C, 0.10 to its reseller) from Jan 1."""
    return bf.subscribe(w, product=w.usage, today=JAN1)


def report(w, subscription, *, today=TODAY, user=None, **values):
    values.setdefault("usage_date", d("2026-01-15"))
    values.setdefault("reference", "meter-1")
    return usage_record(
        subscription=subscription, acting_user=user or w.staff, today=today, **values
    )


def test_a_reference_reported_twice_is_stored_once(w, storage):
    first, created = report(w, storage, quantity=D("12.5"))
    again, created_again = report(w, storage, quantity=D("12.5000"))

    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert list(
        UsageRecord.objects.filter(subscription=storage).values_list("quantity", flat=True)
    ) == [D("12.5000")]


def test_the_same_reference_with_another_body_is_refused(w, storage):
    report(w, storage, quantity=D("12.5"))

    with pytest.raises(UsageReferenceConflict) as refused:
        report(w, storage, quantity=D("13"))

    assert refused.value.field == "reference"
    assert UsageRecord.objects.get(subscription=storage).quantity == D("12.5")


def test_money_usage_keeps_amount_and_cost(w, storage):
    record, _ = report(w, storage, amount=D("25.00"), cost=D("20.00"), reference="app-7")

    assert (record.quantity, record.amount, record.cost) == (None, D("25.00"), D("20.00"))


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"quantity": D("1"), "amount": D("1.00")}, "quantity"),
        ({}, "amount"),
        ({"quantity": D("1"), "cost": D("1.00")}, "cost"),
        ({"quantity": D("-1")}, "quantity"),
        ({"amount": D("-1.00")}, "amount"),
        ({"quantity": D("1"), "usage_date": d("2025-12-31")}, "usage_date"),  # before the start
        ({"quantity": D("1"), "usage_date": d("2026-01-21")}, "usage_date"),  # tomorrow
        ({"quantity": D("1"), "reference": ""}, "reference"),
    ],
)
def test_bad_usage_is_refused_naming_the_field(w, storage, values, field):
    with pytest.raises(ApplicationError) as refused:
        report(w, storage, **values)

    assert refused.value.field == field
    assert not UsageRecord.objects.filter(subscription=storage).exists()


def test_today_is_accepted_the_future_is_not(w, storage):
    record, created = report(w, storage, quantity=D("1"), usage_date=TODAY)
    assert created and record.usage_date == TODAY


def test_only_usage_billed_subscriptions_take_usage(w):
    monthly = bf.subscribe(w, today=JAN1)

    with pytest.raises(ApplicationError) as refused:
        report(w, monthly, quantity=D("1"))

    assert refused.value.field == "subscription"
    assert "not billed by usage" in refused.value.message


def test_only_the_provider_reports_usage(w, storage):
    with pytest.raises(PermissionDenied):
        report(w, storage, quantity=D("1"), user=w.reseller_user)
    assert not UsageRecord.objects.filter(subscription=storage).exists()


def test_a_billed_day_takes_no_more_usage_and_the_record_is_billed(w, storage):
    report(w, storage, quantity=D("100"), reference="jan")

    runs.run_start(run_date=d("2026-02-01"), inline=True)
    storage.refresh_from_db()

    assert storage.billed_through == d("2026-02-01")
    charge = ResellerTransaction.objects.get(account=w.customer, subscription_id=storage.pk)
    assert (charge.kind, charge.amount) == ("usage", D("15.00"))  # 100 x 0.15
    with pytest.raises(ApplicationError) as refused:
        report(w, storage, quantity=D("5"), usage_date=d("2026-01-31"), reference="late",
               today=d("2026-02-02"))  # fmt: skip
    assert refused.value.field == "usage_date"
    assert refused.value.message == (
        "This day is already billed: usage is accepted from 2026-02-01 on."
    )
    # The billed record reported again is still answered with the record, not refused.
    record, created = report(w, storage, quantity=D("100"), reference="jan", today=d("2026-02-02"))
    assert not created and record.quantity == D("100")
    record, created = report(w, storage, quantity=D("5"), usage_date=d("2026-02-01"),
                             reference="feb", today=d("2026-02-02"))  # fmt: skip
    assert created


def test_a_cancelled_subscription_takes_no_usage(w, storage):
    storage.status = "cancelled"
    storage.save(update_fields=["status"])

    with pytest.raises(ApplicationError) as refused:
        report(w, storage, quantity=D("1"))
    assert refused.value.field == "subscription"


@pytest.mark.django_db(transaction=True)
def test_racing_reports_with_one_reference_store_one_record():
    w = bf.world()
    storage = bf.subscribe(w, product=w.usage, today=JAN1)

    results, errors = run_together(4, lambda i: report(w, storage, quantity=D("7"))[1])

    assert errors == []
    assert sorted(results) == [False, False, False, True]
    assert UsageRecord.objects.filter(subscription=storage).count() == 1
