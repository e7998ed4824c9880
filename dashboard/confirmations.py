"""Confirmation pages of the panels' destructive actions: what the action will do, in words.

Django's convention: a GET on the action's own URL shows the page (it writes nothing), and the
POST on the same URL does it, as before. The actions: cancel an order and execute one
(/orders/<pk>/cancel/, /orders/<pk>/execute/), cancel a subscription
(/subscriptions/<pk>/cancel/), unlink an application
(/documents/<pk>/applications/<application_pk>/unlink/), delete a tax rule
(.../taxes/rules/<pk>/delete/) and start a real billing run (/billing/runs/start/). A button in a
list is a GET form to that URL, so a stray click only opens the page.

The views look the object up in the user's scope first (404 out of it, as the POST does), and
who may do what stays where it was: `order_actions` for orders, the service's
SUBSCRIPTION_TRANSITIONS for subscriptions. When the action is no longer possible, the page says
why and offers no button; the POST would refuse it anyway.

This module words each consequence from what the selectors and the services' tables say. The
few reads it needs (an order's reservation and set-aside payments, for the sentence that says
what a cancellation gives back) are here, next to the only sentences that use them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.http import url_has_allowed_host_and_scheme

from billing.models import Application, CreditReservation, PaymentAllocation
from dashboard.presentation import day, money, possessive
from orders.models import Order, OrderType, SubscriptionStatus
from orders.services import subscription_cancel_ends_now
from orders.workflow import SUBSCRIPTION_TRANSITIONS
from resellers.models import PaymentMethod
from resellers.selectors import default_payment_method


@dataclass(frozen=True)
class Confirmation:
    """What dashboard/confirm.html shows: a heading, the consequences (one sentence each), and
    either the POST form's button or, when the action is not possible now, `refusal`."""

    title: str
    consequences: list[str]
    button: str
    back_url: str
    hidden: dict[str, str] = field(default_factory=dict)
    tone: str = "danger"
    refusal: str = ""
    facts: list[tuple[str, str]] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)
    provider_view: bool = False


def safe_next(request, default: str) -> str:
    """Where the page and the action return: `next` (the query string on GET, the form on
    POST), if it is on this site; else `default`."""
    target = request.POST.get("next", "") or request.GET.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _party(order: Order) -> str:
    if order.customer_id is not None:
        return f"{possessive(order.customer.name)} order"
    return f"{possessive(order.credit_account.name)} own purchase"


# --- orders -------------------------------------------------------------------------------------


def order_cancel_consequences(order: Order, *, show_costs: bool) -> list[str]:
    """What `orders.services.order_cancel` does to this order: cancelled, nothing delivered; on
    the credit side also what it gives back (the credit reserved, the payment set aside)."""
    number = order.display_number
    if not show_costs:
        return [
            f"Your order {number} will be cancelled: nothing of it will be delivered.",
            "This cannot be undone: to buy the same again, place a new order.",
        ]
    sentences = [
        f"Order {number} ({_party(order)}, total cost "
        f"{money(order.total_cost, order.currency)}) will be cancelled: nothing of it will be "
        "delivered and its items will read Cancelled."
    ]
    reservation = (
        CreditReservation.objects.filter(
            pk=order.reservation_id, status=CreditReservation.Status.ACTIVE
        ).first()
        if order.reservation_id
        else None
    )
    if reservation is not None:
        sentences.append(
            f"The {money(reservation.amount, reservation.currency)} of "
            f"{possessive(order.credit_account.name)} credit reserved for it will be released: its "
            "available credit goes up by as much."
        )
    else:
        sentences.append(
            f"No credit is reserved for it, so {possessive(order.credit_account.name)} available "
            "credit does not change."
        )
    for allocation in PaymentAllocation.objects.filter(
        order_id=order.pk, status=PaymentAllocation.Status.ACTIVE
    ).select_related("payment", "account"):
        sentences.append(
            f"The {money(allocation.amount, allocation.currency)} of payment "
            f"{allocation.payment.display_number} set aside for it will be freed: it returns to "
            f"{possessive(allocation.account.name)} credit balance (nothing is paid back out)."
        )
    if order.order_type == OrderType.RENEWAL:
        sentences.append(
            "It converts trial subscriptions: those still on trial will end today instead."
        )
    sentences.append("This cannot be undone: to order the same again, place a new order.")
    return sentences


