"""What the ledger tells the rest of the product, as Django signals: the ledger imports nothing
above it, so those who act on its writes (a receipt's email, a webhook) listen instead.

`document_issued(document=…)` is sent inside the issuing transaction: a receiver that does
anything outside the database defers it with `transaction.on_commit`.
"""

from django.dispatch import Signal

document_issued = Signal()
