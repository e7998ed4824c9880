"""Dunning (issue 13, item 5; seed 001 §3; DESIGN.md "Credit hold"): the path of an account that
does not pay, day by day, and the way back.

Each issuer has a policy (`policy_resolver`: its DunningPolicy, else the provider's, else the
settings DUNNING_*). Counted from the due date of the account's oldest overdue document:
- reminders: `reminder_days_before` (e.g. 3 days before) and `reminder_days_after` (1 and 7
  days after) each document's due date, one email per account and run;
- `credit_hold_days`: the account is put on credit hold. Its new orders wait in the
  unexecuted-for-credit queue (orders.services.placement), and the panel says why;
- `suspension_days`: its own active subscriptions are suspended. A reseller's customers keep
  theirs (DESIGN.md): only subscriptions the account holds itself are touched.

The way back: a payment that clears everything overdue (the ledger's `payments_applied` signal,
inside the payment's transaction) lifts the hold and reactivates what dunning suspended through
billing.runs.subscription_reactivate, which bills the catch-up of seed 001 §3 when *Bill for
Subscriptions on Hold* is off, in that same transaction. If the catch-up cannot be billed the
payment still stands, the account stays held and the next daily run tries again.

`dunning_run(today)` (the daily beat job, `manage.py run_dunning`) takes one transaction per
account under the account's row lock (the ledger's lock, so a payment and the job serialise).
Running it twice on a day does nothing twice: a stage is entered once (DunningState), a reminder
is one DunningNotice per document and offset. Killed midway, it leaves whole accounts done or
untouched, and the next run finishes; emails go after the commit, and the next run sends any a
dead worker left unsent. Every step is audited and emailed.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import (
    Case,
    Count,
    IntegerField,
    Min,
    OuterRef,
    Subquery,
    Sum,
    Value,
    When,
)
from django.dispatch import receiver
from django.template.loader import render_to_string
from django.utils import timezone

from billing.ledger.events import payments_applied
from billing.models import (
    HELD_STAGES,
    Document,
    DunningNotice,
    DunningPolicy,
    DunningStage,
    DunningState,
)
from billing.money import ZERO
from billing.runs import subscription_reactivate
from billing.webhooks import webhook_emit
from orders.models import Subscription, SubscriptionStatus
from orders.services import subscription_suspend
from resellers.exceptions import ApplicationError, PermissionDenied
from resellers.models import Account, User
from resellers.selectors import billing_email
from resellers.services import audit_record

logger = logging.getLogger(__name__)

POLICY_FIELDS = (
    "reminder_days_before",
    "reminder_days_after",
    "credit_hold_days",
    "suspension_days",
)
STAGE_ORDER = (
    DunningStage.CURRENT,
    DunningStage.OVERDUE,
    DunningStage.CREDIT_HOLD,
    DunningStage.SUSPENDED,
)
REMINDERS = frozenset({DunningNotice.Kind.REMINDER_BEFORE, DunningNotice.Kind.REMINDER_AFTER})


class DunningError(ApplicationError):
    """A dunning run that cannot start (a date ahead of today without dry run)."""


@dataclass(frozen=True)
class Policy:
    reminder_days_before: tuple[int, ...]
    reminder_days_after: tuple[int, ...]
    credit_hold_days: int
    suspension_days: int


@dataclass(frozen=True)
class Step:
    account_id: int
    account_name: str
    step: str  # a DunningNotice.Kind, or "overdue" / "current" (no email)
    detail: str


@dataclass
class DunningResult:
    date: datetime.date
    dry_run: bool
    accounts: int = 0
    steps: list[Step] = field(default_factory=list)
    failed: list[Step] = field(default_factory=list)


@dataclass(frozen=True)
class NextStep:
    step: str  # overdue, credit_hold, suspension, reactivation
    on_date: datetime.date

    @property
    def label(self) -> str:
        return self.step.replace("_", " ")


def _default(name: str):
    value = getattr(settings, f"DUNNING_{name.upper()}")
    return tuple(sorted(value)) if isinstance(value, list | tuple) else value


def settings_policy() -> Policy:
    """The settings' policy (DUNNING_*): what every empty field comes to in the end."""
    return Policy(**{name: _default(name) for name in POLICY_FIELDS})


