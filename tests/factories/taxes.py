"""Tax configuration factories, built through billing.taxes.services (as the system user) so
rows are exactly what production makes. External engines must be installed
(settings.TAX_ENGINES) before engine accounts or external rules are made."""

from __future__ import annotations

import datetime
from decimal import Decimal

from billing.taxes import services as taxes
from billing.taxes.engines import TaxableLine
from billing.taxes.models import TaxEngineAccount, TaxProfile, TaxRate, TaxRule
from resellers.models import Account

EPOCH = datetime.date(2020, 1, 1)


def profile(
    account: Account, jurisdiction: str, *, exempt: bool = False, number: str = ""
) -> TaxProfile:
    return taxes.tax_profile_set(
        account=account,
        jurisdiction=jurisdiction,
        exempt=exempt,
        exemption_number=number,
        acting_user=None,
    )


def rate(
    owner: Account,
    jurisdiction: str,
    value: str | Decimal,
    *,
    category: str = "*",
    name: str = "VAT",
    valid_from: datetime.date = EPOCH,
    valid_to: datetime.date | None = None,
) -> TaxRate:
    return taxes.tax_rate_create(
        owner=owner,
        jurisdiction=jurisdiction,
        tax_category=category,
        name=name,
        rate=Decimal(value),
        valid_from_date=valid_from,
        valid_to_date=valid_to,
        acting_user=None,
    )


def rule(
    owner: Account,
    jurisdiction: str = "*",
    category: str = "*",
    *,
    method: str = "builtin",
    engine_account: TaxEngineAccount | None = None,
) -> TaxRule:
    return taxes.tax_rule_create(
        owner=owner,
        jurisdiction=jurisdiction,
        tax_category=category,
        method=method,
        engine_account=engine_account,
        acting_user=None,
    )


def engine_account(
    owner: Account,
    engine: str = "avatax",
    *,
    label: str | None = None,
    shared: bool = False,
    company_code: str = "",
    settings_key: str = "",
) -> TaxEngineAccount:
    return taxes.tax_engine_account_create(
        owner=owner,
        engine=engine,
        label=label or f"{engine} of {owner.name}",
        company_code=company_code,
        settings_key=settings_key,
        shared_with_resellers=shared,
        acting_user=None,
    )


def line(
    key: str, amount: str | Decimal, category: str = "standard", quantity: str = "1"
) -> TaxableLine:
    return TaxableLine(
        key=key,
        amount=Decimal(amount),
        tax_category=category,
        description=f"Line {key}",
        quantity=Decimal(quantity),
    )
