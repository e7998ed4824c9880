"""The panels' views: thin. Each makes one selector or service call; lookups go through the scoped
selectors in dashboard/selectors.py, so another tenant's object answers 404. Pages of the provider
control panel then refuse anyone but provider staff with 403 (the tenant check comes first).

Ledger actions (POST only): one form validation, one service call (`application_create`,
`application_remove`, `payment_record`, `credit_balance_apply`). A service's ApplicationError
becomes an error on the form field it names and the page is shown again with nothing written;
its PermissionDenied answers 403. Success redirects back to the page with a message saying what
was applied.

Ordering pages (catalogue, basket, review, orders, Accept / Cancel / Execute, the Order Approval
toggle) are in dashboard/order_views.py, under the same rules.
"""

from __future__ import annotations

from urllib.parse import urlencode

from csp.decorators import csp_update
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from django.views.generic import FormView, TemplateView
from django_tables2 import RequestConfig, SingleTableView
from django_tables2.paginators import LazyPaginator

from billing.card_payments import card_payment_refusal, open_payable_documents
from billing.document_layout import DocumentLayout, document_layout
from billing.documents_pdf import CONTENT_TYPE as PDF_CONTENT_TYPE
from billing.documents_pdf import content_disposition, document_pdf
from billing.dunning import dunning_status
from billing.ledger import (
    application_create,
    application_remove,
    credit_balance_apply,
    payment_record,
)
from billing.selectors import active_applications
from dashboard import selectors, tax_views
from dashboard.access import require_provider_panel
from dashboard.charts import product_mix_svg
from dashboard.confirmations import Confirmation, unlink_consequences
from dashboard.exports import CsvExportMixin
from dashboard.forms import (
    AccountClassForm,
    ApplicationForm,
    CreditBalancePayForm,
    FinancialInformationForm,
    PaymentRecordForm,
    ProductMixForm,
)
from dashboard.presentation import (
    DAILY_INVOICING_HELP,
    DAILY_INVOICING_IMPORTANT,
    applied_sentence,
    credit_paid_message,
    document_open_amount,
    payment_recorded_message,
    unlinked_sentence,
)
from dashboard.product_mix import product_mix
from dashboard.statistics import general_statistics
from dashboard.submissions import form_error
from dashboard.tables import (
    AuditEventTable,
    CustomerTable,
    DocumentTable,
    OrderPendingPaymentTable,
    OrderTable,
    OrderWidgetTable,
    OwnCustomerTable,
    ProductMixTable,
    ResellerTable,
    SubscriptionTable,
)
from resellers import exceptions as domain
from resellers.models import Account
from resellers.selectors import audit_events_visible, customers_visible, resellers_visible
from resellers.services import account_update_financials
from resellers.tenancy import is_provider_staff

PER_PAGE = 25


def _or_404(read, **kwargs):
    try:
        return read(**kwargs)
    except ObjectDoesNotExist as exc:
        raise Http404("Not found.") from exc


def _search(request) -> str:
    return request.GET.get("q", "").strip()[:100]


@login_required
def home(request):
    """Provider staff land on the Billing page, a resale reseller on its Dashboard (seed 004),
    everyone else on its own account page."""
    if is_provider_staff(request.user):
        return redirect("billing")
    if selectors.has_reseller_dashboard(request.user):
        return redirect("reseller_dashboard")
    return redirect("account")


# --- provider control panel -------------------------------------------------------------------


class BillingView(LoginRequiredMixin, TemplateView):
    template_name = "dashboard/billing.html"

    def get_context_data(self, **kwargs):
        require_provider_panel(self.request.user)
        overview = selectors.billing_overview(user=self.request.user)
        try:
            statistics = general_statistics(account=None, today=timezone.localdate())
        except Account.DoesNotExist:  # no provider account yet
            statistics = None
        return super().get_context_data(
            overview=overview, statistics=statistics, scope="provider-wide", **kwargs
        )


class AccountListView(LoginRequiredMixin, CsvExportMixin, SingleTableView):
    """A searchable, sortable, paged table of accounts."""

    template_name = "dashboard/account_list.html"
    table_pagination = {"per_page": PER_PAGE}
    heading = ""
    search_hint = "Search by name"
    create_url_name = ""  # a "New ..." button when set

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            heading=self.heading,
            create_url_name=self.create_url_name,
            query=_search(self.request),
            search_hint=self.search_hint,
            **kwargs,
        )


