"""Seed 001 §3, scenario 1 ("A customer's subscription is suspended"), end to end by the clock and
payments alone: every day from 1 January to 1 June 2026 the day's jobs run (the billing-date run
and dunning, as beat runs them), and the customer's only acts are payments. Nothing is suspended,
held, lifted or reactivated by hand.

The reseller's dunning policy for its customers: payment terms 7 days, reminders 3 days before
and 1 day after the due date, credit hold 3 days overdue, suspension 7 days overdue. Period A's
invoice (1 February) falls due on 8 February: on hold on the 11th, suspended on the 15th.
"""

import datetime
from decimal import Decimal as D

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from django.utils import timezone

from billing import ledger, runs
from billing.dunning import dunning_run, policy_set
from billing.models import Document, DunningNotice, DunningState
from billing.selectors import balance_mismatches
from orders.models import Subscription
from resellers import services as accounts
from resellers.models import Account, AuditEvent
from tests.factories import billing as bf
from tests.factories.billing import d

pytestmark = pytest.mark.django_db

A, B, C, DD = d("2026-02-01"), d("2026-03-01"), d("2026-04-01"), d("2026-05-01")
PAID_A = d("2026-05-10")


def days(start, end):
    day = start
    while day <= end:
        yield day
        day += datetime.timedelta(days=1)


def at(day):
    return time_machine.travel(
        timezone.make_aware(datetime.datetime.combine(day, datetime.time(9))), tick=False
    )


class Clock:
    """The beat jobs, day by day: the billing-date run (01:00), then dunning (07:00)."""

    def __init__(self, start):
        self.today = start

    def run_until(self, end):
        for day in days(self.today, end):
            with at(day):
                runs.run_start(run_date=timezone.localdate(), inline=True)
                result = dunning_run(today=timezone.localdate())
                assert not result.failed
        self.today = end + datetime.timedelta(days=1)


def invoices(account, since=None):
    found = Document.objects.filter(recipient=account, doc_type="invoice").order_by("pk")
    if since:
        found = found.filter(issue_date__gte=since)
    return list(found)


def periods(document):
    return [(ln.period_start_date, ln.amount) for ln in document.lines.order_by("position")]


def pay(w, documents, day):
    with at(day):
        return ledger.payment_record(
            recipient=w.customer,
            amount=sum((x.open_amount for x in documents), D(0)),
            received_date=day,
            acting_user=None,
            apply_to=documents,
        )


def stage(w):
    state = DunningState.objects.filter(account=w.customer).first()
    return state.stage if state else "current"


def world(on_hold):
    w = bf.world(on_hold=on_hold)
    Account.objects.filter(pk=w.customer.pk).update(payment_terms_days=7)
    w.customer.refresh_from_db()
    accounts.contact_create(account=w.customer, name="Cleo", email="cleo@customer.example")
    policy_set(
        issuer=w.reseller,
        acting_user=w.reseller_user,
        reminder_days_before=[3],
        reminder_days_after=[1],
        credit_hold_days=3,
        suspension_days=7,
    )
    return w


