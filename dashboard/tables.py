"""Tables of the panels. `PanelTable` sets the template and CSS once; every table subclasses it
(and its Meta)."""

from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils import timezone

from dashboard.presentation import document_open_amount, document_status, money

NUM = {"th": {"class": "num"}, "td": {"class": "num"}}


class PanelTable(tables.Table):
    class Meta:
        template_name = "dashboard/table.html"
        attrs = {"class": "panel-table"}
        empty_text = "Nothing to show."


class MoneyColumn(tables.Column):
    """An amount in its record's currency, right-aligned."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("attrs", NUM)
        super().__init__(*args, **kwargs)

    def render(self, value, record):
        return money(value, record.currency)


class ResellerTable(PanelTable):
    name = tables.Column(
        linkify=lambda record: reverse("reseller_detail", args=[record.pk]), verbose_name="Name"
    )
    reseller_code = tables.Column(verbose_name="Code")
    reseller_model = tables.Column(verbose_name="Model")
    credit_terms = tables.Column(verbose_name="Credit terms")
    credit_limit = MoneyColumn(verbose_name="Credit limit")
    daily_invoicing = tables.Column(verbose_name="Daily invoicing")
    credit_hold = tables.BooleanColumn(verbose_name="Credit hold", yesno="On hold,")
    status = tables.Column()

    class Meta(PanelTable.Meta):
        order_by = ("name",)

    def render_credit_limit(self, value, record):
        return money(value, record.currency) if record.is_net_terms else "None (prepaid)"


class CustomerTable(PanelTable):
    """The provider's list of end customers."""

    name = tables.Column(linkify=lambda record: reverse("customer_detail", args=[record.pk]))
    parent = tables.Column(verbose_name="Reseller", order_by=("parent__name",))
    status = tables.Column()
    credit_terms = tables.Column(verbose_name="Credit terms")
    created_at = tables.DateColumn(verbose_name="Signed up", format="Y-m-d")

    class Meta(PanelTable.Meta):
        order_by = ("name",)

    def render_parent(self, value, record):
        return "Direct" if value.is_provider else value.name


class OwnCustomerTable(PanelTable):
    """A reseller's customers: account details only (name, status, sign-up date)."""

    name = tables.Column(
        linkify=lambda record: reverse("own_customer_detail", args=[record.pk]),
    )
    status = tables.Column()
    created_at = tables.DateColumn(verbose_name="Signed up", format="Y-m-d")

    class Meta(PanelTable.Meta):
        order_by = ("name",)


class DocumentTable(PanelTable):
    """AR documents with their open amounts. Outside the provider panel a credit memo reads
    closed (seed 002); pass `provider_view=True` for the provider's own view."""

    number = tables.Column(
        verbose_name="Number",
        linkify=lambda record: reverse("document_detail", args=[record.pk]),
        order_by=("doc_type", "number"),
    )
    doc_type = tables.Column(verbose_name="Type")
    issuer = tables.Column(verbose_name="Issuer", order_by=("issuer__name",))
    issue_date = tables.DateColumn(verbose_name="Issued", format="Y-m-d")
    due_date = tables.DateColumn(verbose_name="Due", format="Y-m-d")
    status = tables.Column()
    total = MoneyColumn(verbose_name="Total")
    open_amount = MoneyColumn(verbose_name="Open amount")

    class Meta(PanelTable.Meta):
        order_by = ("-issue_date",)
        empty_text = "No documents."

    def __init__(self, *args, provider_view: bool = False, as_of=None, **kwargs):
        self.provider_view = provider_view
        self.as_of = as_of or timezone.localdate()  # the view's clock: "overdue" is as of today
        super().__init__(*args, **kwargs)

    def render_number(self, record):
        return record.display_number

    def render_status(self, record):
        return document_status(record, provider_view=self.provider_view, as_of=self.as_of)

    def render_open_amount(self, record):
        return document_open_amount(record, provider_view=self.provider_view)