def policy_resolver() -> Callable[[int | None], Policy]:
    """Issuer id -> its effective policy: each field from the issuer's DunningPolicy, else the
    provider's, else the settings. The rows are read once (there is one per issuer at most)."""
    rows = {p.issuer_id: p for p in DunningPolicy.objects.all()}
    provider_id = (
        Account.objects.filter(kind=Account.Kind.PROVIDER).values_list("pk", flat=True).first()
    )
    cache: dict[int | None, Policy] = {}

    def resolve(issuer_id: int | None) -> Policy:
        if issuer_id not in cache:
            sources = [rows.get(issuer_id), rows.get(provider_id)]
            values = {}
            for name in POLICY_FIELDS:
                found = [getattr(r, name) for r in sources if r and getattr(r, name) is not None]
                value = found[0] if found else _default(name)
                values[name] = tuple(sorted(value)) if isinstance(value, list | tuple) else value
            cache[issuer_id] = Policy(**values)
        return cache[issuer_id]

    return resolve


def policy_of(issuer: Account) -> Policy:
    return policy_resolver()(issuer.pk)


def policy_set(
    *,
    issuer: Account,
    acting_user: User | None,
    reminder_days_before: Iterable[int] | None,
    reminder_days_after: Iterable[int] | None,
    credit_hold_days: int | None,
    suspension_days: int | None,
) -> DunningPolicy:
    """Set an issuer's dunning policy (empty fields take the provider's, then the settings'):
    the provider's by its staff, a resale reseller's for its customers by its own users."""
    staff = acting_user is None or acting_user.is_provider_staff
    if not staff and (acting_user.account_id != issuer.pk or issuer.is_referral_reseller):
        raise PermissionDenied("Only the issuer's own users set its dunning policy.")
    if issuer.kind == Account.Kind.CUSTOMER:
        raise ApplicationError("A customer bills nobody: it has no dunning policy.")
    values = {
        "reminder_days_before": _days_list(reminder_days_before, "reminder_days_before"),
        "reminder_days_after": _days_list(reminder_days_after, "reminder_days_after"),
        "credit_hold_days": credit_hold_days,
        "suspension_days": suspension_days,
    }
    for name in ("credit_hold_days", "suspension_days"):
        if values[name] is not None and not 1 <= values[name] <= 365:
            raise ApplicationError("Use a number of days from 1 to 365.", field=name)
    with transaction.atomic():
        Account.objects.select_for_update().get(pk=issuer.pk)
        merged = _merged(issuer.pk, values)
        if merged.suspension_days < merged.credit_hold_days:
            raise ApplicationError(
                "Suspension comes after the credit hold: use at least as many days "
                f"({merged.credit_hold_days}).",
                field="suspension_days",
            )
        policy, _ = DunningPolicy.objects.update_or_create(
            issuer=issuer,
            defaults={**values, "updated_by": acting_user if acting_user else None},
        )
        audit_record(
            actor=acting_user,
            action="dunning.policy",
            obj=policy,
            account=issuer,
            details={k: v for k, v in values.items()},
        )
    return policy


def _merged(issuer_id: int, values: dict) -> Policy:
    base = policy_resolver()(issuer_id)
    return Policy(
        **{
            name: (tuple(sorted(values[name])) if isinstance(values[name], list) else values[name])
            if values[name] is not None
            else getattr(base, name)
            for name in POLICY_FIELDS
        }
    )


def _days_list(days: Iterable[int] | None, name: str) -> list[int] | None:
    if days is None:
        return None
    found = sorted(set(days))
    if any(not isinstance(d, int) or not 0 <= d <= 365 for d in found) or len(found) > 10:
        raise ApplicationError("Up to 10 whole numbers of days, from 0 to 365.", field=name)
    return found


