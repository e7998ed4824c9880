"""Tax configuration: recipients' tax profiles, issuers' taxation rules, built-in rates and
external engine accounts.

Codes:
- a *jurisdiction* is an ISO country ("DE", "GB") or a country-region ("US-CA"). Rules and rates
  may also say "*" (everywhere); a country code in a rule or rate covers all of its regions.
- a *tax category* is the product's `tax_category` string ("standard" by default); rules and rates
  may say "*" (every category).

Rules and rates belong to the issuing account that defines them (the provider, or a resale
reseller for its own customers). Credentials of external engines never live here: an engine
account names a company code and, optionally, a key into settings.TAX_ENGINE_CREDENTIALS.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

RATE = {"max_digits": 19, "decimal_places": 4}  # as billing.models.RATE: rates keep 4 places
ANY = "*"
JURISDICTION_RE = r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$"


class TaxMethod(models.TextChoices):
    BUILTIN = "builtin", "Built-in rates"
    AVATAX = "avatax", "AvaTax"
    VERTEX = "vertex", "Vertex O Series"


EXTERNAL_METHODS = frozenset({TaxMethod.AVATAX, TaxMethod.VERTEX})


class TaxProfile(models.Model):
    """Where an account is taxed, and whether it is exempt. One per account; an account without
    a profile has no known jurisdiction (only "*" rules can match it)."""

    account = models.OneToOneField(
        "resellers.Account", on_delete=models.CASCADE, related_name="tax_profile"
    )
    jurisdiction = models.CharField(max_length=10, help_text='"US-CA", "DE", "GB"…')
    exempt = models.BooleanField(default=False)
    exemption_number = models.CharField(max_length=64, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    tenant_paths = ("account",)
    tenant_level = "financial"

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(jurisdiction__regex=JURISDICTION_RE), name="tax_profile_jurisdiction"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account} ({self.jurisdiction}{', exempt' if self.exempt else ''})"


class TaxEngineAccount(models.Model):
    """An account with an external engine (AvaTax, Vertex) that rules can point at.

    `company_code` is the engine's company (AvaTax companyCode, Vertex seller company); empty
    means the installation's default from settings. `settings_key` names a credentials entry in
    settings.TAX_ENGINE_CREDENTIALS; empty means the installation's default credentials.
    `shared_with_resellers`: the provider lets its resellers' rules use this account.
    """

    owner = models.ForeignKey(
        "resellers.Account", on_delete=models.PROTECT, related_name="tax_engine_accounts"
    )
    engine = models.CharField(
        max_length=10, choices=[(m.value, m.label) for m in TaxMethod if m in EXTERNAL_METHODS]
    )
    label = models.CharField(max_length=100)
    company_code = models.CharField(max_length=64, blank=True)
    settings_key = models.CharField(max_length=64, blank=True)
    shared_with_resellers = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    tenant_paths = ("owner",)
    tenant_level = "financial"

    class Meta:
        ordering = ["owner", "label", "id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "label"], name="tax_engine_account_label"),
            models.CheckConstraint(
                condition=Q(engine__in=sorted(m.value for m in EXTERNAL_METHODS)),
                name="tax_engine_account_external",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.get_engine_display()})"


class TaxRule(models.Model):
    """Which method taxes an issuer's lines for a (jurisdiction, tax category).

    Resolution (services.TaxCalculator): of the issuer's rules that match the recipient's
    jurisdiction and the line's category, the most specific wins: the jurisdiction first
    (exact region > its country > "*"), then the category (exact > "*"). One rule per
    (owner, jurisdiction, tax category), so the order is total.
    """

    owner = models.ForeignKey(
        "resellers.Account", on_delete=models.PROTECT, related_name="tax_rules"
    )
    jurisdiction = models.CharField(max_length=10)
    tax_category = models.CharField(max_length=40)
    method = models.CharField(max_length=10, choices=TaxMethod.choices)
    engine_account = models.ForeignKey(
        TaxEngineAccount,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rules",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    tenant_paths = ("owner",)
    tenant_level = "financial"

    class Meta:
        ordering = ["owner", "jurisdiction", "tax_category", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "jurisdiction", "tax_category"], name="one_tax_rule_per_scope"
            ),
            models.CheckConstraint(
                condition=Q(jurisdiction=ANY) | Q(jurisdiction__regex=JURISDICTION_RE),
                name="tax_rule_jurisdiction",
            ),
            models.CheckConstraint(
                condition=(Q(method=TaxMethod.BUILTIN) & Q(engine_account__isnull=True))
                | (~Q(method=TaxMethod.BUILTIN) & Q(engine_account__isnull=False)),
                name="tax_rule_engine_account_iff_external",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.jurisdiction}/{self.tax_category}: {self.get_method_display()}"


class TaxRate(models.Model):
    """A built-in rate of an issuer for a (jurisdiction, tax category), valid from
    `valid_from_date` (inclusive) to `valid_to_date` (exclusive; empty = open-ended).
    `rate` is a fraction: 0.2000 is 20 %. Rates of one scope never overlap (services)."""

    owner = models.ForeignKey(
        "resellers.Account", on_delete=models.PROTECT, related_name="tax_rates"
    )
    jurisdiction = models.CharField(max_length=10)
    tax_category = models.CharField(max_length=40)
    name = models.CharField(max_length=60, help_text='Shown on the document: "VAT", "Sales tax"…')
    rate = models.DecimalField(**RATE)
    valid_from_date = models.DateField()
    valid_to_date = models.DateField(null=True, blank=True, help_text="Exclusive.")
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_paths = ("owner",)
    tenant_level = "financial"

    class Meta:
        ordering = ["owner", "jurisdiction", "tax_category", "valid_from_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "jurisdiction", "tax_category", "valid_from_date"],
                name="one_tax_rate_per_start",
            ),
            models.CheckConstraint(
                condition=Q(jurisdiction=ANY) | Q(jurisdiction__regex=JURISDICTION_RE),
                name="tax_rate_jurisdiction",
            ),
            models.CheckConstraint(condition=Q(rate__gte=0) & Q(rate__lte=1), name="tax_rate_0_1"),
            models.CheckConstraint(
                condition=Q(valid_to_date__isnull=True) | Q(valid_to_date__gt=F("valid_from_date")),
                name="tax_rate_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.rate:%} ({self.jurisdiction}/{self.tax_category})"
