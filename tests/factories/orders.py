"""Factories for the catalogue, prices and orders."""

import datetime
from decimal import Decimal

import factory

from billing.gateway import TestGateway
from orders import services
from orders.models import (
    Catalogue,
    CatalogueAssignment,
    PriceList,
    PriceListAssignment,
    PriceListItem,
    Product,
)

TODAY = datetime.date(2026, 11, 25)


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    product_type = Product.ProductType.SOFTWARE_SUBSCRIPTION
    billing_type = Product.BillingType.RECURRING_MONTHLY
    auto_executed = True
    list_price = Decimal("10.00")
    currency = "USD"


class CatalogueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Catalogue
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Catalogue {n}")
    is_default = False

    @factory.post_generation
    def products(self, create, extracted, **kwargs):
        if create and extracted:
            self.products.add(*extracted)


def default_catalogue(*products: Product) -> Catalogue:
    catalogue = Catalogue.objects.filter(is_default=True).first() or CatalogueFactory(
        name="Default catalogue", is_default=True
    )
    catalogue.products.add(*products)
    return catalogue


def assign_catalogue(account, catalogue: Catalogue) -> None:
    CatalogueAssignment.objects.update_or_create(account=account, defaults={"catalogue": catalogue})


def price_list(seller, buyers=(), *, items=None, markup=None, name=None) -> PriceList:
    plist = PriceList.objects.create(
        seller=seller,
        name=name or f"List {PriceList.objects.count() + 1}",
        currency=seller.currency,
        markup_percent=markup,
    )
    for product, price in (items or {}).items():
        PriceListItem.objects.create(price_list=plist, product=product, unit_price=Decimal(price))
    for buyer in buyers:
        PriceListAssignment.objects.update_or_create(buyer=buyer, defaults={"price_list": plist})
    return plist


def order(*, placed_by, items, customer=None, reseller=None, submit=True, today=TODAY):
    """An order of [(product, quantity)], submitted unless submit=False."""
    created = services.order_create(
        placed_by=placed_by,
        customer=customer,
        reseller=reseller,
        items=[services.ItemSpec(product=p, quantity=q) for p, q in items],
    )
    if not submit:
        return created
    return services.order_submit(order=created, acting_user=placed_by, today=today)


def reset_gateway() -> None:
    TestGateway.reset()