def reminder_due(
    *, due_date: datetime.date, today: datetime.date, policy: Policy
) -> tuple[str, int] | None:
    """The reminder a document due on `due_date` has due today, as (kind, offset): before the due
    date, the nearest offset already reached; after it, the largest offset passed. A run missed
    on the exact day is made up by the next one (one reminder, not every one missed)."""
    days_to_due = (due_date - today).days
    if days_to_due >= 0:
        reached = [b for b in policy.reminder_days_before if days_to_due <= b]
        return (DunningNotice.Kind.REMINDER_BEFORE, min(reached)) if reached else None
    passed = [a for a in policy.reminder_days_after if -days_to_due >= a]
    return (DunningNotice.Kind.REMINDER_AFTER, max(passed)) if passed else None


# --- The daily run -------------------------------------------------------------------------


def dunning_run(*, today: datetime.date, dry_run: bool = False) -> DunningResult:
    """Take today's dunning steps for every account with an unpaid document due within the
    reminder horizon or a dunning stage to leave. A dry run takes them and rolls each back: it
    reports what a real run would do, sends nothing, and may look at a date ahead."""
    if not dry_run and today > timezone.localdate():
        raise DunningError(
            f"{today.isoformat()} is ahead of today: dunning runs for today or a past date "
            "(use a dry run to see what a future date would do).",
            field="date",
        )
    resolve = policy_resolver()
    horizon = today + datetime.timedelta(days=_max_days_before())
    candidates = set(
        Document.objects.unpaid()
        .filter(due_date__lte=horizon)
        .values_list("recipient_id", flat=True)
        .distinct()
    )
    candidates |= set(
        DunningState.objects.exclude(stage=DunningStage.CURRENT).values_list(
            "account_id", flat=True
        )
    )
    result = DunningResult(date=today, dry_run=dry_run, accounts=len(candidates))
    notices: list[int] = []
    for account_id in sorted(candidates):
        try:
            with transaction.atomic():
                steps, created = _account_step(account_id=account_id, today=today, resolve=resolve)
                if dry_run:
                    transaction.set_rollback(True)
        except Exception as exc:  # one account's failure never stops the others
            logger.exception("dunning of account %s failed", account_id)
            result.failed.append(Step(account_id, _name(account_id), "failed", str(exc)))
            continue
        result.steps.extend(steps)
        if not dry_run:
            notices.extend(created)
    if not dry_run:
        notices_send()  # these, and any a dead worker left unsent
    return result


def _max_days_before() -> int:
    days = [max(_default("reminder_days_before"), default=0)]
    for row in DunningPolicy.objects.exclude(reminder_days_before=None):
        days.append(max(row.reminder_days_before or [0]))
    return max(days)


def _name(account_id: int) -> str:
    return Account.objects.filter(pk=account_id).values_list("name", flat=True).first() or ""


