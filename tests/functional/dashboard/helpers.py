"""Reading figures and fields off the panel pages."""

import re
from decimal import Decimal as D


def figure(html: str, name: str) -> str:
    """The text of the figure `name` (balance, credit_balance, ...) on an account page."""
    match = re.search(rf'data-figure="{name}"[^>]*>([^<]*)<', html)
    assert match, f"no figure {name!r} on the page"
    return match.group(1).strip()


def field(html: str, name: str) -> str:
    """The shown value of a Financial Information field."""
    match = re.search(rf'data-field="{name}"[^>]*>([^<]*)<', html)
    assert match, f"no field {name!r} on the page"
    return match.group(1).strip()


def amount(text: str) -> D:
    return D(text.replace(",", "").split()[0])
