"""Tables of the panels. `PanelTable` sets the template and CSS once; every table subclasses it
(and its Meta)."""

from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django_tables2.data import TableData
from django_tables2.paginators import LazyPaginator

from billing.document_layout import period
from billing.runs import run_stalled
from dashboard.presentation import (
    DASH,
    day,
    document_open_amount,
    document_status,
    moment,
    money,
    order_status,
    order_status_tone,
    percent,
    run_amounts,
    run_duration,
    run_started_by,
    run_status,
    run_status_tone,
    tax_rate_percent,
    unit_money,
)
from orders.selectors import order_charged_totals

NUM = {"th": {"class": "num"}, "td": {"class": "num"}}


class PanelTable(tables.Table):
    class Meta:
        template_name = "dashboard/table.html"
        attrs = {"class": "panel-table"}
        empty_text = "Nothing to show."

    @property
    def count_known(self) -> bool:
        """Whether the pager knows how many rows there are in all (a LazyPaginator runs no count
        query: it knows only whether there is a next page)."""
        return not isinstance(getattr(self, "paginator", None), LazyPaginator)


class MoneyColumn(tables.Column):
    """An amount in its record's currency, right-aligned."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("attrs", NUM)
        super().__init__(*args, **kwargs)

    def render(self, value, record):
        return money(value, record.currency)


class ChargedTotalColumn(MoneyColumn):
    """An order's total cost (`side="cost"`) or total amount as charged, the API's figure
    (orders.selectors.order_charged_totals): an executed order whose first period was co-termed
    with its holder's cycle shows the prorated part it was charged, not a whole period. Sorted
    by the stored total."""

    def __init__(self, *args, side: str, **kwargs):
        self.side = side
        super().__init__(*args, **kwargs)

    def render(self, value, record):
        return money(getattr(order_charged_totals(record), self.side), record.currency)


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
    created_at = tables.DateColumn(verbose_name="Signed up")

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
    created_at = tables.DateColumn(verbose_name="Signed up")

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
    issue_date = tables.DateColumn(verbose_name="Issued")
    due_date = tables.DateColumn(verbose_name="Due")
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


# --- the wallet --------------------------------------------------------------------------------


class OpenDocumentTable(DocumentTable):
    """A wallet's open invoices and debit memos in the order they are paid, oldest due first
    (as its selector gives them: not sortable), an overdue one marked (its row's class and its
    status)."""

    class Meta(DocumentTable.Meta):
        order_by = ()
        orderable = False
        exclude = ("issuer",)
        sequence = ("number", "doc_type", "issue_date", "due_date", "status", "total", "...")
        row_attrs = {
            "data-document": lambda record: record.pk,
            "class": lambda record, table: (
                "overdue" if record.is_overdue(as_of=table.as_of) else ""
            ),
        }
        empty_text = "Nothing is open."


class PagedRows(TableData):
    """Table data counted and sliced in SQL and built a page at a time: `keys` (an ordered
    QuerySet of any shape, e.g. a UNION) is what the paginator counts and slices; `build(keys)`
    turns a slice of it into the rows shown. For lists that are not one model's QuerySet (the
    wallet's transactions), so a page never loads the rest. Not sortable."""

    def __init__(self, keys, *, build):
        super().__init__(keys)
        self.build = build
        self._length: int | None = None

    def __len__(self) -> int:
        if self._length is None:
            self._length = self.data.count()
        return self._length

    def __getitem__(self, key):
        if isinstance(key, slice):
            return self.build(self.data[key])
        return self.build(self.data[key : key + 1])[0]

    def __iter__(self):
        return iter(self.build(self.data))

    def order_by(self, aliases) -> None:
        """The keys keep their own order (the table's columns are not orderable)."""


TRANSACTION_KINDS = {
    "payment": "Payment",
    "credit_memo": "Credit memo",
    "refund": "Refund",
    "application": "Applied",
}


def _document_link(document):
    return format_html(
        '<a href="{}">{}</a>',
        reverse("document_detail", args=[document.pk]),
        document.display_number,
    )