class ResellerListView(AccountListView):
    table_class = ResellerTable
    heading = "Resellers"
    search_hint = "Search by name or reseller code"

    def get_queryset(self):
        require_provider_panel(self.request.user)
        return resellers_visible(user=self.request.user, search=_search(self.request))


class CustomerListView(AccountListView):
    table_class = CustomerTable
    heading = "Customers"
    create_url_name = "customer_create"

    def get_queryset(self):
        require_provider_panel(self.request.user)
        return customers_visible(user=self.request.user, search=_search(self.request))


def _product_mix_context(request, account: Account) -> dict:
    """The Product Mix widget: its form (the query string's `mix-` choices), the figures, and
    the chart's URL with the same choices."""
    form = ProductMixForm(request.GET)
    choices = form.choices()
    mix = product_mix(account=account, today=timezone.localdate(), **choices)
    query = urlencode({"account": account.pk, **{f"mix-{k}": v for k, v in choices.items()}})
    return {
        "mix": mix,
        "mix_table": ProductMixTable(mix.slices, currency=mix.currency, prefix="mixt-"),
        "mix_form": form,
        "mix_chart_url": f"{reverse('product_mix_chart')}?{query}",
    }


@method_decorator(csp_update({"style-src": ["'unsafe-inline'"]}), name="get")
class ProductMixChartView(LoginRequiredMixin, View):
    """The Product Mix pie chart as an SVG image (dashboard.charts), for the account in
    `?account=` within the user's scope (404 otherwise). An image runs no script; its inline
    styles are pygal's."""

    def get(self, request):
        try:
            account_id = int(request.GET.get("account", ""))
        except ValueError:
            raise Http404("No account.") from None
        account = _or_404(selectors.statistics_account, user=request.user, account_id=account_id)
        choices = ProductMixForm(request.GET).choices()
        mix = product_mix(account=account, today=timezone.localdate(), **choices)
        return HttpResponse(product_mix_svg(mix), content_type="image/svg+xml")


def _page_context(
    request,
    page: selectors.AccountPage,
    *,
    provider_view: bool,
    credit_pay_url: str | None = None,
    pay_form: CreditBalancePayForm | None = None,
) -> dict:
    """The page plus its tables (documents, customers), each paged and sorted on its own, and,
    where `credit_pay_url` is given and the account has both a credit balance and unpaid
    documents, the form that pays them with the credit balance (`pay_form` when shown again)."""
    config = RequestConfig(request, paginate={"per_page": PER_PAGE})
    context: dict = {"page": page, "account": page.account, "provider_view": provider_view}
    context.update(tax_views.tax_profile_context(request, page.account))
    if page.show_financials and page.account.credit_hold:  # why, and what lifts it
        context["dunning"] = dunning_status(account=page.account, today=timezone.localdate())
    if credit_pay_url and (pay_form is not None or page.can_pay_with_credit):
        context["credit_pay_url"] = credit_pay_url
        context["pay_form"] = pay_form or CreditBalancePayForm(unpaid=page.unpaid)
    if provider_view and page.account.is_reseller and page.show_financials:
        # the reseller's seed 004 figures; its own users see them on their Dashboard
        context["statistics"] = general_statistics(account=page.account, today=timezone.localdate())
        context.update(_product_mix_context(request, page.account))
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
    if page.orders is not None:
        customer_view = page.account.is_customer and page.account.pk == request.user.account_id
        context["orders_table"] = config.configure(
            OrderTable(
                page.orders,
                prefix="ord-",
                show_costs=not customer_view,
                user=request.user,
                provider_staff=provider_view,
                exclude=("customer",),  # one account's orders: its name is the page's
            )
        )
    if page.subscriptions is not None:
        context["subscriptions_table"] = config.configure(
            SubscriptionTable(page.subscriptions, prefix="sub-")
        )
    if provider_view:
        context["class_form"] = AccountClassForm(
            initial={"customer_class": page.account.customer_class_id}
        )
        action = request.GET.get("act-action", "").strip()[:64]
        events = audit_events_visible(user=request.user).filter(account=page.account)
        if action:
            events = events.filter(action__startswith=action)
        context["activity_action"] = action
        context["activity_table"] = config.configure(AuditEventTable(events, prefix="act-"))
    return context


