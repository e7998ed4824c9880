"""Template filters of the panels."""

from django import template

from dashboard.presentation import money as format_money
from dashboard.presentation import order_status, order_status_tone, plain_decimal
from dashboard.presentation import percent as format_percent
from dashboard.presentation import possessive as format_possessive
from orders.selectors import order_actions, subscription_actions

register = template.Library()


@register.filter
def money(amount, currency):
    """`{{ amount|money:account.currency }}` gives `1,234.50 USD` (a dash for no amount)."""
    return format_money(amount, currency)


@register.filter
def possessive(name):
    """`{{ account.name|possessive }}`: "Contoso Ltd's", "Wide World Importers'"."""
    return format_possessive(name)


@register.filter
def percent(fraction):
    """`{{ share|percent }}`: 0.4375 -> `43.8 %`."""
    return format_percent(fraction)


@register.filter
def quantity(value):
    """`{{ line.quantity|quantity }}`: 2.0000 -> `2`."""
    return plain_decimal(value)


@register.filter
def unit_price(value):
    """`{{ line.unit_price|unit_price }}`: 30.0000 -> `30.00`, 0.12345 kept to its digits."""
    return plain_decimal(value, min_places=2)


@register.filter
def shown_status(order, user):
    """`{{ order|shown_status:request.user }}`: the order's status as the user reads it."""
    return order_status(order, user=user)


@register.filter
def shown_status_tone(order, user):
    """`{{ order|shown_status_tone:request.user }}`: the CSS class of its status badge."""
    return order_status_tone(order, user=user)


@register.filter
def order_actions_for(order, user):
    """`{% with allowed=record|order_actions_for:request.user %}`: the actions the user may take
    on the order now (orders.selectors.order_actions; the services refuse the rest)."""
    return order_actions(user=user, order=order)


@register.filter
def subscription_actions_for(subscription, user):
    """`{% with allowed=record|subscription_actions_for:request.user %}`: the actions the user
    may take on the subscription now (orders.selectors.subscription_actions)."""
    return subscription_actions(user=user, subscription=subscription)


@register.filter
def as_percent_number(fraction):
    """A fraction as the number of percent for an input: 0.1250 -> `12.5`."""
    value = (fraction or 0) * 100
    return format(value.normalize(), "f") if hasattr(value, "normalize") else str(value)
