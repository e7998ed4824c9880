"""Automatic top-up (seed 001 §2; issue 13, item 4): when an account's available funds fall below
its threshold, its top-up card is charged once for that fall; a decline is retried on a
schedule, then the default card is tried once.

Rules decided here:
- What is watched: `billing.selectors.funds_available`, the account's available credit plus the
  credit balance no prepaid order holds (credit limit + balance - uninvoiced - reservations -
  held). A prepaid account's is its balance; a net-terms account's counts its credit limit.
- How much: the fixed amount, or what brings the *balance* to the target (lago-api#2065),
  worked out when each attempt is made. Nothing to charge (the balance already at the target)
  is an attempt refused, like one with no card.
- A crossing (`AutoTopupCrossing`) is opened by the run that finds the account below its
  threshold with none open, and closed by the run that finds it back at or above (at once when
  its own top-up lifts it; or after a payment, a credit memo, a cancelled order), or automatic
  top-up turned off. A crossing is charged at most once: only the next fall below charges
  again. A fixed amount too small to lift the account leaves its crossing charged and open.
- Attempts (`AutoTopupAttempt`): each its own key, `auto:<crossing>:<number>`, sent through
  `billing.topups.topup_pay` (scoped `topup:<account>:...`, so the gateway and GatewayCharge book
  it once), and written, pending, before the gateway is called. Deciding what to do takes the
  account's row lock; workers take turns on it and the second finds what the first did. No lock
  is held while the gateway answers.
- A decline, or a charge refused before the gateway (no card, an expired one, nothing to
  charge), writes the attempt's outcome and nothing else, emails the account (its billing email,
  `resellers.selectors.billing_email`) and schedules the next attempt AUTO_TOPUP_RETRY_HOURS
  after it, one retry per entry. When the last retry fails, the account's default payment method
  is charged once, at once, if it is an active card the crossing has not tried; when that fails
  too, or there is none, the crossing is failed and the account told: nothing more until the
  next crossing.
- A gateway error or timeout leaves the attempt pending and the next run sends the same key
  again: the gateway answers a key it knows with its first charge, so the card is charged once.
  So does a worker killed midway: its claim on the attempt (AUTO_TOPUP_ATTEMPT_LEASE_MINUTES)
  runs out and the next run resumes it. A crossing never closes with an attempt pending, so money
  the gateway took is always booked.
- Cheap when nobody is below: one query reads every account with automatic top-up on (or a
  crossing open) with its figures; only those with something to do take a lock.

The clock is the caller's: `now` comes from the task (billing.tasks.auto_topup).
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.template.loader import render_to_string
from django.utils import timezone

from billing.models import AutoTopupAttempt, AutoTopupCrossing, Document
from billing.money import round_money
from billing.selectors import account_funds, financials_from, funds_available, funds_figures
from billing.topups import TopupDeclined, TopupGatewayError, topup_pay
from resellers.exceptions import ApplicationError
from resellers.models import Account, PaymentMethod
from resellers.selectors import billing_email, default_payment_method
from resellers.services import audit_record

logger = logging.getLogger(__name__)

Status = AutoTopupAttempt.Status
State = AutoTopupCrossing.State

NO_CARD_MESSAGE = (
    "No card to charge: choose a card for automatic top-up, or make a card your default payment "
    "method."
)
NOTHING_TO_CHARGE_MESSAGE = (
    "Nothing to charge: the balance is already at the target. Raise the target, or switch to a "
    "fixed amount."
)
DECLINED_MESSAGE = "The card was declined."
GATEWAY_TIMEOUT_MESSAGE = (
    "The payment gateway did not answer in time. The next run sends the same charge again; "
    "the card is never charged twice."
)
GATEWAY_ERROR_MESSAGE = (
    "The payment gateway returned an error. The next run sends the same charge again; the card "
    "is never charged twice."
)


def retry_hours() -> list[int]:
    """The retry schedule (AUTO_TOPUP_RETRY_HOURS): the hours between a failed attempt and the
    next, one retry per entry."""
    return [int(h) for h in getattr(settings, "AUTO_TOPUP_RETRY_HOURS", [1, 6, 24])]


def _lease() -> datetime.timedelta:
    return datetime.timedelta(minutes=getattr(settings, "AUTO_TOPUP_ATTEMPT_LEASE_MINUTES", 5))


def attempt_key(*, crossing_id: int, number: int) -> str:
    """The attempt's idempotency key (`billing.topups.topup_key` scopes it to the account)."""
    return f"auto:{crossing_id}:{number}"