def order_execute_consequences(order: Order, *, today) -> list[str]:
    """What `orders.services.order_execute_manually` does: charge a card if the credit account
    pays by card, then deliver, start the subscriptions and record the charges."""
    account = order.credit_account
    cost = money(order.total_cost, order.currency)
    sentences = [
        f"Order {order.display_number} ({_party(order)}) will be executed: its items will be "
        f"delivered and their subscriptions start today ({day(today)}), billed from today."
    ]
    if order.order_type == OrderType.RENEWAL:
        sentences[0] = (
            f"Order {order.display_number} ({_party(order)}) will be executed: its trial "
            "subscriptions become active, charged from the end of their trial."
        )
    method = default_payment_method(account=account)
    if method is not None and method.kind == PaymentMethod.Kind.CARD and order.total_cost:
        sentences.append(
            f"{account.name} pays by card: its card is charged {cost} first. If the charge "
            "fails or the card has expired, the order becomes Pending and nothing is delivered."
        )
    else:
        sentences.append(
            f"{account.name} is charged its total cost, {cost}: it is recorded on its account "
            "(any credit reserved for it is used) and invoiced with its next billing order, or "
            "by daily invoicing."
        )
    sentences.append(f"{account.name} is emailed the order confirmation.")
    return sentences


def order_action_refusal(order: Order, *, verb: str, status: str) -> str:
    """`status` as the user is shown it (`presentation.order_status`)."""
    return (
        f"Order {order.display_number} cannot be {verb} now: it is {status.lower()}. "
        "Nothing was changed."
    )


# --- subscriptions ------------------------------------------------------------------------------


def subscription_cancel_target(subscription) -> str | None:
    """The status `orders.services.subscription_cancel` moves a subscription to from the panel:
    Cancelled at once for a trial or a suspended one, Pending cancellation for a paid one; None
    when its transition table does not allow that from the present status."""
    status = subscription.status
    ends_now = subscription_cancel_ends_now(status=status)
    target = SubscriptionStatus.CANCELLED if ends_now else SubscriptionStatus.PENDING_CANCELLATION
    if target == status or target not in SUBSCRIPTION_TRANSITIONS[status]:
        return None
    return target


def subscription_cancel_consequences(subscription, *, today) -> list[str]:
    name = f"{subscription.product.name} for {subscription.account.name}"
    if subscription_cancel_target(subscription) == SubscriptionStatus.CANCELLED:
        return [
            f"{name} ends today ({day(today)}): it is cancelled at once"
            + (
                ", and its trial is not converted. Nothing more is billed for it."
                if subscription.status == SubscriptionStatus.TRIAL
                else " while suspended. Nothing more is billed for it."
            ),
            "This cannot be undone: to have it again, order it again.",
        ]
    until = f" ({day(subscription.next_billing_date)})" if subscription.next_billing_date else ""
    return [
        f"{name} stays active until the end of the period already billed{until}, then ends. "
        "Until then it reads Pending cancellation; it is not billed again.",
        "Nothing already billed is refunded.",
    ]


def subscription_cancel_refusal(subscription) -> str:
    return (
        f"{subscription.product.name} for {subscription.account.name} cannot be cancelled: it "
        f"is already {subscription.get_status_display().lower()}. Nothing was changed."
    )


# --- documents ----------------------------------------------------------------------------------


def unlink_consequences(application: Application) -> list[str]:
    """What `billing.ledger.application_remove` does: both documents' open amounts go up by
    the amount, and their statuses follow (a paid invoice is unpaid again)."""
    credit, debit = application.credit_document, application.debit_document
    amount, currency = application.amount, application.currency
    return [
        f"{money(amount, currency)} of {credit.get_doc_type_display().lower()} "
        f"{credit.display_number} will no longer pay {debit.get_doc_type_display().lower()} "
        f"{debit.display_number}.",
        f"{debit.display_number} is open again for that amount: its open amount goes from "
        f"{money(debit.open_amount, currency)} to {money(debit.open_amount + amount, currency)}"
        + (", so it reads unpaid again." if debit.open_amount == 0 else "."),
        f"{credit.display_number}'s open amount goes from {money(credit.open_amount, currency)} "
        f"to {money(credit.open_amount + amount, currency)}: the {money(amount, currency)} "
        f"returns to {possessive(debit.recipient.name)} credit balance.",
        "The application stays listed as Unlinked, with your name and the time.",
    ]


# --- billing runs -------------------------------------------------------------------------------


def billing_run_consequences(*, kind: str, run_date) -> list[str]:
    when = day(run_date)
    if kind == "daily":
        what = (
            f"The daily invoicing run for {when} will issue invoices for the day's qualifying "
            "orders (each reseller's daily invoicing mode decides which), and apply the "
            "payments set aside for prepaid orders to them."
        )
    else:
        what = (
            f"The billing-date run for {when} will issue an invoice to every account whose "
            "billing date it is, for its subscriptions' next periods and its uninvoiced "
            "transactions, and close the subscriptions pending cancellation."
        )
    return [
        what,
        "Issued invoices are final: they are numbered and never changed; a mistake is "
        "corrected by a credit memo.",
        "Running a date again issues nothing twice. To see first what it would issue, line by "
        "line, make a dry run.",
    ]
