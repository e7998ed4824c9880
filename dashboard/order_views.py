"""Ordering pages: the catalogue, the basket, the review and submission (end customers, and resale
resellers ordering for themselves); the order page (`order-status`, linked from the emails);
Accept, Cancel and Execute; the provider's orders; the per-customer Order Approval toggle.

Same rules as dashboard/views.py: thin views, one selector or service call each; a lookup out of
the user's scope answers 404, then a user without the role answers 403, then the service decides,
and its ApplicationError (an InvalidOrderTransition too: approving twice, cancelling a completed
order) becomes a message with nothing changed. Today's date is read here, at the edge.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import TemplateView
from django_tables2 import RequestConfig, SingleTableView

from billing.gateway import CardDeclined, GatewayError
from billing.runs import subscription_reactivate
from dashboard import selectors
from dashboard.basket import basket_quantities, basket_save, one_time_submission
from dashboard.confirmations import (
    Confirmation,
    order_action_refusal,
    order_cancel_consequences,
    order_execute_consequences,
    safe_next,
    subscription_cancel_consequences,
    subscription_cancel_refusal,
)
from dashboard.exports import CsvExportMixin
from dashboard.forms import (
    BasketAddForm,
    BasketUpdateForm,
    OrderApprovalForm,
    OrderCorrectForm,
    OrderReviewForm,
    SubscriptionSuspendForm,
)
from dashboard.presentation import (
    correction_message,
    day,
    order_outcome,
    order_status,
    order_status_tone,
    order_submitted_message,
)
from dashboard.submissions import form_error
from dashboard.tables import CatalogueTable, DistributorOrderTable, OrderTable
from orders import services as orders
from orders.models import Order, OrderItem
from orders.quantities import MAX_QUANTITY, quantity_error
from orders.selectors import (
    item_corrected_state,
    order_actions,
    order_status_message_shown,
    sees_credit_side,
    subscription_actions,
)
from resellers import exceptions as domain
from resellers.services import customer_set_order_approval
from resellers.tenancy import is_provider_staff

PER_PAGE = 25


def _or_404(read, **kwargs):
    try:
        return read(**kwargs)
    except ObjectDoesNotExist as exc:
        raise Http404("Not found.") from exc


def _refuse(exc: domain.ApplicationError):
    """A service's PermissionDenied is a 403; anything else it refuses is the caller's message."""
    if isinstance(exc, domain.PermissionDenied):
        raise PermissionDenied(exc.message) from exc


def _next_url(request, default: str) -> str:
    """Where an action returns: the page it was posted from (`next`), if it is on this site."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


# --- the catalogue, the basket and the review --------------------------------------------------