def auto_topup_amount(account: Account, *, balance: Decimal) -> Decimal | None:
    """What one automatic top-up charges: the fixed amount, or what brings the balance up to
    the target (lago-api#2065); None when that is not set."""
    if account.auto_topup_mode == Account.TopupMode.TARGET:
        if account.auto_topup_target is None:
            return None
        return round_money(account.auto_topup_target - balance, account.currency)
    return account.auto_topup_amount


def _auto_method(account: Account) -> PaymentMethod | None:
    """The card chosen for automatic top-up, else the default payment method."""
    if account.auto_topup_payment_method_id is not None:
        return PaymentMethod.objects.filter(pk=account.auto_topup_payment_method_id).first()
    return default_payment_method(account=account)


def _fallback_method(account: Account, crossing: AutoTopupCrossing) -> PaymentMethod | None:
    """The default payment method, when it is an active card that none of the crossing's
    attempts tried."""
    method = default_payment_method(account=account)
    if method is None or method.kind != PaymentMethod.Kind.CARD or not method.is_active:
        return None
    tried = set(crossing.attempts.values_list("payment_method_id", flat=True))
    return None if method.pk in tried else method


# --- reads -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AutoTopupState:
    """Where an account's automatic top-up stands, for its panel and the API:

    - `idle`: no crossing open (funds at or above the threshold, or it is off);
    - `charging`: below, a charge is due or under way;
    - `retry_scheduled`: the last attempt failed; the next is due at `next_attempt_at`
      (`next_is_fallback`: on the default card);
    - `charged`: this crossing's top-up was booked; nothing more until the next crossing;
    - `failed`: every attempt failed; nothing more until the next crossing.

    `last_attempt`: the newest attempt of the open crossing, else of the last closed one."""

    status: str
    crossing: AutoTopupCrossing | None
    last_attempt: AutoTopupAttempt | None
    next_attempt_at: datetime.datetime | None
    next_is_fallback: bool = False

    @property
    def since(self) -> datetime.datetime | None:
        return self.crossing.opened_at if self.crossing is not None else None


def auto_topup_state(*, account: Account) -> AutoTopupState:
    crossings = AutoTopupCrossing.objects.filter(account_id=account.pk)
    crossing = crossings.filter(closed_at__isnull=True).first()
    latest = crossing or crossings.order_by("-opened_at", "-pk").first()
    last = None
    if latest is not None:
        last = (
            latest.attempts.select_related("payment_method", "payment").order_by("-number").first()
        )
    if crossing is None:
        return AutoTopupState("idle", None, last, None)
    if crossing.state == State.CHARGED:
        return AutoTopupState("charged", crossing, last, None)
    if crossing.state == State.FAILED:
        return AutoTopupState("failed", crossing, last, None)
    if last is not None and last.failed:
        return AutoTopupState(
            "retry_scheduled",
            crossing,
            last,
            crossing.next_attempt_at,
            next_is_fallback=_next_is_fallback(last),
        )
    return AutoTopupState("charging", crossing, last, None)


def _next_is_fallback(attempt: AutoTopupAttempt) -> bool:
    return not attempt.fallback and attempt.number > len(retry_hours())


def auto_topup_candidates() -> QuerySet[Account]:
    """Accounts with automatic top-up on, and any with a crossing still open (to close it),
    annotated with their figures (`funds_figures`) and their open crossing's state, when its
    next attempt is due, and whether an attempt is pending (and claimed until when)."""
    open_crossing = AutoTopupCrossing.objects.filter(
        account_id=OuterRef("pk"), closed_at__isnull=True
    )
    pending = AutoTopupAttempt.objects.filter(
        crossing__account_id=OuterRef("pk"),
        crossing__closed_at__isnull=True,
        status=Status.PENDING,
    )
    return (
        Account.objects.filter(
            Q(auto_topup_enabled=True, status=Account.Status.ACTIVE) | Q(Exists(open_crossing))
        )
        .exclude(kind=Account.Kind.PROVIDER)
        .annotate(
            **funds_figures(),
            crossing_state=Subquery(open_crossing.values("state")[:1]),
            crossing_due_at=Subquery(open_crossing.values("next_attempt_at")[:1]),
            has_pending=Exists(pending),
            pending_claimed_until=Subquery(pending.values("claimed_until")[:1]),
            has_unnotified=Exists(_unnotified().filter(crossing__account_id=OuterRef("pk"))),
        )
        .order_by("pk")
    )


def _unnotified() -> QuerySet[AutoTopupAttempt]:
    """Failed attempts of open crossings whose notice was not sent (a worker died first)."""
    return AutoTopupAttempt.objects.filter(
        crossing__closed_at__isnull=True,
        status__in=(Status.DECLINED, Status.REFUSED),
        notified_at__isnull=True,
    )


