"""Automatic top-up (billing.auto_topups): available credit below the threshold opens a crossing
charged once; a decline is emailed and retried on the schedule, then the default card once;
a timeout or a killed worker resumes the same key; nothing is ever charged twice.

Alpha (reseller_a): net terms, limit 1,000, an invoice of 600.00: balance -600.00, available
credit 400.00. The retry schedule is the default one, [1, 6, 24] hours."""

import datetime
from decimal import Decimal as D

import pytest
from django.core import mail
from django.test import override_settings

from billing import auto_topups
from billing.auto_topups import auto_topup_run, auto_topup_state
from billing.gateway import TestGateway
from billing.models import (
    AutoTopupAttempt,
    AutoTopupCrossing,
    Document,
    DocumentType,
    GatewayCharge,
)
from billing.selectors import account_financials, balance_mismatches, funds_available
from billing.tasks import auto_topup
from resellers.models import AuditEvent, User
from resellers.services import account_update_financials, payment_method_remove
from tests import factories as f
from tests.factories import api as fa

JAN5 = datetime.date(2026, 1, 5)
NOW = datetime.datetime(2026, 3, 1, 6, 0, tzinfo=datetime.UTC)
MINUTE, HOUR = datetime.timedelta(minutes=1), datetime.timedelta(hours=1)


@pytest.fixture(autouse=True)
def _gateway_and_books(db):
    TestGateway.reset()  # the built-in gateway remembers keys per process
    yield
    TestGateway.reset()
    assert balance_mismatches() == []  # every case leaves the books consistent


@pytest.fixture
def alpha(reseller_a):
    f.invoice(reseller_a, "600.00", JAN5)
    fa.contact(reseller_a, "Art Alpha", email="art@alpha.example", is_primary=True)
    fa.contact(reseller_a, "Ann Alpha", email="ann@alpha.example", is_bill_to=True)
    return reseller_a


def enable(account, *, threshold, amount=None, target=None, method=None):
    account_update_financials(
        account=account,
        acting_user=None,
        auto_topup_enabled=True,
        auto_topup_threshold=D(threshold),
        auto_topup_mode="target" if target is not None else "fixed",
        auto_topup_amount=None if amount is None else D(amount),
        auto_topup_target=None if target is None else D(target),
        auto_topup_payment_method=method,
    )


def topups(account):
    """The account's top-up payments, oldest first."""
    return list(
        Document.objects.filter(
            recipient=account, doc_type=DocumentType.PAYMENT, reference="Top-up"
        ).order_by("pk")
    )


def crossings(account):
    return list(AutoTopupCrossing.objects.filter(account=account).order_by("pk"))


def attempts(account):
    return list(
        AutoTopupAttempt.objects.filter(crossing__account=account).order_by("crossing", "number")
    )


def funds(account) -> D:
    return funds_available(account_financials(account=account), held=D("0"))


# --- one charge per crossing -------------------------------------------------------------------


def test_a_fall_below_the_threshold_charges_once_and_closes_its_crossing(alpha):
    card = f.card(alpha, token="tok_alpha")
    enable(alpha, threshold="500.00", amount="200.00", method=card)  # funds 400 < 500

    first = auto_topup_run(now=NOW)
    second = auto_topup_run(now=NOW + 10 * MINUTE)

    [payment] = first.charged
    assert (payment.total, payment.payment_method_id, payment.recipient_id) == (
        D("200.00"),
        card.pk,
        alpha.pk,
    )
    assert topups(alpha) == [payment]
    [crossing] = crossings(alpha)
    assert crossing.state == "charged" and crossing.payment_id == payment.pk
    assert crossing.closed_at == NOW  # funds 600 >= 500: over at once
    assert (crossing.threshold, crossing.funds_at_open) == (D("500.00"), D("400.00"))
    [attempt] = attempts(alpha)
    assert attempt.idempotency_key == f"auto:{crossing.pk}:1" and attempt.status == "succeeded"
    charge = GatewayCharge.objects.get(payment=payment)
    assert charge.idempotency_key == f"topup:{alpha.pk}:auto:{crossing.pk}:1"
    assert TestGateway.attempts == {charge.idempotency_key: 1}
    assert (second.charged, second.failed, second.closed) == ([], [], [])
    actions = set(AuditEvent.objects.filter(account=alpha).values_list("action", flat=True))
    assert {"auto_topup.open", "auto_topup.attempt"} <= actions
    assert mail.outbox == []  # only a failure is notified here (receipts go on commit)


