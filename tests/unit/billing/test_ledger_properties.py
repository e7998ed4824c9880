"""Property: whatever sequence of issues, payments (recorded, card payments of chosen
documents, wallet payments), memos by hand, refunds, applications, unlinks and cancellations
happens, the cached figures equal the documents, and balance = live credits - live debits
(applications move nothing between the two sides)."""

import datetime
from decimal import Decimal as D

from django.db.models import Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from billing import card_payments, ledger, selectors
from billing.models import CREDIT_TYPES, DEBIT_TYPES, LIVE_STATUSES, Application, Document
from resellers import services as accounts
from resellers.exceptions import ApplicationError
from tests import factories as f

DAY = datetime.date(2026, 6, 1)
amounts = st.decimals(min_value=D("0.01"), max_value=D("500.00"), places=2)


class Ledger(RuleBasedStateMachine):
    @initialize(prepaid=st.booleans())
    def setup(self, prepaid):
        self.staff = f.user(account=f.provider())
        terms = "prepaid" if prepaid else "net_terms"
        self.unlinked = False
        self.account = f.reseller(credit_terms=terms, credit_limit=D("0") if prepaid else D("900"))

    def _docs(self, types):
        return list(
            Document.objects.filter(recipient=self.account, doc_type__in=types).order_by("pk")
        )

    @rule(amount=amounts, kind=st.sampled_from(["invoice", "debit_memo", "credit_memo"]))
    def issue(self, amount, kind):
        f.issued(kind, recipient=self.account, amount=amount, issue_date=DAY)

    @rule(amount=amounts)
    def pay(self, amount):
        f.payment(self.account, amount, DAY)

    @rule(data=st.data())
    def link(self, data):
        credits = [
            d for d in self._docs(CREDIT_TYPES) if d.status in LIVE_STATUSES and d.open_amount
        ]
        debits = [d for d in self._docs(DEBIT_TYPES) if d.status in LIVE_STATUSES and d.open_amount]
        if not credits or not debits:
            return
        credit, debit = data.draw(st.sampled_from(credits)), data.draw(st.sampled_from(debits))
        most = min(credit.open_amount, debit.open_amount)
        amount = data.draw(st.decimals(min_value=D("0.01"), max_value=most, places=2))
        ledger.application_create(
            credit_document=credit, debit_document=debit, amount=amount, acting_user=self.staff
        )

    @rule(data=st.data())
    def unlink(self, data):
        apps = list(
            Application.objects.filter(
                debit_document__recipient=self.account, unapplied_at__isnull=True
            )
        )
        if apps:
            self.unlinked = True
            ledger.application_remove(
                application=data.draw(st.sampled_from(apps)), acting_user=self.staff
            )

    @rule(data=st.data())
    def cancel(self, data):
        docs = [d for d in self._docs(DEBIT_TYPES | CREDIT_TYPES) if d.status in LIVE_STATUSES]
        if not docs:
            return
        doc = data.draw(st.sampled_from(docs))
        try:
            ledger.document_cancel(document=doc, acting_user=self.staff)
        except ApplicationError:
            assert doc.open_amount != doc.total  # refused only when something is applied

    @rule(amount=amounts, kind=st.sampled_from(["debit_memo", "credit_memo"]))
    def memo_by_hand(self, amount, kind):
        """A memo provider staff issue by hand (ledger.memo_issue), taxed and audited."""
        ledger.memo_issue(
            doc_type=kind,
            recipient=self.account,
            lines=[ledger.MemoLine(description="By hand", unit_price=amount)],
            reason="property test",
            issue_date=DAY,
            acting_user=self.staff,
        )

    @rule(data=st.data())
    def refund_offline(self, data):
        """Part of a credit document's unapplied amount paid back offline (ledger.credit_refund)."""
        open_credits = [d for d in self._docs(CREDIT_TYPES) if d.open_amount > 0]
        if not open_credits:
            return
        document = data.draw(st.sampled_from(open_credits))
        amount = data.draw(
            st.decimals(min_value=D("0.01"), max_value=document.open_amount, places=2)
        )
        if not hasattr(self, "cash"):
            self.cash = accounts.payment_method_create(account=self.account, kind="cash")
        ledger.credit_refund(
            credit_document=document,
            amount=amount,
            payment_method=self.cash,
            idempotency_key=f"p{document.pk}-{amount}-{Document.objects.count()}",
            issue_date=DAY,
            acting_user=self.staff,
        )

    @rule(data=st.data(), amount=st.none() | amounts)
    def pay_chosen_by_card(self, data, amount):
        """Seed 003's first way: a card payment applied to chosen open documents (never more
        than each one's open amount; the rest stays as credit balance)."""
        payable = list(card_payments.open_payable_documents(account=self.account))
        if not payable:
            return
        chosen = data.draw(st.lists(st.sampled_from(payable), min_size=1, unique=True))
        self._card_pay(chosen, amount)

    @rule(amount=amounts)
    def wallet_payment(self, amount):
        """Seed 003's second way (`wallet_pay`, the panel's wallet and the API's oldest_due):
        one card payment applied oldest due first to all that is open."""
        payable = list(card_payments.open_payable_documents(account=self.account))
        if payable:
            self._card_pay(payable, amount, wallet=True)

    def _card_pay(self, documents, amount, *, wallet=False):
        if not hasattr(self, "card"):
            self.card = f.card(self.account, token="tok_property")
        self.keys = getattr(self, "keys", 0) + 1
        before = {d.pk: d.open_amount for d in documents}
        charge = {
            "account": self.account,
            "payment_method": self.card,
            "amount": amount,
            "idempotency_key": f"property-{self.keys}",
            "acting_user": None,
            "today": DAY,
        }
        if wallet:
            payment = card_payments.wallet_pay(**charge)
        else:
            payment = card_payments.documents_pay(documents=documents, **charge)
        applied = Application.objects.filter(credit_document=payment, unapplied_at__isnull=True)
        assert {a.debit_document_id for a in applied} <= set(before)
        for a in applied:
            assert a.amount <= before[a.debit_document_id]

    @rule()
    def pay_with_credit_balance(self):
        ledger.credit_balance_apply(recipient=self.account, acting_user=None)

    @invariant()
    def books_balance(self):
        if not hasattr(self, "account"):
            return
        assert selectors.balance_mismatches() == []
        live = Document.objects.filter(recipient=self.account, status__in=LIVE_STATUSES)
        credits = live.filter(doc_type__in=CREDIT_TYPES).aggregate(s=Sum("total"))["s"] or 0
        debits = live.filter(doc_type__in=DEBIT_TYPES).aggregate(s=Sum("total"))["s"] or 0
        fin = selectors.account_financials(account=self.account)
        assert fin.balance == credits - debits
        assert fin.open_debt >= 0 and fin.credit_balance >= 0
        if self.account.credit_terms == "prepaid" and not self.unlinked:
            # Automatic application: a prepaid account never holds open credit and open debt at
            # once, until staff unlink by hand (then they re-link as they choose).
            assert fin.open_debt == 0 or fin.credit_balance == 0


def test_any_sequence_of_operations_keeps_the_books(db):
    run_state_machine_as_test(
        Ledger,
        settings=settings(
            max_examples=15,
            stateful_step_count=10,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
