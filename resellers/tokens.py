"""API tokens (django-rest-knox): create, list, revoke.

A token is shown once, when `POST /api/v1/auth/token/` makes it; the database keeps its SHA-512
digest and its first 15 characters (knox's lookup key, of 64), never the token. Each POST makes a
new token, valid settings.REST_KNOX["TOKEN_TTL"] (API_TOKEN_TTL_DAYS, 30 days by default); an
expired token answers 401 and is deleted on its next use.

Who ends a token:
- the integration holding it: `DELETE /api/v1/auth/token/` revokes the token making the call;
- its owner, on the panel's account page (or /account/api-tokens/): one token, or all of them;
- "Log out and revoke API tokens" in the panel: all of the user's tokens, and this session;
- a password reset (someone may have had the password): all of the user's tokens.
A plain panel "Log out" ends the browser session only: tokens are the credentials of the user's
integrations, made for them, and keep working until they expire or are revoked.

Every creation and revocation writes an AuditEvent (actor, "api_token.*", the token's key).
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Q, QuerySet
from knox.models import AuthToken

from resellers.models import AuditEvent, User


def _audit(*, user: User, action: str, token: AuthToken | None, details: dict | None = None):
    AuditEvent.objects.create(
        actor=user,
        account_id=user.account_id,
        action=action,
        object_type="knox.authtoken",
        object_id=token.token_key if token is not None else "*",
        details=details or {},
    )


def api_tokens_of(*, user: User, now: datetime) -> QuerySet[AuthToken]:
    """The user's tokens still valid at `now`, newest first."""
    return (
        AuthToken.objects.filter(user=user)
        .filter(Q(expiry__isnull=True) | Q(expiry__gt=now))
        .order_by("-created")
    )


def api_token_create(*, user: User, via: str) -> tuple[AuthToken, str]:
    """A new token for `user`; returns the row and the token itself (its only appearance)."""
    with transaction.atomic():
        instance, token = AuthToken.objects.create(user=user)
        _audit(
            user=user,
            action="api_token.create",
            token=instance,
            details={"via": via, "expiry": instance.expiry.isoformat()},
        )
    return instance, token


def api_token_revoke(*, token: AuthToken, acting_user: User, via: str) -> None:
    with transaction.atomic():
        _audit(user=acting_user, action="api_token.revoke", token=token, details={"via": via})
        token.delete()


def api_token_revoke_by_digest(*, user: User, digest: str, via: str) -> None:
    """Revoke one of `user`'s own tokens; AuthToken.DoesNotExist for anyone else's."""
    with transaction.atomic():
        token = AuthToken.objects.select_for_update().get(user=user, digest=digest)
        api_token_revoke(token=token, acting_user=user, via=via)


def api_tokens_revoke_all(*, user: User, via: str) -> int:
    """Revoke every token of `user`; returns how many there were."""
    with transaction.atomic():
        count, _ = AuthToken.objects.filter(user=user).delete()
        _audit(
            user=user,
            action="api_token.revoke_all",
            token=None,
            details={"via": via, "count": count},
        )
    return count
