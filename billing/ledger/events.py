"""What the ledger tells the rest of the product, as Django signals: the ledger imports nothing
above it, so those who act on its writes (a receipt's email, a webhook) listen instead.

Both are sent inside the writing transaction: a receiver that does anything outside the
database defers it with `transaction.on_commit`; one that writes does so in that transaction.

- `document_issued(document=…)`: a document was issued.
- `payments_applied(recipient_id=…)`: a payment, or the credit balance, was applied to the
  account's documents (at the end of `payment_record`, `credit_balance_apply` and
  `application_create`, under the account's lock); dunning lifts a hold it cleared.
"""

from django.dispatch import Signal

document_issued = Signal()
payments_applied = Signal()
