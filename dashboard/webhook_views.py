"""Webhooks in the provider control panel (provider staff; anyone else 403, like every /billing/
page), issue 13, item 7:

- /billing/webhooks/: the endpoints (URL, events, active, pending and failed deliveries) and the
  form that registers one. A new endpoint's page then shows its signing secret once.
- /billing/webhooks/<pk>/: edit its URL, events, description and whether it is active; POST
  .../secret/ shows the secret again; .../rotate-secret/ and .../deactivate/ ask first (GET)
  and do it (POST).
- /billing/webhooks/<pk>/deliveries/: its delivery log, newest first (?status=, ?event=):
  event, account, status, attempts, last answer or error, when; a failed one has *Send again*
  (POST .../deliveries/<delivery_pk>/resend/). .../deliveries/<delivery_pk>/ shows what it sends
  and each attempt.

The rules are billing.webhooks' (the API calls the same services); their refusals are form
errors, or messages for the buttons.
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View
from django.views.generic import FormView, TemplateView
from django_tables2 import RequestConfig

from billing.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from billing.webhooks import (
    HEADER_ATTEMPT,
    HEADER_EVENT,
    HEADER_ID,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    webhook_attempts,
    webhook_deliveries,
    webhook_delivery_get,
    webhook_delivery_resend,
    webhook_endpoint_create,
    webhook_endpoint_deactivate,
    webhook_endpoint_get,
    webhook_endpoint_update,
    webhook_endpoints_visible,
    webhook_secret_rotate,
)
from dashboard.account_views import ProviderPanelMixin
from dashboard.confirmations import Confirmation
from dashboard.submissions import form_error
from dashboard.tables import WebhookAttemptTable, WebhookDeliveryTable, WebhookEndpointTable
from resellers import exceptions as domain

PER_PAGE = 25
# The session key that says "show this endpoint's secret once" (right after it is registered
# or rotated): the flag is kept, never the secret.
SHOW_SECRET = "webhook_show_secret"
HEADERS = [HEADER_ID, HEADER_EVENT, HEADER_ATTEMPT, HEADER_TIMESTAMP, HEADER_SIGNATURE]


class WebhookEndpointForm(forms.Form):
    url = forms.CharField(
        max_length=500,
        label="URL",
        help_text="HTTPS only, e.g. https://erp.example.com/billing-webhooks "
        "(a loopback address, over HTTP too, only with DEBUG on, for local testing).",
        widget=forms.URLInput(attrs={"placeholder": "https://", "autocomplete": "off"}),
    )
    events = forms.MultipleChoiceField(
        choices=WebhookEvent.choices,
        widget=forms.CheckboxSelectMultiple,
        label="Events",
        error_messages={"required": "Choose at least one event."},
    )
    description = forms.CharField(
        max_length=200, required=False, label="Description", help_text="What receives it."
    )
    is_active = forms.BooleanField(required=False, label="Active", initial=True)

    @staticmethod
    def initial_for(endpoint: WebhookEndpoint) -> dict:
        return {
            "url": endpoint.url,
            "events": endpoint.events,
            "description": endpoint.description,
            "is_active": endpoint.is_active,
        }


class DeliveryFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("", "Any status"), *WebhookDelivery.Status.choices],
        required=False,
        label="Status",
    )
    event = forms.ChoiceField(
        choices=[("", "Any event"), *WebhookEvent.choices], required=False, label="Event"
    )


class EndpointMixin(ProviderPanelMixin):
    """Looks the endpoint up (404 when there is none), once the user may see the panel."""

    def endpoint(self) -> WebhookEndpoint:
        if not hasattr(self, "_endpoint"):
            try:
                self._endpoint = webhook_endpoint_get(user=self.request.user, pk=self.kwargs["pk"])
            except WebhookEndpoint.DoesNotExist as exc:
                raise Http404("No such webhook endpoint.") from exc
        return self._endpoint


class WebhookListView(ProviderPanelMixin, FormView):
    """The endpoints (GET) and registering one (POST)."""

    template_name = "dashboard/webhooks.html"
    form_class = WebhookEndpointForm

    def get_initial(self):
        return {"is_active": True}

    def get_context_data(self, **kwargs):
        table = WebhookEndpointTable(
            webhook_endpoints_visible(user=self.request.user), prefix="hook-"
        )
        RequestConfig(self.request, paginate={"per_page": PER_PAGE}).configure(table)
        return super().get_context_data(table=table, events=WebhookEvent.choices, **kwargs)

    def form_valid(self, form):
        try:
            endpoint = webhook_endpoint_create(acting_user=self.request.user, **form.cleaned_data)
        except domain.ApplicationError as exc:
            form_error(form, exc)
            return self.form_invalid(form)
        self.request.session[SHOW_SECRET] = endpoint.pk
        messages.success(self.request, f"Webhook endpoint {endpoint.url} registered.")
        return redirect("webhook_edit", pk=endpoint.pk)


class WebhookEditView(EndpointMixin, FormView):
    """An endpoint: edit it; its secret (shown once after it is made or rotated, and on
    request); links to its delivery log, rotating its secret and deactivating it."""

    template_name = "dashboard/webhook_edit.html"
    form_class = WebhookEndpointForm

    def get_initial(self):
        return WebhookEndpointForm.initial_for(self.endpoint())

    def get_context_data(self, *, show_secret: bool = False, **kwargs):
        endpoint = self.endpoint()
        fresh = self.request.session.get(SHOW_SECRET) == endpoint.pk
        if fresh:
            del self.request.session[SHOW_SECRET]
        return super().get_context_data(
            endpoint=endpoint,
            secret=endpoint.secret if (show_secret or fresh) else None,
            fresh_secret=fresh,
            headers=HEADERS,
            **kwargs,
        )

    def form_valid(self, form):
        try:
            updated = webhook_endpoint_update(
                endpoint=self.endpoint(), acting_user=self.request.user, **form.cleaned_data
            )
        except domain.ApplicationError as exc:
            form_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"Webhook endpoint {updated.url} saved.")
        return redirect("webhook_edit", pk=updated.pk)


class WebhookSecretView(WebhookEditView):
    """POST: the endpoint's page with its secret shown (never in a URL, never cached as a GET
    page would be)."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        form = WebhookEndpointForm(initial=self.get_initial())
        response = self.render_to_response(self.get_context_data(form=form, show_secret=True))
        response["Cache-Control"] = "no-store"
        return response


