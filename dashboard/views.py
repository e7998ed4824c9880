"""The panels' views: thin. Each makes one selector or service call; lookups go through the scoped
selectors in dashboard/selectors.py, so another tenant's object answers 404. Pages of the provider
control panel then refuse anyone but provider staff with 403 (the tenant check comes first)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.views.generic import FormView, TemplateView
from django_tables2 import RequestConfig, SingleTableView

from dashboard import selectors
from dashboard.forms import FinancialInformationForm
from dashboard.presentation import (
    DAILY_INVOICING_HELP,
    DAILY_INVOICING_IMPORTANT,
    credit_memo_closed,
    document_open_amount,
    document_status,
)
from dashboard.tables import (
    CustomerTable,
    DocumentTable,
    OwnCustomerTable,
    ResellerTable,
)
from resellers import exceptions as domain
from resellers.models import Account
from resellers.selectors import customers_visible, resellers_visible
from resellers.services import account_update_financials
from resellers.tenancy import is_provider_staff

PER_PAGE = 25


def _or_404(read, **kwargs):
    try:
        return read(**kwargs)
    except ObjectDoesNotExist as exc:
        raise Http404("Not found.") from exc


def _require_provider_staff(user) -> None:
    if not is_provider_staff(user):
        raise PermissionDenied("The provider control panel is for provider staff.")


def _search(request) -> str:
    return request.GET.get("q", "").strip()[:100]


@login_required
def home(request):
    """Provider staff land on the Billing page; everyone else on its own account page."""
    if is_provider_staff(request.user):
        return redirect("billing")
    return redirect("account")


# --- provider control panel -------------------------------------------------------------------


class BillingView(LoginRequiredMixin, TemplateView):
    template_name = "dashboard/billing.html"

    def get_context_data(self, **kwargs):
        _require_provider_staff(self.request.user)
        overview = selectors.billing_overview(user=self.request.user)
        return super().get_context_data(overview=overview, **kwargs)


class AccountListView(LoginRequiredMixin, SingleTableView):
    """A searchable, sortable, paged table of accounts."""

    template_name = "dashboard/account_list.html"
    table_pagination = {"per_page": PER_PAGE}
    heading = ""
    search_hint = "Search by name"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            heading=self.heading,
            query=_search(self.request),
            search_hint=self.search_hint,
            **kwargs,
        )


class ResellerListView(AccountListView):
    table_class = ResellerTable
    heading = "Resellers"
    search_hint = "Search by name or reseller code"

    def get_queryset(self):
        _require_provider_staff(self.request.user)
        return resellers_visible(user=self.request.user, search=_search(self.request))


class CustomerListView(AccountListView):
    table_class = CustomerTable
    heading = "Customers"

    def get_queryset(self):
        _require_provider_staff(self.request.user)
        return customers_visible(user=self.request.user, search=_search(self.request))


def _page_context(request, page: selectors.AccountPage, *, provider_view: bool) -> dict:
    """The page plus its tables (documents, customers), each paged and sorted on its own."""
    config = RequestConfig(request, paginate={"per_page": PER_PAGE})
    context: dict = {"page": page, "account": page.account, "provider_view": provider_view}
    if page.documents is not None:
        context["documents_table"] = config.configure(
            DocumentTable(page.documents, provider_view=provider_view, prefix="doc-")
        )
    if page.customers is not None:
        if provider_view:  # the reseller is the page itself: no "Reseller" column
            table = CustomerTable(page.customers, prefix="cust-", exclude=("parent",))
        else:
            table = OwnCustomerTable(page.customers, prefix="cust-")
        context["customers_table"] = config.configure(table)
    return context


class ResellerDetailView(LoginRequiredMixin, TemplateView):
    template_name = "dashboard/account_detail.html"

    def get_context_data(self, **kwargs):
        page = _or_404(selectors.reseller_page, user=self.request.user, pk=kwargs["pk"])
        _require_provider_staff(self.request.user)
        return {
            **super().get_context_data(**kwargs),
            **_page_context(self.request, page, provider_view=True),
        }


class CustomerDetailView(LoginRequiredMixin, TemplateView):
    """An end customer's page: in the provider panel (`provider_view`), or a reseller's own
    customer. A referral reseller gets the details only."""

    template_name = "dashboard/account_detail.html"
    provider_view = True

    def get_context_data(self, **kwargs):
        page = _or_404(selectors.customer_page, user=self.request.user, pk=kwargs["pk"])
        if self.provider_view:
            _require_provider_staff(self.request.user)
        context = _page_context(self.request, page, provider_view=self.provider_view)
        return {**super().get_context_data(**kwargs), **context}


class ResellerFinancialsEditView(LoginRequiredMixin, FormView):
    """Seed 000's Edit window. Saving calls `account_update_financials`; its ApplicationError
    becomes a form error on the field it names, and nothing is saved."""

    template_name = "dashboard/financial_edit.html"
    form_class = FinancialInformationForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.account = _or_404(selectors.reseller_for_edit, user=request.user, pk=kwargs["pk"])
            _require_provider_staff(request.user)
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        return FinancialInformationForm.initial_for(self.account)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["payment_methods"] = selectors.payment_methods_of(
            user=self.request.user, account=self.account
        )
        return kwargs

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            account=self.account,
            daily_invoicing_help=[
                (label, DAILY_INVOICING_HELP[value])
                for value, label in Account.DailyInvoicing.choices
            ],
            daily_invoicing_important=DAILY_INVOICING_IMPORTANT,
            **kwargs,
        )

    def form_valid(self, form):
        try:
            account_update_financials(
                account=self.account, acting_user=self.request.user, **form.cleaned_data
            )
        except domain.PermissionDenied as exc:
            raise PermissionDenied(exc.message) from exc
        except domain.ApplicationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            return self.form_invalid(form)
        messages.success(self.request, f"Financial information of {self.account} saved.")
        return redirect("reseller_detail", pk=self.account.pk)


# --- reseller and customer users --------------------------------------------------------------


class OwnAccountView(LoginRequiredMixin, TemplateView):
    """The account the user acts for: read-only financial information, figures, documents and,
    for a reseller, its customers."""

    template_name = "dashboard/account_detail.html"

    def get(self, request, *args, **kwargs):
        if is_provider_staff(request.user):
            return redirect("billing")
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        page = _or_404(selectors.own_account_page, user=self.request.user)
        context = _page_context(self.request, page, provider_view=False)
        return {**super().get_context_data(**kwargs), **context, "own_account": True}


class OwnCustomerListView(AccountListView):
    table_class = OwnCustomerTable
    heading = "My customers"

    def get_queryset(self):
        user = self.request.user
        if user.account_id is None or not user.account.is_reseller:
            raise Http404("Only resellers have customers.")
        return selectors.own_customers(user=user, search=_search(self.request))


class OwnCustomerDetailView(CustomerDetailView):
    provider_view = False


class DocumentDetailView(LoginRequiredMixin, TemplateView):
    template_name = "dashboard/document_detail.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        page = _or_404(selectors.document_page, user=user, pk=kwargs["pk"])
        provider_view = is_provider_staff(user)
        document = page.document
        return super().get_context_data(
            page=page,
            document=document,
            provider_view=provider_view,
            status=document_status(document, provider_view=provider_view),
            open_amount=document_open_amount(document, provider_view=provider_view),
            memo_closed=credit_memo_closed(document, provider_view=provider_view),
            **kwargs,
        )
