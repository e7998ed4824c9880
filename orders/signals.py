"""Signals the orders app sends for layers above it (the billing runs), which it must not import.

`subscription_resumed(sender=Subscription, subscription=..., acting_user=...)`: a suspended
subscription was reactivated; sent once its transaction commits. billing.receivers bills the
holder's catch-up at once (seed 001 §3: "when A is paid and the subscription reactivated").
"""

from django.dispatch import Signal

subscription_resumed = Signal()
