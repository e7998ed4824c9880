"""Local stand-ins for AvaTax and Vertex O Series: an http.server on 127.0.0.1 (port 0) in a
thread, which checks authentication and the request body and answers like the real service.

`mode` makes it misbehave: "http500", "slow", "malformed", "missing_line", "wrong_currency",
"bad_total". Every request is kept in `requests` (path, headers, parsed body) for assertions.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.parse
from decimal import ROUND_HALF_UP, Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Jurisdiction -> [(name, rate)], as the services would find them for an address there.
RATES = {
    ("US", "CA"): [
        ("CA STATE TAX", "0.06"),
        ("CA COUNTY TAX", "0.0025"),
        ("CA SPECIAL TAX", "0.01"),
    ],
    ("US", "NY"): [("NY STATE TAX", "0.04"), ("NY CITY TAX", "0.045")],
    ("DE", ""): [("DE VAT", "0.19")],
}


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


class FakeEngine:
    def __init__(self):
        self.mode = "ok"
        self.slow_seconds = 1.0
        self.requests: list[dict] = []
        self.errors: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                fake.requests.append({"path": self.path, "headers": dict(self.headers), "raw": raw})
                try:
                    status, body = fake.answer(self.path, self.headers, raw)
                except (AssertionError, KeyError, ValueError) as exc:  # a bad request
                    fake.errors.append(repr(exc))
                    status, body = 400, {"error": {"message": f"bad request: {exc!r}"}}
                if fake.mode == "slow":
                    time.sleep(fake.slow_seconds)
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def last_json(self, path_end: str) -> dict:
        raw = [r["raw"] for r in self.requests if r["path"].endswith(path_end)][-1]
        return json.loads(raw, parse_float=Decimal)

    def answer(self, path, headers, raw):  # pragma: no cover - overridden
        raise NotImplementedError

    def broken(self):
        """The answers every engine can give when its mode says so, or None."""
        if self.mode == "http500":
            return 500, {"error": {"code": "InternalServerError", "message": "Try again later"}}
        if self.mode == "malformed":
            return 200, b'{"lines": [{"lineNumber": "1", "tax": '
        return None


def float_json(value):
    """Real services answer with JSON numbers; keep them exact by going through str."""
    return json.loads(str(value))


class FakeAvaTax(FakeEngine):
    account_id = "2000123456"
    license_key = "A1B2C3D4E5F6"

    def answer(self, path, headers, raw):
        if path != "/api/v2/transactions/create":
            return 404, {"error": {"code": "EntityNotFoundError"}}
        expected = base64.b64encode(f"{self.account_id}:{self.license_key}".encode()).decode()
        if headers.get("Authorization") != f"Basic {expected}":
            return 401, {"error": {"code": "AuthenticationException", "message": "Bad auth"}}
        broken = self.broken()
        if broken:
            return broken
        body = json.loads(raw, parse_float=Decimal)
        assert body["type"] == "SalesInvoice" and body["commit"] is False
        assert {"code", "companyCode", "date", "customerCode", "currencyCode", "lines"} <= set(body)
        location = body["addresses"]["singleLocation"]
        rates = RATES[(location["country"], location.get("region", ""))]
        exempt = bool(body.get("exemptionNo"))
        lines = []
        for line in body["lines"]:
            amount = Decimal(line["amount"])
            details = [
                {
                    "taxName": name,
                    "rate": float_json(rate),
                    "tax": float_json(Decimal("0") if exempt else cents(amount * Decimal(rate))),
                    "taxableAmount": float_json(Decimal("0") if exempt else amount),
                    "exemptAmount": float_json(amount if exempt else Decimal("0")),
                }
                for name, rate in rates
            ]
            tax = sum((Decimal(str(d["tax"])) for d in details), Decimal("0"))
            lines.append(
                {
                    "lineNumber": line["number"],
                    "lineAmount": float_json(amount),
                    "tax": float_json(tax),
                    "taxCode": line["taxCode"],
                    "details": details,
                }
            )
        currency = body["currencyCode"]
        if self.mode == "missing_line":
            lines = lines[:-1]
        if self.mode == "wrong_currency":
            currency = "EUR" if currency != "EUR" else "USD"
        total = sum((Decimal(str(x["tax"])) for x in lines), Decimal("0"))
        if self.mode == "bad_total":
            total += Decimal("0.01")
        return 200, {
            "id": 123456789,
            "code": body["code"],
            "companyId": 12345,
            "date": body["date"],
            "status": "Saved",
            "type": "SalesInvoice",
            "currencyCode": currency,
            "customerCode": body["customerCode"],
            "totalAmount": float_json(
                sum((Decimal(x["amount"]) for x in body["lines"]), Decimal(0))
            ),
            "totalTax": float_json(total),
            "lines": lines,
        }


class FakeVertex(FakeEngine):
    client_id = "vertex-client"
    client_secret = "vertex-secret"
    token = "eyJhbGciOiJSUzI1NiJ9.fake"

    def answer(self, path, headers, raw):
        if path == "/oseries-auth/oauth/token":
            form = dict(urllib.parse.parse_qsl(raw.decode()))
            if form != {
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self.client_secret,
            }:
                return 401, {"error": "invalid_client"}
            return 200, {"access_token": self.token, "token_type": "bearer", "expires_in": 1200}
        if path != "/vertex-ws/v2/supplies":
            return 404, {"error": "not found"}
        if headers.get("Authorization") != f"Bearer {self.token}":
            return 401, {"error": "invalid_token"}
        broken = self.broken()
        if broken:
            return broken
        body = json.loads(raw, parse_float=Decimal)
        assert body["saleMessageType"] == "INVOICE" and body["transactionType"] == "SALE"
        customer = body["customer"]
        destination = customer["destination"]
        rates = RATES[(destination["country"], destination.get("mainDivision", ""))]
        exempt = customer.get("isTaxExempt", False)
        items = []
        for item in body["lineItems"]:
            amount = Decimal(item["extendedPrice"])
            taxes = [
                {
                    "situs": "DESTINATION",
                    "taxResult": "EXEMPT" if exempt else "TAXABLE",
                    "jurisdiction": {"jurisdictionLevel": "STATE", "value": name.split()[0]},
                    "imposition": {"value": name.title()},
                    "effectiveRate": float_json(rate),
                    "calculatedTax": float_json(
                        Decimal("0") if exempt else cents(amount * Decimal(rate))
                    ),
                }
                for name, rate in rates
            ]
            tax = sum((Decimal(str(x["calculatedTax"])) for x in taxes), Decimal("0"))
            items.append(
                {
                    "lineItemNumber": item["lineItemNumber"],
                    "lineItemId": item["lineItemId"],
                    "product": item["product"],
                    "quantity": item["quantity"]
                    and {"value": float_json(item["quantity"]["value"])},
                    "extendedPrice": float_json(amount),
                    "totalTax": float_json(tax),
                    "taxes": taxes,
                }
            )
        currency = body["currency"]["isoCurrencyCodeAlpha"]
        if self.mode == "missing_line":
            items = items[:-1]
        if self.mode == "wrong_currency":
            currency = "EUR" if currency != "EUR" else "USD"
        total = sum((Decimal(str(x["totalTax"])) for x in items), Decimal("0"))
        if self.mode == "bad_total":
            total += Decimal("0.01")
        return 200, {
            "data": {
                "documentNumber": body["documentNumber"],
                "documentDate": body["documentDate"],
                "transactionType": "SALE",
                "currency": {"isoCurrencyCodeAlpha": currency},
                "subTotal": float_json(
                    sum((Decimal(x["extendedPrice"]) for x in body["lineItems"]), Decimal(0))
                ),
                "totalTax": float_json(total),
                "lineItems": items,
            },
            "meta": {"app": "Vertex O Series", "timeReceived": "2026-03-01T10:00:00Z"},
        }