class WalletTransactionTable(PanelTable):
    """A wallet's transactions (billing.selectors.AccountTransaction rows, newest first): the
    payments, credit memos and refunds the account received, and each application of a credit
    document to one of its debit documents, an unlinked one marked so. `Unapplied`: what of a
    payment is still credit balance (a credit memo reads closed outside the provider panel,
    seed 002)."""

    on_date = tables.DateColumn(verbose_name="Date")
    kind = tables.Column(verbose_name="Transaction", empty_values=())
    document = tables.Column(verbose_name="Document", empty_values=())
    details = tables.Column(verbose_name="Details", empty_values=())
    amount = MoneyColumn(verbose_name="Amount", empty_values=())
    unapplied = tables.Column(verbose_name="Unapplied", attrs=NUM, empty_values=())

    class Meta(PanelTable.Meta):
        orderable = False
        empty_text = "No transactions yet."
        row_attrs = {
            "data-transaction": lambda record: record.key,
            "class": lambda record: (
                "unlinked"
                if record.application is not None and record.application.unapplied_at
                else ""
            ),
        }

    def __init__(self, data, *, provider_view: bool = False, **kwargs):
        self.provider_view = provider_view
        super().__init__(data, **kwargs)

    def render_kind(self, record):
        label = TRANSACTION_KINDS[record.kind]
        if record.application is not None and record.application.unapplied_at:
            return format_html('{} <span class="badge muted">Unlinked</span>', label)
        return label

    def render_document(self, record):
        if record.application is not None:
            return format_html(
                "{} to {}",
                _document_link(record.application.credit_document),
                _document_link(record.application.debit_document),
            )
        return _document_link(record.document)

    def render_details(self, record):
        if record.application is not None:
            application = record.application
            if application.unapplied_at:
                return f"Unlinked {moment(application.unapplied_at)}"
            return f"Applied {moment(application.applied_at)}"
        document = record.document
        parts = [str(document.payment_method)] if document.payment_method_id else []
        parts += [document.reference] if document.reference else []
        return " · ".join(parts) or DASH

    def render_unapplied(self, record):
        document = record.document
        if document is None or document.doc_type == "refund":
            return DASH
        return document_open_amount(document, provider_view=self.provider_view)


# --- orders and subscriptions -------------------------------------------------------------------


def _order_link(record) -> str:
    return reverse("order-status", args=[record.pk])


def order_number_html(record):
    """The order's number, linking to its page; a sub-order also links the order it is part of."""
    link = format_html('<a href="{}">{}</a>', _order_link(record), record.display_number)
    if record.parent_id:
        parent = reverse("order-status", args=[record.parent_id])
        return format_html(
            '{}<span class="part-of">part of <a href="{}">{}</a></span>',
            link,
            parent,
            f"SO-{record.parent_id:06d}",
        )
    return link


class OrderColumn(tables.Column):
    def __init__(self, **kwargs):
        kwargs.setdefault("verbose_name", "Order")
        kwargs.setdefault("order_by", ("id",))
        kwargs.setdefault("accessor", "pk")
        super().__init__(**kwargs)

    def render(self, record):
        return order_number_html(record)


class OrderStatusColumn(tables.Column):
    """The status as the table's viewer reads it (`order_status`), as a badge."""

    def __init__(self, **kwargs):
        kwargs.setdefault("verbose_name", "Status")
        super().__init__(**kwargs)

    def render(self, record, table):
        return format_html(
            '<span class="badge {}">{}</span>',
            order_status_tone(record, user=table.user),
            order_status(record, user=table.user),
        )


ACTIONS_COLUMN = {
    "template_name": "dashboard/_order_actions.html",
    "verbose_name": "Actions",
    "orderable": False,
    "attrs": {"td": {"class": "row-actions"}},
}


class OrderTable(PanelTable):
    """Orders with their shown status. `show_costs=False` for a customer's list: no Total Cost
    or Customer column. Each status is shown as `order_status` says for the viewer (`user`): the
    real one on the order's credit side (orders.workflow.sees_credit_side). Provider staff also
    get the Reseller column."""

    number = OrderColumn()
    credit_account = tables.Column(verbose_name="Reseller", order_by=("credit_account__name",))
    customer = tables.Column(verbose_name="Customer", order_by=("customer__name",), default="")
    submitted_at = tables.DateTimeColumn(verbose_name="Order Date", format="SHORT_DATE_FORMAT")
    status = OrderStatusColumn()
    total_cost = ChargedTotalColumn(verbose_name="Total Cost", side="cost")
    total_amount = ChargedTotalColumn(verbose_name="Total Amount", side="amount")

    class Meta(PanelTable.Meta):
        order_by = ("-submitted_at",)
        empty_text = "No orders."

    def __init__(
        self,
        *args,
        user,
        show_costs: bool = True,
        provider_staff: bool = False,
        **kwargs,
    ):
        self.user = user
        exclude = list(kwargs.pop("exclude", ()))
        if not show_costs:
            exclude += ["total_cost", "customer"]
        if not provider_staff:
            exclude.append("credit_account")
        super().__init__(*args, exclude=exclude, **kwargs)

    def render_credit_account(self, value):
        return value.name if value.is_reseller else "—"


