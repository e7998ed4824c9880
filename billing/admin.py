"""Read-only admin views of the ledger. Documents are issued, applied and cancelled only through
billing.ledger; issued documents are immutable, so nothing here edits or deletes them."""

from django.contrib import admin

from billing.models import (
    Application,
    AutoTopupAttempt,
    AutoTopupCrossing,
    Balance,
    Document,
    DocumentLine,
    ResellerTransaction,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class LineInline(admin.TabularInline):
    model = DocumentLine
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin):
    list_display = (
        "display_number",
        "doc_type",
        "status",
        "issuer",
        "recipient",
        "issue_date",
        "total",
        "open_amount",
        "currency",
    )
    list_filter = ("doc_type", "status")
    search_fields = ("recipient__name", "reference")
    inlines = [LineInline]


@admin.register(Application)
class ApplicationAdmin(ReadOnlyAdmin):
    list_display = (
        "credit_document",
        "debit_document",
        "amount",
        "applied_at",
        "applied_by",
        "unapplied_at",
        "unapplied_by",
    )


@admin.register(Balance)
class BalanceAdmin(ReadOnlyAdmin):
    list_display = ("issuer", "recipient", "open_debt", "credit_balance", "currency")


@admin.register(ResellerTransaction)
class ResellerTransactionAdmin(ReadOnlyAdmin):
    list_display = ("account", "description", "amount", "currency", "status", "created_at")
    list_filter = ("status",)


class AutoTopupAttemptInline(admin.TabularInline):
    model = AutoTopupAttempt
    extra = 0
    fields = ("number", "status", "message", "amount", "payment_method", "fallback",
              "started_at", "finished_at", "payment", "notified_to")  # fmt: skip

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AutoTopupCrossing)
class AutoTopupCrossingAdmin(ReadOnlyAdmin):
    """Automatic top-up's crossings (billing.auto_topups), each with its attempts: what was
    declined, why, and when the next attempt is due."""

    list_display = ("account", "state", "opened_at", "next_attempt_at", "closed_at", "payment")
    list_filter = ("state",)
    search_fields = ("account__name",)
    inlines = [AutoTopupAttemptInline]
