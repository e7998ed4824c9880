"""Taxation rules in the panels (DESIGN.md "Taxes": providers, and resale resellers for their own
customers, define taxation rules).

- /billing/taxes/ (provider staff): the provider's rules, built-in rates and engine accounts, or,
  with ?owner=<reseller id>, a resale reseller's (linked from the reseller's page). Anyone else 403.
- /account/taxes/ (a resale reseller's users): its own rules and rates, and the engine accounts
  its rules may use (its own and the provider's shared ones). Referral resellers and customers
  403; provider staff are sent to /billing/taxes/.
- POST to either page adds a rule (`form=rule`), a built-in rate (`form=rate`) or an engine
  account (`form=engine`, for an installed external engine); POST
  .../rules/<pk>/delete/ deletes a rule. A service's ApplicationError becomes an error on the
  field it names and nothing is written; its PermissionDenied answers 403.
- POST /billing/resellers/<pk>/tax-profile/, /billing/customers/<pk>/tax-profile/ and
  /account/customers/<pk>/tax-profile/ set an account's tax profile (`tax_profile_set` decides
  who may: provider staff or the account's issuer).

One-time submission tokens: each rendered add form carries a token; the first POST claims it in
the session (under a row lock on the user, as dashboard.run_views does), so a double click or a
reload adds nothing twice and says so. The unique constraints on rules and rates are the backstop.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView
from django_tables2 import RequestConfig

from billing.taxes.engines import installed_methods
from billing.taxes.models import EXTERNAL_METHODS, TaxMethod
from billing.taxes.selectors import (
    tax_engine_accounts_usable,
    tax_profiles_visible,
    tax_rates_visible,
    tax_rules_visible,
)
from billing.taxes.services import (
    tax_engine_account_create,
    tax_profile_set,
    tax_rate_create,
    tax_rule_create,
    tax_rule_delete,
)
from dashboard.confirmations import Confirmation
from dashboard.exports import CsvExportMixin
from dashboard.forms import TaxEngineAccountForm, TaxProfileForm, TaxRateForm, TaxRuleForm
from dashboard.presentation import day, tax_rate_percent
from dashboard.submissions import claim, form_error, remember
from dashboard.tables import TaxEngineAccountTable, TaxRateTable, TaxRuleTable
from resellers import exceptions as domain
from resellers.models import Account
from resellers.selectors import customers_visible, resellers_visible
from resellers.tenancy import is_provider_staff

PER_PAGE = 25
SUBMISSIONS = "tax_submissions"


# What installs an external engine (config/settings/base.py reads these from the environment).
INSTALL_SETTING = {TaxMethod.AVATAX: "TAX_AVATAX_URL", TaxMethod.VERTEX: "TAX_VERTEX_URL"}


def _methods() -> list[tuple[str, str]]:
    """Every method; one not installed says so (and is disabled in the form)."""
    installed = installed_methods()
    return [
        (m.value, m.label if m.value in installed else f"{m.label} (not installed)")
        for m in TaxMethod
    ]


def _not_installed() -> set[str]:
    return {m.value for m in TaxMethod} - installed_methods()


def engine_statuses() -> list[dict]:
    """Each external engine: installed or not, and what installs it."""
    installed = installed_methods()
    return [
        {
            "value": m.value,
            "label": m.label,
            "installed": m.value in installed,
            "setting": INSTALL_SETTING[m],
        }
        for m in TaxMethod
        if m in EXTERNAL_METHODS
    ]


def _engine_choices_to_add() -> list[tuple[str, str]]:
    installed = installed_methods()
    return [(m.value, m.label) for m in TaxMethod if m in EXTERNAL_METHODS and m in installed]


class TaxesView(LoginRequiredMixin, CsvExportMixin, TemplateView):
    """The owner's rules, rates and engine accounts, with the add forms (GET), and adding a rule
    or a rate (POST)."""

    template_name = "dashboard/taxes.html"
    provider_panel = True

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.owner = self.get_owner(request.user)
        return super().dispatch(request, *args, **kwargs)

    def get_owner(self, user) -> Account:
        if not is_provider_staff(user):
            raise PermissionDenied("The provider control panel is for provider staff.")
        owner_id = self.request.GET.get("owner", "")
        if not owner_id:
            if user.account is None:  # a superuser without an account: the admin is for that
                raise Http404("No provider account.")
            return user.account
        if not owner_id.isdigit():
            raise Http404("Not found.")
        reseller = (
            resellers_visible(user=user)
            .filter(pk=int(owner_id), reseller_model=Account.ResellerModel.RESALE)
            .first()
        )
        if reseller is None:
            raise Http404("Not found.")
        return reseller

    def page_url(self) -> str:
        url = reverse("taxes")
        return url if self.owner.is_provider else f"{url}?owner={self.owner.pk}"

    def delete_url_name(self) -> str:
        return "tax_rule_delete"

    def engine_accounts(self):
        return tax_engine_accounts_usable(owner=self.owner).select_related("owner")

    def engine_form(self, data=None) -> TaxEngineAccountForm:
        return TaxEngineAccountForm(
            data, engines=_engine_choices_to_add(), can_share=self.owner.is_provider
        )

    def get_context_data(self, *, rule_form=None, rate_form=None, engine_form=None, **kwargs):
        user = self.request.user
        config = RequestConfig(self.request, paginate={"per_page": PER_PAGE})
        usable = self.engine_accounts()
        owner_query = "" if self.owner.is_provider else f"?owner={self.owner.pk}"
        return super().get_context_data(
            owner=self.owner,
            provider_panel=self.provider_panel,
            page_url=self.page_url(),
            rules_table=config.configure(
                TaxRuleTable(
                    tax_rules_visible(user=user).filter(owner=self.owner),
                    prefix="rule-",
                    delete_url_name=self.delete_url_name(),
                    owner_query=owner_query,
                )
            ),
            rates_table=config.configure(
                TaxRateTable(tax_rates_visible(user=user).filter(owner=self.owner), prefix="rate-")
            ),
            engine_accounts_table=config.configure(TaxEngineAccountTable(usable, prefix="eng-")),
            rule_form=rule_form
            or TaxRuleForm(
                methods=_methods(),
                not_installed=_not_installed(),
                engine_accounts=self._engine_choices(usable),
            ),
            engine_form=engine_form or self.engine_form(),
            engines=engine_statuses(),
            rate_form=rate_form or TaxRateForm(initial={"valid_from_date": timezone.localdate()}),
            **kwargs,
        )

    @staticmethod
    def _engine_choices(usable):
        return usable.filter(engine__in=installed_methods())

    def post(self, request, *args, **kwargs):
        which = request.POST.get("form")
        if which == "rule":
            form = TaxRuleForm(
                request.POST,
                methods=_methods(),
                not_installed=_not_installed(),
                engine_accounts=self._engine_choices(self.engine_accounts()),
            )
            create, what = tax_rule_create, "rule"
        elif which == "engine":
            form = self.engine_form(request.POST)
            create, what = tax_engine_account_create, "engine account"
        elif which == "rate":
            form = TaxRateForm(request.POST)
            create, what = tax_rate_create, "rate"
        else:
            raise Http404("No such form.")
        if form.is_valid():
            key = form.cleaned_data["submission_key"]
            if not claim(request, SUBMISSIONS, key)[0]:
                messages.info(request, f"That {what} was already submitted; nothing was added.")
                return redirect(self.page_url())
            try:
                made = create(owner=self.owner, acting_user=request.user, **form.service_kwargs())
            except domain.ApplicationError as exc:
                remember(request, SUBMISSIONS, key, None)
                form_error(form, exc)
            else:
                messages.success(request, _added_message(made, what))
                return redirect(self.page_url())
        forms = {f"{which}_form": form}
        return self.render_to_response(self.get_context_data(**forms))


def _added_message(made, what: str) -> str:
    if what == "engine account":
        return f"Engine account added: {made.label} ({made.get_engine_display()})."
    if what == "rule":
        return (
            f"Rule added: {made.jurisdiction} / {made.tax_category} taxed by "
            f"{made.get_method_display()}."
        )
    return (
        f"Rate added: {made.name} {tax_rate_percent(made.rate)} for {made.jurisdiction} / "
        f"{made.tax_category} from {day(made.valid_from_date)}."
    )


class OwnTaxesView(TaxesView):
    """A resale reseller's own taxation."""

    provider_panel = False

    def dispatch(self, request, *args, **kwargs):
        if is_provider_staff(request.user):
            return redirect("taxes")
        return super().dispatch(request, *args, **kwargs)

    def get_owner(self, user) -> Account:
        account = user.account
        if account is None or not account.is_reseller or account.is_referral_reseller:
            raise PermissionDenied("Only the provider and resale resellers define taxation.")
        return account

    def page_url(self) -> str:
        return reverse("own_taxes")

    def delete_url_name(self) -> str:
        return "own_tax_rule_delete"