class DistributorOrderTable(OrderTable):
    """The provider's orders to act on: Execute (submitted for manual execution) and Cancel."""

    actions = tables.TemplateColumn(
        **ACTIONS_COLUMN, extra_context={"execute": True, "cancel": True}
    )

    class Meta(OrderTable.Meta):
        order_by = ("submitted_at",)
        empty_text = "No orders wait for the distributor."

    def __init__(self, *args, **kwargs):
        # what the distributor acts on is the reseller's cost: no Total Amount column here
        kwargs["exclude"] = [*kwargs.get("exclude", ()), "total_amount"]
        super().__init__(*args, provider_staff=True, **kwargs)


class OrderWidgetTable(PanelTable):
    """Seed 004's *Submitted Orders Pending Approval* and *Unexecuted Orders Due to Insufficient
    Credit*: Order, Customer (blank for the reseller's own), Order Date, Total Cost, Total
    Amount, Actions (Accept order, Cancel order). In the first, an order the reseller accepted
    that then lacked credit is marked so under its number."""

    number = OrderColumn()
    customer = tables.Column(verbose_name="Customer", order_by=("customer__name",), default="")
    submitted_at = tables.DateTimeColumn(verbose_name="Order Date", format="SHORT_DATE_FORMAT")
    total_cost = ChargedTotalColumn(verbose_name="Total Cost", side="cost")
    total_amount = ChargedTotalColumn(verbose_name="Total Amount", side="amount")
    actions = tables.TemplateColumn(
        **ACTIONS_COLUMN, extra_context={"accept": True, "cancel": True}
    )

    class Meta(PanelTable.Meta):
        order_by = ("-submitted_at",)

    def __init__(self, *args, mark_unexecuted: bool = False, **kwargs):
        self.mark_unexecuted = mark_unexecuted
        super().__init__(*args, **kwargs)

    def render_number(self, record):
        number = order_number_html(record)
        if self.mark_unexecuted and record.status == "unexecuted_credit":
            return format_html(
                '{}<span class="part-of">accepted; not executed: insufficient credit</span>',
                number,
            )
        return number


class OrderPendingPaymentTable(OrderWidgetTable):
    """Orders waiting for a payment (status *Pending*: seed 004's active-token check or a card
    the gateway refused), with why: Order, Customer, Order Date, Total Cost, Total Amount, Why,
    Actions (Accept order charges the card again; Cancel order). A sub-order names its order."""

    reason = tables.Column(
        verbose_name="Why", accessor="status_message", orderable=False, default=""
    )

    class Meta(OrderWidgetTable.Meta):
        sequence = (
            "number", "customer", "submitted_at", "total_cost", "total_amount", "reason", "actions",
        )  # fmt: skip

    def render_number(self, record):
        number = order_number_html(record)
        if record.parent_id is not None:
            return format_html(
                '{}<span class="part-of">part of {}</span>', number, record.parent.display_number
            )
        return number


class SubscriptionTable(PanelTable):
    product = tables.Column(verbose_name="Product", order_by=("product__name",))
    quantity = tables.Column(verbose_name="Quantity", attrs=NUM)
    status = tables.Column(verbose_name="Status")
    billing_period = tables.Column(verbose_name="Billing period")
    start_date = tables.DateColumn(verbose_name="Since")
    next_billing_date = tables.DateColumn(verbose_name="Next billing date")
    actions = tables.TemplateColumn(
        template_name="dashboard/_subscription_actions.html",
        verbose_name="",
        orderable=False,
        empty_values=(),
    )

    class Meta(PanelTable.Meta):
        order_by = ("product",)
        empty_text = "No subscriptions."

    def render_status(self, record):
        if record.trial_end_date and record.status == "trial":
            return f"Trial until {day(record.trial_end_date)}"
        return record.get_status_display()


