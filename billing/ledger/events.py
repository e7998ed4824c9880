"""What the ledger tells the rest of the product, as Django signals: the ledger imports nothing
above it, so those who act on its writes (a receipt's email, a webhook) listen instead.

- `document_issued(document=…)`: a document was issued (document_issue; the billing runs issue
  theirs in bulk and send none: they emit their webhooks themselves).
- `document_paid(document=…)`: an invoice or a debit memo became fully paid, by an application
  of a payment or a credit memo (by hand, from the credit balance, a prepaid order's payment).
  Again after an unlink reopened it and a new application paid it. Not for a document issued at
  zero, which was never owed, nor for a refund, which is settled, not paid.
- `payments_applied(recipient_id=…)`: a payment, or the credit balance, was applied to the
  account's documents (at the end of `payment_record`, `credit_balance_apply` and
  `application_create`, under the account's lock); dunning lifts a hold it cleared.

All are sent inside the writing transaction: a receiver that does anything outside the
database defers it with `transaction.on_commit`; one that writes does so in that transaction.
"""

from django.dispatch import Signal

document_issued = Signal()
payments_applied = Signal()
document_paid = Signal()