def _watching(account: Account) -> bool:
    return (
        account.auto_topup_enabled
        and account.status == Account.Status.ACTIVE
        and account.auto_topup_threshold is not None
    )


def _work(account: Account, now: datetime.datetime) -> str | None:
    """What a candidate (annotated by auto_topup_candidates) needs, read without a lock: "do"
    (resume, open, close or charge: decided again under the lock), "wait" (its crossing is
    charged, failed or its retry not due; or a worker is on its attempt), or None."""
    if account.has_pending:
        claimed = account.pending_claimed_until
        return "do" if claimed is None or claimed <= now else "wait"
    row = {name: getattr(account, name) for name in ("credit_limit", "credit_terms")}
    row.update({name: getattr(account, name) for name in funds_figures()})
    funds = funds_available(financials_from(row, currency=account.currency), held=row["fig_held"])
    below = _watching(account) and funds < account.auto_topup_threshold
    if account.crossing_state is None:
        return "do" if below else None
    if not below:
        return "do"  # back at or above: close
    if account.crossing_state == State.CHARGING and (
        account.crossing_due_at is None or account.crossing_due_at <= now
    ):
        return "do"
    return "wait"


# --- the run -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AutoTopupFailure:
    """An attempt that failed: why, and when the next is due (None: the crossing failed)."""

    account_id: int
    account_name: str
    message: str
    next_attempt_at: datetime.datetime | None = None


@dataclass
class AutoTopupResult:
    """What one run did: top-ups booked now, attempts that failed (declined or not sent),
    accounts whose gateway failed or did not answer (the same key on the next run), accounts
    with nothing to do for now (their crossing is charged or failed, or its retry is not due),
    and crossings closed (back at or above the threshold)."""

    charged: list[Document] = field(default_factory=list)
    failed: list[AutoTopupFailure] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    already_done: list[int] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)


def auto_topup_run(*, now: datetime.datetime) -> AutoTopupResult:
    """Automatic top-up of every account that needs it at `now` (see the module's rules). An
    account that fails is listed and the run goes on."""
    result = AutoTopupResult()
    for account in auto_topup_candidates():
        if account.has_unnotified:
            for attempt_id in (
                _unnotified().filter(crossing__account_id=account.pk).values_list("pk", flat=True)
            ):
                auto_topup_notice_send(attempt_id=attempt_id, now=now)
        work = _work(account, now)
        if work == "wait":
            result.already_done.append(account.pk)
        elif work == "do":
            auto_topup_account(account_id=account.pk, now=now, result=result)
    return result


def auto_topup_account(
    *, account_id: int, now: datetime.datetime, result: AutoTopupResult | None = None
) -> AutoTopupResult:
    """Do what the account's automatic top-up needs at `now`: finish a pending attempt, open or
    close a crossing, make the attempt that is due (and the fallback, when it follows at once)."""
    result = result if result is not None else AutoTopupResult()
    for step in range(len(retry_hours()) + 3):  # at most every attempt a crossing can make
        attempt, found = _attempt_due(account_id=account_id, now=now)
        if attempt is None:
            if step == 0 and found == "closed":
                result.closed.append(account_id)
            elif step == 0 and found == "waiting":
                result.already_done.append(account_id)
            break
        status, message, payment = _charge(attempt, now=now)
        attempt = _attempt_record(
            attempt_id=attempt.pk, status=status, message=message, payment=payment, now=now
        )
        if attempt.status == Status.SUCCEEDED:
            result.charged.append(attempt.payment)
            break
        if attempt.status == Status.PENDING:
            logger.warning("automatic top-up of account %s: %s", account_id, message)
            result.retrying.append(account_id)
            break
        logger.warning("automatic top-up of account %s failed: %s", account_id, attempt.message)
        crossing = attempt.crossing
        result.failed.append(
            AutoTopupFailure(
                account_id, crossing.account.name, attempt.message, crossing.next_attempt_at
            )
        )
        auto_topup_notice_send(attempt_id=attempt.pk, now=now)
    return result


def _lock_account(account_id: int) -> Account:
    return Account.objects.select_for_update().get(pk=account_id)