class OrderingMixin(LoginRequiredMixin):
    """Pages of a user who buys: an end customer, or a resale reseller for itself. Provider
    staff and referral resellers (whose customers buy directly) are refused with 403."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.party = selectors.ordering_party(user=request.user)
            if self.party is None:
                raise PermissionDenied("Ordering is for end customers and resale resellers.")
        return super().dispatch(request, *args, **kwargs)

    def basket(self) -> selectors.Basket:
        """The session's basket priced for the party; products that left its catalogue are
        dropped from the session, with a message."""
        session = self.request.session
        basket = selectors.basket_priced(party=self.party, quantities=basket_quantities(session))
        if basket.gone:
            basket_save(session, {line.product.pk: line.quantity for line in basket.lines})
            messages.warning(
                self.request,
                "A product in your basket is no longer in your catalogue; it was removed."
                if len(basket.gone) == 1
                else "Some products in your basket are no longer in your catalogue; they were "
                "removed.",
            )
        return basket


class CatalogueView(OrderingMixin, CsvExportMixin, TemplateView):
    """GET: the party's catalogue at its prices. POST: add a product to the basket."""

    template_name = "dashboard/order_catalogue.html"

    def get_context_data(self, *, add_form=None, **kwargs):
        table = CatalogueTable(selectors.catalogue_rows(party=self.party))
        RequestConfig(self.request, paginate=False).configure(table)
        return super().get_context_data(
            party=self.party,
            table=table,
            basket=self.basket(),
            add_form=add_form,
            max_quantity=MAX_QUANTITY,
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        form = BasketAddForm(
            request.POST, products=selectors.catalogue_products_of(party=self.party)
        )
        if form.is_valid():
            product, quantity = form.cleaned_data["product"], form.cleaned_data["quantity"]
            basket = basket_quantities(request.session)
            total = basket.get(product.pk, 0) + quantity
            if quantity_error(total) is not None:
                form.add_error("quantity", quantity_error(total))
            else:
                basket[product.pk] = total
                basket_save(request.session, basket)
                messages.success(
                    request, f"Added {product.name} to your basket (quantity {quantity})."
                )
                return redirect("order_catalogue")
        return self.render_to_response(self.get_context_data(add_form=form))


class BasketView(OrderingMixin, TemplateView):
    """GET: the basket. POST: new quantities (Update, or Review order: save them and go on to
    the review), or `remove=<product id>` (Remove)."""

    template_name = "dashboard/order_basket.html"

    def get_context_data(self, *, form=None, **kwargs):
        basket = self.basket()
        form = form or BasketUpdateForm(lines=basket.lines)
        return super().get_context_data(party=self.party, basket=basket, form=form, **kwargs)

    def post(self, request, *args, **kwargs):
        basket = self.basket()
        if "remove" in request.POST:
            lines = {str(line.product.pk): line for line in basket.lines}
            removed = lines.pop(request.POST["remove"], None)
            if removed is None:
                messages.error(request, "That product is not in your basket.")
            else:
                basket_save(request.session, {x.product.pk: x.quantity for x in lines.values()})
                messages.success(request, f"Removed {removed.product.name} from your basket.")
            return redirect("basket")
        form = BasketUpdateForm(request.POST, lines=basket.lines)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        basket_save(request.session, form.quantities())
        if "review" in request.POST:
            return redirect("order_review")
        messages.success(request, "Basket updated.")
        return redirect("basket")


class OrderReviewView(OrderingMixin, TemplateView):
    """GET: the items, their prices and total, and the billing information (pre-filled from the
    account's bill-to, else primary, else oldest contact). POST "Submit order": `order_create`
    then `order_submit`, once per rendered form (dashboard.basket.one_time_submission)."""

    template_name = "dashboard/order_review.html"

    def get_context_data(self, *, form=None, basket=None, **kwargs):
        basket = basket or self.basket()
        if form is None:
            contact = selectors.billing_contact(user=self.request.user, account=self.party.account)
            form = OrderReviewForm(
                initial=OrderReviewForm.initial_for(contact, reviewed_total=basket.total)
            )
        return super().get_context_data(party=self.party, basket=basket, form=form, **kwargs)

    def get(self, request, *args, **kwargs):
        basket = self.basket()
        if not basket.lines:
            messages.info(request, "Your basket is empty: add something from the catalogue.")
            return redirect("order_catalogue")
        return self.render_to_response(self.get_context_data(basket=basket))

    def post(self, request, *args, **kwargs):
        form = OrderReviewForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        data = form.cleaned_data
        with one_time_submission(request, data["submission_key"].hex) as submission:
            if submission.order_id is not None:
                messages.info(request, "This order was already submitted.")
                return redirect("order-status", pk=submission.order_id)
            basket = self.basket()
            if not basket.lines:
                messages.error(request, "Your basket is empty: nothing was ordered.")
                return redirect("order_catalogue")
            if basket.gone:  # not what was reviewed: show the review again (the message says why)
                return redirect("order_review")
            try:
                order = orders.order_create(
                    placed_by=request.user,
                    customer=self.party.customer,
                    reseller=self.party.reseller,
                    items=[
                        orders.ItemSpec(product=line.product, quantity=line.quantity)
                        for line in basket.lines
                    ],
                    billing_contact_name=data["billing_contact_name"],
                    billing_contact_email=data["billing_contact_email"],
                    notes=data["notes"],
                    expected_total_amount=data["reviewed_total"],
                )
            except domain.ApplicationError as exc:
                _refuse(exc)
                if data["reviewed_total"] != basket.total:  # review again at today's prices
                    form = OrderReviewForm({**request.POST.dict(), "reviewed_total": basket.total})
                    form.is_valid()
                form.add_error(None, exc.message)
                return self.render_to_response(self.get_context_data(form=form, basket=basket))
            submission.created(order.pk)
        # The chain may call the payment gateway: outside the transaction above.
        try:
            order = orders.order_submit(
                order=order, acting_user=request.user, today=timezone.localdate()
            )
        except domain.ApplicationError as exc:
            _refuse(exc)
            messages.error(request, exc.message)
            return redirect("order-status", pk=order.pk)
        if self.party.customer is not None:
            messages.success(request, order_submitted_message(order))
        else:
            level, text = order_outcome(order, action="submitted")
            messages.add_message(request, level, text)
        return redirect("order-status", pk=order.pk)


# --- orders -----------------------------------------------------------------------------------


class OrderListView(LoginRequiredMixin, CsvExportMixin, SingleTableView):
    """A customer's orders ("My orders"); a reseller's own and its customers' ("Orders")."""

    template_name = "dashboard/order_list.html"
    table_class = OrderTable
    table_pagination = {"per_page": PER_PAGE}

    def dispatch(self, request, *args, **kwargs):
        if is_provider_staff(request.user):
            return redirect("distributor_orders")
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.order_list(user=self.request.user)

    def get_table_kwargs(self):
        account = self.request.user.account
        return {
            "show_costs": account is not None and account.is_reseller,
            "user": self.request.user,
        }

    def get_context_data(self, **kwargs):
        account = self.request.user.account
        heading = "Orders" if account is not None and account.is_reseller else "My orders"
        return super().get_context_data(
            heading=heading, party=selectors.ordering_party(user=self.request.user), **kwargs
        )


class OrderDetailView(LoginRequiredMixin, TemplateView):
    """Seed 004's detailed order view (URL name `order-status`, linked from the emails): number,
    status, date, the actions the user may take, total cost (credit side only) and total amount;
    the items with delivery status, quantity, unit price, discount and total; sub-orders. Totals
    are as charged (orders.selectors.order_charged_totals, as the lists and the API show them).
    The credit side also reads the money held for the order until its daily invoice and, for an
    order unexecuted for lack of credit, the rule and what would work."""

    template_name = "dashboard/order_detail.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        page = _or_404(selectors.order_page, user=user, pk=kwargs["pk"])
        order = page.order
        return super().get_context_data(
            page=page,
            order=order,
            provider_view=is_provider_staff(user),
            status=order_status(order, user=user),
            status_tone=order_status_tone(order, user=user),
            status_message=order_status_message_shown(user=user, order=order),
            actions=order_actions(user=user, order=order),
            **kwargs,
        )


class OrderActionView(LoginRequiredMixin, View):
    """POST one action on an order. 404 out of scope, then `allowed` (403), then the service.

    An action that allows GET (Cancel, Execute) asks first: the GET shows its confirmation page
    (dashboard/confirmations.py), after the same 404 and 403, and changes nothing. Whether the
    action is possible now is `order_actions`, as for the buttons."""

    http_method_names = ["post"]
    verb = ""
    title = button = ""
    tone = "danger"

    def allowed(self, user, order) -> bool:
        return True

    def consequences(self, request, order) -> list[str]:
        return []

    def get(self, request, pk: int):
        user = request.user
        order = _or_404(selectors.order_for_action, user=user, pk=pk)
        if not self.allowed(user, order):
            raise PermissionDenied(f"You cannot {self.verb} this order.")
        staff = is_provider_staff(user)
        possible = self.verb in order_actions(user=user, order=order)
        shown = order_status(order, user=user)
        confirm = Confirmation(
            title=f"{self.title} {order.display_number}?",
            consequences=self.consequences(request, order) if possible else [],
            refusal="" if possible else order_action_refusal(order, verb=self.past, status=shown),
            button=self.button,
            tone=self.tone,
            back_url=safe_next(request, reverse("order-status", args=[order.pk])),
            provider_view=staff,
        )
        return render(request, "dashboard/confirm.html", {"confirm": confirm})

    def act(self, request, order):
        raise NotImplementedError

    def post(self, request, pk: int):
        order = _or_404(selectors.order_for_action, user=request.user, pk=pk)
        if not self.allowed(request.user, order):
            raise PermissionDenied(f"You cannot {self.verb} this order.")
        back = _next_url(request, reverse("order-status", args=[order.pk]))
        try:
            order = self.act(request, order)
        except domain.ApplicationError as exc:
            _refuse(exc)
            messages.error(request, exc.message)
            return redirect(back)
        own = request.user.account_id == order.credit_account_id
        level, text = order_outcome(order, action=self.past, own=own)
        messages.add_message(request, level, text)
        return redirect(back)


class OrderAcceptView(OrderActionView):
    """Seed 004's *Accept order*: the reseller (the account whose credit the order uses)."""

    verb, past = "accept", "accepted"

    def allowed(self, user, order) -> bool:
        return sees_credit_side(user, order)

    def act(self, request, order):
        return orders.order_approve(
            order=order, acting_user=request.user, today=timezone.localdate()
        )


class OrderCancelView(OrderActionView):
    """Seed 004's *Cancel order*. Who may cancel what is `order_cancel`'s rule (the reseller its
    own and its customers' orders, a customer its own before approval, the distributor any)."""

    http_method_names = ["get", "post"]
    verb, past = "cancel", "cancelled"
    title, button = "Cancel order", "Yes, cancel the order"

    def consequences(self, request, order) -> list[str]:
        return order_cancel_consequences(order, show_costs=sees_credit_side(request.user, order))

    def act(self, request, order):
        return orders.order_cancel(order=order, acting_user=request.user)


class OrderExecuteView(OrderActionView):
    """The distributor executes an order submitted for manual execution (provider staff)."""

    http_method_names = ["get", "post"]
    verb, past = "execute", "executed"
    title, button, tone = "Execute order", "Yes, execute the order", "primary"

    def allowed(self, user, order) -> bool:
        return is_provider_staff(user)

    def consequences(self, request, order) -> list[str]:
        return order_execute_consequences(order, today=timezone.localdate())

    def act(self, request, order):
        return orders.order_execute_manually(
            order=order, acting_user=request.user, today=timezone.localdate()
        )


class DistributorOrderListView(LoginRequiredMixin, CsvExportMixin, TemplateView):
    """Provider panel, Billing → Orders: orders submitted to the distributor and orders left
    unexecuted for lack of credit, with Execute and Cancel; below, every order."""

    template_name = "dashboard/distributor_orders.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        if not is_provider_staff(user):
            raise PermissionDenied("The provider control panel is for provider staff.")
        config = RequestConfig(self.request, paginate={"per_page": PER_PAGE})
        return super().get_context_data(
            to_act_on=config.configure(
                DistributorOrderTable(
                    selectors.distributor_orders(user=user), user=user, prefix="todo-"
                )
            ),
            all_orders=config.configure(
                OrderTable(
                    selectors.order_list(user=user), user=user, provider_staff=True, prefix="all-"
                )
            ),
            **kwargs,
        )


# --- the Order Approval toggle ----------------------------------------------------------------


class CustomerOrderApprovalView(LoginRequiredMixin, View):
    """POST: switch a customer's Order Approval toggle (seed 004), from the reseller's page of the
    customer. Only the customer's resale reseller (403 for anyone else who can see it); while the
    reseller pays by card the service refuses, and the message says why."""

    http_method_names = ["post"]

    def post(self, request, pk: int):
        page = _or_404(selectors.customer_page, user=request.user, pk=pk)
        customer = page.account
        if page.approval is None or request.user.account_id != customer.parent_id:
            raise PermissionDenied("Only the customer's reseller switches its order approval.")
        back = reverse("own_customer_detail", args=[customer.pk])
        form = OrderApprovalForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Say whether order approval should be on or off.")
            return redirect(back)
        try:
            customer = customer_set_order_approval(
                customer=customer, required=form.required_value(), acting_user=request.user
            )
        except domain.ApplicationError as exc:
            _refuse(exc)
            messages.error(request, exc.message)
            return redirect(back)
        if customer.order_approval_required:
            text = f"Order approval for {customer.name} is on: its orders wait for your approval."
        else:
            text = (
                f"Order approval for {customer.name} is off: its orders go through without "
                "waiting for you."
            )
        messages.success(request, text)
        return redirect(back)


class SubscriptionCancelView(LoginRequiredMixin, View):
    """POST: cancel a subscription (its holder, its reseller, or staff: `subscription_cancel`'s
    rule). 404 out of scope; a paid subscription runs to the end of its billed period. GET: the
    confirmation page, which says which (after the same 404), and changes nothing."""

    http_method_names = ["get", "post"]

    def get(self, request, pk: int):
        subscription = _or_404(selectors.subscription_for_action, user=request.user, pk=pk)
        possible = "cancel" in subscription_actions(user=request.user, subscription=subscription)
        today = timezone.localdate()
        confirm = Confirmation(
            title=f"Cancel {subscription.product.name} for {subscription.account.name}?",
            consequences=(
                subscription_cancel_consequences(subscription, today=today) if possible else []
            ),
            refusal="" if possible else subscription_cancel_refusal(subscription),
            button="Yes, cancel the subscription",
            back_url=safe_next(request, reverse("home")),
            provider_view=is_provider_staff(request.user),
        )
        return render(request, "dashboard/confirm.html", {"confirm": confirm})

    def post(self, request, pk: int):
        subscription = _or_404(selectors.subscription_for_action, user=request.user, pk=pk)
        back = _next_url(request, reverse("home"))
        try:
            orders.subscription_cancel(
                subscription=subscription, acting_user=request.user, today=timezone.localdate()
            )
        except domain.ApplicationError as exc:
            _refuse(exc)
            messages.error(request, exc.message)
            return redirect(back)
        subscription.refresh_from_db()
        if subscription.status == "cancelled":
            text = f"{subscription.product.name} is cancelled."
        else:
            text = (
                f"{subscription.product.name} is cancelled at the end of the period already "
                f"billed ({day(subscription.next_billing_date)})."
            )
        messages.success(request, text)
        return redirect(back)


class SubscriptionStatusView(LoginRequiredMixin, View):
    """POST: suspend or resume a subscription, from the provider's pages of an account. 404 out
    of scope; who may is the service's rule (provider staff: anyone else gets 403); a transition
    the subscription's status does not allow becomes a message, nothing changed."""

    http_method_names = ["post"]

    def act(self, request, subscription) -> str:
        """Call the service; return the success message."""
        raise NotImplementedError

    def post(self, request, pk: int):
        subscription = _or_404(selectors.subscription_for_action, user=request.user, pk=pk)
        back = _next_url(request, reverse("home"))
        try:
            text = self.act(request, subscription)
        except domain.ApplicationError as exc:
            _refuse(exc)
            messages.error(request, exc.message)
            return redirect(back)
        messages.success(request, text)
        return redirect(back)


class SubscriptionSuspendView(SubscriptionStatusView):
    """Suspend (credit hold, seed 001 §3), with an optional reason kept in the audit log."""

    def act(self, request, subscription) -> str:
        form = SubscriptionSuspendForm(request.POST)
        if not form.is_valid():
            raise domain.ApplicationError("Keep the reason to 300 characters.", field="reason")
        orders.subscription_suspend(
            subscription=subscription,
            acting_user=request.user,
            reason=form.cleaned_data["reason"],
        )
        return f"{subscription.product.name} for {subscription.account.name} is suspended."


class SubscriptionResumeView(SubscriptionStatusView):
    """Reactivate a suspended subscription; the periods it missed while not billed on hold are
    billed at once, in the same transaction (billing.runs.subscription_reactivate)."""

    def act(self, request, subscription) -> str:
        subscription_reactivate(
            subscription=subscription, acting_user=request.user, today=timezone.localdate()
        )
        return f"{subscription.product.name} for {subscription.account.name} is active again."


class OrderCorrectView(LoginRequiredMixin, TemplateView):
    """Seed 001 §4: provider staff correct a completed order from its page. GET: the details as
    they stand (after earlier corrections) with a field each for the corrected unit price, unit
    cost and quantity, and Cancel; POST: `orders.services.order_correct`, then the correcting
    order's page, with what each side was given back or charged. 404 out of scope; 403 for
    anyone but provider staff; an order that is not completed gets the refusal, nothing
    changed."""

    template_name = "dashboard/order_correct.html"

    def _order(self, request, pk: int) -> Order:
        order = _or_404(selectors.order_for_action, user=request.user, pk=pk)
        if not is_provider_staff(request.user):
            raise PermissionDenied("Only provider staff correct orders.")
        return order

    def _form(self, order: Order, data=None) -> OrderCorrectForm:
        items = OrderItem.objects.filter(Q(order=order) | Q(order__parent=order)).select_related(
            "product"
        )
        states = [(item, item_corrected_state(item=item)) for item in items.order_by("pk")]
        return OrderCorrectForm(data, states=states)

    def _page(self, request, order, form, status=200):
        refusal = ""
        if "correct" not in order_actions(user=request.user, order=order):
            refusal = order_action_refusal(
                order, verb="corrected", status=order_status(order, user=request.user)
            )
        return self.render_to_response(
            self.get_context_data(order=order, form=form, refusal=refusal), status=status
        )

    def get(self, request, pk: int):
        order = self._order(request, pk)
        return self._page(request, order, self._form(order))

    def post(self, request, pk: int):
        order = self._order(request, pk)
        form = self._form(order, request.POST)
        if form.is_valid():
            try:
                correction, sides = orders.order_correct(
                    order=order,
                    lines=[orders.CorrectionLine(**line) for line in form.lines()],
                    outcome=form.cleaned_data["outcome"],
                    reason=form.cleaned_data["reason"],
                    acting_user=request.user,
                    today=timezone.localdate(),
                )
            except (CardDeclined, GatewayError) as exc:
                form.add_error(None, f"The payment gateway refused the refund: {exc.message}")
            except domain.ApplicationError as exc:
                form_error(form, exc)
            else:
                messages.success(request, correction_message(order, correction, sides))
                return redirect("order-status", correction.pk)
        return self._page(request, order, form, status=400)
