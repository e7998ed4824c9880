"""Failed-login lockout (django-axes), one message for every surface.

Axes counts failed logins per username + IP address (settings.AXES_LOCKOUT_PARAMETERS) on every
path that calls `django.contrib.auth.authenticate` with the request: the panel's /login/, the
admin's login and `POST /api/v1/auth/token/`. At AXES_FAILURE_LIMIT failures the pair is locked out
for AXES_COOLOFF_TIME, and every further attempt, even with the right password, is refused (a
failed attempt during the lockout starts the cool-off again). A successful login clears the count.

- The panel and the admin answer with `registration/lockout.html` (429): axes' middleware calls
  `lockout_response` (settings.AXES_LOCKOUT_CALLABLE).
- The API answers 429 with `{"detail": lockout_message()}` (resellers.api.ObtainTokenView): axes
  flags DRF's request object, which its middleware never sees.

Axes records each failure (AccessAttempt, AccessFailureLog) and each successful login (AccessLog);
`log_lockout` adds a log line naming the username, the address and the path.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from axes.helpers import get_client_ip_address, get_cool_off
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

logger = logging.getLogger(__name__)

LOCKOUT_STATUS = 429


def cool_off() -> timedelta:
    return get_cool_off() or timedelta(0)


def _minutes(delta: timedelta) -> str:
    minutes = max(1, round(delta.total_seconds() / 60))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def lockout_message() -> str:
    """What a locked-out person reads, on the login page and from the API."""
    return (
        "Too many failed login attempts: try again in "
        f"{_minutes(cool_off())}, or reset your password."
    )


def retry_after_seconds() -> int:
    return int(cool_off().total_seconds())


def log_lockout(request, username: str | None) -> None:
    logger.warning(
        "Login refused: %s from %s is locked out after too many failed attempts (%s)",
        username or "(no username)",
        get_client_ip_address(request),
        request.path,
    )


def lockout_response(
    request: HttpRequest, original_response=None, credentials: dict | None = None
) -> HttpResponse:
    """settings.AXES_LOCKOUT_CALLABLE: the login page, in the panel's style, saying why (429)."""
    username = (credentials or {}).get("username")
    log_lockout(request, username)
    response = TemplateResponse(
        request,
        "registration/lockout.html",
        {"message": lockout_message(), "username": username or ""},
        status=LOCKOUT_STATUS,
    )
    response["Retry-After"] = str(retry_after_seconds())
    return response.render()


def client_ip(request) -> str | None:
    """The client's address for the lockout: with `TRUSTED_PROXY_COUNT` proxies in front, the
    address the outermost one saw, which it appended to X-Forwarded-For (entries further left
    are the client's own word and could be forged); REMOTE_ADDR without proxies, or when the
    header is shorter than the proxies (a request that did not come through them)."""
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    entries = [e.strip() for e in forwarded.split(",") if e.strip()]
    if count > 0 and len(entries) >= count:
        return entries[-count]
    return request.META.get("REMOTE_ADDR")