def _order_widget_tables(request, widgets: selectors.OrderWidgets) -> dict:
    """Seed 004's order widgets as tables, each paged and sorted on its own. Paged lazily
    (Previous / Next, no count query each): the dashboard page is a fixed set of queries."""
    config = RequestConfig(
        request, paginate={"per_page": PER_PAGE, "paginator_class": LazyPaginator}
    )
    return {
        "pending_table": config.configure(
            OrderWidgetTable(
                widgets.pending_approval,
                prefix="pend-",
                mark_unexecuted=True,
                empty_text="No orders are waiting for your approval.",
            )
        ),
        "unexecuted_table": config.configure(
            OrderWidgetTable(
                widgets.unexecuted,
                prefix="unex-",
                empty_text="No orders are unexecuted for lack of credit.",
            )
        ),
        "pending_payment_table": config.configure(
            OrderPendingPaymentTable(
                widgets.pending_payment,
                prefix="pay-",
                empty_text="No orders are waiting for a payment.",
            )
        ),
    }


class ResellerDashboardView(LoginRequiredMixin, CsvExportMixin, TemplateView):
    """Seed 004's Reseller Dashboard, a resale reseller's home page: the nine General
    Statistics, the Product Mix and the order widgets. Its documents, customers and orders are
    on My account. 404 for anyone else (provider staff see a reseller's figures on its page)."""

    template_name = "dashboard/reseller_dashboard.html"

    def get_context_data(self, **kwargs):
        widgets = selectors.reseller_order_widgets(user=self.request.user)
        if widgets is None:
            raise Http404("Only resale resellers have a dashboard.")
        account = self.request.user.account
        return {
            **super().get_context_data(**kwargs),
            "account": account,
            "own_account": True,
            "statistics": general_statistics(account=account, today=timezone.localdate()),
            **_product_mix_context(self.request, account),
            **_order_widget_tables(self.request, widgets),
        }


class CreditBalancePayMixin:
    """POST: pay the page's unpaid documents with its credit balance (seed 002). The user ticks
    the documents; `credit_balance_apply` picks the order (oldest due first)."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        page = self.get_page()
        if page.unpaid is None:
            raise Http404("Not found.")
        form = CreditBalancePayForm(request.POST, unpaid=page.unpaid)
        if form.is_valid():
            try:
                applied = credit_balance_apply(
                    recipient=page.account,
                    acting_user=request.user,
                    debit_documents=list(form.cleaned_data["documents"]),
                )
            except domain.ApplicationError as exc:
                form_error(form, exc)
            else:
                text = credit_paid_message(applied, provider_view=is_provider_staff(request.user))
                (messages.success if applied else messages.warning)(request, text)
                return redirect(self.page_url())
        return self.render_to_response(self.get_context_data(page=page, pay_form=form))


class ResellerDetailView(LoginRequiredMixin, CsvExportMixin, TemplateView):
    template_name = "dashboard/account_detail.html"

    def get_page(self) -> selectors.AccountPage:
        page = _or_404(selectors.reseller_page, user=self.request.user, pk=self.kwargs["pk"])
        require_provider_panel(self.request.user)
        return page

    def page_url(self) -> str:
        return reverse("reseller_detail", args=[self.kwargs["pk"]])

    def get_context_data(self, *, page=None, pay_form=None, **kwargs):
        page = page or self.get_page()
        context = _page_context(
            self.request,
            page,
            provider_view=True,
            credit_pay_url=reverse("reseller_credit_pay", args=[page.account.pk]),
            pay_form=pay_form,
        )
        return {**super().get_context_data(**kwargs), **context}


class ResellerCreditBalancePayView(CreditBalancePayMixin, ResellerDetailView):
    """Provider staff pay a reseller's documents with its credit balance, on its behalf."""