def _account_step(
    *, account_id: int, today: datetime.date, resolve: Callable[[int | None], Policy]
) -> tuple[list[Step], list[int]]:
    """One account's steps for `today`, under its row lock. Returns the steps and the notices
    created (to email after the commit)."""
    account = Account.objects.select_for_update().get(pk=account_id)
    if account.issuer_id is None:
        return [], []
    policy = resolve(account.issuer_id)
    state = DunningState.objects.filter(account=account).first()
    unpaid = list(
        Document.objects.filter(recipient_id=account.pk)
        .unpaid()
        .exclude(due_date=None)
        .order_by("due_date", "pk")
        .only("pk", "due_date", "number", "doc_type", "open_amount", "currency", "issue_date")
    )
    steps: list[Step] = []
    created: list[int] = []

    def take(kind: str, detail: str, *, document=None, offset=None) -> None:
        steps.append(Step(account.pk, account.name, kind, detail))
        if kind in DunningNotice.Kind.values:
            notice, new = DunningNotice.objects.get_or_create(
                document=document,
                kind=kind,
                offset=offset,
                account=account,
                defaults={"on_date": today},
            ) if document is not None else (
                DunningNotice.objects.create(account=account, kind=kind, on_date=today),
                True,
            )  # fmt: skip
            if new:
                created.append(notice.pk)
                audit_record(
                    actor=None,
                    action=f"dunning.{kind}",
                    obj=notice,
                    account=account,
                    details={"detail": detail, "date": today.isoformat()},
                )
            else:
                steps.pop()  # taken on an earlier run

    for doc in unpaid:
        due = reminder_due(due_date=doc.due_date, today=today, policy=policy)
        if due is not None:
            kind, offset = due
            when = (
                f"due {doc.due_date.isoformat()}"
                if kind == DunningNotice.Kind.REMINDER_BEFORE
                else f"{(today - doc.due_date).days} days overdue"
            )
            take(kind, f"{doc.display_number} {when}", document=doc, offset=offset)

    overdue = [d for d in unpaid if d.due_date < today]
    if not overdue:
        if state is not None and state.stage != DunningStage.CURRENT:
            steps.extend(_lift(account=account, state=state, today=today, notices=created))
        return steps, created

    oldest = overdue[0].due_date
    days = (today - oldest).days
    if state is None:
        state = DunningState(account=account, stage=DunningStage.CURRENT, since=today)
    state.oldest_due_date = oldest
    if state.stage == DunningStage.CURRENT:
        state.stage, state.since = DunningStage.OVERDUE, today
        steps.append(Step(account.pk, account.name, "overdue", f"{days} days overdue"))
    if days >= policy.credit_hold_days and state.stage == DunningStage.OVERDUE:
        state.stage, state.since = DunningStage.CREDIT_HOLD, today
        if not account.credit_hold:
            account.credit_hold = True
            account.save(update_fields=["credit_hold", "updated_at"])
        take(DunningNotice.Kind.CREDIT_HOLD, f"{days} days overdue since {oldest.isoformat()}")
        webhook_emit(
            event="account.credit_hold",
            account=account,
            data={
                "since": today,
                "oldest_due_date": oldest,
                "days_overdue": days,
                "overdue_amount": sum((d.open_amount for d in overdue), ZERO),
                "currency": account.currency,
            },
        )
    if days >= policy.suspension_days and state.stage == DunningStage.CREDIT_HOLD:
        suspended = []
        own = Subscription.objects.filter(account=account, status=SubscriptionStatus.ACTIVE)
        for subscription in own.order_by("pk"):
            subscription_suspend(
                subscription=subscription,
                acting_user=None,
                reason=f"dunning: {days} days overdue",
            )
            suspended.append(subscription.pk)
        state.stage, state.since = DunningStage.SUSPENDED, today
        state.suspended_subscription_ids = suspended
        take(
            DunningNotice.Kind.SUSPENSION,
            f"{days} days overdue: {len(suspended)} subscription(s) suspended",
        )
    state.save()
    return steps, created


def _lift(
    *, account: Account, state: DunningState, today: datetime.date, notices: list[int]
) -> list[Step]:
    """Nothing is overdue any more: back to current; from a credit hold or a suspension, the hold
    lifted and what dunning suspended reactivated, with its catch-up billed (in the caller's
    transaction)."""
    held = state.stage in HELD_STAGES
    ids = list(state.suspended_subscription_ids or [])
    state.stage, state.since = DunningStage.CURRENT, today
    state.oldest_due_date = None
    state.suspended_subscription_ids = []
    state.save()  # first: the catch-up's own ledger writes find the account current
    if not held:
        return [Step(account.pk, account.name, "current", "nothing overdue")]
    if account.credit_hold:
        account.credit_hold = False
        account.save(update_fields=["credit_hold", "updated_at"])
    reactivated = 0
    for subscription in Subscription.objects.filter(
        pk__in=ids, status=SubscriptionStatus.SUSPENDED
    ).order_by("pk"):
        subscription_reactivate(subscription=subscription, acting_user=None, today=today)
        reactivated += 1
    notice = DunningNotice.objects.create(
        account=account, kind=DunningNotice.Kind.REACTIVATION, on_date=today
    )
    detail = f"nothing overdue: credit hold lifted, {reactivated} subscription(s) reactivated"
    audit_record(
        actor=None,
        action="dunning.reactivation",
        obj=notice,
        account=account,
        details={"detail": detail, "date": today.isoformat()},
    )
    notices.append(notice.pk)
    webhook_emit(
        event="account.reactivated",
        account=account,
        data={"on_date": today, "subscriptions_reactivated": reactivated},
    )
    return [Step(account.pk, account.name, DunningNotice.Kind.REACTIVATION, detail)]


