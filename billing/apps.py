from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from billing.receivers import bill_catch_up
        from orders.signals import subscription_resumed

        subscription_resumed.connect(bill_catch_up, dispatch_uid="billing.bill_catch_up")
