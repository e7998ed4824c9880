"""Admin for tax configuration. Forms validate with the services' checks, and saves go through the
services, so the admin obeys the same rules and writes the same audit rows as everything else."""

from __future__ import annotations

from django.contrib import admin

from billing.taxes import services, validation
from billing.taxes.models import TaxEngineAccount, TaxProfile, TaxRate, TaxRule
from resellers.exceptions import ApplicationError


class ServiceAdmin(admin.ModelAdmin):
    """Subclasses implement `validate(instance, cleaned)` (returns normalised values) and
    `write(request, instance, cleaned, change)` (calls one service, returns the saved row)."""

    def has_delete_permission(self, request, obj=None):
        return False

    def get_form(self, request, obj=None, change=False, **kwargs):
        base = super().get_form(request, obj, change=change, **kwargs)
        model_admin = self

        class Form(base):
            def clean(self):
                cleaned = super().clean()
                if self.errors:
                    return cleaned
                try:
                    cleaned.update(model_admin.validate(self.instance, cleaned))
                except ApplicationError as exc:
                    field = exc.field if exc.field in self.fields else None
                    self.add_error(field, exc.message)
                return cleaned

        return Form

    def save_model(self, request, obj, form, change):
        saved = self.write(request, obj, form.cleaned_data, change)
        obj.pk = saved.pk

    def validate(self, instance, cleaned) -> dict:
        return {}

    def write(self, request, instance, cleaned, change):
        raise NotImplementedError


@admin.register(TaxRule)
class TaxRuleAdmin(ServiceAdmin):
    list_display = ("owner", "jurisdiction", "tax_category", "method", "engine_account")
    list_filter = ("method",)
    search_fields = ("owner__name", "jurisdiction", "tax_category")
    fields = ("owner", "jurisdiction", "tax_category", "method", "engine_account")

    def has_delete_permission(self, request, obj=None):
        return super(ServiceAdmin, self).has_delete_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return ("owner",) if obj else ()

    def validate(self, instance, cleaned):
        jurisdiction, category = validation.validate_rule(
            owner=cleaned.get("owner") or instance.owner,
            jurisdiction=cleaned["jurisdiction"],
            tax_category=cleaned["tax_category"],
            method=cleaned["method"],
            engine_account=cleaned.get("engine_account"),
            rule_id=instance.pk,
        )
        return {"jurisdiction": jurisdiction, "tax_category": category}

    def write(self, request, instance, cleaned, change):
        values = {k: cleaned.get(k) for k in services.RULE_FIELDS}
        if change:
            rule = TaxRule.objects.get(pk=instance.pk)
            return services.tax_rule_update(rule=rule, acting_user=request.user, **values)
        return services.tax_rule_create(owner=cleaned["owner"], acting_user=request.user, **values)

    def delete_model(self, request, obj):
        services.tax_rule_delete(rule=obj, acting_user=request.user)


@admin.register(TaxRate)
class TaxRateAdmin(ServiceAdmin):
    list_display = (
        "owner",
        "jurisdiction",
        "tax_category",
        "name",
        "rate",
        "valid_from_date",
        "valid_to_date",
    )
    search_fields = ("owner__name", "jurisdiction", "tax_category", "name")
    fields = (
        "owner",
        "jurisdiction",
        "tax_category",
        "name",
        "rate",
        "valid_from_date",
        "valid_to_date",
    )

    def validate(self, instance, cleaned):
        jurisdiction, category, rate = validation.validate_rate(
            owner=cleaned.get("owner") or instance.owner,
            jurisdiction=cleaned.get("jurisdiction") or instance.jurisdiction,
            tax_category=cleaned.get("tax_category") or instance.tax_category,
            name=cleaned["name"],
            rate=cleaned["rate"],
            valid_from_date=cleaned["valid_from_date"],
            valid_to_date=cleaned.get("valid_to_date"),
            rate_id=instance.pk,
        )
        return {"jurisdiction": jurisdiction, "tax_category": category, "rate": rate}

    def write(self, request, instance, cleaned, change):
        if change:
            values = {k: cleaned.get(k) for k in services.RATE_FIELDS}
            tax_rate = TaxRate.objects.get(pk=instance.pk)
            return services.tax_rate_update(tax_rate=tax_rate, acting_user=request.user, **values)
        return services.tax_rate_create(
            owner=cleaned["owner"],
            jurisdiction=cleaned["jurisdiction"],
            tax_category=cleaned["tax_category"],
            name=cleaned["name"],
            rate=cleaned["rate"],
            valid_from_date=cleaned["valid_from_date"],
            valid_to_date=cleaned.get("valid_to_date"),
            acting_user=request.user,
        )

    def get_readonly_fields(self, request, obj=None):
        # A rate's scope never moves; end it and add another instead.
        return ("owner", "jurisdiction", "tax_category") if obj else ()


@admin.register(TaxEngineAccount)
class TaxEngineAccountAdmin(ServiceAdmin):
    list_display = ("label", "owner", "engine", "company_code", "shared_with_resellers")
    list_filter = ("engine", "shared_with_resellers")
    search_fields = ("label", "owner__name", "company_code")
    fields = ("owner", "engine", "label", "company_code", "settings_key", "shared_with_resellers")

    def get_readonly_fields(self, request, obj=None):
        return ("owner", "engine") if obj else ()

    def validate(self, instance, cleaned):
        validation.validate_engine_account(
            owner=cleaned.get("owner") or instance.owner,
            engine=cleaned.get("engine") or instance.engine,
            label=cleaned["label"],
            shared_with_resellers=cleaned.get("shared_with_resellers", False),
            engine_account_id=instance.pk,
        )
        return {}

    def write(self, request, instance, cleaned, change):
        values = {k: cleaned.get(k) for k in services.ENGINE_ACCOUNT_FIELDS}
        if change:
            account = TaxEngineAccount.objects.get(pk=instance.pk)
            return services.tax_engine_account_update(
                engine_account=account, acting_user=request.user, **values
            )
        return services.tax_engine_account_create(
            owner=cleaned["owner"], engine=cleaned["engine"], acting_user=request.user, **values
        )


@admin.register(TaxProfile)
class TaxProfileAdmin(ServiceAdmin):
    list_display = ("account", "jurisdiction", "exempt", "exemption_number")
    list_filter = ("exempt",)
    search_fields = ("account__name", "jurisdiction", "exemption_number")
    fields = ("account", "jurisdiction", "exempt", "exemption_number")

    def validate(self, instance, cleaned):
        return {
            "jurisdiction": validation.clean_jurisdiction(cleaned["jurisdiction"], allow_any=False)
        }

    def write(self, request, instance, cleaned, change):
        return services.tax_profile_set(
            account=cleaned.get("account") or instance.account,
            jurisdiction=cleaned["jurisdiction"],
            exempt=cleaned.get("exempt", False),
            exemption_number=cleaned.get("exemption_number", ""),
            acting_user=request.user,
        )