class CustomerDetailView(LoginRequiredMixin, CsvExportMixin, TemplateView):
    """An end customer's page: in the provider panel (`provider_view`), or a reseller's own
    customer. A referral reseller gets the details only."""

    template_name = "dashboard/account_detail.html"
    provider_view = True

    def get_context_data(self, **kwargs):
        page = _or_404(selectors.customer_page, user=self.request.user, pk=kwargs["pk"])
        if self.provider_view:
            require_provider_panel(self.request.user)
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
            require_provider_panel(request.user)
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        return FinancialInformationForm.initial_for(self.account)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["payment_methods"] = selectors.top_up_cards_of(
            user=self.request.user, account=self.account
        )
        kwargs["currency"] = self.account.currency
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


class PaymentRecordView(LoginRequiredMixin, FormView):
    """Record an offline payment received from a reseller or a customer (provider staff). The
    payment's issuer is the account's upstream issuer (`payment_record` derives it): the
    reseller, for a customer of a resale reseller. Optionally applied to chosen open documents."""

    template_name = "dashboard/payment_record.html"
    form_class = PaymentRecordForm
    kind = Account.Kind.RESELLER

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.target = _or_404(
                selectors.payment_target, user=request.user, pk=kwargs["pk"], kind=self.kind
            )
            require_provider_panel(request.user)
        return super().dispatch(request, *args, **kwargs)

    def account_url(self) -> str:
        name = "reseller_detail" if self.kind == Account.Kind.RESELLER else "customer_detail"
        return reverse(name, args=[self.target.account.pk])

    def get_initial(self):
        return PaymentRecordForm.initial_for(today=timezone.localdate())

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["currency"] = self.target.account.currency
        kwargs["today"] = timezone.localdate()
        kwargs["payment_methods"] = self.target.payment_methods
        kwargs["open_documents"] = (
            None if self.target.applies_automatically else self.target.open_documents
        )
        return kwargs

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            target=self.target,
            account=self.target.account,
            account_url=self.account_url(),
            **kwargs,
        )

    def form_valid(self, form):
        try:
            payment = payment_record(
                recipient=self.target.account,
                acting_user=self.request.user,
                **form.service_kwargs(),
            )
        except domain.ApplicationError as exc:
            form_error(form, exc)
            return self.form_invalid(form)
        text = payment_recorded_message(payment, active_applications(document=payment))
        messages.success(self.request, text)
        return redirect(self.account_url())


class CustomerPaymentRecordView(PaymentRecordView):
    kind = Account.Kind.CUSTOMER


# --- reseller and customer users --------------------------------------------------------------


class OwnAccountView(LoginRequiredMixin, CsvExportMixin, TemplateView):
    """The account the user acts for: read-only financial information, figures, documents and,
    for a reseller, its customers."""

    template_name = "dashboard/account_detail.html"

    def dispatch(self, request, *args, **kwargs):
        if is_provider_staff(request.user):
            return redirect("billing")
        return super().dispatch(request, *args, **kwargs)

    def get_page(self) -> selectors.AccountPage:
        return _or_404(selectors.own_account_page, user=self.request.user)

    def page_url(self) -> str:
        return reverse("account")

    def get_context_data(self, *, page=None, pay_form=None, **kwargs):
        page = page or self.get_page()
        context = _page_context(
            self.request,
            page,
            provider_view=False,
            credit_pay_url=reverse("own_credit_pay"),
            pay_form=pay_form,
        )
        return {**super().get_context_data(**kwargs), **context, "own_account": True}


class OwnCreditBalancePayView(CreditBalancePayMixin, OwnAccountView):
    """A reseller or customer user pays its own unpaid documents with its credit balance."""


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


def _document_layout(page: selectors.DocumentPage, *, provider_view: bool) -> DocumentLayout:
    """The invoice sheet shared by the page and its PDF, as of today (read here, at the edge)."""
    return document_layout(
        document=page.document,
        lines=page.lines,
        bill_to=page.bill_to,
        provider_view=provider_view,
        as_of=timezone.localdate(),
    )


