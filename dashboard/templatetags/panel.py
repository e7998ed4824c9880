"""Template filters of the panels."""

from django import template

from dashboard.presentation import money as format_money
from dashboard.presentation import order_status, order_status_tone, plain_decimal

register = template.Library()


@register.filter
def money(amount, currency):
    """`{{ amount|money:account.currency }}` gives `1,234.50 USD` (a dash for no amount)."""
    return format_money(amount, currency)


@register.filter
def quantity(value):
    """`{{ line.quantity|quantity }}`: 2.0000 -> `2`."""
    return plain_decimal(value)


@register.filter
def unit_price(value):
    """`{{ line.unit_price|unit_price }}`: 30.0000 -> `30.00`, 0.12345 kept to its digits."""
    return plain_decimal(value, min_places=2)


@register.filter
def shown_status(order, show_costs):
    """`{{ order|shown_status:page.show_costs }}`: the order's status as the viewer reads it."""
    return order_status(order, show_costs=bool(show_costs))


@register.filter
def shown_status_tone(order, show_costs):
    """`{{ order|shown_status_tone:page.show_costs }}`: the CSS class of its status badge."""
    return order_status_tone(order, show_costs=bool(show_costs))
