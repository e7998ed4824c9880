"""Billing runs in the provider control panel (provider staff; anyone else 403, like every
/billing/ page): /billing/runs/ (the runs, newest first, filtered by kind and date, and the form
that starts one) and /billing/runs/<pk>/ (a run's figures, chunks and failures).

Starting a run: the form names the kind (billing date / daily invoicing) and the date (today by
default; a real run may not be for a future date, `billing.runs.run_date_check`). A dry
run (`billing.runs.reports.billing_run_preview`) shows the invoices and lines the run would issue
and writes nothing. A real run calls `billing.runs.run_start` with trigger "panel": its chunks go
to the Celery workers (in this request when Celery runs eagerly), and the page redirects to the
run's page, which refreshes itself while the run is running.

One-time submission tokens: each rendered form carries a token (`submission_key`). The first
POST of a token claims it in the session (under a row lock on the user, reading the session
afresh from its store, as dashboard.basket does for orders) before it starts the run, and
remembers the run it started; a second POST of the same form (a double click, a reload, the back
button) starts nothing and goes to that run. Two runs of one date would issue nothing twice
anyway (billing.runs), but the panel does not start the second.
"""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.generic import TemplateView
from django_tables2 import RequestConfig, SingleTableView

from billing.models import BillingRun
from billing.runs import (
    billing_run_documents,
    billing_run_get,
    billing_run_preview,
    billing_runs_list,
    preview_lines,
    run_date_check,
    run_stalled,
    run_start,
)
from dashboard.access import require_provider_panel
from dashboard.confirmations import Confirmation, billing_run_consequences
from dashboard.exports import CsvExportMixin
from dashboard.presentation import (
    REACTIVATION,
    day,
    run_amounts,
    run_duration,
    run_started_by,
    run_status,
    run_status_tone,
)
from dashboard.submissions import claim, form_error, remember
from dashboard.tables import (
    BillingRunChunkTable,
    BillingRunDocumentTable,
    BillingRunFailureTable,
    BillingRunTable,
)
from resellers import exceptions as domain

PER_PAGE = 25
SUBMISSIONS = "billing_run_submissions"
REFRESH_SECONDS = 5
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class RunStartForm(forms.Form):
    kind = forms.ChoiceField(choices=BillingRun.Kind.choices, label="Run")
    run_date = forms.DateField(
        label="Date",
        widget=DATE_INPUT,
        error_messages={
            "required": "Enter the run's date.",
            "invalid": "Enter a date as YYYY-MM-DD, e.g. 2026-12-01.",
        },
    )
    dry_run = forms.BooleanField(
        required=False,
        label="Dry run: show what it would issue, write nothing",
    )
    # One token per rendered form: a double click or a resubmitted page starts one run.
    submission_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    @staticmethod
    def initial_for(*, today, kind: str = BillingRun.Kind.BILLING) -> dict:
        return {"kind": kind, "run_date": today, "submission_key": uuid.uuid4().hex}


class RunFilterForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[("", "All kinds"), *BillingRun.Kind.choices], required=False, label="Kind"
    )
    run_date = forms.DateField(
        required=False,
        label="Date",
        widget=DATE_INPUT,
        error_messages={"invalid": "Enter a date as YYYY-MM-DD, e.g. 2026-12-01."},
    )


class BillingRunListView(LoginRequiredMixin, CsvExportMixin, SingleTableView):
    """GET: the runs, newest first, paged, filtered by kind and date (`?kind=`, `?run_date=`),
    with the form that starts one. POST: that form (a dry run, or a real run)."""

    template_name = "dashboard/billing_runs.html"
    table_class = BillingRunTable
    table_pagination = {"per_page": PER_PAGE}

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            require_provider_panel(request.user)
        return super().dispatch(request, *args, **kwargs)

    def filter_form(self) -> RunFilterForm:
        if not hasattr(self, "_filter_form"):
            self._filter_form = RunFilterForm(self.request.GET or None)
        return self._filter_form

    def get_queryset(self):
        form = self.filter_form()
        filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
        return billing_runs_list(
            user=self.request.user,
            kind=filters.get("kind") or "",
            run_date=filters.get("run_date"),
        )

    def get_table_kwargs(self):
        return {"now": timezone.now()}

    def get_context_data(self, *, start_form=None, **kwargs):
        start_form = start_form or RunStartForm(
            initial=RunStartForm.initial_for(today=timezone.localdate())
        )
        return super().get_context_data(
            filter_form=self.filter_form(), start_form=start_form, **kwargs
        )

    def _again(self, form, status: int = 200):
        self.object_list = self.get_queryset()
        return self.render_to_response(self.get_context_data(start_form=form), status=status)

    def _not_a_real_run(self, form):
        """The answer when `form` starts no real run: the form again with its errors (a date in
        the future among them), or the dry run it asks for; None when a real run may start."""
        if not form.is_valid():
            return self._again(form)
        if form.cleaned_data["dry_run"]:
            return self._dry_run(form)
        try:
            run_date_check(form.cleaned_data["run_date"], today=timezone.localdate())
        except domain.ApplicationError as exc:
            form_error(form, exc)
            return self._again(form)
        return None

    def post(self, request, *args, **kwargs):
        form = RunStartForm(request.POST)
        refused = self._not_a_real_run(form)
        if refused is not None:
            return refused
        data = form.cleaned_data
        key = data["submission_key"]
        claimed, run_id = claim(request, SUBMISSIONS, key)
        if not claimed:
            if run_id is None:
                messages.info(request, "That form was already sent: its run is starting.")
                return redirect("billing_runs")
            messages.info(request, f"That form was already sent: it started run #{run_id}.")
            return redirect("billing_run_detail", pk=run_id)
        try:
            run = run_start(
                run_date=data["run_date"],
                kind=data["kind"],
                trigger="panel",
                acting_user=request.user,
            )
        except domain.ApplicationError as exc:
            remember(request, SUBMISSIONS, key, None)
            form_error(form, exc)
            return self._again(form)
        except Exception:
            remember(request, SUBMISSIONS, key, None)
            raise
        remember(request, SUBMISSIONS, key, run.pk)
        messages.success(
            request, f"Started run #{run.pk}: {run.get_kind_display()} for {day(run.run_date)}."
        )
        return redirect("billing_run_detail", pk=run.pk)

    def _dry_run(self, form):
        data = form.cleaned_data
        try:
            preview = billing_run_preview(kind=data["kind"], run_date=data["run_date"])
        except domain.ApplicationError as exc:
            form_error(form, exc)
            return self._again(form)
        # The page offers to start the same run for real, with a fresh token.
        start = RunStartForm(initial=RunStartForm.initial_for(today=data["run_date"]))
        return render(
            self.request,
            "dashboard/billing_run_preview.html",
            {
                "preview": preview,
                "invoices": [
                    (invoice, preview.issuers.get(invoice.issuer_id, ""), preview_lines(invoice))
                    for invoice in preview.invoices
                ],
                "amounts": run_amounts({c: str(t) for c, t in preview.amounts.items()}),
                "kind_label": BillingRun.Kind(data["kind"]).label,
                "start_form": start,
                "may_start": data["run_date"] <= timezone.localdate(),
            },
        )


