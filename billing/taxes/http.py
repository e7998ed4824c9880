"""A small JSON-over-HTTP client for the tax engine adapters (stdlib urllib, no dependency).

Every failure (connection, timeout, HTTP status, a body that is not JSON) becomes a
TaxEngineError. Numbers in answers are parsed as Decimal, never float; amounts sent are JSON
numbers written from their Decimal digits.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from decimal import Decimal

from billing.taxes.engines import TaxEngineError

_MAX_BODY_IN_ERROR = 300


def dumps(body) -> bytes:
    """JSON with Decimals written exactly (json would otherwise refuse them or go via float)."""
    marks: list[Decimal] = []

    def mark(value):
        if isinstance(value, Decimal):
            marks.append(value)
            return f"\x00{len(marks) - 1}\x00"
        if isinstance(value, dict):
            return {k: mark(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [mark(v) for v in value]
        if isinstance(value, str):
            return value.replace("\x00", "")  # NUL is the marker; it has no place in a request
        return value

    text = json.dumps(mark(body))
    for i, value in enumerate(marks):
        text = text.replace(f'"\\u0000{i}\\u0000"', format(value, "f"))
    return text.encode()


def loads(raw: bytes, *, engine: str):
    try:
        return json.loads(raw, parse_float=Decimal, parse_int=Decimal)
    except (ValueError, UnicodeDecodeError) as exc:
        raise TaxEngineError(f"{engine}: the answer is not JSON ({exc}).", field="tax") from exc


def post(
    url: str,
    *,
    engine: str,
    data: bytes,
    content_type: str,
    headers: dict[str, str],
    timeout: float,
):
    """POST and return the parsed JSON answer, or raise TaxEngineError."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise TaxEngineError(f"{engine}: the endpoint must be an http(s) URL.", field="url")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url,
        data=data,
        method="POST",
        headers={"Content-Type": content_type, "Accept": "application/json", **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            raw = response.read()
    except urllib.error.HTTPError as exc:
        body = exc.read()[:_MAX_BODY_IN_ERROR].decode("utf-8", "replace")
        raise TaxEngineError(
            f"{engine}: HTTP {exc.code} from the tax engine: {body}",
            field="tax",
            extra={"status": exc.code},
        ) from exc
    except TimeoutError as exc:
        raise TaxEngineError(
            f"{engine}: no answer within {timeout:g} s.", field="tax", extra={"timeout": True}
        ) from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TimeoutError):
            raise TaxEngineError(
                f"{engine}: no answer within {timeout:g} s.", field="tax", extra={"timeout": True}
            ) from exc
        raise TaxEngineError(
            f"{engine}: cannot reach the tax engine ({reason}).", field="tax"
        ) from exc
    return loads(raw, engine=engine)


def post_json(url: str, body, *, engine: str, headers: dict[str, str], timeout: float):
    return post(
        url,
        engine=engine,
        data=dumps(body),
        content_type="application/json",
        headers=headers,
        timeout=timeout,
    )


def post_form(url: str, fields: dict[str, str], *, engine: str, timeout: float):
    return post(
        url,
        engine=engine,
        data=urllib.parse.urlencode(fields).encode(),
        content_type="application/x-www-form-urlencoded",
        headers={},
        timeout=timeout,
    )
