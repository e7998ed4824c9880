"""Provider staff's account set-up in the control panel (provider staff only; anyone else 403):

- /billing/customer-classes/: the customer classes with their billing policies (seed 001 §3's
  *Bill for Subscriptions on Hold*, seed 001 §4's refund on cancel) and a form to add one;
  /billing/customer-classes/<pk>/ edits one. A policy change applies from the next billing run.
- POST /billing/accounts/<pk>/customer-class/: put a reseller or customer in a class (from its
  page).
- /billing/customers/new/: create a customer, with a referral reseller's code to tag it to that
  reseller (seed 003), and optionally its login.

The services (resellers.services) check the rules and write the audit rows; their errors become
form errors and nothing is written.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views import View
from django.views.generic import FormView

from dashboard.access import require_provider_panel
from dashboard.exports import CsvExportMixin
from dashboard.forms import AccountClassForm, CustomerClassForm, CustomerCreateForm
from dashboard.submissions import form_error
from dashboard.tables import CustomerClassTable
from resellers import exceptions as domain
from resellers.models import Account, CustomerClass
from resellers.selectors import customers_visible, resellers_visible
from resellers.services import (
    account_set_customer_class,
    customer_class_create,
    customer_class_update,
    customer_sign_up,
)


class ProviderPanelMixin(LoginRequiredMixin):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            require_provider_panel(request.user)
        return super().dispatch(request, *args, **kwargs)


class CustomerClassListView(ProviderPanelMixin, CsvExportMixin, FormView):
    """The classes (GET) and adding one (POST)."""

    template_name = "dashboard/customer_classes.html"
    form_class = CustomerClassForm

    def get_initial(self):
        return {"bill_for_subscriptions_on_hold": True}

    def get_context_data(self, **kwargs):
        classes = CustomerClass.objects.annotate(account_count=Count("accounts"))
        table = CustomerClassTable(classes, prefix="class-")
        table.paginate(page=self.request.GET.get("class-page", 1), per_page=50)
        return super().get_context_data(table=table, **kwargs)

    def form_valid(self, form):
        try:
            made = customer_class_create(acting_user=self.request.user, **form.cleaned_data)
        except domain.ApplicationError as exc:
            form_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"Customer class {made.name} added.")
        return redirect("customer_classes")


class CustomerClassEditView(ProviderPanelMixin, FormView):
    template_name = "dashboard/customer_class_edit.html"
    form_class = CustomerClassForm

    def dispatch(self, request, *args, **kwargs):
        self.customer_class = get_object_or_404(CustomerClass, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        return CustomerClassForm.initial_for(self.customer_class)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            customer_class=self.customer_class,
            accounts=self.customer_class.accounts.count(),
            **kwargs,
        )

    def form_valid(self, form):
        try:
            updated = customer_class_update(
                customer_class=self.customer_class,
                acting_user=self.request.user,
                **form.cleaned_data,
            )
        except domain.ApplicationError as exc:
            form_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"Customer class {updated.name} saved.")
        return redirect("customer_classes")


class AccountClassView(ProviderPanelMixin, View):
    """Put a reseller or customer in a class, from its page."""

    def post(self, request, pk: int):
        account = (
            resellers_visible(user=request.user).filter(pk=pk).first()
            or customers_visible(user=request.user).filter(pk=pk).first()
        )
        if account is None:
            raise Http404("No such account.")
        back = reverse("reseller_detail" if account.is_reseller else "customer_detail", args=[pk])
        form = AccountClassForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose one of the customer classes.")
            return redirect(back)
        try:
            updated = account_set_customer_class(
                account=account,
                customer_class=form.cleaned_data["customer_class"],
                acting_user=request.user,
            )
        except domain.ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, f"{updated.name} is in the customer class {updated.customer_class.name}."
            )
        return redirect(f"{back}#financial-information")


class CustomerCreateView(ProviderPanelMixin, FormView):
    """A new customer: tagged to a referral reseller by its code, else a direct customer."""

    template_name = "dashboard/customer_create.html"
    form_class = CustomerCreateForm

    def form_valid(self, form):
        try:  # the form's fields are the service's arguments
            account = customer_sign_up(acting_user=self.request.user, **form.cleaned_data)
        except domain.ApplicationError as exc:
            form_error(form, exc)
            return self.form_invalid(form)
        parent = account.parent
        tagged = (
            f", tagged to {parent.name}" if parent.kind == Account.Kind.RESELLER else " (direct)"
        )
        messages.success(self.request, f"Customer {account.name} created{tagged}.")
        return redirect("customer_detail", account.pk)