class CatalogueTable(PanelTable):
    """The party's catalogue at its prices, each row with an Add to basket form."""

    name = tables.Column(verbose_name="Product", accessor="product__name")
    product_type = tables.Column(verbose_name="Type", accessor="product")
    billing_type = tables.Column(verbose_name="Billing", accessor="product")
    trial = tables.Column(verbose_name="Trial", accessor="product", default="")
    unit_price = tables.Column(verbose_name="Price", attrs=NUM)
    add = tables.TemplateColumn(
        template_name="dashboard/_basket_add.html",
        verbose_name="Add to basket",
        accessor="product",
        orderable=False,
        attrs={"td": {"class": "row-actions"}},
    )

    class Meta(PanelTable.Meta):
        orderable = False
        attrs = {"class": "panel-table catalogue-table"}
        empty_text = "Your catalogue has no products."

    def render_name(self, record):
        product = record.product
        name = format_html('<span class="product-name">{}</span>', product.name)
        if product.description:
            return format_html('{}<span class="help">{}</span>', name, product.description)
        return name

    def render_product_type(self, record):
        return record.product.get_product_type_display()

    def render_billing_type(self, record):
        return record.product.get_billing_type_display()

    def render_trial(self, record):
        days = record.product.trial_days
        return f"{days} day{'s' if days != 1 else ''} free" if days else "—"

    def render_unit_price(self, record):
        suffix = PRICE_UNIT.get(record.product.billing_type, "")
        return f"{unit_money(record.unit_price, record.currency)}{suffix}"


PRICE_UNIT = {
    "recurring_monthly": " / month",
    "recurring_annual": " / year",
    "recurring_3_years": " / 3 years",
    "usage": " / unit used",
}


# --- billing runs -----------------------------------------------------------------------------


def _account_url(account) -> str | None:
    """The provider panel's page of a run's account: its reseller or customer page."""
    if account is None:
        return None
    if account.kind == "reseller":
        return reverse("reseller_detail", args=[account.pk])
    if account.kind == "customer":
        return reverse("customer_detail", args=[account.pk])
    return None


class BillingRunTable(PanelTable):
    """The provider's billing runs, newest first, in eleven columns that fit a 1280 px screen:
    who started a run and how sit under its start time; when it finished is on its page. `now`
    (the view's clock) says which running runs have stalled."""

    id = tables.Column(
        verbose_name="Run",
        linkify=lambda record: reverse("billing_run_detail", args=[record.pk]),
    )
    kind = tables.Column(verbose_name="Kind")
    run_date = tables.DateColumn(verbose_name="Date")
    status = tables.Column(verbose_name="Status")
    started_at = tables.DateTimeColumn(verbose_name="Started")
    duration = tables.Column(verbose_name="Duration", empty_values=(), orderable=False)
    accounts_invoiced = tables.Column(verbose_name="Accounts invoiced", attrs=NUM)
    invoices_issued = tables.Column(verbose_name="Invoices", attrs=NUM)
    subscriptions_billed = tables.Column(verbose_name="Subscriptions", attrs=NUM)
    amounts = tables.Column(verbose_name="Amounts", empty_values=(), orderable=False, attrs=NUM)
    failures_count = tables.Column(verbose_name="Failures", attrs=NUM)

    class Meta(PanelTable.Meta):
        order_by = ("-started_at",)
        empty_text = "No billing runs yet."
        row_attrs = {"data-run": lambda record: record.pk}

    def __init__(self, *args, now, **kwargs):
        self.now = now
        super().__init__(*args, **kwargs)

    def render_id(self, value):
        return f"#{value}"

    def render_status(self, record):
        stalled = run_stalled(record, now=self.now)
        return format_html(
            '<span class="badge {}" data-field="run_status">{}</span>',
            run_status_tone(record, stalled=stalled),
            run_status(record, stalled=stalled),
        )

    def render_started_at(self, value, record):
        return format_html(
            '{}<span class="part-of" data-field="started_by">{}</span>',
            moment(value),
            run_started_by(record),
        )

    def render_duration(self, record):
        return run_duration(record.duration)

    def render_accounts_invoiced(self, value, record):
        return f"{value} of {record.accounts_total}"

    def render_amounts(self, record):
        return run_amounts(record.amounts)

    def render_failures_count(self, value, record):
        if record.status == "running":
            return "—"
        return format_html('<span class="badge warn">{}</span>', value) if value else "0"