@transaction.atomic
def _attempt_due(*, account_id: int, now: datetime.datetime) -> tuple[AutoTopupAttempt | None, str]:
    """Under the account's lock: the attempt to make now (a pending one resumed, or a new one,
    written before the gateway is called), or None and what was found: "closed" (the crossing
    just closed), "waiting" (a worker is on its attempt, it is charged or failed, or its retry
    is not due) or "" (nothing below the threshold)."""
    account = _lock_account(account_id)
    crossing = (
        AutoTopupCrossing.objects.select_for_update()
        .filter(account_id=account_id, closed_at__isnull=True)
        .first()
    )
    if crossing is not None:
        pending = crossing.attempts.filter(status=Status.PENDING).first()
        if pending is not None:
            if pending.claimed_until is not None and pending.claimed_until > now:
                return None, "waiting"  # a worker is on it
            pending.claimed_until = now + _lease()
            pending.save(update_fields=["claimed_until"])
            return pending, ""  # the same key, amount and card again
    financials, funds = account_funds(account=account)
    threshold = account.auto_topup_threshold
    below = _watching(account) and funds < threshold
    if crossing is None:
        if not below:
            return None, ""
        crossing = AutoTopupCrossing.objects.create(
            account=account,
            threshold=threshold,
            funds_at_open=funds,
            currency=account.currency,
            opened_at=now,
            next_attempt_at=now,
        )
        audit_record(
            actor=None,
            action="auto_topup.open",
            obj=crossing,
            account=account,
            details={"funds": str(funds), "threshold": str(threshold)},
        )
    elif not below:
        crossing.closed_at = now
        crossing.next_attempt_at = None
        crossing.save(update_fields=["closed_at", "next_attempt_at"])
        audit_record(
            actor=None,
            action="auto_topup.close",
            obj=crossing,
            account=account,
            details={"funds": str(funds), "state": crossing.state},
        )
        return None, "closed"
    if crossing.state != State.CHARGING or (
        crossing.next_attempt_at is not None and crossing.next_attempt_at > now
    ):
        return None, "waiting"
    number = crossing.attempts.count() + 1
    fallback = number > len(retry_hours()) + 1
    method = _fallback_method(account, crossing) if fallback else _auto_method(account)
    amount = auto_topup_amount(account, balance=financials.balance)
    attempt = AutoTopupAttempt.objects.create(
        crossing=crossing,
        number=number,
        fallback=fallback,
        payment_method=method,
        amount=amount if amount is not None and amount > 0 else None,
        currency=account.currency,
        idempotency_key=attempt_key(crossing_id=crossing.pk, number=number),
        started_at=now,
        claimed_until=now + _lease(),
        message="" if amount is None or amount > 0 else NOTHING_TO_CHARGE_MESSAGE,
    )
    return attempt, ""


def _charge(
    attempt: AutoTopupAttempt, *, now: datetime.datetime
) -> tuple[str, str, Document | None]:
    """Send the attempt to the gateway (`topup_pay`, no lock held): its outcome, the message,
    the payment booked. A gateway failure or timeout is PENDING: the same key next time."""
    if attempt.payment_method_id is None:
        return Status.REFUSED, NO_CARD_MESSAGE, None
    if attempt.amount is None:
        return Status.REFUSED, attempt.message or "No top-up amount is set.", None
    account = Account.objects.select_related("issuer").get(pk=attempt.crossing.account_id)
    try:
        payment = topup_pay(
            account=account,
            payment_method=attempt.payment_method,
            amount=attempt.amount,
            idempotency_key=attempt.idempotency_key,
            acting_user=None,
            today=timezone.localdate(now),
        )
    except TopupDeclined as exc:
        return Status.DECLINED, getattr(exc.__cause__, "message", "") or DECLINED_MESSAGE, None
    except TopupGatewayError as exc:
        message = GATEWAY_TIMEOUT_MESSAGE if exc.timed_out else GATEWAY_ERROR_MESSAGE
        return Status.PENDING, message, None
    except ApplicationError as exc:
        return Status.REFUSED, exc.message, None
    return Status.SUCCEEDED, "", payment