def test_a_top_up_too_small_to_lift_the_account_is_still_one_charge(alpha):
    card = f.card(alpha, token="tok_alpha")
    enable(alpha, threshold="500.00", amount="50.00", method=card)

    runs = [auto_topup_run(now=NOW + n * 10 * MINUTE) for n in range(3)]

    assert [len(r.charged) for r in runs] == [1, 0, 0]
    assert runs[1].already_done == runs[2].already_done == [alpha.pk]
    [crossing] = crossings(alpha)
    assert (crossing.state, crossing.closed_at) == ("charged", None)  # still below: stays open
    assert funds(alpha) == D("450.00") and len(topups(alpha)) == 1
    assert auto_topup_state(account=alpha).status == "charged"


def test_back_above_then_below_again_is_a_second_crossing_that_charges_again(alpha):
    card = f.card(alpha, token="tok_alpha")
    enable(alpha, threshold="500.00", amount="50.00", method=card)
    auto_topup_run(now=NOW)  # funds 400 -> 450, still below: crossing 1 charged, open

    f.payment(alpha, "100.00", datetime.date(2026, 3, 1))  # a payment arrives: 550
    back = auto_topup_run(now=NOW + 10 * MINUTE)
    f.invoice(alpha, "200.00", datetime.date(2026, 3, 1))  # 350: below again
    again = auto_topup_run(now=NOW + 20 * MINUTE)

    assert back.closed == [alpha.pk] and back.charged == []
    first, second = crossings(alpha)
    assert first.closed_at == NOW + 10 * MINUTE and first.state == "charged"
    assert second.opened_at == NOW + 20 * MINUTE and second.funds_at_open == D("350.00")
    assert [p.pk for p in again.charged] == [second.payment_id]
    assert len(topups(alpha)) == 2
    assert len({a.idempotency_key for a in attempts(alpha)}) == 2


def test_with_no_card_chosen_the_default_one_is_charged(alpha):
    default = f.card(alpha, token="tok_alpha_default")
    f.card(alpha, token="tok_alpha_other")
    enable(alpha, threshold="500.00", amount="200.00")

    [payment] = auto_topup_run(now=NOW).charged

    assert payment.payment_method_id == default.pk


def test_available_credit_triggers_not_the_balance(alpha):
    card = f.card(alpha, token="tok_alpha")
    enable(alpha, threshold="300.00", amount="100.00", method=card)  # balance -600 < 300

    above = auto_topup_run(now=NOW)  # but available credit is 400: not below

    assert above.charged == [] and crossings(alpha) == []
    f.invoice(alpha, "150.00", datetime.date(2026, 2, 1))  # available credit 250
    below = auto_topup_run(now=NOW + 10 * MINUTE)
    assert [p.total for p in below.charged] == [D("100.00")]
    assert account_financials(account=alpha).balance == D("-650.00")


def test_a_prepaid_accounts_funds_are_its_balance(referral_reseller):
    account = referral_reseller  # prepaid, no credit limit
    f.payment(account, "100.00", JAN5)  # balance +100, available credit 0
    card = f.card(account, token="tok_referral")
    enable(account, threshold="100.00", amount="50.00", method=card)

    assert auto_topup_run(now=NOW).charged == []  # at the threshold is not below
    enable(account, threshold="150.00", amount="50.00", method=card)
    [payment] = auto_topup_run(now=NOW + 10 * MINUTE).charged

    assert payment.total == D("50.00") and funds(account) == D("150.00")
    assert crossings(account)[0].closed_at is not None


def test_target_mode_charges_what_brings_the_balance_to_the_target(alpha):
    card = f.card(alpha, token="tok_alpha")
    enable(alpha, threshold="500.00", target="800.00", method=card)

    [payment] = auto_topup_run(now=NOW).charged

    assert payment.total == D("1400.00")  # balance -600 -> 800
    assert account_financials(account=alpha).balance == D("800.00")


def test_the_funds_leave_out_the_credit_balance_held_for_prepaid_orders(alpha):
    fin = account_financials(account=alpha)
    assert funds_available(fin, held=D("0")) == fin.available_credit + fin.credit_balance
    assert funds_available(fin, held=D("30.00")) == fin.available_credit - D("30.00")


