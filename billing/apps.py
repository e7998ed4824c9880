from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        # connects the receipts to payments issued, and the ledger's signals to the webhooks
        from billing import tasks, webhooks  # noqa: F401