class BillingRunDocumentTable(PanelTable):
    """The documents a run issued: number (to the document's page), recipient (to its reseller
    or customer page), total, status, due date."""

    number = tables.Column(
        verbose_name="Number",
        linkify=lambda record: reverse("document_detail", args=[record.pk]),
        order_by=("doc_type", "number", "id"),  # each issuer numbers its own: INV-000001 twice
    )
    recipient = tables.Column(verbose_name="Issued to", order_by=("recipient__name",))
    issuer = tables.Column(verbose_name="Issued by", order_by=("issuer__name",))
    total = MoneyColumn(verbose_name="Total")
    status = tables.Column(verbose_name="Status")
    due_date = tables.DateColumn(verbose_name="Due")

    class Meta(PanelTable.Meta):
        order_by = ("number",)
        empty_text = "This run issued no documents."
        row_attrs = {"data-document": lambda record: record.pk}

    def __init__(self, *args, as_of, **kwargs):
        self.as_of = as_of  # the view's clock: "overdue" is as of today
        super().__init__(*args, **kwargs)

    def render_number(self, record):
        return record.display_number

    def render_recipient(self, value):
        url = _account_url(value)
        if url is None:
            return value.name
        return format_html('<a href="{}">{}</a>', url, value.name)

    def render_issuer(self, value):
        return value.name

    def render_status(self, record):
        return document_status(record, provider_view=True, as_of=self.as_of)


class BillingRunChunkTable(PanelTable):
    number = tables.Column(verbose_name="Chunk", attrs=NUM)
    accounts = tables.Column(verbose_name="Accounts", attrs=NUM)
    accounts_invoiced = tables.Column(verbose_name="Accounts invoiced", attrs=NUM)
    invoices_issued = tables.Column(verbose_name="Invoices", attrs=NUM)
    subscriptions_billed = tables.Column(verbose_name="Subscriptions billed", attrs=NUM)
    amounts = tables.Column(verbose_name="Amounts", empty_values=(), attrs=NUM)
    failures = tables.Column(verbose_name="Failures", attrs=NUM)
    finished_at = tables.DateTimeColumn(verbose_name="Reported")

    class Meta(PanelTable.Meta):
        orderable = False
        empty_text = "No chunk has reported yet."

    def render_amounts(self, record):
        return run_amounts(record.amounts)


class BillingRunFailureTable(PanelTable):
    """What a run could not invoice, and why: its account (a link to its page), or the whole
    chunk when the chunk failed."""

    account = tables.Column(verbose_name="Account", empty_values=(), linkify=False)
    chunk = tables.Column(verbose_name="Chunk", attrs=NUM)
    reason = tables.Column(verbose_name="Reason")

    class Meta(PanelTable.Meta):
        orderable = False
        empty_text = "No failures."
        row_attrs = {"data-failure-account": lambda record: record.account_id or ""}

    def render_account(self, record):
        account = record.account
        if account is None:
            return f"The whole chunk {record.chunk}"
        url = _account_url(account)
        if url is None:
            return account.name
        return format_html('<a href="{}">{}</a>', url, account.name)


# --- taxes -------------------------------------------------------------------------------------


class TaxRuleTable(PanelTable):
    """An owner's taxation rules; `can_delete` adds a Delete button to each row."""

    jurisdiction = tables.Column(verbose_name="Jurisdiction")
    tax_category = tables.Column(verbose_name="Tax category")
    method = tables.Column(verbose_name="Method")
    engine_account = tables.Column(verbose_name="Engine account", default="—")
    actions = tables.TemplateColumn(
        template_name="dashboard/_tax_rule_actions.html",
        verbose_name="",
        orderable=False,
        empty_values=(),
    )

    class Meta(PanelTable.Meta):
        order_by = ("jurisdiction", "tax_category")
        empty_text = "No rules: nothing is taxed."

    def __init__(self, *args, delete_url_name: str = "", owner_query: str = "", **kwargs):
        if not delete_url_name:
            kwargs["exclude"] = (*kwargs.get("exclude", ()), "actions")
        super().__init__(*args, **kwargs)
        if delete_url_name:
            self.columns["actions"].column.extra_context = {
                "delete_url_name": delete_url_name,
                "owner_query": owner_query,
            }


class TaxRateTable(PanelTable):
    jurisdiction = tables.Column(verbose_name="Jurisdiction")
    tax_category = tables.Column(verbose_name="Tax category")
    name = tables.Column(verbose_name="Name")
    rate = tables.Column(verbose_name="Rate", attrs=NUM)
    valid_from_date = tables.DateColumn(verbose_name="Valid from")
    valid_to_date = tables.DateColumn(verbose_name="Valid to", default="—")

    class Meta(PanelTable.Meta):
        order_by = ("jurisdiction", "tax_category", "valid_from_date")
        empty_text = "No built-in rates."

    def render_rate(self, value):
        return tax_rate_percent(value)


class TaxEngineAccountTable(PanelTable):
    label = tables.Column(verbose_name="Label")
    engine = tables.Column(verbose_name="Engine")
    owner = tables.Column(verbose_name="Owner", order_by=("owner__name",))
    company_code = tables.Column(verbose_name="Company code", default="Installation default")
    shared_with_resellers = tables.BooleanColumn(verbose_name="Shared with resellers")

    class Meta(PanelTable.Meta):
        order_by = ("label",)
        empty_text = "No engine accounts."


