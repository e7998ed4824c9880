"""Order emails, through Django's email framework (console backend in the demo), and the
`order.completed` webhook (billing.webhooks).

Mail goes out after the transaction commits (`transaction.on_commit`), so a rolled-back order
never mails anyone; the webhook's delivery is written in the order's transaction and sent
after it commits, likewise.

Seed 004: the reseller's Order Confirmation goes, for every order its end customers place, to the
first that exists of: the bill-to contact, the primary contact, the oldest contact, the user who
approves the order (when approval applies).
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import NoReverseMatch, reverse

from billing.models import WebhookEvent
from billing.money import Money
from billing.webhooks import account_ref, webhook_emit
from orders.selectors import order_charged_totals
from resellers.models import Account, User
from resellers.selectors import contact_emails


def _contact_emails(order) -> dict[int, str]:
    """The first contact email (resellers.selectors.CONTACT_PRIORITY) of the order's customer and
    credit account: one query per order, kept on the order for its other emails."""
    cached = order.__dict__.get("_contact_emails")
    if cached is None:
        ids = [i for i in (order.customer_id, order.credit_account_id) if i is not None]
        cached = order.__dict__["_contact_emails"] = contact_emails(account_ids=ids)
    return cached


def confirmation_recipient(
    *, account: Account, approver: User | None = None, order=None
) -> str | None:
    """Seed 004's priority: bill-to, primary, oldest contact, then the approver. `order`: an
    order whose parties include `account`, whose looked-up contacts are reused."""
    if order is not None:
        email = _contact_emails(order).get(account.pk)
    else:
        email = contact_emails(account_ids=[account.pk]).get(account.pk)
    if email:
        return email
    if approver is not None and approver.email:
        return approver.email
    return None


def _status_url(order) -> str:
    base = settings.SITE_URL.rstrip("/")
    try:
        return base + reverse("order-status", args=[order.pk])
    except NoReverseMatch:
        return f"{base}/orders/{order.pk}/"


def _send(subject: str, body: str, to: str | None) -> None:
    if to:
        transaction.on_commit(
            lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to], fail_silently=False)
        )


def _customer_email(order) -> str | None:
    """The order's billing contact, else the customer's (bill-to, primary, oldest), else whoever
    placed it: the portal and the API reach the same person."""
    if order.billing_contact_email:
        return order.billing_contact_email
    if order.customer_id:
        found = confirmation_recipient(account=order.customer, order=order)
        if found:
            return found
    if order.placed_by_id and order.placed_by.email:
        return order.placed_by.email
    return None


def _money(amount, currency: str) -> str:
    return str(Money(amount, currency))


def order_submitted(*, order) -> None:
    """The customer gets its status link; the reseller its Order Confirmation for a customer's
    order. Without any contact, a reseller whose approval applies hears at approval instead."""
    number = order.display_number
    if order.customer_id:
        _send(
            f"We received your order {number}",
            f"Thank you for your order {number}.\nFollow its status here: {_status_url(order)}\n",
            _customer_email(order),
        )
    reseller = order.credit_account
    if order.customer_id and reseller.is_reseller:
        _send(
            f"Order Confirmation: {number} from {order.customer.name}",
            f"{order.customer.name} placed order {number}.\n"
            f"Total cost {_money(order.total_cost, order.currency)}, "
            f"total amount {_money(order.total_amount, order.currency)}.\n"
            f"Status: {order.get_status_display()}.\n",
            confirmation_recipient(account=reseller, order=order),
        )


def order_approved(*, order, approver: User | None) -> None:
    """Only when no contact could take the confirmation at submission: the approver gets it."""
    reseller = order.credit_account
    if order.customer_id and confirmation_recipient(account=reseller, order=order) is None:
        _send(
            f"Order Confirmation: {order.display_number} from {order.customer.name}",
            f"You approved order {order.display_number} of {order.customer.name}.\n",
            confirmation_recipient(account=reseller, approver=approver, order=order),
        )


def insufficient_credit(*, order) -> None:
    reseller = order.credit_account
    _send(
        f"Order {order.display_number} not executed: insufficient credit",
        f"Order {order.display_number} needs {_money(order.total_cost, order.currency)} of "
        "available credit and was not executed. Pay off some of your debt or top up your "
        "balance, then accept the order, or cancel it.\n",
        confirmation_recipient(account=reseller, approver=order.approved_by, order=order),
    )


def order_webhook_data(order) -> dict:
    """An order as `order.completed` carries it: its totals as charged (as the API shows them)
    and its items."""
    charged = order_charged_totals(order)
    items = order.items.select_related("product").order_by("pk")
    return {
        "order": {
            "id": order.pk,
            "number": order.display_number,
            "type": order.order_type,
            "status": order.status,
            "customer": account_ref(order.customer) if order.customer_id else None,
            "credit_account": account_ref(order.credit_account),
            "currency": order.currency,
            "total_cost": charged.cost,
            "total_amount": charged.amount,
            "submitted_at": order.submitted_at,
            "completed_at": order.completed_at,
            "parent_id": order.parent_id,
            "corrects_id": order.corrects_id,
            "items": [
                {
                    "product": {"id": item.product_id, "name": item.product.name},
                    "quantity": item.quantity,
                    "subscription_id": item.subscription_id,
                }
                for item in items
            ],
        }
    }


def order_completed_webhook(*, order) -> None:
    """`order.completed` for an order that just completed, about its customer (the reseller
    for its own purchase). Every way an order completes calls it: the validation chain, a parent
    whose sub-orders are done, and the orders made completed (quantity changes, cancellations,
    corrections)."""
    webhook_emit(
        event=WebhookEvent.ORDER_COMPLETED,
        account=order.customer if order.customer_id else order.credit_account,
        data=lambda: order_webhook_data(order),
    )


def order_completed(*, order) -> None:
    """The customer's email, and the `order.completed` webhook."""
    order_completed_webhook(order=order)
    if order.customer_id:
        _send(
            f"Your order {order.display_number} is complete",
            f"Order {order.display_number} has been executed. Details: {_status_url(order)}\n",
            _customer_email(order),
        )
