"""Dunning (billing.dunning): reminders, credit hold, suspension and the way back; a reseller's
hold leaves its customers alone; the job run twice, dry, ahead of today, or killed midway; the
policy per issuer."""

import datetime
from decimal import Decimal as D

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError

from billing import dunning, ledger
from billing.dunning import dunning_run, policy_of, policy_set, reminder_due
from billing.models import DunningNotice, DunningState
from billing.selectors import balance_mismatches
from orders import services as order_services
from orders.models import OrderStatus, Subscription
from orders.workflow import CREDIT_HOLD
from resellers import services as accounts
from resellers.exceptions import ApplicationError, PermissionDenied
from resellers.models import Account, AuditEvent
from tests import factories as f
from tests.factories import billing as bf
from tests.factories.billing import d

pytestmark = pytest.mark.django_db

TODAY = d("2026-03-20")


@pytest.fixture
def policy(settings):
    settings.DUNNING_REMINDER_DAYS_BEFORE = [3]
    settings.DUNNING_REMINDER_DAYS_AFTER = [1, 7]
    settings.DUNNING_CREDIT_HOLD_DAYS = 10
    settings.DUNNING_SUSPENSION_DAYS = 20


def owing(account, due, amount="100.00"):
    accounts.contact_create(account=account, name="Pat", email=f"pat{account.pk}@example.com")
    return f.invoice(account, amount, due - datetime.timedelta(days=30), due_date=due)


def stage(account):
    state = DunningState.objects.filter(account=account).first()
    return state.stage if state else "current"


def held(account):
    return Account.objects.get(pk=account.pk).credit_hold


def test_reminder_due_before_and_after_the_due_date():
    p = dunning.Policy((7, 3), (1, 7), 10, 20)
    due = d("2026-03-10")
    assert reminder_due(due_date=due, today=d("2026-03-02"), policy=p) is None
    assert reminder_due(due_date=due, today=d("2026-03-03"), policy=p) == ("reminder_before", 7)
    assert reminder_due(due_date=due, today=d("2026-03-07"), policy=p) == ("reminder_before", 3)
    assert reminder_due(due_date=due, today=due, policy=p) == ("reminder_before", 3)
    assert reminder_due(due_date=due, today=d("2026-03-11"), policy=p) == ("reminder_after", 1)
    assert reminder_due(due_date=due, today=d("2026-03-16"), policy=p) == ("reminder_after", 1)
    assert reminder_due(due_date=due, today=d("2026-03-17"), policy=p) == ("reminder_after", 7)


def test_each_reminder_goes_once_however_often_the_job_runs(policy, reseller_a):
    invoice = owing(reseller_a, due=d("2026-03-22"))
    for _ in range(2):
        dunning_run(today=d("2026-03-19"))
    [before] = DunningNotice.objects.filter(account=reseller_a)
    assert (before.kind, before.offset, before.document_id) == ("reminder_before", 3, invoice.pk)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [f"pat{reseller_a.pk}@example.com"]
    assert mail.outbox[0].subject == "Payment reminder from Cloud Distributor"
    assert invoice.display_number in mail.outbox[0].body
    dunning_run(today=d("2026-03-21"))  # still the 3-day reminder: nothing new
    assert DunningNotice.objects.filter(account=reseller_a).count() == 1
    for day in ("2026-03-23", "2026-03-23", "2026-03-25"):
        dunning_run(today=d(day))
    kinds = list(DunningNotice.objects.filter(account=reseller_a).values_list("kind", "offset"))
    assert kinds == [("reminder_before", 3), ("reminder_after", 1)]
    assert len(mail.outbox) == 2 and "overdue" in mail.outbox[1].body
    assert stage(reseller_a) == "overdue" and not held(reseller_a)