def test_nothing_below_the_threshold_costs_one_query(provider, django_assert_num_queries):
    for n in range(5):
        account = f.reseller(parent=provider, name=f"Quiet {n}")
        enable(account, threshold="100.00", amount="10.00", method=f.card(account))

    with django_assert_num_queries(1):
        result = auto_topup_run(now=NOW)

    assert (result.charged, result.failed, result.already_done) == ([], [], [])


def test_turning_it_off_closes_the_open_crossing(alpha):
    enable(alpha, threshold="500.00", amount="50.00", method=f.card(alpha, token="tok_alpha"))
    auto_topup_run(now=NOW)
    account_update_financials(account=alpha, acting_user=None, auto_topup_enabled=False)

    result = auto_topup_run(now=NOW + 10 * MINUTE)

    assert result.closed == [alpha.pk]
    assert crossings(alpha)[0].closed_at == NOW + 10 * MINUTE
    assert auto_topup_state(account=alpha).status == "idle"


# --- declines, the retry schedule, the fallback ------------------------------------------------


def test_a_decline_writes_the_attempt_only_emails_and_retries_at_its_time(alpha):
    declined = f.card(alpha, token="tok_decline_topup")
    enable(alpha, threshold="500.00", amount="200.00", method=declined)
    before = account_financials(account=alpha)

    first = auto_topup_run(now=NOW)

    assert first.charged == [] and first.already_done == []
    [failure] = first.failed
    assert failure.account_id == alpha.pk and failure.next_attempt_at == NOW + HOUR
    assert account_financials(account=alpha) == before
    assert topups(alpha) == [] and not GatewayCharge.objects.filter(payment_method=declined)
    [attempt] = attempts(alpha)
    assert (attempt.status, attempt.message) == ("declined", "The card was declined.")
    assert (attempt.amount, attempt.payment_method_id) == (D("200.00"), declined.pk)
    assert attempt.notified_to == "ann@alpha.example"  # the bill-to contact
    [notice] = mail.outbox
    assert notice.to == ["ann@alpha.example"] and "could not be charged" in notice.subject
    assert "The card was declined." in notice.body and "We will try again on" in notice.body
    assert "text/html" in notice.alternatives[0][1]
    state = auto_topup_state(account=alpha)
    assert (state.status, state.next_attempt_at) == ("retry_scheduled", NOW + HOUR)
    assert state.last_attempt == attempt

    early = auto_topup_run(now=NOW + HOUR - MINUTE)  # not before its time
    assert early.already_done == [alpha.pk] and len(attempts(alpha)) == 1
    assert sum(TestGateway.attempts.values()) == 1

    good = f.card(alpha, token="tok_alpha_new")  # the reseller chooses another card meanwhile
    account_update_financials(account=alpha, acting_user=None, auto_topup_payment_method=good)
    on_time = auto_topup_run(now=NOW + HOUR)

    [payment] = on_time.charged
    assert payment.payment_method_id == good.pk
    assert [a.status for a in attempts(alpha)] == ["declined", "succeeded"]
    assert len(mail.outbox) == 1 and len(topups(alpha)) == 1


def test_after_the_last_retry_the_default_card_is_charged_once(alpha):
    default = f.card(alpha, token="tok_alpha_default")  # the first card: the default
    declined = f.card(alpha, token="tok_decline_topup")
    enable(alpha, threshold="500.00", amount="200.00", method=declined)

    times = [NOW, NOW + HOUR, NOW + 7 * HOUR]
    for now in times:
        assert auto_topup_run(now=now).charged == []
    last = auto_topup_run(now=NOW + 31 * HOUR)  # the third retry fails; the fallback follows

    [payment] = last.charged
    assert payment.payment_method_id == default.pk
    made = attempts(alpha)
    assert [(a.number, a.status, a.fallback) for a in made] == [
        (1, "declined", False),
        (2, "declined", False),
        (3, "declined", False),
        (4, "declined", False),
        (5, "succeeded", True),
    ]
    assert [a.started_at for a in made] == [*times, NOW + 31 * HOUR, NOW + 31 * HOUR]
    assert "default payment method" in mail.outbox[-1].body and len(mail.outbox) == 4
    assert crossings(alpha)[0].state == "charged" and len(topups(alpha)) == 1