@transaction.atomic
def _attempt_record(
    *,
    attempt_id: int,
    status: str,
    message: str,
    payment: Document | None,
    now: datetime.datetime,
) -> AutoTopupAttempt:
    """Under the account's lock: the attempt's outcome and what it means for its crossing
    (charged, and closed if back at or above; the next attempt's time; or failed). An attempt
    another worker recorded meanwhile is left as it is."""
    account_id = AutoTopupAttempt.objects.values_list("crossing__account_id", flat=True).get(
        pk=attempt_id
    )
    account = _lock_account(account_id)
    attempt = (
        AutoTopupAttempt.objects.select_for_update(of=("self",))
        .select_related("crossing__account", "payment_method", "payment")
        .get(pk=attempt_id)
    )
    crossing = AutoTopupCrossing.objects.select_for_update().get(pk=attempt.crossing_id)
    attempt.crossing = crossing
    crossing.account = account
    if attempt.status != Status.PENDING:
        return attempt
    attempt.claimed_until = None
    attempt.message = message[:300]
    if status == Status.PENDING:  # the gateway failed or did not answer: resumed next run
        attempt.save(update_fields=["claimed_until", "message"])
        return attempt
    attempt.status, attempt.payment, attempt.finished_at = status, payment, now
    attempt.save(update_fields=["claimed_until", "message", "status", "payment", "finished_at"])
    details = {"attempt": attempt.number, "status": status, "key": attempt.idempotency_key}
    if attempt.amount is not None:
        details["amount"] = str(attempt.amount)
    if message:
        details["message"] = attempt.message
    audit_record(
        actor=None, action="auto_topup.attempt", obj=crossing, account=account, details=details
    )
    if status == Status.SUCCEEDED:
        crossing.state, crossing.payment, crossing.next_attempt_at = State.CHARGED, payment, None
        threshold = account.auto_topup_threshold
        if not _watching(account) or account_funds(account=account)[1] >= threshold:
            crossing.closed_at = now  # lifted back at or above: this crossing is over
    else:
        crossing.next_attempt_at = _next_attempt_at(attempt, account, crossing, now)
        if crossing.next_attempt_at is None:
            crossing.state = State.FAILED
            audit_record(
                actor=None,
                action="auto_topup.fail",
                obj=crossing,
                account=account,
                details={"attempts": attempt.number},
            )
    crossing.save(update_fields=["state", "payment", "next_attempt_at", "closed_at"])
    return attempt


def _next_attempt_at(
    attempt: AutoTopupAttempt,
    account: Account,
    crossing: AutoTopupCrossing,
    now: datetime.datetime,
) -> datetime.datetime | None:
    """After a failed attempt: the next retry of the schedule, else the fallback at once, else
    None (the crossing failed)."""
    hours = retry_hours()
    if attempt.fallback:
        return None
    if attempt.number <= len(hours):
        return now + datetime.timedelta(hours=hours[attempt.number - 1])
    return now if _fallback_method(account, crossing) is not None else None


# --- the notice of a failed attempt ------------------------------------------------------------


def auto_topup_notice_send(*, attempt_id: int, now: datetime.datetime) -> str:
    """Email the account that an attempt failed and what happens next (a retry at ..., its
    default card now, or nothing until the next crossing), once per attempt. Returns "sent",
    "already sent" or "no address"."""
    with transaction.atomic():
        attempt = (
            AutoTopupAttempt.objects.select_for_update(of=("self",))
            .select_related("crossing__account__issuer", "payment_method")
            .get(pk=attempt_id)
        )
        if attempt.notified_at is not None or not attempt.failed:
            return "already sent"
        crossing, account = attempt.crossing, attempt.crossing.account
        to = billing_email(account_id=account.pk)
        if to:
            _notice(attempt, crossing, account, to).send(fail_silently=False)
        attempt.notified_at, attempt.notified_to = now, to
        attempt.save(update_fields=["notified_at", "notified_to"])
    if to:
        logger.info("automatic top-up notice %s sent to %s", attempt.idempotency_key, to)
    return "sent" if to else "no address"


def _notice(
    attempt: AutoTopupAttempt, crossing: AutoTopupCrossing, account: Account, to: str
) -> EmailMultiAlternatives:
    newest = crossing.attempts.order_by("-number").values_list("pk", flat=True).first()
    next_step = ""
    if newest == attempt.pk:
        if crossing.state == State.FAILED:
            next_step = "stopped"
        elif crossing.next_attempt_at is not None:
            next_step = "fallback" if _next_is_fallback(attempt) else "retry"
    context = {
        "account": account,
        "issuer": account.issuer,
        "attempt": attempt,
        "crossing": crossing,
        "next_step": next_step,
        "fallback_method": _fallback_method(account, crossing) if next_step == "fallback" else None,
        "site_url": getattr(settings, "SITE_URL", ""),
    }
    subject = (
        "Automatic top-up failed"
        if next_step == "stopped"
        else "Automatic top-up: your card could not be charged"
    )
    message = EmailMultiAlternatives(
        f"{subject} ({account.name})",
        render_to_string("billing/auto_topup_failed_email.txt", context),
        settings.DEFAULT_FROM_EMAIL,
        [to],
    )
    message.attach_alternative(
        render_to_string("billing/auto_topup_failed_email.html", context), "text/html"
    )
    return message
