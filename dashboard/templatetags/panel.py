"""Template filters of the panels."""

from django import template

from dashboard.presentation import money as format_money
from dashboard.presentation import plain_decimal

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