class CustomerClassTable(PanelTable):
    """Customer classes and their billing policies; each name opens its edit form."""

    name = tables.Column(
        verbose_name="Name", linkify=("customer_class_edit", {"pk": tables.A("pk")})
    )
    bill_for_subscriptions_on_hold = tables.BooleanColumn(
        verbose_name="Bills subscriptions on hold"
    )
    refund_on_cancel = tables.BooleanColumn(verbose_name="Refunds on cancel")
    is_default = tables.BooleanColumn(verbose_name="Default")
    account_count = tables.Column(verbose_name="Accounts", attrs=NUM)

    class Meta(PanelTable.Meta):
        order_by = ("name",)
        empty_text = "No customer classes."


# --- activity --------------------------------------------------------------------------------


class AuditEventTable(PanelTable):
    """An account's activity (audit events), newest first: when, who, what, which object, and
    the details its service recorded (reason, before and after)."""

    created_at = tables.DateTimeColumn(verbose_name="When")
    actor = tables.Column(verbose_name="Who", default="Scheduled job", accessor="actor__username")
    action = tables.Column(verbose_name="What")
    object = tables.Column(verbose_name="Object", accessor="object_id", orderable=False)
    details = tables.Column(verbose_name="Details", orderable=False)

    class Meta(PanelTable.Meta):
        order_by = ("-created_at",)
        empty_text = "No activity recorded for this account."

    def render_object(self, record):
        return f"{record.object_type} #{record.object_id}"

    def render_details(self, value):
        return "; ".join(f"{key}: {value[key]}" for key in sorted(value)) if value else ""


# --- reseller transactions ---------------------------------------------------------------------


class TransactionTable(PanelTable):
    """Reseller transactions: what each account will be invoiced, with Correct and Cancel for
    one not yet invoiced (an invoiced one names its invoice: a correcting order corrects it)."""

    charge_date = tables.DateColumn(verbose_name="Date")
    account = tables.Column(verbose_name="Account", order_by=("account__name",))
    kind = tables.Column(verbose_name="Kind")
    description = tables.Column(verbose_name="Description", orderable=False)
    period = tables.Column(verbose_name="Period", accessor="period_start_date", orderable=False)
    amount = MoneyColumn(verbose_name="Amount")
    status = tables.Column(verbose_name="Status")
    actions = tables.TemplateColumn(
        template_name="dashboard/_transaction_actions.html",
        verbose_name="",
        orderable=False,
        empty_values=(),
    )

    class Meta(PanelTable.Meta):
        order_by = ("-charge_date",)
        empty_text = "No reseller transactions match."

    def render_account(self, value):
        return value.name

    def render_period(self, record):
        return period(record.period_start_date, record.period_end_date)


class ProductMixTable(PanelTable):
    """Seed 004's Product Mix as a table beside its chart (dashboard.product_mix.Slice rows)."""

    product = tables.Column(orderable=False)
    product_type = tables.Column(
        accessor="product_type_label", verbose_name="Product type", orderable=False, default="—"
    )
    billing_type = tables.Column(
        accessor="billing_type_label", verbose_name="Billing type", orderable=False, default="—"
    )
    amount = tables.Column(attrs=NUM, orderable=False)
    share = tables.Column(attrs=NUM, orderable=False)

    class Meta(PanelTable.Meta):
        attrs = {"class": "panel-table compact", "id": "product-mix-table"}
        empty_text = "Nothing bought in this period."
        row_attrs = {"data-product": lambda record: record.product}

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency

    def render_amount(self, value):
        return money(value, self.currency)

    def render_share(self, value):
        return percent(value)

    def value_amount(self, value):
        return value  # a number in the CSV

    def value_share(self, value):
        return value


class SalesReportTable(PanelTable):
    """Seed 003's reseller-driven and non-reseller sales (dashboard.reports.SalesRow rows)."""

    reseller = tables.Column(
        accessor="reseller", verbose_name="Reseller", orderable=False, default="Direct customers"
    )
    model = tables.Column(verbose_name="Model", orderable=False)
    sales = tables.Column(verbose_name="Sales before tax", attrs=NUM, orderable=False)

    class Meta(PanelTable.Meta):
        attrs = {"class": "panel-table", "id": "sales-report"}
        empty_text = "No sales in this period."

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency

    def render_reseller(self, value):
        url = reverse("reseller_detail", args=[value.pk])
        return format_html('<a href="{}">{}</a>', url, value.name)

    def value_reseller(self, value):
        return value.name

    def render_sales(self, value):
        return money(value, self.currency)

    def value_sales(self, value):
        return value


