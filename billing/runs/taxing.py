"""Taxing a chunk's planned invoices (billing.taxes), before anything is written."""

from __future__ import annotations

from decimal import Decimal

from billing.runs.plans import ChunkPlan
from billing.taxes.calculator import TaxCalculator
from billing.taxes.engines import TaxableLine, TaxEngineError


def _tax(plan: ChunkPlan) -> None:
    """Tax each planned invoice (billing.taxes). An engine that fails leaves that account's
    invoice out of the plan, with the failure recorded; its charges stay uninvoiced and its cycle
    stays due, so running the date again retries it."""
    if not plan.invoices:
        return
    calculator = TaxCalculator.for_issuers(
        {inv.issuer_id for inv in plan.invoices},
        plan.run_date,
        recipient_ids={inv.account_id for inv in plan.invoices},
    )
    kept = []
    failed: set[int] = set()
    for invoice in plan.invoices:
        request = calculator.request(
            issuer_id=invoice.issuer_id,
            recipient_id=invoice.account_id,
            currency=invoice.currency,
            document_key=f"{plan.key}:{invoice.account_id}",
            document_date=invoice.issue_date,
            lines=[
                TaxableLine(
                    key=str(i),
                    amount=c.amount,
                    tax_category=c.tax_category or "standard",
                    description=c.description,
                    quantity=c.quantity or Decimal(1),
                )
                for i, c in enumerate(invoice.charges)
            ],
        )
        try:
            results = {r.key: r for r in calculator.calculate(request)}
        except TaxEngineError as exc:
            plan.failures.append((invoice.account_id, f"Tax: {exc.message}"))
            failed.add(invoice.account_id)
            continue
        invoice.tax = [results[str(i)].amount for i in range(len(invoice.charges))]
        invoice.tax_rates = [results[str(i)].rate for i in range(len(invoice.charges))]
        kept.append(invoice)
    plan.invoices = kept
    plan.cycle_updates = [(a, d) for a, d in plan.cycle_updates if a not in failed]
