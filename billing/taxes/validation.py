"""Checks shared by the tax services and the admin forms: who may manage an owner's taxation,
and whether a rule, rate or engine account is valid. Each raises ApplicationError naming the field
(PermissionDenied for the acting user)."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

from django.db.models import Q

from billing.money import round_unit_price, to_decimal
from billing.taxes.calculator import engine_account_usable
from billing.taxes.engines import installed_methods
from billing.taxes.models import (
    ANY,
    EXTERNAL_METHODS,
    JURISDICTION_RE,
    TaxEngineAccount,
    TaxMethod,
    TaxRate,
    TaxRule,
)
from resellers.exceptions import ApplicationError, PermissionDenied
from resellers.models import Account, User


def can_own_taxation(account: Account) -> bool:
    return account.is_provider or (
        account.is_reseller and account.reseller_model == Account.ResellerModel.RESALE
    )


def require_tax_manager(*, acting_user: User | None, owner: Account) -> None:
    """Provider staff, or a user of `owner` itself when it is a resale reseller."""
    if (
        acting_user is not None
        and not acting_user.is_provider_staff
        and (acting_user.account_id != owner.pk or not can_own_taxation(owner))
    ):
        raise PermissionDenied("You cannot manage this account's taxation.")
    if not can_own_taxation(owner):
        raise ApplicationError(
            "Only the provider and resale resellers define taxation.", field="owner"
        )


def clean_jurisdiction(value: str, *, allow_any: bool, field: str = "jurisdiction") -> str:
    value = (value or "").strip().upper()
    if allow_any and value == ANY:
        return value
    if not re.match(JURISDICTION_RE, value):
        raise ApplicationError(
            'A jurisdiction is a country ("DE") or country-region ("US-CA") code'
            + (', or "*".' if allow_any else "."),
            field=field,
        )
    return value


def clean_category(value: str) -> str:
    value = (value or "").strip()
    if not value or len(value) > 40:
        raise ApplicationError(
            'A tax category is a product tax category (up to 40 characters) or "*".',
            field="tax_category",
        )
    return value


def validate_rule(
    *,
    owner: Account,
    jurisdiction: str,
    tax_category: str,
    method: str,
    engine_account: TaxEngineAccount | None,
    rule_id: int | None = None,
) -> tuple[str, str]:
    """Check a rule's values; returns the normalised (jurisdiction, tax_category)."""
    jurisdiction = clean_jurisdiction(jurisdiction, allow_any=True)
    tax_category = clean_category(tax_category)
    if method not in TaxMethod.values:
        raise ApplicationError(f"Unknown taxation method {method!r}.", field="method")
    if method not in installed_methods():
        raise ApplicationError(
            f"The {TaxMethod(method).label} tax engine is not installed.", field="method"
        )
    if method == TaxMethod.BUILTIN:
        if engine_account is not None:
            raise ApplicationError(
                "Built-in taxation uses no engine account.", field="engine_account"
            )
    else:
        if engine_account is None:
            raise ApplicationError(
                f"{TaxMethod(method).label} needs an engine account.", field="engine_account"
            )
        if engine_account.engine != method:
            raise ApplicationError(
                f"That engine account is for {engine_account.get_engine_display()}, "
                f"not {TaxMethod(method).label}.",
                field="engine_account",
            )
        if not engine_account_usable(rule_owner=owner, engine_account=engine_account):
            raise ApplicationError(
                "That engine account is neither yours nor shared with resellers by the provider.",
                field="engine_account",
            )
    clash = TaxRule.objects.filter(
        owner=owner, jurisdiction=jurisdiction, tax_category=tax_category
    ).exclude(pk=rule_id)
    if clash.exists():
        raise ApplicationError(
            f"There is already a rule for {jurisdiction} / {tax_category}.", field="jurisdiction"
        )
    return jurisdiction, tax_category


def validate_rate(
    *,
    owner: Account,
    jurisdiction: str,
    tax_category: str,
    name: str,
    rate,
    valid_from_date: datetime.date,
    valid_to_date: datetime.date | None,
    rate_id: int | None = None,
) -> tuple[str, str, Decimal]:
    """Check a rate's values; returns the normalised (jurisdiction, tax_category, rate)."""
    jurisdiction = clean_jurisdiction(jurisdiction, allow_any=True)
    tax_category = clean_category(tax_category)
    if not (name or "").strip():
        raise ApplicationError("Give the tax a name, as shown on documents.", field="name")
    try:
        rate = to_decimal(rate)
    except (TypeError, ArithmeticError, ValueError) as exc:
        raise ApplicationError(
            "The rate is a decimal fraction, e.g. 0.2000.", field="rate"
        ) from exc
    if not (Decimal(0) <= rate <= Decimal(1)) or round_unit_price(rate) != rate:
        raise ApplicationError(
            "The rate is a fraction from 0 to 1 with at most four decimals (0.2000 = 20 %).",
            field="rate",
        )
    if valid_from_date is None:
        raise ApplicationError("A rate needs a start date.", field="valid_from_date")
    if valid_to_date is not None and valid_to_date <= valid_from_date:
        raise ApplicationError("A rate must end after it starts.", field="valid_to_date")
    overlapping = TaxRate.objects.filter(
        owner=owner, jurisdiction=jurisdiction, tax_category=tax_category
    ).exclude(pk=rate_id)
    if valid_to_date is not None:
        overlapping = overlapping.filter(valid_from_date__lt=valid_to_date)
    overlapping = overlapping.filter(
        Q(valid_to_date__isnull=True) | Q(valid_to_date__gt=valid_from_date)
    )
    if overlapping.exists():
        raise ApplicationError(
            f"Another {jurisdiction} / {tax_category} rate is in force in that period.",
            field="valid_from_date",
        )
    return jurisdiction, tax_category, rate


def validate_engine_account(
    *,
    owner: Account,
    engine: str,
    label: str,
    shared_with_resellers: bool,
    engine_account_id: int | None = None,
) -> None:
    if engine not in {m.value for m in EXTERNAL_METHODS}:
        raise ApplicationError(f"Unknown external tax engine {engine!r}.", field="engine")
    if engine not in installed_methods():
        raise ApplicationError(
            f"The {TaxMethod(engine).label} tax engine is not installed.", field="engine"
        )
    if not (label or "").strip():
        raise ApplicationError("Give the engine account a label.", field="label")
    if shared_with_resellers and not owner.is_provider:
        raise ApplicationError(
            "Only the provider's engine accounts can be shared with resellers.",
            field="shared_with_resellers",
        )
    clash = TaxEngineAccount.objects.filter(owner=owner, label=label).exclude(pk=engine_account_id)
    if clash.exists():
        raise ApplicationError("You already have an engine account with that label.", field="label")
