"""Django admin for provider staff: browsing accounts. Financial changes go through the panel,
which calls the services (validation + audit); the admin shows them read-only."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from resellers.models import Account, AuditEvent, Contact, CustomerClass, PaymentMethod, User
from resellers.services import FINANCIAL_FIELDS


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0


class PaymentMethodInline(admin.TabularInline):
    model = PaymentMethod
    extra = 0
    readonly_fields = ("gateway_token",)


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "reseller_model", "parent", "currency", "credit_terms")
    list_filter = ("kind", "reseller_model", "credit_terms", "daily_invoicing", "credit_hold")
    search_fields = ("name", "reseller_code")
    readonly_fields = ("kind", "parent", "issuer", "currency", *FINANCIAL_FIELDS)
    inlines = [ContactInline, PaymentMethodInline]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CustomerClass)
class CustomerClassAdmin(admin.ModelAdmin):
    list_display = ("name", "bill_for_subscriptions_on_hold", "refund_on_cancel", "is_default")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (*BaseUserAdmin.fieldsets, ("Acts for", {"fields": ("account",)}))
    list_display = ("username", "account", "is_staff", "is_active")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "actor", "action", "object_type", "object_id", "account")
    list_filter = ("action",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