def test_when_every_attempt_fails_the_crossing_fails_and_nothing_more_is_charged(alpha):
    f.card(alpha, token="tok_decline_default")  # the default declines too
    enable(alpha, threshold="500.00", amount="200.00", method=f.card(alpha, token="tok_decline_x"))

    for hours in (0, 1, 7, 31):
        auto_topup_run(now=NOW + hours * HOUR)
    later = [auto_topup_run(now=NOW + hours * HOUR) for hours in (40, 100)]

    [crossing] = crossings(alpha)
    assert (crossing.state, crossing.next_attempt_at, crossing.closed_at) == ("failed", None, None)
    assert [a.fallback for a in attempts(alpha)] == [False] * 4 + [True]
    assert all(r.charged == [] and r.already_done == [alpha.pk] for r in later)
    assert sum(TestGateway.attempts.values()) == 5 and topups(alpha) == []
    assert "Automatic top-up failed" in mail.outbox[-1].subject
    assert "stopped trying" in mail.outbox[-1].body and len(mail.outbox) == 5
    assert auto_topup_state(account=alpha).status == "failed"
    assert AuditEvent.objects.filter(account=alpha, action="auto_topup.fail").count() == 1


def test_no_fallback_when_the_default_is_the_card_that_failed(alpha):
    f.card(alpha, token="tok_decline_only")  # the default, and the top-up method (none chosen)
    enable(alpha, threshold="500.00", amount="200.00")

    for hours in (0, 1, 7, 31):
        auto_topup_run(now=NOW + hours * HOUR)

    assert [a.fallback for a in attempts(alpha)] == [False] * 4
    assert crossings(alpha)[0].state == "failed"


@override_settings(AUTO_TOPUP_RETRY_HOURS=[2])
def test_the_schedule_comes_from_settings(alpha):
    enable(alpha, threshold="500.00", amount="200.00", method=f.card(alpha, token="tok_decline"))

    [failure] = auto_topup_run(now=NOW).failed
    auto_topup_run(now=NOW + 2 * HOUR)

    assert failure.next_attempt_at == NOW + 2 * HOUR
    assert crossings(alpha)[0].state == "failed"  # one retry, and the default is that card


def test_no_card_is_an_attempt_not_sent_and_no_contact_no_email(provider):
    account = f.reseller(parent=provider, name="Cardless")
    f.invoice(account, "900.00", JAN5)
    card = f.card(account)
    enable(account, threshold="500.00", amount="200.00", method=card)
    payment_method_remove(payment_method=card, acting_user=None)  # no card left at all

    [failure] = auto_topup_run(now=NOW).failed

    [attempt] = attempts(account)
    assert attempt.status == "refused" and attempt.payment_method is None
    assert failure.message == auto_topups.NO_CARD_MESSAGE and TestGateway.attempts == {}
    assert mail.outbox == [] and attempt.notified_at == NOW and attempt.notified_to == ""


# --- gateway faults and killed workers: the same key, one charge -------------------------------


def test_a_timeout_is_retried_with_the_same_key_and_charges_once(alpha):
    card = f.card(alpha, token="tok_timeout_topup")
    enable(alpha, threshold="500.00", amount="200.00", method=card)

    lost = auto_topup_run(now=NOW)

    assert lost.retrying == [alpha.pk] and lost.charged == [] and lost.failed == []
    [attempt] = attempts(alpha)
    assert attempt.status == "pending" and "did not answer" in attempt.message
    assert topups(alpha) == [] and mail.outbox == []
    assert auto_topup_state(account=alpha).status == "charging"

    resumed = auto_topup_run(now=NOW + 10 * MINUTE)

    [payment] = resumed.charged
    [attempt] = attempts(alpha)
    key = f"topup:{alpha.pk}:{attempt.idempotency_key}"
    assert attempt.status == "succeeded" and attempt.payment_id == payment.pk
    assert TestGateway.attempts == {key: 2} and len(TestGateway.charges) == 1
    assert len(topups(alpha)) == 1


class WorkerKilled(BaseException):
    """What the process sees of a SIGKILL, as far as this test can tell: nothing after it."""