class PayoutReportTable(PanelTable):
    """Seed 003's reseller payouts (billing.payouts.PayoutLine rows)."""

    reseller = tables.Column(verbose_name="Referral reseller", orderable=False)
    paid_sales = tables.Column(verbose_name="Paid sales", attrs=NUM, orderable=False)
    commission_rate = tables.Column(verbose_name="Commission", attrs=NUM, orderable=False)
    amount = tables.Column(verbose_name="Payout", attrs=NUM, orderable=False)
    paid = tables.Column(verbose_name="Paid", orderable=False, default="Not yet")

    class Meta(PanelTable.Meta):
        attrs = {"class": "panel-table", "id": "payouts-report"}
        empty_text = "No referral resellers."
        row_attrs = {"data-reseller": lambda record: record.reseller.pk}

    def render_reseller(self, value):
        return value.name

    def render_paid_sales(self, value, record):
        return money(value, record.currency)

    def render_commission_rate(self, value):
        return percent(value)

    def render_amount(self, value, record):
        shown = record.paid.amount if record.paid else value
        return money(shown, record.currency)

    def render_paid(self, value):
        return day(value.paid_at) + (f", {value.reference}" if value.reference else "")

    def value_reseller(self, value):
        return value.name

    def value_paid_sales(self, value):
        return value

    def value_commission_rate(self, value):
        return value

    def value_amount(self, value, record):
        return record.paid.amount if record.paid else value

    def value_paid(self, value):
        return f"{value.paid_at:%Y-%m-%d} {value.reference}".strip()


class AcquisitionReportTable(PanelTable):
    """Seed 003's customers acquired via resellers (dashboard.reports.AcquisitionRow rows)."""

    reseller = tables.Column(verbose_name="Reseller", orderable=False)
    model = tables.Column(
        accessor="reseller__get_reseller_model_display", verbose_name="Model", orderable=False
    )
    customers = tables.Column(verbose_name="Customers acquired", attrs=NUM, orderable=False)

    class Meta(PanelTable.Meta):
        attrs = {"class": "panel-table", "id": "acquisitions-report"}
        empty_text = "No resellers."

    def render_reseller(self, value):
        return value.name


class AcquiredCustomerTable(PanelTable):
    """The customers a reseller brought: their details only (seed 003)."""

    name = tables.Column(orderable=False)
    created_at = tables.DateColumn(verbose_name="Signed up", orderable=False)
    status = tables.Column(orderable=False)

    class Meta(PanelTable.Meta):
        empty_text = "Nobody signed up with your code in this period."


# --- dunning ----------------------------------------------------------------------------------


class DunningTable(PanelTable):
    """Accounts in dunning (billing.dunning.accounts_by_stage rows), most advanced first: the
    account (its provider page for staff, the reseller's customer page for a reseller), who
    bills it, the stage and since when, what is overdue today, and the next step."""

    account = tables.Column(accessor="state__account__name", verbose_name="Account")
    issuer = tables.Column(accessor="state__account__issuer__name", verbose_name="Billed by")
    stage = tables.Column(accessor="state__stage", verbose_name="Stage")
    since = tables.DateColumn(accessor="state__since", verbose_name="Since")
    oldest_due_date = tables.DateColumn(
        accessor="state__oldest_due_date", verbose_name="Oldest due"
    )
    overdue_amount = tables.Column(verbose_name="Overdue", attrs=NUM)
    next_step = tables.Column(verbose_name="Next step", empty_values=())

    class Meta(PanelTable.Meta):
        orderable = False
        empty_text = "No account is in dunning."
        row_attrs = {
            "data-account": lambda record: record.state.account_id,
            "data-stage": lambda record: record.state.stage,
        }

    def __init__(self, *args, staff: bool, **kwargs):
        self.staff = staff
        super().__init__(*args, **kwargs)

    def render_account(self, record, value):
        account = record.state.account
        url = (
            _account_url(account)
            if self.staff
            else reverse("own_customer_detail", args=[account.pk])
        )
        return format_html('<a href="{}">{}</a>', url, value) if url else value

    def render_stage(self, record):
        tone = "bad" if record.state.stage != "overdue" else "warn"
        label = record.state.get_stage_display()
        return format_html('<span class="badge {}">{}</span>', tone, label)

    def render_overdue_amount(self, record):
        return money(record.overdue_amount, record.state.account.currency)

    def render_next_step(self, record):
        step = record.next_step
        if step is None:
            return "—"
        return f"{step.label.capitalize()} on {day(step.on_date)}"


