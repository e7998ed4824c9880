"""The ledger: AR documents with lines, applications between them, gap-free numbering, cached
balances, credit reservations and reseller transactions.

Direction (seed 002): invoices, debit memos and refunds are debit documents (the recipient owes);
payments and credit memos are credit documents. Every amount is positive; the type gives the sign.
Issued documents are immutable: services never change them and database triggers (migration
0003_ledger_guards) refuse any change to an issued document's parties, dates, lines or amounts,
and any delete. Only `status`, `open_amount` and the status timestamps move.
"""

# The models live in the modules below by subject; callers import them from here.
from billing.models.credit import (  # noqa: F401
    Balance,
    CreditReservation,
    ResellerTransaction,
)
from billing.models.documents import (  # noqa: F401
    CREDIT_TYPES,
    DEBIT_TYPES,
    LIVE_STATUSES,
    MONEY,
    NUMBER_PREFIX,
    RATE,
    READS_CLOSED,
    Application,
    Document,
    DocumentLine,
    DocumentQuerySet,
    DocumentSequence,
    DocumentStatus,
    DocumentType,
)
from billing.models.dunning import (  # noqa: F401
    HELD_STAGES,
    DunningNotice,
    DunningPolicy,
    DunningStage,
    DunningState,
)
from billing.models.payments import (  # noqa: F401
    DocumentEmail,
    GatewayAttempt,
    GatewayCharge,
    IdempotencyKey,
    PaymentAllocation,
    PaymentRequestKey,
    ReferralPayout,
)
from billing.models.runs import (  # noqa: F401
    BillingRun,
    BillingRunChunk,
    BillingRunFailure,
)
from billing.models.topups import AutoTopupAttempt, AutoTopupCrossing  # noqa: F401
from billing.models.webhooks import (  # noqa: F401
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
