"""AvaTax (REST v2) adapter: one `POST {url}/api/v2/transactions/create` per document.

Request: a CreateTransactionModel of type SalesInvoice, not committed, whose `code` is the
document key (so a retry replaces the same uncommitted transaction), with the recipient's
jurisdiction as a single location (country, region), one line per taxable line (number = line
key, amount, quantity, taxCode = tax category, description) and `exemptionNo` for an exempt
recipient. Basic auth with account_id:license_key.

Answer: `currencyCode`, `totalTax` and `lines[]` with `lineNumber`, `lineAmount`, `tax` and
`details[]` (`rate`, `tax`, `taxName`). Every line must come back once, for the amount sent, with
details that add up to its tax, and the lines must add up to `totalTax`; else TaxEngineError.
"""

from __future__ import annotations

import base64
from decimal import Decimal, InvalidOperation

from billing.taxes import http
from billing.taxes.engines import (
    CheckedAnswer,
    EngineAccountRef,
    LineTax,
    TaxEngineError,
    TaxRequest,
)

ENGINE = "AvaTax"


class AvaTaxEngine:
    def __init__(self, conf: dict, *, account: EngineAccountRef):
        self.url = conf["url"].rstrip("/")
        self.account_id = str(conf.get("account_id", ""))
        self.license_key = str(conf.get("license_key", ""))
        self.company_code = conf.get("company_code") or "DEFAULT"
        self.timeout = float(conf["timeout"])
        self.account = account

    def body(self, request: TaxRequest) -> dict:
        country, _, region = request.jurisdiction.partition("-")
        if not country:
            raise TaxEngineError(
                f"{ENGINE}: the recipient has no tax jurisdiction (no tax profile).",
                field="jurisdiction",
            )
        location = {"country": country}
        if region:
            location["region"] = region
        body = {
            "type": "SalesInvoice",
            "code": request.document_key,
            "companyCode": self.company_code,
            "date": request.document_date.isoformat(),
            "customerCode": str(request.recipient_id),
            "currencyCode": request.currency,
            "commit": False,
            "addresses": {"singleLocation": location},
            "lines": [
                {
                    "number": line.key,
                    "amount": line.amount,
                    "quantity": line.quantity,
                    "taxCode": line.tax_category,
                    "description": line.description[:2048],
                }
                for line in request.lines
            ],
        }
        if request.exempt:
            body["exemptionNo"] = request.exemption_number or "EXEMPT"
        return body

    def calculate(self, request: TaxRequest) -> list[LineTax]:
        if not request.lines:
            return []
        token = base64.b64encode(f"{self.account_id}:{self.license_key}".encode()).decode()
        answer = http.post_json(
            f"{self.url}/api/v2/transactions/create",
            self.body(request),
            engine=ENGINE,
            headers={"Authorization": f"Basic {token}"},
            timeout=self.timeout,
        )
        return parse(answer, request)


def parse(answer, request: TaxRequest) -> list[LineTax]:
    checked = CheckedAnswer(request=request, engine=ENGINE)
    sent = {line.key: line.amount for line in request.lines}
    try:
        if answer["currencyCode"] != request.currency:
            raise checked.fail(
                f"answered in {answer['currencyCode']}, the document is in {request.currency}."
            )
        for line in answer["lines"]:
            key = str(line["lineNumber"])
            tax = Decimal(line["tax"])
            if key in sent and Decimal(line["lineAmount"]) != sent[key]:
                raise checked.fail(
                    f"taxed line {key!r} on {line['lineAmount']}, {sent[key]} was sent."
                )
            details = line.get("details") or []
            if details and sum((Decimal(d["tax"]) for d in details), Decimal(0)) != tax:
                raise checked.fail(f"the details of line {key!r} do not add up to its tax.")
            rate = sum((Decimal(d["rate"]) for d in details), Decimal(0)) if tax else Decimal(0)
            names = dict.fromkeys(str(d.get("taxName") or "") for d in details if d.get("taxName"))
            checked.add(LineTax(key=key, rate=rate, amount=tax, name=" + ".join(names)[:100]))
        total = Decimal(answer["totalTax"])
    except TaxEngineError:
        raise
    except (KeyError, TypeError, AttributeError, ValueError, InvalidOperation) as exc:
        raise checked.fail(f"malformed answer ({type(exc).__name__}: {exc}).") from exc
    return checked.result(total_tax=total)
