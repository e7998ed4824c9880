"""Billing details (address, tax ID, payment instructions) in the panels. They are what the
documents an account issues print as their letterhead and "How to pay" box, and the address on
those it receives.

- /billing/company/ (provider staff): the provider's own, its company details.
- /billing/resellers/<pk>/details/ and /billing/customers/<pk>/details/ (provider staff): a
  reseller's or a customer's. Another tenant's pk answers 404, then anyone but provider staff 403.
- /account/details/: a reseller's or customer's users edit their own account's; provider staff
  go to /billing/company/.

One scoped lookup, one call to `resellers.services.account_billing_details_set` (which checks
the values and writes the audit row): its ApplicationError becomes an error on the field it
names and nothing is saved; its PermissionDenied answers 403. Success redirects to the account's
page with a message naming the fields saved.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import FormView

from dashboard import selectors
from dashboard.access import own_account_or_404, require_provider_panel
from dashboard.forms import BillingDetailsForm
from dashboard.submissions import form_error
from resellers import exceptions as domain
from resellers.models import Account
from resellers.services import BILLING_DETAILS_FIELDS, account_billing_details_set
from resellers.tenancy import is_provider_staff


def _changed_labels(form: BillingDetailsForm, *, before: Account, after: Account) -> list[str]:
    """The labels of the fields the save changed, in the form's order."""
    return [
        form.fields[name].label
        for name in BILLING_DETAILS_FIELDS
        if getattr(before, name) != getattr(after, name)
    ]


class BillingDetailsEditView(LoginRequiredMixin, FormView):
    """The form, for the account `get_account()` finds (the one scoped lookup)."""

    template_name = "dashboard/billing_details_edit.html"
    form_class = BillingDetailsForm
    heading = "Billing details"
    provider_view = True

    def get_account(self) -> Account:
        raise NotImplementedError

    def back_url(self) -> str:
        """Where Cancel and a save go."""
        raise NotImplementedError

    def breadcrumbs(self) -> list[tuple[str, str]]:
        """(label, url) of the pages above this one."""
        raise NotImplementedError

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.account = self.get_account()
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        return BillingDetailsForm.initial_for(self.account)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            account=self.account,
            heading=self.heading,
            provider_view=self.provider_view,
            breadcrumbs=self.breadcrumbs(),
            back_url=self.back_url(),
            **kwargs,
        )

    def form_valid(self, form):
        try:
            saved = account_billing_details_set(
                account=self.account, acting_user=self.request.user, **form.cleaned_data
            )
        except domain.ApplicationError as exc:
            form_error(form, exc)
            return self.form_invalid(form)
        changed = _changed_labels(form, before=self.account, after=saved)
        if changed:
            messages.success(
                self.request,
                f"{self.heading} of {saved.name} saved: {', '.join(changed)}.",
            )
        else:
            messages.info(self.request, f"Nothing changed in the {self.heading.lower()}.")
        return redirect(self.back_url())


class CompanyDetailsView(BillingDetailsEditView):
    """The provider's own billing details (provider staff)."""

    heading = "Company details"

    def get_account(self) -> Account:
        require_provider_panel(self.request.user)
        try:
            return selectors.provider_account(user=self.request.user)
        except ObjectDoesNotExist as exc:
            raise Http404("No provider account.") from exc

    def back_url(self) -> str:
        return reverse("company_details")

    def breadcrumbs(self) -> list[tuple[str, str]]:
        return [("Billing", reverse("billing"))]


class ResellerDetailsEditView(BillingDetailsEditView):
    """A reseller's billing details (provider staff)."""

    kind = Account.Kind.RESELLER
    list_url_name = "reseller_list"
    list_label = "Resellers"
    page_url_name = "reseller_detail"

    def get_account(self) -> Account:
        try:
            account = selectors.account_for_details(
                user=self.request.user, pk=self.kwargs["pk"], kind=self.kind
            )
        except ObjectDoesNotExist as exc:
            raise Http404("Not found.") from exc
        require_provider_panel(self.request.user)
        return account

    def back_url(self) -> str:
        return reverse(self.page_url_name, args=[self.account.pk]) + "#account-details"

    def breadcrumbs(self) -> list[tuple[str, str]]:
        return [
            ("Billing", reverse("billing")),
            (self.list_label, reverse(self.list_url_name)),
            (self.account.name, reverse(self.page_url_name, args=[self.account.pk])),
        ]


class CustomerDetailsEditView(ResellerDetailsEditView):
    """A customer's billing details (provider staff)."""

    kind = Account.Kind.CUSTOMER
    list_url_name = "customer_list"
    list_label = "Customers"
    page_url_name = "customer_detail"


def _own_account(*, user, account) -> bool:
    """Every user of a reseller or a customer may edit its own account's billing details."""
    return True


class OwnDetailsEditView(BillingDetailsEditView):
    """A reseller's or customer's users edit their own account's billing details."""

    provider_view = False

    def dispatch(self, request, *args, **kwargs):
        if is_provider_staff(request.user):
            return redirect("company_details")
        return super().dispatch(request, *args, **kwargs)

    def get_account(self) -> Account:
        return own_account_or_404(self.request.user, allowed=_own_account)

    def back_url(self) -> str:
        return reverse("account") + "#account-details"

    def breadcrumbs(self) -> list[tuple[str, str]]:
        return [("My account", reverse("account"))]
