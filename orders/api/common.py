"""What the ordering API views share: the 409 for a refused transition, and what the requesting
user is shown of costs and prices."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rest_framework import exceptions, status

from orders.models import Product
from orders.selectors import (
    order_parties,
    price_quote,
)
from orders.serializers import (
    PriceView,
    ProductPrices,
    Viewer,
)
from orders.services import (
    InvalidOrderTransition,
)
from resellers.models import User
from resellers.tenancy import is_provider_staff


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the object's current state."
    default_code = "conflict"


@contextmanager
def _conflict_on_transition() -> Iterator[None]:
    """InvalidOrderTransition (approving twice, cancelling a completed order) -> 409."""
    try:
        yield
    except InvalidOrderTransition as exc:
        raise Conflict(exc.message) from exc


def _viewer(user: User) -> Viewer:
    """Provider staff and resellers see costs; end customers amounts only."""
    account = user.account if user.account_id else None
    sees_cost = is_provider_staff(user) or (account is not None and account.is_reseller)
    return Viewer(sees_cost=sees_cost, account_id=user.account_id, user=user)


def _product_prices(user: User) -> ProductPrices:
    """The one price `user` deals in, per product (remembered for the request)."""
    account = user.account if user.account_id else None
    if is_provider_staff(user):
        return lambda product: PriceView(list_price=product.list_price)
    if account is not None and account.is_customer:
        credit_account = order_parties(customer=account, reseller=None)

        def quote(product: Product) -> PriceView:
            return PriceView(
                unit_price=price_quote(
                    product=product, customer=account, credit_account=credit_account
                ).unit_price
            )
    elif account is not None and account.is_reseller and not account.is_referral_reseller:

        def quote(product: Product) -> PriceView:
            return PriceView(
                unit_cost=price_quote(
                    product=product, customer=None, credit_account=account
                ).unit_cost
            )
    else:
        return lambda product: PriceView()

    seen: dict[int, PriceView] = {}

    def remembered(product: Product) -> PriceView:
        if product.pk not in seen:
            seen[product.pk] = quote(product)
        return seen[product.pk]

    return remembered


# --- products ----------------------------------------------------------------------------------


def correction_results(sides) -> dict:
    """What a correction answers besides the correcting order: the documents it issued and,
    per side, what was done (orders.services.SideResult)."""
    return {
        "documents": [
            {
                "id": d.pk,
                "number": d.display_number,
                "type": d.doc_type,
                "recipient": d.recipient_id,
                "total": str(d.total),
            }
            for side in sides
            for d in side.documents
        ],
        "sides": [
            {
                "account": side.account.pk,
                "before": str(side.before),
                "after": str(side.after),
                "how": side.how,
                "note": side.note,
            }
            for side in sides
        ],
    }
