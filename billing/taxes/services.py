"""Taxes: writes (rules, rates, engine accounts, tax profiles) and the calculation entry points.

Calculation (billing runs): `TaxCalculator.for_issuers(...)`, `calculator.calculate(request)`,
and `tax_calculate(...)` for a single document; defined in billing.taxes.calculator, whose
docstring states the resolution, rounding and failure rules.

Who may write:
- rules, rates and engine accounts belong to their owner, the provider or a resale reseller.
  Provider staff manage them for any such owner; a resale reseller's users manage their own;
  referral resellers' and customers' users manage none (PermissionDenied). `acting_user=None` is
  the system (seed data, migrations of configuration).
- an account's tax profile (jurisdiction, exemption) is set by provider staff or by the users of
  the account's issuer (a resale reseller for its customers); never by the account itself.
Each write is one transaction with an audit row.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction

from billing.taxes.calculator import TaxCalculator, tax_calculate
from billing.taxes.engines import LineTax, TaxableLine, TaxEngineError, TaxRequest
from billing.taxes.models import TaxEngineAccount, TaxMethod, TaxProfile, TaxRate, TaxRule
from billing.taxes.validation import (
    clean_jurisdiction,
    require_tax_manager,
    validate_engine_account,
    validate_rate,
    validate_rule,
)
from resellers.exceptions import ApplicationError, PermissionDenied
from resellers.models import Account, User
from resellers.services import audit_record

__all__ = [
    "LineTax",
    "TaxCalculator",
    "TaxEngineError",
    "TaxRequest",
    "TaxableLine",
    "tax_calculate",
]

RULE_FIELDS = frozenset({"jurisdiction", "tax_category", "method", "engine_account"})
RATE_FIELDS = frozenset({"name", "rate", "valid_from_date", "valid_to_date"})
ENGINE_ACCOUNT_FIELDS = frozenset(
    {"label", "company_code", "settings_key", "shared_with_resellers"}
)


def _lock_owner(owner: Account) -> Account:
    """Serialise configuration writes of one owner, so two overlapping rates cannot both pass."""
    return Account.objects.select_for_update().get(pk=owner.pk)


# --- engine accounts ---------------------------------------------------------------------------


@transaction.atomic
def tax_engine_account_create(
    *,
    owner: Account,
    engine: str,
    label: str,
    company_code: str = "",
    settings_key: str = "",
    shared_with_resellers: bool = False,
    acting_user: User | None,
) -> TaxEngineAccount:
    require_tax_manager(acting_user=acting_user, owner=owner)
    _lock_owner(owner)
    label = (label or "").strip()
    validate_engine_account(
        owner=owner, engine=engine, label=label, shared_with_resellers=shared_with_resellers
    )
    account = TaxEngineAccount.objects.create(
        owner=owner,
        engine=engine,
        label=label,
        company_code=company_code.strip(),
        settings_key=settings_key.strip(),
        shared_with_resellers=shared_with_resellers,
    )
    audit_record(
        actor=acting_user,
        action="tax_engine_account.create",
        obj=account,
        account=owner,
        details={"engine": engine, "label": label, "shared": shared_with_resellers},
    )
    return account


@transaction.atomic
def tax_engine_account_update(
    *, engine_account: TaxEngineAccount, acting_user: User | None, **changes
) -> TaxEngineAccount:
    """Change label, company code, settings key or sharing. Unsharing is allowed even while
    resellers' rules use the account: their next calculation then fails clearly (TaxEngineError)
    until they pick another account; the audit row counts the rules concerned."""
    unknown = set(changes) - ENGINE_ACCOUNT_FIELDS
    if unknown:
        raise ApplicationError(f"Not an engine account field: {', '.join(sorted(unknown))}.")
    require_tax_manager(acting_user=acting_user, owner=engine_account.owner)
    _lock_owner(engine_account.owner)
    locked = TaxEngineAccount.objects.select_for_update().get(pk=engine_account.pk)
    for name, value in changes.items():
        setattr(locked, name, value.strip() if isinstance(value, str) else value)
    validate_engine_account(
        owner=locked.owner,
        engine=locked.engine,
        label=locked.label,
        shared_with_resellers=locked.shared_with_resellers,
        engine_account_id=locked.pk,
    )
    locked.save()
    details = {k: v for k, v in changes.items() if k != "settings_key"}
    if changes.get("shared_with_resellers") is False:
        details["reseller_rules_affected"] = locked.rules.exclude(owner=locked.owner).count()
    audit_record(
        actor=acting_user,
        action="tax_engine_account.update",
        obj=locked,
        account=locked.owner,
        details=details,
    )
    return locked


# --- rules -------------------------------------------------------------------------------------


@transaction.atomic
def tax_rule_create(
    *,
    owner: Account,
    jurisdiction: str,
    tax_category: str,
    method: str,
    engine_account: TaxEngineAccount | None = None,
    acting_user: User | None,
) -> TaxRule:
    require_tax_manager(acting_user=acting_user, owner=owner)
    _lock_owner(owner)
    jurisdiction, tax_category = validate_rule(
        owner=owner,
        jurisdiction=jurisdiction,
        tax_category=tax_category,
        method=method,
        engine_account=engine_account,
    )
    rule = TaxRule.objects.create(
        owner=owner,
        jurisdiction=jurisdiction,
        tax_category=tax_category,
        method=method,
        engine_account=engine_account,
    )
    audit_record(
        actor=acting_user,
        action="tax_rule.create",
        obj=rule,
        account=owner,
        details=_rule_details(rule),
    )
    return rule


@transaction.atomic
def tax_rule_update(*, rule: TaxRule, acting_user: User | None, **changes) -> TaxRule:
    unknown = set(changes) - RULE_FIELDS
    if unknown:
        raise ApplicationError(f"Not a tax rule field: {', '.join(sorted(unknown))}.")
    require_tax_manager(acting_user=acting_user, owner=rule.owner)
    _lock_owner(rule.owner)
    locked = TaxRule.objects.select_for_update().select_related("owner").get(pk=rule.pk)
    before = _rule_details(locked)
    for name, value in changes.items():
        setattr(locked, name, value)
    if locked.method == TaxMethod.BUILTIN and "engine_account" not in changes:
        locked.engine_account = None
    locked.jurisdiction, locked.tax_category = validate_rule(
        owner=locked.owner,
        jurisdiction=locked.jurisdiction,
        tax_category=locked.tax_category,
        method=locked.method,
        engine_account=locked.engine_account,
        rule_id=locked.pk,
    )
    locked.save()
    audit_record(
        actor=acting_user,
        action="tax_rule.update",
        obj=locked,
        account=locked.owner,
        details={"before": before, "after": _rule_details(locked)},
    )
    return locked


@transaction.atomic
def tax_rule_delete(*, rule: TaxRule, acting_user: User | None) -> None:
    require_tax_manager(acting_user=acting_user, owner=rule.owner)
    details = _rule_details(rule)
    audit_record(
        actor=acting_user, action="tax_rule.delete", obj=rule, account=rule.owner, details=details
    )
    TaxRule.objects.filter(pk=rule.pk).delete()


def _rule_details(rule: TaxRule) -> dict:
    return {
        "jurisdiction": rule.jurisdiction,
        "tax_category": rule.tax_category,
        "method": rule.method,
        "engine_account": rule.engine_account_id,
    }


# --- rates -------------------------------------------------------------------------------------


@transaction.atomic
def tax_rate_create(
    *,
    owner: Account,
    jurisdiction: str,
    tax_category: str,
    name: str,
    rate: Decimal | str,
    valid_from_date: datetime.date,
    valid_to_date: datetime.date | None = None,
    acting_user: User | None,
) -> TaxRate:
    require_tax_manager(acting_user=acting_user, owner=owner)
    _lock_owner(owner)
    jurisdiction, tax_category, rate = validate_rate(
        owner=owner,
        jurisdiction=jurisdiction,
        tax_category=tax_category,
        name=name,
        rate=rate,
        valid_from_date=valid_from_date,
        valid_to_date=valid_to_date,
    )
    tax_rate = TaxRate.objects.create(
        owner=owner,
        jurisdiction=jurisdiction,
        tax_category=tax_category,
        name=name.strip(),
        rate=rate,
        valid_from_date=valid_from_date,
        valid_to_date=valid_to_date,
    )
    audit_record(
        actor=acting_user,
        action="tax_rate.create",
        obj=tax_rate,
        account=owner,
        details=_rate_details(tax_rate),
    )
    return tax_rate


@transaction.atomic
def tax_rate_update(*, tax_rate: TaxRate, acting_user: User | None, **changes) -> TaxRate:
    """Change a rate's name, value or validity (typically: end it with `valid_to_date` and add
    the next one). Issued documents keep the tax they were issued with."""
    unknown = set(changes) - RATE_FIELDS
    if unknown:
        raise ApplicationError(f"Not a tax rate field: {', '.join(sorted(unknown))}.")
    require_tax_manager(acting_user=acting_user, owner=tax_rate.owner)
    _lock_owner(tax_rate.owner)
    locked = TaxRate.objects.select_for_update().get(pk=tax_rate.pk)
    before = _rate_details(locked)
    for name, value in changes.items():
        setattr(locked, name, value)
    locked.jurisdiction, locked.tax_category, locked.rate = validate_rate(
        owner=locked.owner,
        jurisdiction=locked.jurisdiction,
        tax_category=locked.tax_category,
        name=locked.name,
        rate=locked.rate,
        valid_from_date=locked.valid_from_date,
        valid_to_date=locked.valid_to_date,
        rate_id=locked.pk,
    )
    locked.save()
    audit_record(
        actor=acting_user,
        action="tax_rate.update",
        obj=locked,
        account=locked.owner,
        details={"before": before, "after": _rate_details(locked)},
    )
    return locked


def _rate_details(tax_rate: TaxRate) -> dict:
    return {
        "jurisdiction": tax_rate.jurisdiction,
        "tax_category": tax_rate.tax_category,
        "name": tax_rate.name,
        "rate": str(tax_rate.rate),
        "valid_from_date": tax_rate.valid_from_date.isoformat(),
        "valid_to_date": tax_rate.valid_to_date.isoformat() if tax_rate.valid_to_date else None,
    }


# --- tax profiles ------------------------------------------------------------------------------


@transaction.atomic
def tax_profile_set(
    *,
    account: Account,
    jurisdiction: str,
    exempt: bool = False,
    exemption_number: str = "",
    acting_user: User | None,
) -> TaxProfile:
    """Set where `account` is taxed and whether it is exempt (provider staff, or its issuer)."""
    if (
        acting_user is not None
        and not acting_user.is_provider_staff
        and (account.issuer_id is None or acting_user.account_id != account.issuer_id)
    ):
        raise PermissionDenied("Only the account's issuer sets its tax profile.")
    jurisdiction = clean_jurisdiction(jurisdiction, allow_any=False)
    exemption_number = (exemption_number or "").strip()
    if exemption_number and not exempt:
        raise ApplicationError(
            "An exemption number is only for exempt accounts.", field="exemption_number"
        )
    profile, created = TaxProfile.objects.select_for_update().update_or_create(
        account=account,
        defaults={
            "jurisdiction": jurisdiction,
            "exempt": exempt,
            "exemption_number": exemption_number,
        },
    )
    audit_record(
        actor=acting_user,
        action="tax_profile.create" if created else "tax_profile.update",
        obj=profile,
        account=account,
        details={"jurisdiction": jurisdiction, "exempt": exempt},
    )
    return profile
