"""The wallet (seed 003's "Wallet and Transactions"): /account/wallet/ for an account's own
users, with its figures, its open invoices and debit memos (oldest due first, overdue marked) and
its transactions (payments, credit memos, refunds, applications; newest first, paged).

Two actions, each one service call, its refusal a form error with nothing written:
- POST /account/wallet/pay/: one card payment of any amount that pays the open documents oldest
  due first and leaves the rest as credit balance (`billing.card_payments.wallet_pay`, the API's
  `apply_to: "oldest_due"`). The form carries a one-time submission token as the idempotency key,
  as the top-up and pay pages do (renewed after a decline, kept after a gateway failure or
  timeout). Where the account's issuer takes no cards (a resale reseller without card payments)
  the page says so and shows the issuer's payment details instead (`card_payment_refusal`).
- POST /account/wallet/apply-credit/: "apply my credit" to the ticked open documents, oldest due
  first among them, never over-applied (`billing.ledger.credit_balance_apply`, through the
  account page's CreditBalancePayMixin); with no credit balance it says so.

Read-only views of another account's wallet, scoped like its account page (another tenant's, or
a referral reseller's customer's, answers 404): provider staff at /billing/resellers/<pk>/wallet/
and /billing/customers/<pk>/wallet/, a resale reseller at /account/customers/<pk>/wallet/.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.generic import TemplateView
from django_tables2 import RequestConfig

from billing.card_payments import card_payment_refusal, wallet_pay
from billing.selectors import account_transactions
from dashboard import selectors
from dashboard.access import own_account_or_404, require_provider_panel
from dashboard.forms import CreditBalancePayForm
from dashboard.pay_views import paid_message
from dashboard.tables import OpenDocumentTable, PagedRows, WalletTransactionTable
from dashboard.topup_views import TopupForm, charge_refused
from dashboard.views import PER_PAGE, CreditBalancePayMixin
from resellers import exceptions as domain
from resellers.models import Account
from resellers.tenancy import is_provider_staff


class WalletPayForm(TopupForm):
    """Which of the account's cards, and how much: any amount."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"].help_text = (
            "Any amount: it pays your open documents, oldest due first; what is left over stays "
            "as credit balance."
        )


def _or_404(read, **kwargs):
    try:
        return read(**kwargs)
    except ObjectDoesNotExist as exc:
        raise Http404("Not found.") from exc


class WalletView(LoginRequiredMixin, TemplateView):
    """The wallet page. Subclasses say whose (`get_page`) and where it sits in the panels."""

    template_name = "dashboard/wallet.html"
    provider_view = False
    own_account = False

    def get_page(self) -> selectors.WalletPage:
        raise NotImplementedError

    def get_context_data(self, *, page=None, pay_form=None, card_form=None, **kwargs):
        """`pay_form`: the apply-my-credit form shown again (CreditBalancePayMixin's name for
        it); `card_form`: the wallet payment's."""
        page = page or self.get_page()
        today = timezone.localdate()
        config = RequestConfig(self.request, paginate={"per_page": PER_PAGE})
        context = {
            "page": page,
            "account": page.account,
            "provider_view": self.provider_view,
            "own_account": self.own_account,
            "open_table": config.configure(
                OpenDocumentTable(
                    page.unpaid, provider_view=self.provider_view, as_of=today, prefix="open-"
                )
            ),
            "transactions_table": config.configure(
                WalletTransactionTable(
                    PagedRows(page.transactions, build=account_transactions),
                    provider_view=self.provider_view,
                    prefix="tx-",
                )
            ),
        }
        if self.own_account:
            context.update(self._action_context(page, pay_form=pay_form, card_form=card_form))
        return {**super().get_context_data(**kwargs), **context}

    def _action_context(self, page, *, pay_form, card_form) -> dict:
        refusal = card_payment_refusal(account=page.account)
        has_open = page.unpaid.exists()
        context = {
            "refusal": refusal.message if refusal is not None else "",
            "has_open": has_open,
            "has_cards": page.cards.exists(),
            "credit_pay_url": reverse("own_wallet_credit"),
        }
        if refusal is None and (has_open or card_form is not None):
            context["card_form"] = card_form or WalletPayForm(
                initial=TopupForm.initial_for(page.cards),
                cards=page.cards,
                currency=page.account.currency,
            )
        if pay_form is not None or page.can_pay_with_credit:
            context["pay_form"] = pay_form or CreditBalancePayForm(unpaid=page.unpaid)
        return context


class OwnWalletView(WalletView):
    """/account/wallet/: the wallet of the account the user acts for (provider staff go to the
    Billing page: the provider has no issuer to pay)."""

    own_account = True

    def dispatch(self, request, *args, **kwargs):
        if is_provider_staff(request.user):
            return redirect("billing")
        return super().dispatch(request, *args, **kwargs)

    def get_page(self) -> selectors.WalletPage:
        account = own_account_or_404(
            self.request.user, allowed=lambda user, account: not account.is_provider
        )
        return _or_404(selectors.wallet_page, user=self.request.user, account=account)

    def page_url(self) -> str:
        return reverse("own_wallet")


class OwnWalletPayView(OwnWalletView):
    """POST: one card payment of any amount over the open documents, oldest due first."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        page = self.get_page()
        if card_payment_refusal(account=page.account) is not None:
            raise Http404("This account's issuer takes no card payments online.")
        form = WalletPayForm(request.POST, cards=page.cards, currency=page.account.currency)
        if form.is_valid():
            data = form.cleaned_data
            try:
                payment = wallet_pay(
                    account=page.account,
                    payment_method=data["payment_method"],
                    amount=data["amount"],
                    idempotency_key=f"panel:{data['submission_key']}",
                    acting_user=request.user,
                    today=timezone.localdate(),
                )
            except domain.PermissionDenied as exc:
                raise Http404("Not found.") from exc
            except domain.ApplicationError as exc:
                charge_refused(form, exc)
            else:
                messages.success(request, paid_message(payment, page.account))
                return redirect(self.page_url())
        return self.render_to_response(self.get_context_data(page=page, card_form=form))


class OwnWalletCreditView(CreditBalancePayMixin, OwnWalletView):
    """POST: apply the credit balance to the ticked open documents (the account page's
    CreditBalancePayMixin: `credit_balance_apply`, oldest due first among them)."""


class AccountWalletView(WalletView):
    """Another account's wallet, read-only: provider staff's view of a reseller (`kind`) or a
    customer, from its page in the provider panel."""

    provider_view = True
    kind = Account.Kind.RESELLER

    def get_page(self) -> selectors.WalletPage:
        user = self.request.user
        account = _or_404(selectors.wallet_account, user=user, pk=self.kwargs["pk"], kind=self.kind)
        if self.provider_view:
            require_provider_panel(user)
        return _or_404(selectors.wallet_page, user=user, account=account)


class CustomerWalletView(AccountWalletView):
    kind = Account.Kind.CUSTOMER


class OwnCustomerWalletView(CustomerWalletView):
    """A resale reseller's view of one of its customers' wallets (a referral reseller sees its
    customers' details only: 404)."""

    provider_view = False
