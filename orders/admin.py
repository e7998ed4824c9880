"""Provider staff manage the catalogue and price lists here. Orders and subscriptions are
read-only: they change only through orders.services (validation chain, audit)."""

from django.contrib import admin

from billing.admin import ReadOnlyAdmin
from orders.models import (
    Catalogue,
    CatalogueAssignment,
    Order,
    OrderItem,
    PriceList,
    PriceListAssignment,
    PriceListItem,
    Product,
    Subscription,
)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("name", "sku", "product_type", "billing_type", "auto_executed",
                    "list_price", "currency", "trial_days", "is_active")  # fmt: skip
    list_filter = ("product_type", "billing_type", "auto_executed", "is_active")
    search_fields = ("name", "sku")


@admin.register(Catalogue)
class CatalogueAdmin(admin.ModelAdmin):
    list_display = ("name", "is_default")
    filter_horizontal = ("products",)


@admin.register(CatalogueAssignment)
class CatalogueAssignmentAdmin(admin.ModelAdmin):
    list_display = ("account", "catalogue")
    autocomplete_fields = ("account",)


class PriceListItemInline(admin.TabularInline):
    model = PriceListItem
    extra = 1


@admin.register(PriceList)
class PriceListAdmin(admin.ModelAdmin):
    list_display = ("name", "seller", "currency", "markup_percent")
    inlines = [PriceListItemInline]


@admin.register(PriceListAssignment)
class PriceListAssignmentAdmin(admin.ModelAdmin):
    list_display = ("buyer", "price_list")
    autocomplete_fields = ("buyer",)


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ("display_number", "status", "customer", "credit_account", "submitted_at",
                    "total_cost", "total_amount")  # fmt: skip
    list_filter = ("status", "order_type")
    inlines = [OrderItemInline]


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = ("product", "account", "quantity", "status", "next_billing_date")
    list_filter = ("status", "billing_period")
