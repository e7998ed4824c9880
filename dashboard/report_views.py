"""Seed 003's reports in the panels: the provider's Reports page (sales, payouts with Mark paid,
acquisitions, each exportable as CSV) and a reseller's own referral page (its payout statement
and who signed up with its code); the commission rate on a referral reseller's page; and the
public sign-up page where a customer enters a reseller code."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.views import View
from django.views.generic import FormView, TemplateView

from billing.payouts import referral_payout_mark_paid
from dashboard.access import require_provider_panel
from dashboard.exports import CsvExportMixin
from dashboard.forms import CommissionRateForm, PayoutPaidForm, ReportPeriodForm, SignUpForm
from dashboard.presentation import day, money, possessive
from dashboard.reports import (
    acquired_customers,
    acquisitions_report,
    payouts_report,
    sales_report,
)
from dashboard.submissions import form_error
from dashboard.tables import (
    AcquiredCustomerTable,
    AcquisitionReportTable,
    PayoutReportTable,
    SalesReportTable,
)
from resellers import exceptions as domain
from resellers.models import Account
from resellers.selectors import resellers_visible
from resellers.services import customer_sign_up, referral_commission_set


class ReportsView(LoginRequiredMixin, CsvExportMixin, TemplateView):
    """The provider's reseller reports for a period (seed 003)."""

    template_name = "dashboard/reports.html"
    export_name = "reports"

    def get_context_data(self, **kwargs):
        require_provider_panel(self.request.user)
        form = ReportPeriodForm(self.request.GET or None)
        start, end = form.period()
        sales = sales_report(start=start, end=end)
        payouts = payouts_report(start=start, end=end)
        return super().get_context_data(
            form=form,
            start=start,
            end=end,
            sales=sales,
            payouts=payouts,
            sales_table=SalesReportTable(sales.rows, currency=sales.currency, prefix="sales-"),
            payouts_table=PayoutReportTable(payouts, prefix="pay-"),
            acquisitions_table=AcquisitionReportTable(
                acquisitions_report(start=start, end=end), prefix="acq-"
            ),
            unpaid=[
                (line, PayoutPaidForm(initial=_paid_initial(line)))
                for line in payouts
                if line.paid is None and line.amount > 0
            ],
            **kwargs,
        )


def _paid_initial(line) -> dict:
    return {"reseller": line.reseller.pk, "period_start": line.start, "period_end": line.end}


class PayoutPaidView(LoginRequiredMixin, View):
    """Mark a referral reseller's payout for a period paid (settled offline): audited, once."""

    def post(self, request):
        require_provider_panel(request.user)
        form = PayoutPaidForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Nothing was marked paid: the form was incomplete.")
            return redirect("reports")
        data = form.cleaned_data
        reseller = resellers_visible(user=request.user).filter(pk=data["reseller"]).first()
        if reseller is None:
            raise Http404("No such reseller.")
        back = f"{reverse('reports')}?" + urlencode(
            {"period_start": data["period_start"], "period_end": data["period_end"]}
        )
        try:
            payout = referral_payout_mark_paid(
                reseller=reseller,
                start=data["period_start"],
                end=data["period_end"],
                reference=data["reference"],
                acting_user=request.user,
            )
        except domain.ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                f"{possessive(reseller.name)} payout of {money(payout.amount, payout.currency)} "
                f"for {day(payout.period_start)} to {day(payout.period_end)} is marked paid.",
            )
        return redirect(back)


class CommissionRateView(LoginRequiredMixin, View):
    """Set a referral reseller's commission rate from its page in the provider panel."""

    def post(self, request, pk: int):
        require_provider_panel(request.user)
        reseller = resellers_visible(user=request.user).filter(pk=pk).first()
        if reseller is None:
            raise Http404("No such reseller.")
        form = CommissionRateForm(request.POST)
        if form.is_valid():
            try:
                referral_commission_set(
                    reseller=reseller,
                    rate=form.cleaned_data["percent"] / 100,
                    acting_user=request.user,
                )
            except domain.ApplicationError as exc:
                messages.error(request, exc.message)
            else:
                percent = form.cleaned_data["percent"]
                messages.success(request, f"{possessive(reseller.name)} commission is {percent} %.")
        else:
            messages.error(request, "The commission is a percentage from 0 to 100.")
        return redirect("reseller_detail", pk)


class OwnReferralsView(LoginRequiredMixin, CsvExportMixin, TemplateView):
    """A reseller's own report: who signed up under it in the period and, for a referral
    reseller, its payout statement. Nothing of its customers' billing."""

    template_name = "dashboard/own_referrals.html"
    export_name = "referrals"

    def get_context_data(self, **kwargs):
        user = self.request.user
        account = user.account if user.account_id else None
        if account is None or not account.is_reseller:
            raise PermissionDenied("Only resellers have referrals.")
        form = ReportPeriodForm(self.request.GET or None)
        start, end = form.period()
        context = {
            "form": form,
            "start": start,
            "end": end,
            "account": account,
            "acquired_table": AcquiredCustomerTable(
                acquired_customers(reseller=account, start=start, end=end), prefix="acq-"
            ),
        }
        if account.is_referral_reseller:
            payouts = payouts_report(
                start=start, end=end, resellers=Account.objects.filter(pk=account.pk)
            )
            context["payout"] = payouts[0]
            context["payouts_table"] = PayoutReportTable(payouts, prefix="pay-")
        return super().get_context_data(**context, **kwargs)


class SignUpView(FormView):
    """Seed 003's sign-up, public: a customer account, its contact and login; with a reseller
    code, tagged to that referral reseller. Signed in at once."""

    template_name = "dashboard/signup.html"
    form_class = SignUpForm

    def get_initial(self):
        return {"reseller_code": self.request.GET.get("code", "")[:32]}

    def form_valid(self, form):
        try:  # the form's fields are the service's arguments
            account = customer_sign_up(**form.cleaned_data)
        except domain.ApplicationError as exc:
            form_error(form, exc)
            return self.form_invalid(form)
        user = account.users.get()
        login(self.request, user, backend="django.contrib.auth.backends.ModelBackend")
        referred = f", brought by {account.parent.name}" if account.parent.is_reseller else ""
        messages.success(self.request, f"Welcome: {account.name} is signed up{referred}.")
        return redirect("account")