def test_hold_then_suspension_of_a_resellers_own_subscriptions_only(policy):
    w = bf.world()
    own = bf.subscribe(w, today=d("2026-01-01"), for_reseller=True)
    customers = bf.subscribe(w, today=d("2026-01-01"))
    owing(w.reseller, due=d("2026-02-01"))
    dunning_run(today=d("2026-02-10"))
    assert stage(w.reseller) == "overdue" and not held(w.reseller)
    dunning_run(today=d("2026-02-11"))  # 10 days overdue
    assert stage(w.reseller) == "credit_hold" and held(w.reseller)
    assert Subscription.objects.get(pk=own.pk).status == "active"
    dunning_run(today=d("2026-02-21"))  # 20 days
    assert stage(w.reseller) == "suspended"
    # DESIGN.md: a reseller's credit hold does not suspend its customers.
    assert Subscription.objects.get(pk=own.pk).status == "suspended"
    assert Subscription.objects.get(pk=customers.pk).status == "active"
    assert DunningState.objects.get(account=w.reseller).suspended_subscription_ids == [own.pk]
    assert not held(w.customer) and stage(w.customer) == "current"
    audited = AuditEvent.objects.filter(account_id=w.reseller.pk, action__startswith="dunning.")
    assert {"dunning.credit_hold", "dunning.suspension"} <= set(
        audited.values_list("action", flat=True)
    )


def test_a_late_first_run_takes_every_step_due_at_once(policy, reseller_a):
    owing(reseller_a, due=d("2026-01-01"))
    result = dunning_run(today=TODAY)
    assert [s.step for s in result.steps] == [
        "reminder_after",
        "overdue",
        "credit_hold",
        "suspension",
    ]
    assert stage(reseller_a) == "suspended"
    assert dunning_run(today=TODAY).steps == []  # the second run of the day does nothing


def test_an_account_on_credit_hold_has_its_new_orders_wait(policy):
    w = bf.world()
    bf.subscribe(w, today=d("2026-01-01"))
    owing(w.customer, due=d("2026-02-01"))
    dunning_run(today=d("2026-02-15"))
    assert held(w.customer)
    w.customer.refresh_from_db()
    order = order_services.order_place(
        placed_by=w.reseller_user,
        customer=w.customer,
        items=[order_services.ItemSpec(product=w.monthly, quantity=1)],
        today=d("2026-02-15"),
    )
    assert order.status == OrderStatus.UNEXECUTED_CREDIT
    assert order.status_message == CREDIT_HOLD
    # The reseller decides: its Accept order executes it all the same.
    accepted = order_services.order_approve(
        order=order, acting_user=w.reseller_user, today=d("2026-02-15")
    )
    assert accepted.status == OrderStatus.COMPLETED
    # The reseller itself is not on hold: its own orders go through.
    own = order_services.order_place(
        placed_by=w.reseller_user,
        reseller=w.reseller,
        items=[order_services.ItemSpec(product=w.monthly, quantity=1)],
        today=d("2026-02-15"),
    )
    assert own.status == OrderStatus.COMPLETED


def test_a_partial_payment_keeps_the_hold_and_the_full_one_lifts_it(policy, reseller_a):
    invoice = owing(reseller_a, due=d("2026-03-01"))
    dunning_run(today=TODAY)
    assert held(reseller_a)
    ledger.payment_record(
        recipient=reseller_a,
        amount=D("40.00"),
        received_date=TODAY,
        acting_user=None,
        apply_to=[invoice],
    )
    assert held(reseller_a) and stage(reseller_a) == "credit_hold"
    ledger.payment_record(
        recipient=reseller_a,
        amount=D("60.00"),
        received_date=TODAY,
        acting_user=None,
        apply_to=[invoice],
    )
    assert not held(reseller_a) and stage(reseller_a) == "current"
    assert DunningNotice.objects.filter(account=reseller_a, kind="reactivation").count() == 1
    assert balance_mismatches() == []


