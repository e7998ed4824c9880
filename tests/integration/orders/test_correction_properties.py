"""Property: whatever sequence of purchases, billing, correcting orders (price, quantity, period,
cancel; credit memo or refund), corrected transactions and usage corrections happens, the books stay
balanced and each detail is charged, net of its corrections' memos, exactly what its corrected
state says: never credited more than was charged."""

import datetime
from decimal import Decimal as D

from django.db import transaction
from django.db.models import Q, Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from billing import ledger, runs
from billing.gateway import TestGateway
from billing.models import Document, ResellerTransaction
from billing.selectors import balance_mismatches
from orders.models import DeliveryStatus, Order, OrderItem
from orders.selectors import item_charged_period, item_corrected_state
from orders.services import CorrectionLine, order_correct, usage_correct
from orders.usage import usage_record
from resellers.exceptions import ApplicationError
from tests import factories as f
from tests.factories import billing as bf

BOUGHT, BILLED, LATER = (
    datetime.date(2026, 1, 1),
    datetime.date(2026, 2, 1),
    datetime.date(2026, 2, 2),
)
prices = st.decimals(min_value=D("0.00"), max_value=D("40.00"), places=2)


class Corrections(RuleBasedStateMachine):
    @initialize()
    def setup(self):
        # Each example in a savepoint rolled back at its end: a fresh day's run, fresh keys.
        self._example = transaction.atomic()
        self._example.__enter__()
        TestGateway.reset()
        self.w = bf.world()
        self.billed = False
        self.orders: list[Order] = []
        self.usage = []

    @precondition(lambda self: not self.billed and len(self.orders) < 4)
    @rule(
        product=st.sampled_from(["monthly", "annual", "three_years"]),
        quantity=st.integers(1, 3),
        for_reseller=st.booleans(),
    )
    def buy(self, product, quantity, for_reseller):
        sub = bf.subscribe(
            self.w,
            product=getattr(self.w, product),
            quantity=quantity,
            today=BOUGHT,
            for_reseller=for_reseller,
        )
        self.orders.append(sub.order)

    @precondition(lambda self: not self.billed and not self.usage)
    @rule(amount=st.decimals(min_value=D("0.01"), max_value=D("90.00"), places=2))
    def report_usage(self, amount):
        sub = bf.subscribe(self.w, product=self.w.usage, today=BOUGHT)
        record, _ = usage_record(
            subscription=sub,
            usage_date=datetime.date(2026, 1, 15),
            reference="u",
            amount=amount,
            acting_user=self.w.staff,
            today=datetime.date(2026, 1, 15),
        )
        self.usage.append(record)

    @precondition(lambda self: not self.billed)
    @rule(pay_by_card=st.booleans())
    def bill(self, pay_by_card):
        runs.run_start(run_date=BILLED, inline=True)
        self.billed = True
        if pay_by_card:  # the reseller pays its billing order by card: refunds go back to it
            invoice = Document.objects.filter(recipient=self.w.reseller, doc_type="invoice").first()
            if invoice is not None:
                card = f.card(self.w.reseller, token="tok_props")
                payment = ledger.card_charge(
                    payment_method=card,
                    amount=invoice.total,
                    idempotency_key="props",
                    charge_date=BILLED,
                )
                ledger.application_create(
                    credit_document=payment,
                    debit_document=invoice,
                    amount=invoice.total,
                    acting_user=self.w.staff,
                )

    @precondition(lambda self: self.orders)
    @rule(data=st.data(), outcome=st.sampled_from(["credit_memo", "refund"]))
    def correct(self, data, outcome):
        order = data.draw(st.sampled_from(self.orders))
        item = order.items.get()
        change = data.draw(
            st.sampled_from(["cancel", "quantity", "unit_cost", "unit_price", "period"])
        )
        line = {
            "cancel": lambda: CorrectionLine(item_id=item.pk, cancel=True),
            "quantity": lambda: CorrectionLine(
                item_id=item.pk, quantity=data.draw(st.integers(1, 4))
            ),
            "unit_cost": lambda: CorrectionLine(item_id=item.pk, unit_cost=data.draw(prices)),
            "unit_price": lambda: CorrectionLine(item_id=item.pk, unit_price=data.draw(prices)),
            "period": lambda: self._period_line(item, data),
        }[change]()
        cancelled = item.corrections.filter(delivery_status=DeliveryStatus.CANCELLED).exists()
        try:
            order_correct(
                order=order,
                lines=[line],
                outcome=outcome,
                reason="property",
                acting_user=self.w.staff,
                today=LATER,
            )
        except ApplicationError as exc:  # only a cancelled detail is refused
            assert cancelled and "nothing is left to correct" in str(exc), exc
        else:
            assert not cancelled

    def _period_line(self, item, data):
        """A service period inside the billing period the detail's charge fell in."""
        charged = item_charged_period(item=item, state=item_corrected_state(item=item))
        if charged is None:  # cancelled before it was ever charged for a period
            return CorrectionLine(item_id=item.pk, cancel=True)
        days = (charged.within.end - charged.within.start).days
        start = data.draw(st.integers(0, days - 1))
        end = data.draw(st.integers(start + 1, days))
        return CorrectionLine(
            item_id=item.pk,
            period_start=charged.within.start + datetime.timedelta(days=start),
            period_end=charged.within.start + datetime.timedelta(days=end),
        )

    @precondition(lambda self: self.usage)
    @rule(amount=st.decimals(min_value=D("0.00"), max_value=D("90.00"), places=2))
    def correct_usage(self, amount):
        try:
            usage_correct(
                record=self.usage[0],
                amount=amount,
                reason="property",
                acting_user=self.w.staff,
                today=LATER,
            )
        except ApplicationError as exc:
            assert exc.field == "amount"  # the same value again

    @rule(
        amount=st.decimals(min_value=D("0.01"), max_value=D("50.00"), places=2),
        kind=st.sampled_from(["debit_memo", "credit_memo"]),
    )
    def memo_by_hand(self, amount, kind):
        ledger.memo_issue(
            doc_type=kind,
            recipient=self.w.reseller,
            lines=[ledger.MemoLine(description="By hand", unit_price=amount)],
            reason="property",
            issue_date=LATER,
            acting_user=self.w.staff,
        )

    def teardown(self):
        if hasattr(self, "_example"):
            transaction.set_rollback(True)
            self._example.__exit__(None, None, None)

    @invariant()
    def books_balance(self):
        if not hasattr(self, "w"):
            return
        assert balance_mismatches() == []

    @invariant()
    def each_detail_is_charged_its_corrected_state(self):
        if not hasattr(self, "w"):
            return
        for order in self.orders:
            item = OrderItem.objects.get(order=order)
            state = item_corrected_state(item=item)
            resale = order.customer_id is not None and order.customer_id != order.credit_account_id
            sides = [(order.credit_account_id, state.total_cost)]
            if resale:
                sides.append((order.customer_id, state.total_amount))
            refs = [f"correction:{c.pk}" for c in order.corrections.all()]
            for account_id, expected in sides:
                charged = ResellerTransaction.objects.filter(
                    order_item=item, account_id=account_id
                ).exclude(status="cancelled").aggregate(s=Sum("amount"))["s"] or D(0)
                memos = Document.objects.filter(recipient_id=account_id, reference__in=refs)
                debit = memos.filter(doc_type="debit_memo").aggregate(s=Sum("subtotal"))["s"] or 0
                credit = memos.filter(doc_type="credit_memo").aggregate(s=Sum("subtotal"))["s"] or 0
                assert charged + debit - credit == expected, (order.pk, account_id)
                assert expected >= 0
        refunds = Document.objects.filter(
            doc_type="refund", status__in=["issued", "paid", "closed"]
        )
        refunded = refunds.aggregate(s=Sum("total"))["s"] or D(0)
        paid_by_card = Document.objects.filter(Q(doc_type="payment")).aggregate(s=Sum("total"))["s"]
        assert refunded <= (paid_by_card or D(0))  # never refunds more than was paid


def test_any_sequence_of_corrections_keeps_the_books(db):
    run_state_machine_as_test(
        Corrections,
        settings=settings(
            max_examples=12,
            stateful_step_count=8,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