class WebhookRotateSecretView(EndpointMixin, View):
    """GET asks (what rotating does to the receiver); POST rotates and shows the new secret."""

    def get(self, request, pk: int):
        endpoint = self.endpoint()
        confirm = Confirmation(
            title=f"Rotate the secret of {endpoint.url}?",
            facts=[("Endpoint", endpoint.url)],
            consequences=[
                "A new secret is made, and every delivery from now on is signed with it, "
                "retries of earlier events included.",
                "The receiver must check signatures with the new secret: until it does, it "
                "will refuse what it receives. Deliveries it refuses are retried, then fail; "
                "send them again from the delivery log.",
            ],
            button="Yes, rotate the secret",
            back_url=reverse("webhook_edit", args=[endpoint.pk]),
            provider_view=True,
        )
        return render(request, "dashboard/confirm.html", {"confirm": confirm})

    def post(self, request, pk: int):
        endpoint = webhook_secret_rotate(endpoint=self.endpoint(), acting_user=request.user)
        request.session[SHOW_SECRET] = endpoint.pk
        messages.success(request, "A new secret was made: give it to the receiver.")
        return redirect("webhook_edit", pk=endpoint.pk)


class WebhookDeactivateView(EndpointMixin, View):
    """GET asks; POST deactivates (the endpoint stays, with its log; Active turns it on)."""

    def get(self, request, pk: int):
        endpoint = self.endpoint()
        pending = endpoint.pending_count
        consequences = ["No new event is sent to it."]
        if pending:
            noun = "delivery" if pending == 1 else "deliveries"
            consequences.append(f"Its {pending} pending {noun} will fail at their next attempt.")
        consequences.append(
            "It stays listed, with its delivery log; tick Active on its page to turn it on again."
        )
        confirm = Confirmation(
            title=f"Deactivate {endpoint.url}?",
            facts=[("Endpoint", endpoint.url), ("Pending deliveries", str(pending))],
            consequences=consequences,
            button="Yes, deactivate it",
            back_url=reverse("webhook_edit", args=[endpoint.pk]),
            refusal="" if endpoint.is_active else "This endpoint is already inactive.",
            provider_view=True,
        )
        return render(request, "dashboard/confirm.html", {"confirm": confirm})

    def post(self, request, pk: int):
        endpoint = webhook_endpoint_deactivate(endpoint=self.endpoint(), acting_user=request.user)
        messages.success(request, f"Webhook endpoint {endpoint.url} deactivated.")
        return redirect("webhooks")


class WebhookDeliveriesView(EndpointMixin, TemplateView):
    """An endpoint's delivery log, newest first, filtered by status and event."""

    template_name = "dashboard/webhook_deliveries.html"

    def get_context_data(self, **kwargs):
        endpoint = self.endpoint()
        filters = DeliveryFilterForm(self.request.GET or None)
        chosen = filters.cleaned_data if filters.is_bound and filters.is_valid() else {}
        rows = webhook_deliveries(
            endpoint=endpoint, status=chosen.get("status", ""), event=chosen.get("event", "")
        )
        table = WebhookDeliveryTable(rows, endpoint=endpoint)
        RequestConfig(self.request, paginate={"per_page": PER_PAGE}).configure(table)
        return super().get_context_data(endpoint=endpoint, filters=filters, table=table, **kwargs)


class WebhookDeliveryDetailView(EndpointMixin, TemplateView):
    """One delivery: what it sends, and each attempt."""

    template_name = "dashboard/webhook_delivery.html"

    def get_context_data(self, **kwargs):
        endpoint = self.endpoint()
        try:
            delivery = webhook_delivery_get(endpoint=endpoint, pk=kwargs["delivery_pk"])
        except WebhookDelivery.DoesNotExist as exc:
            raise Http404("No such delivery.") from exc
        attempts = WebhookAttemptTable(webhook_attempts(delivery=delivery))
        return super().get_context_data(
            endpoint=endpoint,
            delivery=delivery,
            attempts=attempts,
            data_json=json.dumps(delivery.data, indent=2, ensure_ascii=False),
            **kwargs,
        )


class WebhookResendView(EndpointMixin, View):
    """POST: send a failed delivery again; back to where the button was."""

    def post(self, request, pk: int, delivery_pk: int):
        endpoint = self.endpoint()
        try:
            delivery = webhook_delivery_get(endpoint=endpoint, pk=delivery_pk)
        except WebhookDelivery.DoesNotExist as exc:
            raise Http404("No such delivery.") from exc
        try:
            webhook_delivery_resend(delivery=delivery, acting_user=request.user)
        except domain.ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                f"{delivery.get_event_display()} ({delivery.event_id}) is being sent again.",
            )
        back = reverse("webhook_deliveries", args=[endpoint.pk])
        target = request.POST.get("next", "")
        return redirect(target if target.startswith(back) else back)