def test_credit_balance_applied_by_the_account_lifts_the_hold(policy, reseller_a):
    user = f.user(account=reseller_a)
    invoice = owing(reseller_a, due=d("2026-03-01"))
    f.payment(reseller_a, "100.00", TODAY)  # net terms: stays as credit balance
    dunning_run(today=TODAY)
    assert held(reseller_a)
    ledger.credit_balance_apply(recipient=reseller_a, acting_user=user, debit_documents=[invoice])
    assert not held(reseller_a) and stage(reseller_a) == "current"


def test_a_failed_catch_up_leaves_the_payment_and_the_next_run_lifts(policy, monkeypatch):
    w = bf.world(on_hold=False)
    sub = bf.subscribe(w, today=d("2026-01-01"))
    invoice = owing(w.customer, due=d("2026-01-15"))
    dunning_run(today=d("2026-02-10"))
    assert Subscription.objects.get(pk=sub.pk).status == "suspended"

    def broken(**kwargs):
        raise RuntimeError("tax engine down")

    monkeypatch.setattr(dunning, "subscription_reactivate", broken)
    payment = f.payment(w.customer, "100.00", d("2026-02-12"), apply_to=[invoice])
    assert payment.pk and held(w.customer) and stage(w.customer) == "suspended"
    assert Subscription.objects.get(pk=sub.pk).status == "suspended"
    monkeypatch.undo()
    result = dunning_run(today=d("2026-02-13"))
    assert [s.step for s in result.steps if s.account_id == w.customer.pk] == ["reactivation"]
    assert Subscription.objects.get(pk=sub.pk).status == "active"
    assert not held(w.customer)


def test_a_run_killed_midway_is_finished_by_the_next(policy, reseller_a, reseller_b, monkeypatch):
    owing(reseller_a, due=d("2026-03-01"))
    owing(reseller_b, due=d("2026-03-01"))
    real = dunning._account_step

    def dies_on_b(*, account_id, **kwargs):
        if account_id == reseller_b.pk:
            raise RuntimeError("worker lost")
        return real(account_id=account_id, **kwargs)

    monkeypatch.setattr(dunning, "_account_step", dies_on_b)
    result = dunning_run(today=TODAY)
    assert [s.account_id for s in result.failed] == [reseller_b.pk]
    assert held(reseller_a) and not held(reseller_b)
    assert not DunningNotice.objects.filter(account=reseller_b).exists()
    monkeypatch.undo()
    again = dunning_run(today=TODAY)
    assert {s.account_id for s in again.steps} == {reseller_b.pk}
    assert held(reseller_b)
    assert DunningNotice.objects.filter(account=reseller_a, kind="credit_hold").count() == 1


def test_notices_a_dead_worker_left_unsent_go_with_the_next_run(policy, reseller_a, monkeypatch):
    owing(reseller_a, due=d("2026-03-01"))
    monkeypatch.setattr(dunning, "notices_send", lambda **kw: 0)
    dunning_run(today=TODAY)
    assert mail.outbox == [] and DunningNotice.objects.filter(sent_at=None).count() == 2
    monkeypatch.undo()
    dunning_run(today=TODAY)
    assert DunningNotice.objects.filter(sent_at=None).count() == 0
    assert len(mail.outbox) == 2  # the reminder, and the credit hold


def test_a_dry_run_writes_and_sends_nothing_and_may_look_ahead(policy, reseller_a):
    owing(reseller_a, due=d("2026-03-01"))
    ahead = datetime.date.today() + datetime.timedelta(days=400)
    result = dunning_run(today=ahead, dry_run=True)
    assert [s.step for s in result.steps] == [
        "reminder_after",
        "overdue",
        "credit_hold",
        "suspension",
    ]
    assert not DunningState.objects.exists() and not DunningNotice.objects.exists()
    assert mail.outbox == [] and not held(reseller_a)
    with pytest.raises(dunning.DunningError, match="ahead of today"):
        dunning_run(today=ahead)


