"""Writes on the ledger. Each public function is one transaction.

Locking rule (billing.ledger.balances): every write that changes what an account owes or holds
first locks that account's row, then updates the cached Balance of the (issuer, recipient) pair
in the same transaction. The credit check takes the same lock, so it always sees a consistent
state. Numbers come from DocumentSequence in one UPDATE ... RETURNING, inside the issuing
transaction (billing.ledger.numbering).

Modules, lowest first (a module imports only those above it):
  errors        the exceptions and the staff-only guard
  balances      row locks and the cached pair balance
  numbering     document numbers
  statuses      a document's status moves and its settled status
  applications  credit applied to debit, by hand or from the credit balance
  documents     drafts, issuing and cancelling
  payments      payments, card charges and refunds
  credit        the credit check and credit reservations
  transactions  reseller transactions and the billing cycle a first charge anchors
  prepayments   payments set aside for prepaid orders
"""

from billing.ledger.applications import (
    allocated_amounts,
    application_create,
    application_remove,
    credit_balance_apply,
    credit_balance_apply_locked,
)
from billing.ledger.corrections import (
    reseller_transaction_cancel,
    reseller_transaction_correct,
)
from billing.ledger.credit import (
    credit_available_locked,
    credit_check,
    credit_reservation_release,
    credit_reserve,
)
from billing.ledger.documents import LineSpec, document_cancel, document_create, document_issue
from billing.ledger.errors import InsufficientCredit, InvalidTransition
from billing.ledger.memos import MEMO_TYPES, MemoLine, memo_issue
from billing.ledger.numbering import numbers_allocate
from billing.ledger.payments import card_charge, payment_record, refund_issue
from billing.ledger.prepayments import (
    prepayment_allocate,
    prepayment_attach,
    prepayment_release,
    prepayment_settle,
    prepayment_source_locked,
)
from billing.ledger.refunds import charge_refundable, credit_refund
from billing.ledger.statuses import TRANSITIONS, settled_status
from billing.ledger.transactions import (
    TransactionSpec,
    billing_cycles_start,
    reseller_transaction_record,
    reseller_transactions_add,
)

__all__ = [
    "MEMO_TYPES",
    "TRANSITIONS",
    "InsufficientCredit",
    "InvalidTransition",
    "LineSpec",
    "MemoLine",
    "TransactionSpec",
    "allocated_amounts",
    "application_create",
    "application_remove",
    "billing_cycles_start",
    "card_charge",
    "charge_refundable",
    "credit_available_locked",
    "credit_balance_apply",
    "credit_balance_apply_locked",
    "credit_check",
    "credit_refund",
    "credit_reservation_release",
    "credit_reserve",
    "document_cancel",
    "document_create",
    "document_issue",
    "memo_issue",
    "numbers_allocate",
    "payment_record",
    "prepayment_allocate",
    "prepayment_attach",
    "prepayment_release",
    "prepayment_settle",
    "prepayment_source_locked",
    "refund_issue",
    "reseller_transaction_cancel",
    "reseller_transaction_correct",
    "reseller_transaction_record",
    "reseller_transactions_add",
    "settled_status",
]