class TaxRuleDeleteView(LoginRequiredMixin, View):
    """POST: delete one of the page owner's rules. Another owner's rule answers 404. GET: the
    confirmation page, after the same checks; it changes nothing."""

    http_method_names = ["get", "post"]
    page_class = TaxesView

    def _rule(self, request, pk: int):
        page = self.page_class(request=request)
        page.owner = page.get_owner(request.user)
        rule = tax_rules_visible(user=request.user).filter(owner=page.owner, pk=pk).first()
        if rule is None:
            raise Http404("Not found.")
        return page, rule

    def get(self, request, pk: int):
        page, rule = self._rule(request, pk)
        confirm = Confirmation(
            title=f"Delete the {rule.jurisdiction} / {rule.tax_category} rule?",
            consequences=[
                f"The {rule.jurisdiction} / {rule.tax_category} rule will be deleted. Lines it "
                "taxed are then taxed by the next matching rule, or not at all.",
                "Documents already issued keep the tax they were issued with.",
            ],
            button="Yes, delete the rule",
            back_url=page.page_url(),
            provider_view=page.provider_panel,
        )
        return render(request, "dashboard/confirm.html", {"confirm": confirm})

    def post(self, request, pk: int):
        page, rule = self._rule(request, pk)
        try:
            tax_rule_delete(rule=rule, acting_user=request.user)
        except domain.PermissionDenied as exc:
            raise PermissionDenied(exc.message) from exc
        except domain.ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Rule deleted: {rule.jurisdiction} / {rule.tax_category}.")
        return redirect(page.page_url())


