"""Tax calculation for the billing runs: set-based loading, then one call per document.

    calculator = TaxCalculator.for_issuers(issuer_ids, on_date)        # 3 queries, whatever N
    request = calculator.request(issuer_id=..., recipient_id=..., currency=...,
                                 document_key=..., lines=[TaxableLine(...), ...])
    taxes = calculator.calculate(request)     # list[LineTax], one per line, or TaxEngineError

Resolution. The issuer's rules apply: a customer of a resale reseller is taxed by that reseller's
rules, a reseller and a referral or direct customer by the provider's. For each line, of the
issuer's rules matching the recipient's jurisdiction (from its TaxProfile) and the line's tax
category, the most specific wins: jurisdiction first (exact region > its country > "*"), then
category (exact > "*"). **No matching rule means zero tax** for that line (the issuer has not
asked for tax there). A recipient without a tax profile has no jurisdiction: only "*" rules match
it, and an external engine refuses it.

Methods. "builtin" takes the issuer's rate in force on the document date for the recipient's
jurisdiction and the line's category (same specificity order); no rate in force is an error, not a
zero. "avatax"/"vertex" call the rule's engine account, which must belong to the rule's owner or
be the provider's account shared with resellers, and whose engine must be installed (configured in
settings.TAX_ENGINES). Lines of one document under different rules go to each rule's engine
separately, in one call per (rule's engine, document).

Failure. Any failure raises TaxEngineError (an ApplicationError) naming the document key and the
rule: the caller leaves that document unissued, records the message on the run, and retries later.
No partial answer is ever returned.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace

from django.db.models import Q

from billing.taxes.engines import (
    BuiltinEngine,
    CheckedAnswer,
    EngineAccountRef,
    LineTax,
    TaxableLine,
    TaxEngine,
    TaxEngineError,
    TaxRequest,
    external_engine,
    most_specific,
    zero_tax,
)
from billing.taxes.models import TaxMethod, TaxProfile, TaxRate, TaxRule


@dataclass(frozen=True)
class RecipientTax:
    jurisdiction: str = ""
    exempt: bool = False
    exemption_number: str = ""


def engine_account_usable(*, rule_owner, engine_account) -> bool:
    """A rule may use its owner's engine account, or its issuer's (the provider's) if shared."""
    if engine_account.owner_id == rule_owner.pk:
        return True
    return (
        engine_account.shared_with_resellers
        and rule_owner.issuer_id is not None
        and engine_account.owner_id == rule_owner.issuer_id
    )


class TaxCalculator:
    def __init__(
        self,
        *,
        on_date: datetime.date,
        issuer_ids: set[int],
        rules: Iterable[TaxRule],
        rates: Iterable[TaxRate],
        profiles: Iterable[TaxProfile],
        recipient_ids: set[int] | None = None,
    ):
        self.on_date = on_date
        self.issuer_ids = set(issuer_ids)
        self.recipient_ids = recipient_ids
        self._rules: dict[int, list[TaxRule]] = defaultdict(list)
        for rule in rules:
            self._rules[rule.owner_id].append(rule)
        self._rates: dict[int, list[TaxRate]] = defaultdict(list)
        for rate in rates:
            self._rates[rate.owner_id].append(rate)
        self._profiles = {
            p.account_id: RecipientTax(p.jurisdiction, p.exempt, p.exemption_number)
            for p in profiles
        }
        self._engines: dict[tuple, TaxEngine] = {}

    @classmethod
    def for_issuers(
        cls,
        issuer_ids: Iterable[int],
        on_date: datetime.date,
        *,
        recipient_ids: Iterable[int] | None = None,
    ) -> TaxCalculator:
        """Everything needed to tax the issuers' documents dated `on_date`, in three queries:
        their rules (with engine accounts and owners), their rates in force on `on_date`, and
        the tax profiles of their recipients (of `recipient_ids` only, when given)."""
        issuer_ids = set(issuer_ids)
        recipients = set(recipient_ids) if recipient_ids is not None else None
        rules = list(
            TaxRule.objects.filter(owner_id__in=issuer_ids).select_related(
                "owner", "engine_account"
            )
        )
        rates = list(
            TaxRate.objects.filter(owner_id__in=issuer_ids, valid_from_date__lte=on_date).filter(
                Q(valid_to_date__isnull=True) | Q(valid_to_date__gt=on_date)
            )
        )
        if recipients is None:
            profiles = TaxProfile.objects.filter(account__issuer_id__in=issuer_ids)
        else:
            profiles = TaxProfile.objects.filter(account_id__in=recipients)
        return cls(
            on_date=on_date,
            issuer_ids=issuer_ids,
            rules=rules,
            rates=rates,
            profiles=list(profiles),
            recipient_ids=recipients,
        )

    def recipient_tax(self, recipient_id: int) -> RecipientTax:
        if self.recipient_ids is not None and recipient_id not in self.recipient_ids:
            raise ValueError(f"recipient {recipient_id} was not loaded into this TaxCalculator")
        return self._profiles.get(recipient_id, RecipientTax())

    def request(
        self,
        *,
        issuer_id: int,
        recipient_id: int,
        currency: str,
        document_key: str,
        lines: Iterable[TaxableLine],
        document_date: datetime.date | None = None,
    ) -> TaxRequest:
        """A TaxRequest with the recipient's jurisdiction and exemption filled in."""
        profile = self.recipient_tax(recipient_id)
        return TaxRequest(
            issuer_id=issuer_id,
            recipient_id=recipient_id,
            jurisdiction=profile.jurisdiction,
            currency=currency,
            document_date=document_date or self.on_date,
            document_key=document_key,
            lines=tuple(lines),
            exempt=profile.exempt,
            exemption_number=profile.exemption_number,
        )

    def rule_for(self, *, issuer_id: int, jurisdiction: str, tax_category: str) -> TaxRule | None:
        if issuer_id not in self.issuer_ids:
            raise ValueError(f"issuer {issuer_id} was not loaded into this TaxCalculator")
        return most_specific(
            self._rules.get(issuer_id, ()), jurisdiction=jurisdiction, tax_category=tax_category
        )

    def calculate(self, request: TaxRequest) -> list[LineTax]:
        """One LineTax per line of `request`, in its order; TaxEngineError on any failure."""
        if request.document_date != self.on_date:
            raise ValueError(
                f"this TaxCalculator holds rates for {self.on_date}, not {request.document_date}"
            )
        groups: dict[int | None, list[TaxableLine]] = defaultdict(list)
        rules: dict[int, TaxRule] = {}
        for line in request.lines:
            rule = self.rule_for(
                issuer_id=request.issuer_id,
                jurisdiction=request.jurisdiction,
                tax_category=line.tax_category,
            )
            if rule is not None:
                rules[rule.pk] = rule
            groups[rule.pk if rule is not None else None].append(line)

        taxes: dict[str, LineTax] = {}
        for rule_id, lines in groups.items():
            part = replace(request, lines=tuple(lines))
            if rule_id is None:
                answer = [zero_tax(line, request.currency) for line in lines]
            else:
                answer = self._run(rules[rule_id], part)
            checked = CheckedAnswer(request=part, engine=_method_label(rules.get(rule_id)))
            for line_tax in answer:
                checked.add(line_tax)
            taxes.update({t.key: t for t in checked.result()})
        return [taxes[line.key] for line in request.lines]

    # --- engines ---------------------------------------------------------------------------------

    def _run(self, rule: TaxRule, request: TaxRequest) -> list[LineTax]:
        context = {
            "document_key": request.document_key,
            "rule": rule.pk,
            "method": rule.method,
            "issuer": request.issuer_id,
            "recipient": request.recipient_id,
        }
        try:
            return list(self._engine(rule).calculate(request))
        except TaxEngineError as exc:
            exc.extra = {**context, **exc.extra}
            raise
        except Exception as exc:  # a plug-in's bug must not become a guessed tax either
            raise TaxEngineError(
                f"{_method_label(rule)}: unexpected failure ({type(exc).__name__}: {exc}).",
                field="tax",
                extra=context,
            ) from exc

    def _engine(self, rule: TaxRule) -> TaxEngine:
        if rule.method == TaxMethod.BUILTIN:
            key = ("builtin", rule.owner_id)
            if key not in self._engines:
                self._engines[key] = BuiltinEngine(self._rates.get(rule.owner_id, ()))
            return self._engines[key]
        account = rule.engine_account
        if account is None or account.engine != rule.method:
            raise TaxEngineError(
                f"Tax rule #{rule.pk} picks {rule.get_method_display()} without a matching "
                "engine account.",
                field="engine_account",
            )
        if not engine_account_usable(rule_owner=rule.owner, engine_account=account):
            raise TaxEngineError(
                f"Tax rule #{rule.pk} uses the engine account {account.label!r}, which its owner "
                "no longer shares with resellers.",
                field="engine_account",
            )
        key = (rule.method, account.pk)
        if key not in self._engines:
            self._engines[key] = external_engine(
                rule.method,
                EngineAccountRef(
                    id=account.pk,
                    company_code=account.company_code,
                    settings_key=account.settings_key,
                ),
            )
        return self._engines[key]


def _method_label(rule: TaxRule | None) -> str:
    return rule.get_method_display() if rule is not None else "no rule"


def tax_calculate(
    *,
    issuer,
    recipient,
    currency: str,
    on_date: datetime.date,
    lines: Iterable[TaxableLine],
    document_key: str | None = None,
) -> list[LineTax]:
    """Tax one document of `issuer` to `recipient` dated `on_date` (see the module docstring)."""
    calculator = TaxCalculator.for_issuers([issuer.pk], on_date, recipient_ids=[recipient.pk])
    request = calculator.request(
        issuer_id=issuer.pk,
        recipient_id=recipient.pk,
        currency=currency,
        document_key=document_key or f"{issuer.pk}-{recipient.pk}-{on_date.isoformat()}",
        lines=lines,
    )
    return calculator.calculate(request)