@pytest.mark.parametrize("on_hold", [True, False], ids=["setting on", "setting off"])
def test_scenario_1_by_the_clock_and_payments_alone(on_hold):
    w = world(on_hold)
    with at(d("2026-01-01")):
        sub = bf.subscribe(w, today=d("2026-01-01"))
    clock = Clock(d("2026-01-01"))
    clock.run_until(d("2026-01-03"))
    pay(w, invoices(w.customer), d("2026-01-03"))  # January, paid on time

    # "A customer fails to pay for a new billing period (period A)."
    clock.run_until(d("2026-02-10"))
    [invoice_a] = invoices(w.customer, since=A)
    assert invoice_a.due_date == d("2026-02-08")
    assert stage(w) == "overdue" and not Account.objects.get(pk=w.customer.pk).credit_hold
    clock.run_until(d("2026-02-11"))
    # "The customer's account is put on credit hold."
    assert stage(w) == "credit_hold" and Account.objects.get(pk=w.customer.pk).credit_hold
    sub.refresh_from_db()
    assert sub.status == "active"
    clock.run_until(d("2026-02-15"))
    # "The respective service subscription is suspended."
    sub.refresh_from_db()
    assert sub.status == "suspended" and stage(w) == "suspended"

    # "The customer does not pay for the service for three more billing periods, B, C, D. The
    # service remains suspended. The customer's account remains on credit hold."
    clock.run_until(PAID_A - datetime.timedelta(days=1))
    sub.refresh_from_db()
    assert sub.status == "suspended" and stage(w) == "suspended"
    during = invoices(w.customer, since=B)
    if on_hold:
        # "for each billing period, the system issues its own invoice charging the customer
        # separately for billing periods B, C, and D on each respective billing date."
        assert [(i.issue_date, periods(i)) for i in during] == [
            (B, [(B, D("15.00"))]),
            (C, [(C, D("15.00"))]),
            (DD, [(DD, D("15.00"))]),
        ]
    else:
        assert during == []

    # "The customer eventually pays for billing period A. The service is activated."
    payment = pay(w, [invoice_a], PAID_A)
    sub.refresh_from_db()
    if on_hold:
        # B, C and D were invoiced and are overdue too: paying A alone clears nothing.
        assert sub.status == "suspended" and stage(w) == "suspended"
        assert invoices(w.customer, since=PAID_A) == []
        # "The customer can continue making regular payments in manageable amounts."
        pay(w, during, PAID_A)
        sub.refresh_from_db()
        assert invoices(w.customer, since=PAID_A) == []  # every period already invoiced
    else:
        # In the payment's own transaction: reactivated, and "the system issues an invoice,
        # charging the customer for billing periods B, C, and D".
        [catch_up] = invoices(w.customer, since=PAID_A)
        assert periods(catch_up) == [(B, D("15.00")), (C, D("15.00")), (DD, D("15.00"))]
        assert catch_up.total == D("45.00")
        assert payment.issue_date == catch_up.issue_date == PAID_A
    assert sub.status == "active"
    assert stage(w) == "current"
    assert not Account.objects.get(pk=w.customer.pk).credit_hold

    # The next billing date bills the subscription as usual, the catch-up (off) paid in time.
    clock.run_until(d("2026-05-12"))
    if not on_hold:
        pay(w, [catch_up], d("2026-05-12"))
    clock.run_until(d("2026-06-01"))
    assert stage(w) == "current"
    assert [periods(i) for i in invoices(w.customer, since=d("2026-06-01"))] == [
        [(d("2026-06-01"), D("15.00"))]
    ]

    # Every step was audited and emailed, once.
    kinds = list(
        DunningNotice.objects.filter(account=w.customer)
        .exclude(kind__startswith="reminder")
        .order_by("pk")
        .values_list("kind", "on_date")
    )
    assert kinds == [
        ("credit_hold", d("2026-02-11")),
        ("suspension", d("2026-02-15")),
        ("reactivation", PAID_A),
    ]
    assert DunningNotice.objects.filter(account=w.customer, sent_at=None).count() == 0
    subjects = [m.subject for m in mail.outbox if m.to == ["cleo@customer.example"]]
    assert "Your account with Reseller R is on credit hold" in subjects
    assert "Your subscriptions with Reseller R are suspended" in subjects
    assert "Your account with Reseller R is active again" in subjects
    assert subjects.count("Your account with Reseller R is on credit hold") == 1
    actions = set(
        AuditEvent.objects.filter(account_id=w.customer.pk, action__startswith="dunning.")
        .values_list("action", flat=True)
        .distinct()
    )
    assert {"dunning.credit_hold", "dunning.suspension", "dunning.reactivation"} <= actions
    assert actions & {"dunning.reminder_before", "dunning.reminder_after"}
    assert balance_mismatches() == []


def test_the_lift_is_in_the_payments_transaction():
    """A payment rolled back takes its lift and the catch-up with it."""
    w = world(on_hold=False)
    with at(d("2026-01-01")):
        sub = bf.subscribe(w, today=d("2026-01-01"))
    clock = Clock(d("2026-01-01"))
    clock.run_until(d("2026-01-02"))
    pay(w, invoices(w.customer), d("2026-01-02"))
    clock.run_until(d("2026-03-05"))
    assert Subscription.objects.get(pk=sub.pk).status == "suspended"
    [invoice_a] = invoices(w.customer, since=A)

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        pay(w, [invoice_a], d("2026-03-05"))
        assert Subscription.objects.get(pk=sub.pk).status == "active"
        assert len(invoices(w.customer, since=d("2026-03-05"))) == 1  # B's catch-up
        raise Abort
    assert Subscription.objects.get(pk=sub.pk).status == "suspended"
    assert stage(w) == "suspended" and invoices(w.customer, since=d("2026-03-05")) == []
    assert Account.objects.get(pk=w.customer.pk).credit_hold
