"""The tax engine plug-in interface, the built-in engine and the registry of engines.

An engine turns a `TaxRequest` (one document's taxable lines) into one `LineTax` per line, in the
request's order, or raises `TaxEngineError`. It never returns a partial or guessed answer: an
HTTP error, a timeout, a malformed answer, a missing or extra line, another currency, or amounts
that do not add up all raise. The billing run then leaves that document unissued and the run
retryable, with the error's message on the run's page.

External engines are off until configured: `settings.TAX_ENGINES[method]` holds the endpoint and
default credentials (config/settings/base.py reads them from TAX_AVATAX_* / TAX_VERTEX_*). A
method absent from it is "not installed". A settings entry may name another implementation with
"class" (a dotted path), which is how a third-party engine plugs in.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from billing.money import ZERO, round_money
from billing.taxes.models import ANY, TaxMethod
from resellers.exceptions import ApplicationError

DEFAULT_TIMEOUT_SECONDS = 10.0
ENGINE_CLASSES = {
    TaxMethod.AVATAX.value: "billing.taxes.avatax.AvaTaxEngine",
    TaxMethod.VERTEX.value: "billing.taxes.vertex.VertexEngine",
}


class TaxEngineError(ApplicationError):
    """Tax could not be calculated. Nothing may be issued with a guessed tax instead."""


@dataclass(frozen=True)
class TaxableLine:
    key: str  # unique within the request; engines echo it back
    amount: Decimal  # the line total, already rounded to the currency's minor unit
    tax_category: str = "standard"
    description: str = ""
    quantity: Decimal = Decimal("1")


@dataclass(frozen=True)
class TaxRequest:
    issuer_id: int
    recipient_id: int
    jurisdiction: str  # the recipient's; "" when it has no tax profile
    currency: str
    document_date: datetime.date
    document_key: str  # stable across retries: engines use it as the transaction's code
    lines: tuple[TaxableLine, ...] = ()
    exempt: bool = False
    exemption_number: str = ""

    def __post_init__(self):
        object.__setattr__(self, "lines", tuple(self.lines))
        keys = [line.key for line in self.lines]
        if len(set(keys)) != len(keys):
            raise ValueError("line keys must be unique within a tax request")


@dataclass(frozen=True)
class LineTax:
    key: str
    rate: Decimal  # informational (combined) rate; `amount` is what the document carries
    amount: Decimal  # rounded to the currency's minor unit
    name: str = ""


class TaxEngine(Protocol):
    def calculate(self, request: TaxRequest) -> list[LineTax]: ...


@dataclass(frozen=True)
class EngineAccountRef:
    """What an external engine needs from a TaxEngineAccount (so engines stay ORM-free)."""

    id: int
    company_code: str = ""
    settings_key: str = ""


# --- matching ----------------------------------------------------------------------------------


def jurisdiction_specificity(pattern: str, jurisdiction: str) -> int | None:
    """2 for an exact match, 1 for a country covering the region, 0 for "*", None otherwise."""
    if pattern == ANY:
        return 0
    if not jurisdiction:
        return None
    if pattern == jurisdiction:
        return 2
    if "-" not in pattern and jurisdiction.split("-", 1)[0] == pattern:
        return 1
    return None


def category_specificity(pattern: str, tax_category: str) -> int | None:
    if pattern == ANY:
        return 0
    return 1 if pattern == tax_category else None


def most_specific(items: Iterable, *, jurisdiction: str, tax_category: str):
    """The item (anything with .jurisdiction and .tax_category) that matches most specifically:
    jurisdiction first (region > country > "*"), then category (exact > "*"). None if none."""
    best, best_score = None, None
    for item in items:
        j = jurisdiction_specificity(item.jurisdiction, jurisdiction)
        c = category_specificity(item.tax_category, tax_category)
        if j is None or c is None:
            continue
        if best_score is None or (j, c) > best_score:
            best, best_score = item, (j, c)
    return best


def zero_tax(line: TaxableLine, currency: str, *, name: str = "") -> LineTax:
    return LineTax(key=line.key, rate=ZERO, amount=round_money(ZERO, currency), name=name)


# --- the built-in engine -----------------------------------------------------------------------


class BuiltinEngine:
    """Rates by (jurisdiction, tax category, date) of one owner, preloaded by the caller.

    Tax per line = line amount x rate, rounded half-up to the currency's minor unit by
    billing.money.round_money, once, at the line. Exempt recipients pay zero. A line with no
    rate in force is an error, not a zero: a rule said "built-in" for it.
    """

    def __init__(self, rates: Iterable):
        self.rates = list(rates)  # TaxRate rows (or anything with the same attributes)

    def rate_for(self, *, jurisdiction: str, tax_category: str, on_date: datetime.date):
        in_force = [
            r
            for r in self.rates
            if r.valid_from_date <= on_date
            and (r.valid_to_date is None or on_date < r.valid_to_date)
        ]
        return most_specific(in_force, jurisdiction=jurisdiction, tax_category=tax_category)

    def calculate(self, request: TaxRequest) -> list[LineTax]:
        if request.exempt:
            return [zero_tax(line, request.currency, name="Exempt") for line in request.lines]
        result = []
        for line in request.lines:
            rate = self.rate_for(
                jurisdiction=request.jurisdiction,
                tax_category=line.tax_category,
                on_date=request.document_date,
            )
            if rate is None:
                raise TaxEngineError(
                    f"No built-in tax rate for {request.jurisdiction or 'an unknown jurisdiction'}"
                    f", category {line.tax_category!r}, on {request.document_date.isoformat()}.",
                    field="tax_rate",
                    extra={"document_key": request.document_key, "line": line.key},
                )
            amount = round_money(line.amount * rate.rate, request.currency)
            result.append(LineTax(key=line.key, rate=rate.rate, amount=amount, name=rate.name))
        return result


# --- the registry ------------------------------------------------------------------------------


def installed_methods() -> set[str]:
    """The built-in method plus every external engine configured in settings.TAX_ENGINES."""
    configured = getattr(settings, "TAX_ENGINES", None) or {}
    return {TaxMethod.BUILTIN.value} | {m for m, conf in configured.items() if conf}


def engine_config(method: str) -> dict:
    """The settings of an external engine; TaxEngineError when it is not installed."""
    conf = (getattr(settings, "TAX_ENGINES", None) or {}).get(method)
    if not conf:
        raise TaxEngineError(
            f"The {method} tax engine is not installed: configure it in settings.TAX_ENGINES.",
            field="method",
            extra={"method": method},
        )
    return dict(conf)


def credentials_for(method: str, account: EngineAccountRef) -> dict:
    """The installation's settings, overridden by the engine account's credentials entry."""
    conf = engine_config(method)
    if account.settings_key:
        extra = (getattr(settings, "TAX_ENGINE_CREDENTIALS", None) or {}).get(account.settings_key)
        if not extra:
            raise TaxEngineError(
                f"No credentials {account.settings_key!r} in settings.TAX_ENGINE_CREDENTIALS "
                f"for the {method} engine account #{account.id}.",
                field="settings_key",
                extra={"method": method, "engine_account": account.id},
            )
        conf.update(extra)
    if account.company_code:
        conf["company_code"] = account.company_code
    conf.setdefault(
        "timeout", getattr(settings, "TAX_ENGINE_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS)
    )
    return conf


def external_engine(method: str, account: EngineAccountRef) -> TaxEngine:
    """An instance of the external engine `method` for one engine account."""
    conf = credentials_for(method, account)
    path = conf.pop("class", None) or ENGINE_CLASSES.get(method)
    if path is None:
        raise TaxEngineError(f"No implementation of the {method} tax engine.", field="method")
    return import_string(path)(conf, account=account)


@dataclass
class CheckedAnswer:
    """Helper for adapters: collects per-line answers and refuses anything incomplete."""

    request: TaxRequest
    engine: str
    taxes: dict[str, LineTax] = field(default_factory=dict)
    asked: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        self.asked = frozenset(line.key for line in self.request.lines)  # once, not per line

    def fail(self, message: str) -> TaxEngineError:
        return TaxEngineError(
            f"{self.engine}: {message}",
            field="tax",
            extra={"engine": self.engine, "document_key": self.request.document_key},
        )

    def add(self, line_tax: LineTax) -> None:
        if line_tax.key in self.taxes:
            raise self.fail(f"line {line_tax.key!r} answered twice.")
        if line_tax.key not in self.asked:
            raise self.fail(f"answered a line {line_tax.key!r} that was not asked.")
        if round_money(line_tax.amount, self.request.currency) != line_tax.amount:
            raise self.fail(
                f"tax {line_tax.amount} on line {line_tax.key!r} is not in whole minor units."
            )
        self.taxes[line_tax.key] = line_tax

    def result(self, *, total_tax: Decimal | None = None) -> list[LineTax]:
        missing = [line.key for line in self.request.lines if line.key not in self.taxes]
        if missing:
            raise self.fail(f"no tax for line(s) {', '.join(missing)}.")
        for line in self.request.lines:
            tax = self.taxes[line.key].amount
            if (line.amount > 0 and tax < 0) or (line.amount < 0 and tax > 0):
                raise self.fail(f"tax {tax} on line {line.key!r} has the wrong sign.")
        if total_tax is not None:
            summed = sum((t.amount for t in self.taxes.values()), ZERO)
            if summed != total_tax:
                raise self.fail(
                    f"line taxes add up to {summed}, the answer's total is {total_tax}."
                )
        return [self.taxes[line.key] for line in self.request.lines]
