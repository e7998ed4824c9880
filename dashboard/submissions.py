"""One-time form submissions kept in the session (a double click starts one run, adds one rule),
and a service's refusal shown on a form. Shared by the panel's forms."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction

from resellers import exceptions as domain
from resellers.models import User

KEEP = 20  # the last keys remembered per slot


def form_error(form, exc: domain.ApplicationError) -> None:
    """A service's refusal on the form: on the field it names, else on the form. PermissionDenied
    is not a form error but a 403."""
    if isinstance(exc, domain.PermissionDenied):
        raise PermissionDenied(exc.message) from exc
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _as_dict(kept) -> dict:
    """The slot's keys and what they produced; a session from before this module kept a list."""
    if isinstance(kept, list):
        return dict.fromkeys(kept, True)
    return dict(kept or {})


def claim(request, slot: str, key: str) -> tuple[bool, object]:
    """(True, None) when `key` is new in the session's `slot`, now claimed; else (False, what it
    produced, or None while the first submission is still at it). Read afresh under a lock on the
    user and saved inside that transaction, so a second POST waits for it, then finds the key."""
    with transaction.atomic():
        list(User.objects.select_for_update().filter(pk=request.user.pk).only("pk"))
        session = request.session
        fresh = type(session)(session_key=session.session_key) if session.session_key else session
        done = _as_dict(fresh.get(slot))
        if key in done:
            return False, done[key]
        done[key] = None
        session[slot] = dict(list(done.items())[-KEEP:])
        session.save()
    return True, None


def remember(request, slot: str, key: str, value) -> None:
    """What the submission `key` produced; None releases the key, so the form may be sent again
    (it wrote nothing)."""
    done = _as_dict(request.session.get(slot))
    if value is None:
        done.pop(key, None)
    else:
        done[key] = value
    request.session[slot] = done
    request.session.save()
