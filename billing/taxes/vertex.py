"""Vertex O Series (REST v2) adapter.

1. An OAuth2 client-credentials token from `{url}/oseries-auth/oauth/token` (form post of
   grant_type, client_id, client_secret), kept until shortly before it expires.
2. `POST {url}/vertex-ws/v2/supplies` with a Bearer token: saleMessageType INVOICE, transaction
   type SALE, documentNumber = the document key, the seller's company, the customer (code,
   destination country and main division, exemption), one lineItem per taxable line
   (lineItemNumber 1..n, lineItemId = line key, quantity, extendedPrice, product class = tax
   category).

Answer: `data.currency`, `data.totalTax` and `data.lineItems[]` with `lineItemNumber`,
`extendedPrice`, `totalTax` and `taxes[]` (`effectiveRate`, `calculatedTax`, `imposition`).
Every line must come back once, for the amount sent, with taxes that add up to its total, and the
lines must add up to the document's total tax; else TaxEngineError.
"""

from __future__ import annotations

import time
from decimal import Decimal, InvalidOperation

from billing.taxes import http
from billing.taxes.engines import (
    CheckedAnswer,
    EngineAccountRef,
    LineTax,
    TaxEngineError,
    TaxRequest,
)

ENGINE = "Vertex"
TOKEN_MARGIN_SECONDS = 60


class VertexEngine:
    def __init__(self, conf: dict, *, account: EngineAccountRef):
        self.url = conf["url"].rstrip("/")
        self.client_id = str(conf.get("client_id", ""))
        self.client_secret = str(conf.get("client_secret", ""))
        self.scope = conf.get("scope", "")
        self.company_code = conf.get("company_code", "")
        self.timeout = float(conf["timeout"])
        self.account = account
        self._token: str | None = None
        self._token_expires_at = 0.0

    def token(self) -> str:
        if self._token and time.monotonic() < self._token_expires_at:
            return self._token
        fields = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
        }
        if self.scope:
            fields["scope"] = self.scope
        answer = http.post_form(
            f"{self.url}/oseries-auth/oauth/token", fields, engine=ENGINE, timeout=self.timeout
        )
        try:
            token = str(answer["access_token"])
            lifetime = float(answer.get("expires_in", 0))
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise TaxEngineError(f"{ENGINE}: malformed token answer.", field="tax") from exc
        if not token:
            raise TaxEngineError(f"{ENGINE}: empty access token.", field="tax")
        self._token = token
        self._token_expires_at = time.monotonic() + max(lifetime - TOKEN_MARGIN_SECONDS, 0)
        return token

    def body(self, request: TaxRequest) -> dict:
        country, _, region = request.jurisdiction.partition("-")
        if not country:
            raise TaxEngineError(
                f"{ENGINE}: the recipient has no tax jurisdiction (no tax profile).",
                field="jurisdiction",
            )
        destination = {"country": country}
        if region:
            destination["mainDivision"] = region
        customer = {
            "customerCode": {"value": str(request.recipient_id)},
            "destination": destination,
        }
        if request.exempt:
            customer["isTaxExempt"] = True
            if request.exemption_number:
                customer["exemptionCertificate"] = {"value": request.exemption_number}
        seller = {"company": self.company_code} if self.company_code else {}
        return {
            "saleMessageType": "INVOICE",
            "transactionType": "SALE",
            "documentNumber": request.document_key,
            "documentDate": request.document_date.isoformat(),
            "currency": {"isoCurrencyCodeAlpha": request.currency},
            "seller": seller,
            "customer": customer,
            "lineItems": [
                {
                    "lineItemNumber": number,
                    "lineItemId": line.key,
                    "quantity": {"value": line.quantity},
                    "extendedPrice": line.amount,
                    "product": {"productClass": line.tax_category, "value": line.description},
                }
                for number, line in enumerate(request.lines, start=1)
            ],
        }

    def calculate(self, request: TaxRequest) -> list[LineTax]:
        if not request.lines:
            return []
        body = self.body(request)
        answer = http.post_json(
            f"{self.url}/vertex-ws/v2/supplies",
            body,
            engine=ENGINE,
            headers={"Authorization": f"Bearer {self.token()}"},
            timeout=self.timeout,
        )
        return parse(answer, request)


def parse(answer, request: TaxRequest) -> list[LineTax]:
    checked = CheckedAnswer(request=request, engine=ENGINE)
    by_number = {number: line for number, line in enumerate(request.lines, start=1)}
    try:
        data = answer["data"]
        currency = data["currency"]["isoCurrencyCodeAlpha"]
        if currency != request.currency:
            raise checked.fail(f"answered in {currency}, the document is in {request.currency}.")
        for item in data["lineItems"]:
            number = int(item["lineItemNumber"])
            sent = by_number.get(number)
            if sent is None:
                raise checked.fail(f"answered a line number {number} that was not asked.")
            if Decimal(item["extendedPrice"]) != sent.amount:
                raise checked.fail(
                    f"taxed line {sent.key!r} on {item['extendedPrice']}, {sent.amount} was sent."
                )
            tax = Decimal(item["totalTax"])
            taxes = item.get("taxes") or []
            if taxes and sum((Decimal(t["calculatedTax"]) for t in taxes), Decimal(0)) != tax:
                raise checked.fail(f"the taxes of line {sent.key!r} do not add up to its total.")
            rate = (
                sum((Decimal(t["effectiveRate"]) for t in taxes), Decimal(0)) if tax else Decimal(0)
            )
            names = dict.fromkeys(
                str((t.get("imposition") or {}).get("value") or "")
                for t in taxes
                if (t.get("imposition") or {}).get("value")
            )
            checked.add(LineTax(key=sent.key, rate=rate, amount=tax, name=" + ".join(names)[:100]))
        total = Decimal(data["totalTax"])
    except TaxEngineError:
        raise
    except (KeyError, TypeError, AttributeError, ValueError, InvalidOperation) as exc:
        raise checked.fail(f"malformed answer ({type(exc).__name__}: {exc}).") from exc
    return checked.result(total_tax=total)
