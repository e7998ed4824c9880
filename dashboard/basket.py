"""The ordering portal's session state: the basket, and which review form created which order.

The basket is `{product id: quantity}` in the session. Nothing in it is trusted: the views check
every product against the party's catalogue when it is added and price it again on every page
(`selectors.basket_priced`); `order_create` checks it once more.

One-time submission tokens: the review form carries a uuid (`submission_key`). The order it
creates is remembered in the session under that key, so a second POST of the same form (a double
click, a reload, the back button) is sent to the first order instead of creating another. Two
POSTs racing each other are serialised by a row lock on the user taken for the creation; the
second reads the session afresh from its store once it holds the lock, and the first saves the
session inside that transaction, so the second always finds the first's order.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import transaction

from resellers.models import User

BASKET = "basket"
SUBMISSIONS = "order_submissions"
KEEP_SUBMISSIONS = 20


def basket_quantities(session) -> dict[int, int]:
    """The basket as {product id: quantity}, ignoring anything malformed."""
    raw = session.get(BASKET) or {}
    basket = {}
    for pk, quantity in raw.items():
        try:
            pk, quantity = int(pk), int(quantity)
        except (TypeError, ValueError):
            continue
        if quantity > 0:
            basket[pk] = quantity
    return basket


def basket_save(session, quantities: dict[int, int]) -> None:
    session[BASKET] = {str(pk): int(quantity) for pk, quantity in quantities.items()}


def basket_clear(session) -> None:
    session.pop(BASKET, None)


@dataclass
class Submission:
    """Inside `one_time_submission`: `order_id` is the order this key already created (None the
    first time); `created(order)` remembers a new one."""

    request: object
    key: str
    order_id: int | None
    done: dict

    def created(self, order_id: int) -> None:
        session = self.request.session
        done = {**(session.get(SUBMISSIONS) or {}), **self.done, self.key: order_id}
        session[SUBMISSIONS] = dict(list(done.items())[-KEEP_SUBMISSIONS:])
        basket_clear(session)
        session.save()  # inside the transaction: committed with the order
        self.order_id = order_id


@contextmanager
def one_time_submission(request, key: str) -> Iterator[Submission]:
    """One transaction in which the form's key is looked up (afresh, under a lock on the user)
    and, if new, the order is created and remembered. Run the work that must not happen twice
    inside; anything that calls out (the order's validation chain) after it."""
    with transaction.atomic():
        list(User.objects.select_for_update().filter(pk=request.user.pk).only("pk"))
        session = request.session
        fresh = type(session)(session_key=session.session_key) if session.session_key else session
        done = dict(fresh.get(SUBMISSIONS) or {})
        yield Submission(request=request, key=key, order_id=done.get(key), done=done)
