"""A usage-billed subscription's reported usage, and its correction (seed 001 §4, case 2).

Whoever sees the subscription (its holder, its reseller, provider staff) sees its usage by day,
each record with its corrections and the value that stands; the cost upstream only to provider
staff and the reseller that pays it. Provider staff correct a record (orders.services
.usage_correct): before the day is billed the run bills the corrected usage; billed, the waiting
charge is corrected in place; invoiced, a correcting order issues a memo or a refund. 404 out of
scope; 403 for anyone else who tries to correct."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.utils import timezone
from django.views.generic import FormView, TemplateView

from billing.gateway import CardDeclined, GatewayError
from dashboard import selectors
from dashboard.exports import CsvExportMixin
from dashboard.forms import UsageCorrectForm
from dashboard.presentation import day, money
from dashboard.submissions import form_error
from orders import services as orders
from orders.models import Subscription, UsageRecord
from orders.selectors import usage_records_visible
from resellers import exceptions as domain
from resellers.tenancy import is_provider_staff


def _subscription(user, pk: int) -> Subscription:
    try:
        return selectors.subscription_for_action(user=user, pk=pk)
    except Subscription.DoesNotExist as exc:
        raise Http404("Not found.") from exc


def _sees_cost(user, subscription: Subscription) -> bool:
    return is_provider_staff(user) or user.account_id == subscription.credit_account_id


def _stands(record: UsageRecord, corrections: list[UsageRecord]) -> dict:
    """The day's value that stands: the record plus its corrections."""
    rows = [record, *corrections]
    if record.quantity is not None:
        return {"quantity": sum(r.quantity for r in rows)}
    return {
        "amount": sum(r.amount for r in rows),
        "cost": sum(r.amount if r.cost is None else r.cost for r in rows),
    }


class SubscriptionUsageView(LoginRequiredMixin, CsvExportMixin, TemplateView):
    template_name = "dashboard/subscription_usage.html"

    def get_context_data(self, **kwargs):
        subscription = _subscription(self.request.user, kwargs["pk"])
        records = list(usage_records_visible(user=self.request.user, subscription=subscription))
        corrections: dict[int, list[UsageRecord]] = {}
        for record in records:
            if record.corrects_id is not None:
                corrections.setdefault(record.corrects_id, []).append(record)
        rows = [
            {
                "record": record,
                "corrections": corrections.get(record.pk, []),
                "stands": _stands(record, corrections.get(record.pk, [])),
            }
            for record in records
            if record.corrects_id is None
        ]
        return super().get_context_data(
            subscription=subscription,
            rows=rows,
            sees_cost=_sees_cost(self.request.user, subscription),
            may_correct=is_provider_staff(self.request.user),
            **kwargs,
        )


class UsageCorrectView(LoginRequiredMixin, FormView):
    template_name = "dashboard/usage_correct.html"
    form_class = UsageCorrectForm

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.subscription = _subscription(request.user, kwargs["pk"])
        records = usage_records_visible(user=request.user, subscription=self.subscription)
        try:
            self.record = records.get(pk=kwargs["record"], corrects__isnull=True)
        except UsageRecord.DoesNotExist as exc:
            raise Http404("Not found.") from exc
        if not is_provider_staff(request.user):
            raise PermissionDenied("Only provider staff correct usage.")
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "as_money": self.record.quantity is None,
            "currency": self.subscription.currency,
        }

    def get_context_data(self, **kwargs):
        corrections = list(self.record.corrections.all())
        return super().get_context_data(
            subscription=self.subscription,
            record=self.record,
            stands=_stands(self.record, corrections),
            **kwargs,
        )

    def form_valid(self, form):
        data = form.cleaned_data
        values = (
            {"amount": data["amount"], "cost": data["cost"]}
            if self.record.quantity is None
            else {"quantity": data["quantity"]}
        )
        try:
            result = orders.usage_correct(
                record=self.record,
                reason=data["reason"],
                outcome=data["outcome"],
                acting_user=self.request.user,
                today=timezone.localdate(),
                **values,
            )
        except (CardDeclined, GatewayError) as exc:
            form.add_error(None, f"The payment gateway refused the refund: {exc.message}")
            return self.form_invalid(form)
        except domain.ApplicationError as exc:
            form_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, usage_correction_message(self.subscription, result))
        if result.order is not None:
            return redirect("order-status", result.order.pk)
        return redirect("subscription_usage", self.subscription.pk)


def usage_correction_message(subscription: Subscription, result) -> str:
    """What a usage correction did, in the words of its stage."""
    currency = subscription.currency
    when = day(result.record.usage_date)
    shown = ", ".join(
        f"{name} {money(value, currency) if name != 'quantity' else value}"
        for name, value in result.after.items()
    )
    if result.stage == "not billed":
        return f"Usage of {when} now reads {shown}: the billing run bills the corrected usage."
    parts = []
    for side in result.sides:
        if side.how == "unchanged":
            continue
        docs = ", ".join(d.display_number for d in side.documents)
        how = f"{side.how} {docs}".strip()
        note = f"; {side.note}" if side.note else ""
        parts.append(
            f"{side.account.name} {money(side.before, currency)} -> "
            f"{money(side.after, currency)} ({how}{note})"
        )
    order = f" by correcting order {result.order.display_number}" if result.order else ""
    return f"Usage of {when} now reads {shown}, corrected{order}: {'; '.join(parts)}."