class DocumentDetailView(LoginRequiredMixin, TemplateView):
    """A document read as an invoice (parties, bill-to contact, dates, lines with their periods
    and tax, totals, what is paid and open), its applications (active and unlinked) and a link to
    its PDF. Provider staff also get the Apply form, an Unlink button on each active
    application and, on a payment or credit memo with an unapplied amount, Refund
    (dashboard/memo_views.py)."""

    template_name = "dashboard/document_detail.html"

    def get_page(self) -> selectors.DocumentPage:
        return _or_404(selectors.document_page, user=self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, *, page=None, apply_form=None, **kwargs):
        page = page or self.get_page()
        provider_view = is_provider_staff(self.request.user)
        document = page.document
        if apply_form is None and page.counterparts is not None and page.counterparts.exists():
            apply_form = ApplicationForm(document=document, counterparts=page.counterparts)
        layout = _document_layout(page, provider_view=provider_view)
        return super().get_context_data(
            page=page,
            document=document,
            layout=layout,
            provider_view=provider_view,
            status=layout.status,
            open_amount=document_open_amount(document, provider_view=provider_view),
            memo_closed=document.reads_closed(provider_view=provider_view),
            apply_form=apply_form,
            can_refund=selectors.document_refundable(user=self.request.user, document=document),
            pay_url=_pay_url(self.request.user, document),
            **kwargs,
        )


def _pay_url(user, document) -> str:
    """Where the document's own account pays it by card (dashboard/pay_views.py), or "" when it
    is not the user's to pay, has nothing open, or its issuer takes no cards."""
    if user.account_id != document.recipient_id or is_provider_staff(user):
        return ""
    if not open_payable_documents(account=document.recipient).filter(pk=document.pk).exists():
        return ""
    if card_payment_refusal(account=document.recipient) is not None:
        return ""
    return f"{reverse('pay')}?{urlencode({'document': document.pk})}"


class DocumentPdfView(LoginRequiredMixin, View):
    """GET: the document's PDF as a download (`INV-000012.pdf`), scoped like its page: another
    tenant's document answers 404. A draft (provider staff only) prints watermarked DRAFT."""

    http_method_names = ["get"]

    def get(self, request, pk: int):
        page = _or_404(selectors.document_page, user=request.user, pk=pk)
        layout = _document_layout(page, provider_view=is_provider_staff(request.user))
        response = HttpResponse(document_pdf(layout=layout), content_type=PDF_CONTENT_TYPE)
        response["Content-Disposition"] = content_disposition(layout)
        response["Cache-Control"] = "private, no-store"
        return response


class ApplicationCreateView(DocumentDetailView):
    """POST: link part of this document to an open counterpart (provider staff only)."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        page = self.get_page()
        require_provider_panel(request.user)
        form = ApplicationForm(request.POST, document=page.document, counterparts=page.counterparts)
        if form.is_valid():
            credit, debit = form.credit_and_debit()
            try:
                application = application_create(
                    credit_document=credit,
                    debit_document=debit,
                    amount=form.cleaned_data["amount"],
                    acting_user=request.user,
                )
            except domain.ApplicationError as exc:
                form_error(form, exc)
            else:
                messages.success(request, applied_sentence(application))
                return redirect("document_detail", pk=page.document.pk)
        return self.render_to_response(self.get_context_data(page=page, apply_form=form))


class ApplicationRemoveView(LoginRequiredMixin, View):
    """POST: unlink one of this document's active applications (provider staff only). GET: the
    confirmation page (which amounts return to open), after the same 404 and 403; it changes
    nothing."""

    http_method_names = ["get", "post"]

    def get(self, request, pk: int, application_pk: int):
        page = _or_404(selectors.document_page, user=request.user, pk=pk)
        application = _or_404(page.applications.get, pk=application_pk)
        require_provider_panel(request.user)
        active = application.is_active
        credit, debit = application.credit_document, application.debit_document
        confirm = Confirmation(
            title=f"Unlink {credit.display_number} from {debit.display_number}?",
            consequences=unlink_consequences(application) if active else [],
            refusal="" if active else "This application was already unlinked. Nothing was changed.",
            button="Yes, unlink",
            back_url=reverse("document_detail", args=[page.document.pk]),
            provider_view=True,
        )
        return render(request, "dashboard/confirm.html", {"confirm": confirm})

    def post(self, request, pk: int, application_pk: int):
        page = _or_404(selectors.document_page, user=request.user, pk=pk)
        application = _or_404(page.applications.get, pk=application_pk)
        require_provider_panel(request.user)
        try:
            application = application_remove(application=application, acting_user=request.user)
        except domain.PermissionDenied as exc:
            raise PermissionDenied(exc.message) from exc
        except domain.ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, unlinked_sentence(application))
        return redirect("document_detail", pk=page.document.pk)