@receiver(payments_applied, dispatch_uid="billing.dunning.lift")
def _on_payments_applied(sender, recipient_id: int, **kwargs) -> None:
    """A payment (or credit) was applied to the account's documents: if that cleared everything
    overdue, the account leaves dunning, in the payment's transaction. Costs one indexed read
    for an account not in dunning."""
    dunning_lift_if_clear(account_id=recipient_id, today=timezone.localdate())


def dunning_lift_if_clear(*, account_id: int, today: datetime.date) -> list[Step]:
    state = (
        DunningState.objects.select_for_update()
        .filter(account_id=account_id)
        .exclude(stage=DunningStage.CURRENT)
        .first()
    )
    if state is None:
        return []
    if Document.objects.filter(recipient_id=account_id).overdue(as_of=today).exists():
        return []
    account = Account.objects.select_for_update().get(pk=account_id)
    notices: list[int] = []
    try:
        with transaction.atomic():
            steps = _lift(account=account, state=state, today=today, notices=notices)
    except Exception:  # the payment stands; the account stays held until the next run lifts it
        logger.exception("lifting the dunning of account %s failed", account_id)
        state.refresh_from_db()
        account.refresh_from_db()
        return []
    transaction.on_commit(lambda: notices_send(ids=notices))
    return steps


# --- Reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DunningStatus:
    account: Account
    stage: str
    since: datetime.date | None
    oldest_due_date: datetime.date | None
    days_overdue: int
    overdue_amount: object
    currency: str
    next_step: NextStep | None
    policy: Policy


def dunning_status(*, account: Account, today: datetime.date) -> DunningStatus:
    """Where `account` stands and what comes next if nothing is paid (the API's and the panel's
    answer; the run decides, this reads)."""
    state = DunningState.objects.filter(account=account).first()
    overdue = (
        Document.objects.filter(recipient_id=account.pk)
        .overdue(as_of=today)
        .aggregate(oldest=Min("due_date"), amount=Sum("open_amount"))
    )
    policy = policy_resolver()(account.issuer_id)
    stage = state.stage if state else DunningStage.CURRENT
    oldest = overdue["oldest"]
    days = (today - oldest).days if oldest else 0
    return DunningStatus(
        account=account,
        stage=stage,
        since=state.since if state else None,
        oldest_due_date=oldest,
        days_overdue=days,
        overdue_amount=overdue["amount"] or ZERO,
        currency=account.currency,
        next_step=_next_step(account=account, stage=stage, oldest=oldest, today=today, p=policy),
        policy=policy,
    )


def _next_step(*, account, stage, oldest, today, p: Policy) -> NextStep | None:
    if oldest is None:
        if stage in HELD_STAGES:
            return NextStep(DunningNotice.Kind.REACTIVATION, today)
        upcoming = (
            Document.objects.filter(recipient_id=account.pk)
            .unpaid()
            .filter(due_date__gte=today)
            .aggregate(d=Min("due_date"))["d"]
        )
        if upcoming is None:
            return None
        return NextStep("overdue", upcoming + datetime.timedelta(days=1))
    at = {
        DunningStage.CURRENT: ("credit_hold", p.credit_hold_days),
        DunningStage.OVERDUE: ("credit_hold", p.credit_hold_days),
        DunningStage.CREDIT_HOLD: ("suspension", p.suspension_days),
    }.get(stage)
    if at is None:
        return None
    return NextStep(at[0], max(today, oldest + datetime.timedelta(days=at[1])))


@dataclass(frozen=True)
class DunningRow:
    """One account of the dunning list."""

    state: DunningState
    overdue_amount: object
    next_step: NextStep | None