# --- webhooks ------------------------------------------------------------------------------------

WEBHOOK_STATUS_TONE = {"pending": "muted", "delivered": "ok", "failed": "warn"}


class WebhookEndpointTable(PanelTable):
    """The provider's webhook endpoints; each URL opens its page, the counts its delivery log."""

    url = tables.Column(
        verbose_name="URL", linkify=lambda record: reverse("webhook_edit", args=[record.pk])
    )
    events = tables.Column(verbose_name="Events", orderable=False)
    is_active = tables.BooleanColumn(verbose_name="Active")
    pending_count = tables.Column(verbose_name="Pending", attrs=NUM)
    failed_count = tables.Column(verbose_name="Failed", attrs=NUM)
    created_at = tables.DateTimeColumn(verbose_name="Registered")

    class Meta(PanelTable.Meta):
        order_by = ("-created_at",)
        empty_text = "No webhook endpoints yet."
        row_attrs = {"data-endpoint": lambda record: record.pk}

    def render_url(self, value, record):
        if record.description:
            return format_html('{}<span class="part-of">{}</span>', value, record.description)
        return value

    def render_events(self, value):
        return ", ".join(value)

    def render_failed_count(self, value, record):
        if not value:
            return "0"
        url = reverse("webhook_deliveries", args=[record.pk]) + "?status=failed"
        return format_html('<a class="badge warn" href="{}">{}</a>', url, value)


class WebhookDeliveryTable(PanelTable):
    """An endpoint's delivery log: event, account, status, attempts, last answer, when; a failed
    delivery has Send again."""

    created_at = tables.DateTimeColumn(verbose_name="Event at")
    event = tables.Column(
        verbose_name="Event",
        linkify=lambda record: reverse("webhook_delivery", args=[record.endpoint_id, record.pk]),
    )
    account = tables.Column(verbose_name="Account", order_by=("account__name",), default="—")
    status = tables.Column(verbose_name="Status")
    attempts = tables.Column(verbose_name="Attempts", attrs=NUM)
    last_status_code = tables.Column(verbose_name="Last answer", empty_values=(), orderable=False)
    last_attempt_at = tables.DateTimeColumn(verbose_name="Last attempt", default="—")
    actions = tables.TemplateColumn(
        template_name="dashboard/_webhook_delivery_actions.html",
        verbose_name="",
        orderable=False,
        empty_values=(),
    )

    class Meta(PanelTable.Meta):
        order_by = ("-created_at",)
        empty_text = "Nothing was sent to this endpoint yet."
        row_attrs = {"data-delivery": lambda record: record.pk}

    def __init__(self, *args, endpoint, **kwargs):
        self.endpoint = endpoint
        super().__init__(*args, **kwargs)

    def render_event(self, record):
        return record.event  # the name the receiver sees, e.g. document.paid

    def render_account(self, value):
        return value.name

    def render_status(self, record):
        label = record.get_status_display()
        if record.status == "pending" and record.next_attempt_at and record.attempts:
            label = f"Retrying {moment(record.next_attempt_at)}"
        return format_html(
            '<span class="badge {}" data-field="delivery_status">{}</span>',
            WEBHOOK_STATUS_TONE.get(record.status, "muted"),
            label,
        )

    def render_attempts(self, value, record):
        return f"{value} of {record.attempts_allowed}"

    def render_last_status_code(self, record):
        if record.last_status_code is None and not record.last_error:
            return "—"
        if record.last_status_code is not None and not record.last_error:
            return str(record.last_status_code)
        return record.last_error


class WebhookAttemptTable(PanelTable):
    """A delivery's attempts, first first."""

    number = tables.Column(verbose_name="Attempt", attrs=NUM, orderable=False)
    attempted_at = tables.DateTimeColumn(verbose_name="When", orderable=False)
    status_code = tables.Column(verbose_name="Answer", default="—", orderable=False)
    error = tables.Column(verbose_name="Error", default="", orderable=False)
    duration_ms = tables.Column(verbose_name="Took (ms)", attrs=NUM, orderable=False)
    response_excerpt = tables.Column(verbose_name="Answer's body", default="", orderable=False)

    class Meta(PanelTable.Meta):
        empty_text = "No attempt yet: it is queued."
