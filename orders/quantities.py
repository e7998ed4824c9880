"""The one bound on quantities: every serializer, form and service that takes a quantity of a
product (an order item, a basket line, a subscription's new quantity) checks it here."""

from __future__ import annotations

from resellers.exceptions import ApplicationError

MAX_QUANTITY = 9999
QUANTITY_MESSAGE = "A quantity is a whole number of at least 1."
MAX_QUANTITY_MESSAGE = f"At most {MAX_QUANTITY:,} of one product per order."


def quantity_error(value) -> str | None:
    """Why `value` is not a quantity, or None when it is one."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        return QUANTITY_MESSAGE
    if value > MAX_QUANTITY:
        return MAX_QUANTITY_MESSAGE
    return None


def check_quantity(value, *, field: str = "quantity") -> int:
    """`value` when it is a whole number from 1 to MAX_QUANTITY; else ApplicationError on
    `field` (a 400 naming it in the API, a form error in the panel)."""
    message = quantity_error(value)
    if message is not None:
        raise ApplicationError(message, field=field)
    return value
