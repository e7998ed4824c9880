"""The API's JSON parser: number literals with a fraction or exponent become Decimal, not float.

So an amount sent as a JSON number keeps the digits the client wrote: `300.10` arrives as
Decimal("300.10"), never the binary float 300.099999..., and `1e2` as Decimal("1E+2"), which the
one money parser (billing.money.parse_amount) refuses like the string "1e2". NaN and Infinity stay
refused (DRF's strict JSON)."""

from __future__ import annotations

import codecs
import json
from decimal import Decimal

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.settings import api_settings
from rest_framework.utils.json import strict_constant


class DecimalJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", "utf-8")
        try:
            return json.load(
                codecs.getreader(encoding)(stream),
                parse_float=Decimal,
                parse_constant=strict_constant if api_settings.STRICT_JSON else None,
            )
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
