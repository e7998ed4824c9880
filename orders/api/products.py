"""REST API `products/`: the catalogue the user may order from, at the one price it deals in."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_view,
)
from rest_framework import viewsets

from orders.api.common import _product_prices
from orders.models import Product
from orders.selectors import (
    products_visible,
)
from orders.serializers import (
    ProductSerializer,
)


class ProductFilter(django_filters.FilterSet):
    class Meta:
        model = Product
        fields = ["product_type", "billing_type"]


@extend_schema_view(
    list=extend_schema(tags=["products"]), retrieve=extend_schema(tags=["products"])
)
class ProductViewSet(viewsets.ReadOnlyModelViewSet):
    """The products you may order: your account's catalogue (provider staff: every product), each
    with the price you deal in."""

    queryset = Product.objects.none()  # the model, for the schema; rows come from the selector
    serializer_class = ProductSerializer
    filterset_class = ProductFilter
    search_fields = ["name", "sku"]
    ordering_fields = ["name", "sku", "id"]

    def get_queryset(self):
        return products_visible(user=self.request.user)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "prices": _product_prices(self.request.user)}


# --- orders ------------------------------------------------------------------------------------