class BillingRunStartView(BillingRunListView):
    """/billing/runs/start/: the Run button of the runs page (and Run again on a run's page) is
    a GET here. A dry run is shown at once (it writes nothing); a real run gets its confirmation
    page (the date, that it issues invoices, a link to the dry run), whose form POSTs here and
    starts it exactly as a POST to /billing/runs/ does. An invalid form shows the runs page with
    its errors."""

    def filter_form(self) -> RunFilterForm:
        return RunFilterForm(None)  # the query string is the start form's, not a filter

    def get(self, request, *args, **kwargs):
        if not request.GET:
            return redirect("billing_runs")
        form = RunStartForm(request.GET)
        refused = self._not_a_real_run(form)
        if refused is not None:
            return refused
        data = form.cleaned_data
        kind, run_date = data["kind"], data["run_date"]
        label = BillingRun.Kind(kind).label
        iso = run_date.isoformat()  # the form's and the link's; people read `day(run_date)`
        dry_run = f"{reverse('billing_run_start')}?kind={kind}&run_date={iso}&dry_run=on"
        confirm = Confirmation(
            title=f"Start the {label.lower()} run for {day(run_date)}?",
            facts=[("Run", label), ("Date", day(run_date))],
            consequences=billing_run_consequences(kind=kind, run_date=run_date),
            links=[("Make a dry run first: see what it would issue, writing nothing", dry_run)],
            button="Yes, start the run",
            tone="primary",
            back_url=reverse("billing_runs"),
            hidden={"kind": kind, "run_date": iso, "submission_key": data["submission_key"]},
            provider_view=True,
        )
        return render(request, "dashboard/confirm.html", {"confirm": confirm})


class BillingRunDetailView(LoginRequiredMixin, CsvExportMixin, TemplateView):
    """A run: its figures, the invoices it issued (paged), its chunks' reports and its failures.
    Refreshes itself every few seconds while it runs; a run whose chunks stopped reporting reads
    "stalled / interrupted", with the hint to run the date again. A finished run that found
    nothing due says so instead of showing empty chunks."""

    template_name = "dashboard/billing_run_detail.html"

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        if context["running"]:
            response["Refresh"] = str(REFRESH_SECONDS)  # reload until the run finishes
        return response

    def get_context_data(self, **kwargs):
        require_provider_panel(self.request.user)
        try:
            run = billing_run_get(user=self.request.user, pk=kwargs["pk"])
        except ObjectDoesNotExist as exc:
            raise Http404("Not found.") from exc
        stalled = run_stalled(run, now=timezone.now())
        running = run.status == BillingRun.Status.RUNNING and not stalled
        config = RequestConfig(self.request, paginate={"per_page": PER_PAGE})
        failures = list(run.failures.all())
        documents = billing_run_documents(user=self.request.user, run=run)
        return super().get_context_data(
            run=run,
            stalled=stalled,
            running=running,
            nothing_due=run.chunks_total == 0 and run.status != BillingRun.Status.RUNNING,
            reactivation=run.trigger == REACTIVATION,
            started_by=run_started_by(run),
            refresh_seconds=REFRESH_SECONDS,
            status_text=run_status(run, stalled=stalled),
            status_tone=run_status_tone(run, stalled=stalled),
            duration=run_duration(run.duration),
            amounts=run_amounts(run.amounts),
            documents_table=config.configure(
                BillingRunDocumentTable(documents, prefix="doc-", as_of=timezone.localdate())
            ),
            chunks_table=config.configure(BillingRunChunkTable(run.chunks.all(), prefix="chunk-")),
            failures_table=config.configure(BillingRunFailureTable(failures, prefix="fail-")),
            failures_count=len(failures),
            retry_form=RunStartForm(
                initial={
                    **RunStartForm.initial_for(today=run.run_date),
                    "kind": run.kind,
                }
            ),
            **kwargs,
        )
