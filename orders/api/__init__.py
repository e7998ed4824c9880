"""REST API on ordering: products, orders (place, approve, cancel) and subscriptions.

Views are thin: querysets come from `orders.selectors` (orders and subscriptions through
`resellers.tenancy.scope`, so another tenant's id answers 404), writes go through
`orders.services`, and `config.api.exception_handler` turns domain errors into 400/403. An order in
the wrong state for an action answers 409 Conflict (InvalidOrderTransition).

What each user is shown of prices:
- products: provider staff see the catalogue price (`list_price`); a resale reseller its cost
  (`unit_cost`, from the provider's price list to it, never another reseller's); an end customer
  its price (`unit_price`). A referral reseller buys nothing and sees no prices.
- orders and subscriptions: costs to provider staff and resellers, amounts to everyone; an end
  customer's view has the cost fields null (`orders.serializers`).
"""

from orders.api.orders import OrderViewSet
from orders.api.products import ProductViewSet
from orders.api.subscriptions import SubscriptionViewSet

__all__ = ["OrderViewSet", "ProductViewSet", "SubscriptionViewSet"]