class OwnTaxRuleDeleteView(TaxRuleDeleteView):
    page_class = OwnTaxesView


# --- tax profiles ------------------------------------------------------------------------------


def may_set_tax_profile(user, account: Account) -> bool:
    """Whether to offer the form: provider staff, or the account's issuer (the service decides)."""
    return is_provider_staff(user) or (
        account.issuer_id is not None and account.issuer_id == user.account_id
    )


def tax_profile_context(request, account: Account, *, form=None) -> dict:
    """The tax profile card of an account's page, for those who may set it."""
    if not may_set_tax_profile(request.user, account):
        return {}
    profile = tax_profiles_visible(user=request.user).filter(account=account).first()
    if form is None:
        initial = (
            {
                "jurisdiction": profile.jurisdiction,
                "exempt": profile.exempt,
                "exemption_number": profile.exemption_number,
            }
            if profile
            else {}
        )
        form = TaxProfileForm(initial=initial)
    return {"tax_profile": profile, "tax_profile_form": form}


class TaxProfileSetView(LoginRequiredMixin, View):
    """POST: set the account's tax profile. Errors come back as a message naming the field."""

    http_method_names = ["post"]
    kind = Account.Kind.RESELLER
    detail_url_name = "reseller_detail"
    provider_panel = True

    def post(self, request, pk: int):
        if self.provider_panel and not is_provider_staff(request.user):
            raise PermissionDenied("The provider control panel is for provider staff.")
        visible = (
            resellers_visible(user=request.user)
            if self.kind == Account.Kind.RESELLER
            else customers_visible(user=request.user)
        )
        account = visible.filter(pk=pk).first()
        if account is None:
            raise Http404("Not found.")
        form = TaxProfileForm(request.POST)
        if form.is_valid():
            try:
                tax_profile_set(account=account, acting_user=request.user, **form.cleaned_data)
            except domain.ApplicationError as exc:
                form_error(form, exc)
            else:
                messages.success(request, f"Tax profile of {account.name} saved.")
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else "Tax profile"
            for error in errors:
                messages.error(request, f"Tax profile not saved. {label}: {error}")
        return redirect(reverse(self.detail_url_name, args=[account.pk]) + "#tax-profile")


class CustomerTaxProfileSetView(TaxProfileSetView):
    kind = Account.Kind.CUSTOMER
    detail_url_name = "customer_detail"


class OwnCustomerTaxProfileSetView(TaxProfileSetView):
    kind = Account.Kind.CUSTOMER
    detail_url_name = "own_customer_detail"
    provider_panel = False