def test_the_command_reports_and_refuses_bad_input(policy, reseller_a, capsys):
    owing(reseller_a, due=d("2026-03-01"))
    call_command("run_dunning", "--date", TODAY.isoformat(), "--dry-run")
    out = capsys.readouterr().out
    assert "credit_hold" in out and "would take 3 step(s)" in out
    assert not DunningState.objects.exists()
    with pytest.raises(CommandError, match="ahead of today") as ahead:
        call_command("run_dunning", "--date", "2999-01-01")
    assert ahead.value.returncode == 2
    with pytest.raises(CommandError, match="is not a date") as bad:
        call_command("run_dunning", "--date", "tomorrow")
    assert bad.value.returncode == 2
    call_command("run_dunning", "--date", TODAY.isoformat())
    assert "took 3 step(s)" in capsys.readouterr().out and held(reseller_a)


def test_policy_per_issuer_falls_back_to_the_provider_then_settings(policy, provider):
    w = bf.world()
    assert policy_of(w.reseller).credit_hold_days == 10  # settings
    staff = f.user(account=w.provider)
    policy_set(
        issuer=w.provider,
        acting_user=staff,
        reminder_days_before=None,
        reminder_days_after=[2],
        credit_hold_days=5,
        suspension_days=None,
    )
    policy_set(
        issuer=w.reseller,
        acting_user=w.reseller_user,
        reminder_days_before=[5, 1],
        reminder_days_after=None,
        credit_hold_days=None,
        suspension_days=40,
    )
    mine = policy_of(w.reseller)
    assert mine == dunning.Policy((1, 5), (2,), 5, 40)
    assert policy_of(w.provider) == dunning.Policy((3,), (2,), 5, 20)
    assert AuditEvent.objects.filter(action="dunning.policy").count() == 2


def test_who_may_set_a_policy(policy, reseller_a, reseller_b, referral_reseller):
    a_user = f.user(account=reseller_a)
    customer = f.customer(parent=reseller_a)
    values = dict(
        reminder_days_before=None,
        reminder_days_after=None,
        credit_hold_days=None,
        suspension_days=None,
    )
    with pytest.raises(PermissionDenied):
        policy_set(issuer=reseller_b, acting_user=a_user, **values)
    with pytest.raises(PermissionDenied):
        policy_set(
            issuer=referral_reseller, acting_user=f.user(account=referral_reseller), **values
        )
    with pytest.raises(PermissionDenied):
        policy_set(issuer=reseller_a, acting_user=f.user(account=customer), **values)
    with pytest.raises(ApplicationError, match="after the credit hold") as order:
        policy_set(
            issuer=reseller_a, acting_user=a_user, **{**values, "suspension_days": 5}
        )  # the settings' hold is at 10
    assert order.value.field == "suspension_days"
    with pytest.raises(ApplicationError) as days:
        policy_set(issuer=reseller_a, acting_user=a_user, **{**values, "credit_hold_days": 0})
    assert days.value.field == "credit_hold_days"
    assert not AuditEvent.objects.filter(action="dunning.policy").exists()


def test_the_hold_and_the_reactivation_are_webhook_events(policy, reseller_a):
    from billing.models import WebhookDelivery
    from tests.factories import webhooks as fw

    fw.endpoint(events=["account.credit_hold", "account.reactivated"])
    invoice = owing(reseller_a, due=d("2026-03-01"))
    dunning_run(today=TODAY)
    dunning_run(today=TODAY)  # nothing twice
    f.payment(reseller_a, "100.00", TODAY, apply_to=[invoice])
    deliveries = list(WebhookDelivery.objects.order_by("pk"))
    assert [x.event for x in deliveries] == ["account.credit_hold", "account.reactivated"]
    hold = deliveries[0].data
    assert hold["account"]["id"] == reseller_a.pk
    assert (hold["days_overdue"], hold["overdue_amount"], hold["oldest_due_date"]) == (
        19,
        "100.00",
        "2026-03-01",
    )
