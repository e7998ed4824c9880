"""Dunning in the panels (issue 13, item 5; billing.dunning):

- /billing/dunning/ (provider staff): the accounts in dunning by stage (overdue, credit hold,
  suspended; ?stage= narrows), each with what it has overdue and its next step, and the
  provider's policy, which every issuer's empty fields take;
- /account/dunning/ (a resale reseller's own users): its customers in dunning, and its policy
  for them.

The policy form is one service call (`billing.dunning.policy_set`, audited); a field left empty
takes the provider's policy, then the settings; a refusal goes back on its field.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404
from django.shortcuts import redirect
from django.utils import timezone
from django.views.generic import FormView

from billing.dunning import (
    POLICY_FIELDS,
    STAGE_ORDER,
    accounts_by_stage,
    policy_of,
    policy_set,
    settings_policy,
    stage_counts,
)
from billing.models import DunningPolicy, DunningStage
from dashboard.access import own_account_or_404, require_provider_panel
from dashboard.submissions import form_error
from dashboard.tables import DunningTable
from resellers import exceptions as domain
from resellers.models import Account
from resellers.tenancy import is_provider_staff

STAGES = [s for s in STAGE_ORDER if s != DunningStage.CURRENT]


class DaysListField(forms.CharField):
    """Whole numbers of days, comma separated ("3, 7"); empty: take the provider's."""

    def to_python(self, value):
        value = super().to_python(value).strip()
        if not value:
            return None
        try:
            days = sorted({int(part) for part in value.replace(" ", "").split(",") if part})
        except ValueError:
            raise forms.ValidationError("Whole numbers of days, separated by commas.") from None
        if any(not 0 <= d <= 365 for d in days) or len(days) > 10:
            raise forms.ValidationError("Up to 10 numbers of days, each from 0 to 365.")
        return days


class DunningPolicyForm(forms.Form):
    reminder_days_before = DaysListField(
        required=False, label="Reminders, days before the due date"
    )
    reminder_days_after = DaysListField(required=False, label="Reminders, days after the due date")
    credit_hold_days = forms.IntegerField(
        required=False, min_value=1, max_value=365, label="Credit hold, days overdue"
    )
    suspension_days = forms.IntegerField(
        required=False, min_value=1, max_value=365, label="Suspension, days overdue"
    )

    def __init__(self, *args, effective, **kwargs):
        super().__init__(*args, **kwargs)
        for name in POLICY_FIELDS:
            value = getattr(effective, name)
            shown = ", ".join(str(v) for v in value) if isinstance(value, tuple) else str(value)
            self.fields[name].widget.attrs["placeholder"] = shown
            self.fields[name].help_text = f"Empty: {shown or 'none'} (the default)."

    @staticmethod
    def initial_for(issuer: Account) -> dict:
        row = DunningPolicy.objects.filter(issuer=issuer).first()
        initial = {}
        for name in POLICY_FIELDS:
            value = getattr(row, name) if row else None
            initial[name] = ", ".join(map(str, value)) if isinstance(value, list) else value
        return initial


class DunningPageView(LoginRequiredMixin, FormView):
    """The list and the policy form of one issuer: the provider (staff) or a resale reseller."""

    template_name = "dashboard/dunning.html"
    form_class = DunningPolicyForm
    provider_page = True

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            if self.provider_page:
                require_provider_panel(request.user)
                self.issuer = Account.objects.filter(kind=Account.Kind.PROVIDER).first()
                if self.issuer is None:
                    raise Http404("Not found.")
            else:
                if is_provider_staff(request.user):
                    return redirect("dunning")
                self.issuer = own_account_or_404(
                    request.user,
                    allowed=lambda user, account: (
                        account.is_reseller and not account.is_referral_reseller
                    ),
                )
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        return DunningPolicyForm.initial_for(self.issuer)

    def get_form_kwargs(self):
        """What an empty field comes to: the settings' for the provider, the provider's policy
        for a reseller."""
        provider = Account.objects.filter(kind=Account.Kind.PROVIDER).first()
        inherited = settings_policy() if self.provider_page or provider is None else None
        return {
            **super().get_form_kwargs(),
            "effective": inherited or policy_of(provider),
        }

    def get_context_data(self, **kwargs):
        today = timezone.localdate()
        stage = self.request.GET.get("stage") or ""
        if stage not in STAGES:
            stage = ""
        issuer = None if self.provider_page else self.issuer
        rows = accounts_by_stage(today=today, stage=stage or None, issuer=issuer)
        return super().get_context_data(
            issuer=self.issuer,
            provider_page=self.provider_page,
            table=DunningTable(rows, staff=self.provider_page),
            counts=[(s, DunningStage(s).label, n) for s, n in stage_counts(issuer=issuer).items()],
            stage=stage,
            policy=policy_of(self.issuer),
            today=today,
            **kwargs,
        )

    def form_valid(self, form):
        try:
            policy_set(
                issuer=self.issuer,
                acting_user=self.request.user,
                **{name: form.cleaned_data[name] for name in POLICY_FIELDS},
            )
        except domain.ApplicationError as exc:
            form_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, "Dunning policy saved.")
        return redirect(self.request.path)


class ProviderDunningView(DunningPageView):
    provider_page = True


class ResellerDunningView(DunningPageView):
    provider_page = False