@pytest.mark.parametrize("after_the_gateway", [True, False])
def test_a_worker_killed_midway_is_finished_by_the_next_run_once(
    alpha, monkeypatch, after_the_gateway
):
    card = f.card(alpha, token="tok_alpha")
    enable(alpha, threshold="500.00", amount="200.00", method=card)

    def killed(*, account, payment_method, amount, idempotency_key, **kwargs):
        if after_the_gateway:  # the card is charged, the worker dies before booking it
            TestGateway().charge(
                token=payment_method.gateway_token,
                amount=amount,
                currency=account.currency,
                idempotency_key=f"topup:{account.pk}:{idempotency_key}",
            )
        raise WorkerKilled

    with monkeypatch.context() as patched:
        patched.setattr(auto_topups, "topup_pay", killed)
        with pytest.raises(WorkerKilled):
            auto_topup_run(now=NOW)
    [attempt] = attempts(alpha)
    assert attempt.status == "pending" and topups(alpha) == []

    in_flight = auto_topup_run(now=NOW + MINUTE)  # its claim still holds: left alone
    finished = auto_topup_run(now=NOW + 10 * MINUTE)

    assert in_flight.already_done == [alpha.pk] and in_flight.charged == []
    [payment] = finished.charged
    key = f"topup:{alpha.pk}:{attempt.idempotency_key}"
    assert len(TestGateway.charges) == 1 and TestGateway.attempts[key] == (
        2 if after_the_gateway else 1
    )
    assert topups(alpha) == [payment] and attempts(alpha)[0].status == "succeeded"
    assert auto_topup_run(now=NOW + 20 * MINUTE).charged == []


def test_an_unsent_notice_is_sent_by_the_next_run(alpha, monkeypatch):
    enable(alpha, threshold="500.00", amount="200.00", method=f.card(alpha, token="tok_decline"))

    def killed(**kwargs):
        raise WorkerKilled

    with monkeypatch.context() as patched:
        patched.setattr(auto_topups, "auto_topup_notice_send", killed)
        with pytest.raises(WorkerKilled):
            auto_topup_run(now=NOW)
    assert mail.outbox == [] and attempts(alpha)[0].notified_at is None

    auto_topup_run(now=NOW + 10 * MINUTE)
    auto_topup_run(now=NOW + 20 * MINUTE)

    assert len(mail.outbox) == 1 and attempts(alpha)[0].notified_at == NOW + 10 * MINUTE
    assert len(attempts(alpha)) == 1  # the retry is still an hour away


# --- the task ----------------------------------------------------------------------------------


def test_the_task_runs_it_as_of_a_moment_and_reports_charged_and_failed(alpha, reseller_b):
    enable(alpha, threshold="500.00", amount="200.00", method=f.card(alpha, token="tok_alpha"))
    f.invoice(reseller_b, "900.00", JAN5)
    enable(
        reseller_b,
        threshold="500.00",
        amount="50.00",
        method=f.card(reseller_b, token="tok_decline"),
    )

    out = auto_topup(now=NOW.isoformat())
    again = auto_topup(now=(NOW + 10 * MINUTE).isoformat())

    assert out["date"] == "2026-03-01" and out["now"] == NOW.isoformat()
    assert [(c["account_id"], c["amount"]) for c in out["charged"]] == [(alpha.pk, "200.00")]
    [failed] = out["failed"]
    assert failed["account_id"] == reseller_b.pk
    assert failed["next_attempt_at"] == (NOW + HOUR).isoformat()
    assert (again["charged"], again["failed"], again["already_done"]) == ([], [], [reseller_b.pk])
    assert auto_topup(date="2026-03-01")["charged"] == []  # a day's start: that day's moment


def test_staff_read_crossings_and_their_attempts_in_the_admin(alpha, provider, client):
    enable(alpha, threshold="500.00", amount="200.00", method=f.card(alpha, token="tok_decline"))
    auto_topup_run(now=NOW)
    [crossing] = crossings(alpha)
    client.force_login(
        User.objects.create_superuser(username="root", password="pw", account=provider)
    )

    listing = client.get("/admin/billing/autotopupcrossing/")
    page = client.get(f"/admin/billing/autotopupcrossing/{crossing.pk}/change/")

    assert listing.status_code == page.status_code == 200
    assert "The card was declined." in page.content.decode()
