"""Reads of tax configuration, scoped by tenant (resellers.tenancy)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from billing.taxes.models import TaxEngineAccount, TaxProfile, TaxRate, TaxRule
from resellers.models import Account
from resellers.tenancy import scope


def tax_rules_visible(*, user) -> QuerySet[TaxRule]:
    return scope(TaxRule.objects.select_related("owner", "engine_account"), user)


def tax_rates_visible(*, user) -> QuerySet[TaxRate]:
    return scope(TaxRate.objects.select_related("owner"), user)


def tax_engine_accounts_visible(*, user) -> QuerySet[TaxEngineAccount]:
    return scope(TaxEngineAccount.objects.select_related("owner"), user)


def tax_profiles_visible(*, user) -> QuerySet[TaxProfile]:
    return scope(TaxProfile.objects.select_related("account"), user)


def tax_engine_accounts_usable(*, owner: Account, engine: str | None = None):
    """Engine accounts a rule of `owner` may pick: its own, and its issuer's shared ones."""
    condition = Q(owner=owner)
    if owner.issuer_id is not None:
        condition |= Q(owner_id=owner.issuer_id, shared_with_resellers=True)
    accounts = TaxEngineAccount.objects.filter(condition)
    return accounts.filter(engine=engine) if engine else accounts