def accounts_by_stage(
    *, today: datetime.date, stage: str | None = None, issuer: Account | None = None
) -> list[DunningRow]:
    """Accounts in dunning (`issuer`'s, or all), most advanced stage first, then longest there,
    each with what it has overdue today and its next step."""
    overdue = (
        Document.objects.filter(recipient_id=OuterRef("account_id"))
        .overdue(as_of=today)
        .values("recipient_id")
        .annotate(s=Sum("open_amount"))
        .values("s")
    )
    states = (
        DunningState.objects.select_related("account", "account__issuer")
        .exclude(stage=DunningStage.CURRENT)
        .annotate(overdue_amount=Subquery(overdue))
    )
    if stage:
        states = states.filter(stage=stage)
    if issuer is not None:
        states = states.filter(account__issuer=issuer)
    rank = Case(
        *(When(stage=s, then=Value(i)) for i, s in enumerate(STAGE_ORDER)),
        output_field=IntegerField(),
    )
    resolve = policy_resolver()
    return [
        DunningRow(
            state=state,
            overdue_amount=state.overdue_amount or ZERO,
            next_step=_next_step(
                account=state.account,
                stage=state.stage,
                oldest=state.oldest_due_date if state.overdue_amount else None,
                today=today,
                p=resolve(state.account.issuer_id),
            ),
        )
        for state in states.order_by(rank.desc(), "since", "account__name")[:500]
    ]


def stage_counts(*, issuer: Account | None = None) -> dict[str, int]:
    states = DunningState.objects.exclude(stage=DunningStage.CURRENT)
    if issuer is not None:
        states = states.filter(account__issuer=issuer)
    found = dict(states.values_list("stage").annotate(n=Count("pk")).values_list("stage", "n"))
    return {s: found.get(s, 0) for s in STAGE_ORDER if s != DunningStage.CURRENT}


# --- Emails --------------------------------------------------------------------------------

SUBJECTS = {
    "reminder": "Payment reminder from {issuer}",
    DunningNotice.Kind.CREDIT_HOLD: "Your account with {issuer} is on credit hold",
    DunningNotice.Kind.SUSPENSION: "Your subscriptions with {issuer} are suspended",
    DunningNotice.Kind.REACTIVATION: "Your account with {issuer} is active again",
}


def notices_send(*, ids: Iterable[int] | None = None) -> int:
    """Email unsent notices (these `ids`, or all): an account's reminders of one day go in one
    email; each other step in its own. Claimed under row locks (skip locked), so two workers
    never send one twice. Returns the number of emails sent."""
    unsent = DunningNotice.objects.filter(sent_at=None)
    if ids is not None:
        unsent = unsent.filter(pk__in=list(ids))
    groups: dict[tuple, list[int]] = {}
    for pk, account_id, kind, on_date in unsent.values_list(
        "pk", "account_id", "kind", "on_date"
    ).order_by("pk"):
        key = (account_id, "reminder", on_date) if kind in REMINDERS else (account_id, kind, pk)
        groups.setdefault(key, []).append(pk)
    sent = 0
    horizon = _max_days_before() if groups else 0  # read once for every email of the batch
    for (account_id, kind, _), pks in groups.items():
        with transaction.atomic():
            rows = list(
                DunningNotice.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(pk__in=pks, sent_at=None)
                .select_related("account", "account__issuer", "document")
                .order_by("pk")
            )
            if not rows:
                continue
            to = billing_email(account_id=account_id)
            if to:
                _email(kind=kind, rows=rows, to=to, horizon=horizon)
                sent += 1
            DunningNotice.objects.filter(pk__in=[r.pk for r in rows]).update(
                to=to, sent_at=timezone.now()
            )
    return sent


def _email(*, kind: str, rows: list[DunningNotice], to: str, horizon: int) -> None:
    account = rows[0].account
    issuer = account.issuer
    today = rows[0].on_date
    status = dunning_status(account=account, today=today)
    context = {
        "kind": kind,
        "account": account,
        "issuer": issuer,
        "rows": rows,
        "status": status,
        "documents": list(
            Document.objects.filter(recipient_id=account.pk)
            .unpaid()
            .exclude(due_date=None)
            .filter(due_date__lte=today + datetime.timedelta(days=horizon))
            .order_by("due_date", "pk")
        ),
        "today": today,
    }
    message = EmailMultiAlternatives(
        SUBJECTS[kind].format(issuer=issuer.name),
        render_to_string("billing/dunning_email.txt", context),
        settings.DEFAULT_FROM_EMAIL,
        [to],
    )
    message.attach_alternative(render_to_string("billing/dunning_email.html", context), "text/html")
    message.send(fail_silently=False)
