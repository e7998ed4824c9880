"""Writes on accounts. Each service is one transaction and writes an audit row."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from resellers.exceptions import ApplicationError
from resellers.models import Account, AuditEvent, Contact, CustomerClass, PaymentMethod, User
from resellers.prepared import PreparedInsert
from resellers.selectors import approving_reseller, order_approval_locked
from resellers.tenancy import require_own_or_staff, require_provider_staff


def audit_record(
    *,
    actor: User | None,
    action: str,
    obj,
    account: Account | None = None,
    account_id: int | None = None,
    details: dict | None = None,
) -> AuditEvent:
    """One audit row. Call it inside the service's transaction."""
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        account_id=account.pk if account is not None else account_id,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        details=details or {},
    )


_AUDIT_INSERT = PreparedInsert(AuditEvent)


def audit_events(*, actor: User | None, events: list[tuple[str, object, int | None, dict]]) -> None:
    """Several audit rows in one statement: (action, object, account id, details) each. Every
    order writes some: the INSERT is built once (resellers.prepared)."""
    _AUDIT_INSERT.insert(
        [
            AuditEvent(
                actor=actor if actor is not None and actor.pk else None,
                account_id=account_id,
                action=action,
                object_type=obj._meta.label_lower,
                object_id=str(obj.pk),
                details=details,
            )
            for action, obj, account_id, details in events
        ]
    )


def customer_class_default() -> CustomerClass:
    """The default customer class; a fresh installation creates it with on-hold billing on."""
    default = CustomerClass.objects.filter(is_default=True).first()
    if default is not None:
        return default
    try:
        with transaction.atomic():
            return CustomerClass.objects.create(
                name="Default", is_default=True, bill_for_subscriptions_on_hold=True
            )
    except IntegrityError:
        return CustomerClass.objects.get(is_default=True)


CLASS_POLICY_FIELDS = ("name", "bill_for_subscriptions_on_hold", "refund_on_cancel")


def _clean_class_name(name: str, *, exclude_pk: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise ApplicationError("Give the customer class a name.", field="name")
    if CustomerClass.objects.filter(name__iexact=name).exclude(pk=exclude_pk).exists():
        raise ApplicationError("There is already a customer class with that name.", field="name")
    return name


@transaction.atomic
def customer_class_create(
    *,
    name: str,
    bill_for_subscriptions_on_hold: bool = True,
    refund_on_cancel: bool = False,
    acting_user: User | None,
) -> CustomerClass:
    """A new customer class with its billing policies (seed 001 §3). Provider staff only."""
    require_provider_staff(acting_user, "manage customer classes")
    customer_class = CustomerClass.objects.create(
        name=_clean_class_name(name),
        bill_for_subscriptions_on_hold=bill_for_subscriptions_on_hold,
        refund_on_cancel=refund_on_cancel,
    )
    audit_record(
        actor=acting_user,
        action="customer_class.create",
        obj=customer_class,
        details={f: str(getattr(customer_class, f)) for f in CLASS_POLICY_FIELDS},
    )
    return customer_class


@transaction.atomic
def customer_class_update(
    *, customer_class: CustomerClass, acting_user: User | None, **changes
) -> CustomerClass:
    """Change a class's name or policies. Provider staff only; audited with before and after.
    A policy change applies from the next billing run on: what was billed stays billed."""
    unknown = set(changes) - set(CLASS_POLICY_FIELDS)
    if unknown:
        raise ApplicationError(f"Not a customer class field: {', '.join(sorted(unknown))}.")
    require_provider_staff(acting_user, "manage customer classes")
    locked = CustomerClass.objects.select_for_update().get(pk=customer_class.pk)
    if "name" in changes:
        changes["name"] = _clean_class_name(changes["name"], exclude_pk=locked.pk)
    touched = {k: v for k, v in changes.items() if getattr(locked, k) != v}
    if not touched:
        return locked
    before = {k: str(getattr(locked, k)) for k in touched}
    for field, value in touched.items():
        setattr(locked, field, value)
    locked.save(update_fields=list(touched))
    audit_record(
        actor=acting_user,
        action="customer_class.update",
        obj=locked,
        details={"before": before, "after": {k: str(v) for k, v in touched.items()}},
    )
    return locked


@transaction.atomic
def account_set_customer_class(
    *, account: Account, customer_class: CustomerClass, acting_user: User | None
) -> Account:
    """Put an account in a customer class (provider staff only; audited on the account)."""
    require_provider_staff(acting_user, "change customer classes")
    locked = Account.objects.select_for_update().get(pk=account.pk)
    if locked.customer_class_id == customer_class.pk:
        return locked
    before = locked.customer_class.name
    locked.customer_class = customer_class
    locked.save(update_fields=["customer_class", "updated_at"])
    audit_record(
        actor=acting_user,
        action="account.customer_class",
        obj=locked,
        account=locked,
        details={"before": before, "after": customer_class.name},
    )
    return locked


def _issuer_for(*, kind: str, parent: Account | None) -> Account | None:
    """The one upstream issuer (DESIGN.md): the resale reseller for its customers, else the
    provider at the top of the tree."""
    if kind == Account.Kind.PROVIDER:
        return None
    if parent is None:
        raise ApplicationError("Resellers and customers need a parent account.", field="parent")
    if kind == Account.Kind.RESELLER:
        if not parent.is_provider:
            raise ApplicationError("A reseller's parent must be the provider.", field="parent")
        return parent
    # customer
    if parent.is_provider:
        return parent
    if not parent.is_reseller:
        raise ApplicationError("A customer's parent is a reseller or the provider.", field="parent")
    if parent.reseller_model == Account.ResellerModel.RESALE:
        return parent
    return parent.issuer


@transaction.atomic
def account_create(
    *,
    kind: str,
    name: str,
    parent: Account | None = None,
    currency: str | None = None,
    customer_class: CustomerClass | None = None,
    reseller_model: str = "",
    reseller_code: str | None = None,
    credit_terms: str = Account.CreditTerms.PREPAID,
    credit_limit: Decimal = Decimal("0"),
    payment_terms_days: int = 0,
    daily_invoicing: str | None = None,
    acting_user: User | None = None,
) -> Account:
    """Create an account in the tree, with its issuer derived from its parent.

    A net-terms resale reseller starts with daily invoicing `prepaid_only`; a referral reseller
    with `disabled`, since daily invoicing does not apply to it.
    """
    if kind not in Account.Kind.values:
        raise ApplicationError(f"Unknown account kind {kind!r}.", field="kind")
    if kind == Account.Kind.RESELLER and reseller_model not in Account.ResellerModel.values:
        raise ApplicationError("A reseller is either resale or referral.", field="reseller_model")
    if kind != Account.Kind.RESELLER:
        reseller_model = ""
        reseller_code = None
    if credit_limit < 0:
        raise ApplicationError("The credit limit cannot be negative.", field="credit_limit")
    if credit_terms == Account.CreditTerms.PREPAID:
        credit_limit = Decimal("0")
    issuer = _issuer_for(kind=kind, parent=parent)
    if daily_invoicing is None:
        daily_invoicing = (
            Account.DailyInvoicing.DISABLED
            if reseller_model == Account.ResellerModel.REFERRAL
            else Account.DailyInvoicing.PREPAID_ONLY
        )
    if currency is None:
        currency = parent.currency if parent is not None else "USD"
    if issuer is not None and currency != issuer.currency:
        raise ApplicationError(
            f"The account's currency must be its issuer's ({issuer.currency}).", field="currency"
        )
    if reseller_code is not None and Account.objects.filter(reseller_code=reseller_code).exists():
        raise ApplicationError("This reseller code is taken.", field="reseller_code")
    account = Account.objects.create(
        kind=kind,
        name=name,
        parent=parent,
        issuer=issuer,
        currency=currency,
        customer_class=customer_class or customer_class_default(),
        reseller_model=reseller_model,
        reseller_code=reseller_code,
        credit_terms=credit_terms,
        credit_limit=credit_limit,
        payment_terms_days=payment_terms_days,
        daily_invoicing=daily_invoicing,
    )
    audit_record(actor=acting_user, action="account.create", obj=account, account=account)
    return account


@transaction.atomic
def contact_create(
    *,
    account: Account,
    name: str,
    email: str,
    phone: str = "",
    is_bill_to: bool = False,
    is_primary: bool = False,
    created_at: datetime.datetime | None = None,
    acting_user: User | None = None,
) -> Contact:
    """Add a contact. Marking it bill-to or primary takes that role from any other contact."""
    if is_bill_to:
        Contact.objects.filter(account=account, is_bill_to=True).update(is_bill_to=False)
    if is_primary:
        Contact.objects.filter(account=account, is_primary=True).update(is_primary=False)
    contact = Contact.objects.create(
        account=account,
        name=name,
        email=email,
        phone=phone,
        is_bill_to=is_bill_to,
        is_primary=is_primary,
        created_at=created_at or timezone.now(),
    )
    audit_record(actor=acting_user, action="contact.create", obj=contact, account=account)
    return contact


@transaction.atomic
def payment_method_create(
    *,
    account: Account,
    kind: str,
    label: str = "",
    gateway_token: str = "",
    card_last4: str = "",
    expiry_date: datetime.date | None = None,
    make_default: bool = False,
    acting_user: User | None = None,
) -> PaymentMethod:
    """Add a payment method. A card needs a gateway token and an expiry; others carry neither.

    The first method of an account becomes its default.
    """
    if kind not in PaymentMethod.Kind.values:
        raise ApplicationError(f"Unknown payment method {kind!r}.", field="kind")
    if kind == PaymentMethod.Kind.CARD:
        if not gateway_token or expiry_date is None:
            raise ApplicationError("A card needs a gateway token and an expiry date.", field="kind")
    elif gateway_token or expiry_date:
        raise ApplicationError("Only cards carry a gateway token.", field="gateway_token")
    Account.objects.select_for_update().get(pk=account.pk)
    has_default = PaymentMethod.objects.filter(account=account, is_default=True).exists()
    if make_default and has_default:
        PaymentMethod.objects.filter(account=account, is_default=True).update(is_default=False)
    method = PaymentMethod.objects.create(
        account=account,
        kind=kind,
        label=label,
        gateway_token=gateway_token,
        card_last4=card_last4,
        expiry_date=expiry_date,
        is_default=make_default or not has_default,
    )
    audit_record(actor=acting_user, action="payment_method.create", obj=method, account=account)
    return method


@transaction.atomic
def payment_method_set_default(
    *, payment_method: PaymentMethod, acting_user: User | None = None
) -> PaymentMethod:
    """Make `payment_method` its account's one default. The account's own users or provider
    staff; an inactive (removed) method cannot be."""
    require_own_or_staff(
        acting_user, payment_method.account_id, "You can choose only your own account's default."
    )
    Account.objects.select_for_update().get(pk=payment_method.account_id)
    if not PaymentMethod.objects.filter(pk=payment_method.pk, is_active=True).exists():
        raise ApplicationError("A removed payment method cannot be the default.", field="id")
    PaymentMethod.objects.filter(account_id=payment_method.account_id, is_default=True).exclude(
        pk=payment_method.pk
    ).update(is_default=False)
    PaymentMethod.objects.filter(pk=payment_method.pk).update(is_default=True)
    payment_method.is_default = True
    audit_record(
        actor=acting_user,
        action="payment_method.set_default",
        obj=payment_method,
        account=payment_method.account,
    )
    return payment_method


@transaction.atomic
def payment_method_remove(
    *, payment_method: PaymentMethod, acting_user: User | None
) -> PaymentMethod:
    """Remove a payment method: it stays on the documents that name it, inactive, no longer the
    default nor the automatic top-up's method. The account's own users or provider staff;
    audited."""
    require_own_or_staff(
        acting_user,
        payment_method.account_id,
        "You can remove only your own account's payment methods.",
    )
    account = Account.objects.select_for_update().get(pk=payment_method.account_id)
    method = PaymentMethod.objects.get(pk=payment_method.pk)
    if not method.is_active:
        return method
    method.is_active = False
    method.is_default = False
    method.save(update_fields=["is_active", "is_default"])
    if account.auto_topup_payment_method_id == method.pk:
        account.auto_topup_payment_method = None
        account.save(update_fields=["auto_topup_payment_method", "updated_at"])
    audit_record(actor=acting_user, action="payment_method.remove", obj=method, account=account)
    return method


FINANCIAL_FIELDS = (
    "credit_terms",
    "credit_limit",
    "payment_terms_days",
    "daily_invoicing",
    "credit_hold",
    "auto_topup_enabled",
    "auto_topup_threshold",
    "auto_topup_amount",
    "auto_topup_payment_method",
    "auto_topup_mode",
    "auto_topup_target",
)
PROVIDER_ONLY_FIELDS = frozenset(
    {"credit_terms", "credit_limit", "payment_terms_days", "daily_invoicing", "credit_hold"}
)


@transaction.atomic
def account_update_financials(*, account: Account, acting_user: User | None, **changes) -> Account:
    """Change an account's financial information (seed 000's Edit window), atomically.

    Provider staff may change everything. Only provider staff may change credit terms, credit
    limit, payment terms, daily invoicing and credit hold; the account's own users may change
    its automatic top-up settings. Nothing is saved unless every value is valid.
    """
    unknown = set(changes) - set(FINANCIAL_FIELDS)
    if unknown:
        raise ApplicationError(f"Not a financial field: {', '.join(sorted(unknown))}.")
    require_own_or_staff(
        acting_user, account.pk, "Only provider staff or the account's own users can change this."
    )
    locked = Account.objects.select_for_update().get(pk=account.pk)
    touched = {k: v for k, v in changes.items() if getattr(locked, k) != v}
    if not touched:
        return locked  # nothing changes, so nothing is written or audited
    restricted = sorted(PROVIDER_ONLY_FIELDS & set(touched))
    if restricted:
        require_provider_staff(
            acting_user, "change " + ", ".join(f.replace("_", " ") for f in restricted)
        )
    for field, value in changes.items():
        setattr(locked, field, value)

    if locked.credit_limit is None or locked.credit_limit < 0:
        raise ApplicationError("The credit limit cannot be negative.", field="credit_limit")
    if locked.credit_terms == Account.CreditTerms.PREPAID and locked.credit_limit != 0:
        raise ApplicationError(
            "A prepaid account has no credit limit; choose net terms first.", field="credit_limit"
        )
    if locked.payment_terms_days is None or locked.payment_terms_days < 0:
        raise ApplicationError("Payment terms cannot be negative.", field="payment_terms_days")
    if locked.daily_invoicing not in Account.DailyInvoicing.values:
        raise ApplicationError("Unknown daily invoicing mode.", field="daily_invoicing")
    if (
        "daily_invoicing" in touched
        and locked.is_referral_reseller
        and locked.daily_invoicing != Account.DailyInvoicing.DISABLED
    ):
        raise ApplicationError(
            "Daily invoicing does not apply to referral resellers.", field="daily_invoicing"
        )
    method = locked.auto_topup_payment_method
    if method is not None and method.account_id != locked.pk:
        raise ApplicationError(
            "The top-up payment method must be one of this account's own.",
            field="auto_topup_payment_method",
        )
    if locked.auto_topup_threshold is not None and locked.auto_topup_threshold < 0:
        raise ApplicationError(
            "The top-up threshold cannot be negative.", field="auto_topup_threshold"
        )
    if locked.auto_topup_amount is not None and locked.auto_topup_amount <= 0:
        raise ApplicationError("The top-up amount must be positive.", field="auto_topup_amount")
    if locked.auto_topup_mode not in Account.TopupMode.values:
        raise ApplicationError("Top up a fixed amount or to a target.", field="auto_topup_mode")
    changed_method = method is not None and "auto_topup_payment_method" in touched
    if changed_method and (method.kind != PaymentMethod.Kind.CARD or not method.is_active):
        raise ApplicationError(
            "Automatic top-up charges a card: choose one of the account's active cards.",
            field="auto_topup_payment_method",
        )
    if locked.auto_topup_enabled:
        fixed = locked.auto_topup_mode == Account.TopupMode.FIXED
        needed = ("auto_topup_threshold", "auto_topup_amount" if fixed else "auto_topup_target")
        for field in needed:
            if getattr(locked, field) is None:
                raise ApplicationError(
                    "Automatic top-up needs a threshold and "
                    + ("an amount." if fixed else "a target balance."),
                    field=field,
                )
        if not fixed and locked.auto_topup_target <= locked.auto_topup_threshold:
            raise ApplicationError(
                "The target balance must be above the threshold.", field="auto_topup_target"
            )
        if method is None and not locked.payment_methods.filter(is_default=True).exists():
            raise ApplicationError(
                "Automatic top-up needs a payment method to charge.",
                field="auto_topup_payment_method",
            )
    locked.save(update_fields=[*FINANCIAL_FIELDS, "updated_at"])
    audit_record(
        actor=acting_user,
        action="account.update_financials",
        obj=locked,
        account=locked,
        details={
            k: (str(v.pk) if hasattr(v, "pk") else str(v) if v is not None else None)
            for k, v in touched.items()
        },
    )
    return locked


def account_set_daily_invoicing(
    *, account: Account, mode: str, acting_user: User | None
) -> Account:
    """The equivalent of seed 000's ResellerDailyInvoicingSet_API method."""
    if not account.is_reseller:
        raise ApplicationError("Daily invoicing is set on resellers only.", field="mode")
    if mode not in Account.DailyInvoicing.values:
        raise ApplicationError(
            f"Mode must be one of {', '.join(Account.DailyInvoicing.values)}.", field="mode"
        )
    return account_update_financials(account=account, acting_user=acting_user, daily_invoicing=mode)


@transaction.atomic
def user_create(
    *, username: str, password: str, account: Account, email: str = "", is_staff: bool = False
) -> User:
    """A login acting for `account`. Provider staff may also use the Django admin."""
    user = User(username=username, email=email, account=account, is_staff=is_staff)
    user.set_password(password)
    user.save()
    return user


@transaction.atomic
def customer_set_order_approval(
    *, customer: Account, required: bool, acting_user: User | None
) -> Account:
    """Switch a customer's order-approval toggle (seed 004). Only its reseller's users or provider
    staff; refused while the reseller pays by card (the toggle is locked)."""
    reseller = approving_reseller(customer=customer)
    if reseller is None:
        raise ApplicationError("Only customers of a resale reseller have an approval toggle.")
    require_own_or_staff(acting_user, reseller.pk, "Only the customer's reseller can change this.")
    locked = Account.objects.select_for_update().get(pk=customer.pk)
    if order_approval_locked(reseller=reseller):
        raise ApplicationError(
            "The approval toggle is locked while you pay by credit card: every order needs your "
            "approval.",
            field="order_approval_required",
        )
    if locked.order_approval_required == required:
        return locked
    locked.order_approval_required = required
    locked.save(update_fields=["order_approval_required", "updated_at"])
    audit_record(
        actor=acting_user,
        action="customer.set_order_approval",
        obj=locked,
        account=locked,
        details={"required": required},
    )
    return locked


@transaction.atomic
def referral_commission_set(
    *, reseller: Account, rate: Decimal, acting_user: User | None
) -> Account:
    """Set a referral reseller's commission rate (a fraction, 0 to 1; seed 003's payouts).
    Provider staff only; audited with the rate before and after."""
    require_provider_staff(acting_user, "set commission rates")
    reseller = Account.objects.select_for_update().get(pk=reseller.pk)
    if not reseller.is_referral_reseller:
        raise ApplicationError(
            "Only a referral reseller earns a commission.", field="commission_rate"
        )
    rate = Decimal(rate)
    if not (0 <= rate <= 1) or rate != rate.quantize(Decimal("0.0001")):
        raise ApplicationError(
            "The rate is a fraction from 0 to 1 with at most four decimals (0.1000 = 10 %).",
            field="commission_rate",
        )
    before = reseller.commission_rate
    reseller.commission_rate = rate
    reseller.save(update_fields=["commission_rate", "updated_at"])
    audit_record(
        actor=acting_user,
        action="account.commission_rate",
        obj=reseller,
        account=reseller,
        details={"before": str(before), "after": str(rate)},
    )
    return reseller


@transaction.atomic
def reseller_set_card_payments(
    *, reseller: Account, enabled: bool, acting_user: User | None
) -> Account:
    """A resale reseller takes its customers' card payments online (`enabled`), or has them pay
    it offline. Its own users or provider staff; audited when it changes."""
    require_own_or_staff(
        acting_user, reseller.pk, "Only the reseller's users or provider staff can change this."
    )
    reseller = Account.objects.select_for_update().get(pk=reseller.pk)
    if not reseller.is_reseller or reseller.is_referral_reseller:
        raise ApplicationError(
            "Only a resale reseller bills customers and takes their payments.",
            field="card_payments",
        )
    if reseller.card_payments == enabled:
        return reseller
    reseller.card_payments = enabled
    reseller.save(update_fields=["card_payments", "updated_at"])
    audit_record(
        actor=acting_user,
        action="account.card_payments",
        obj=reseller,
        account=reseller,
        details={"enabled": enabled},
    )
    return reseller


def referral_reseller_by_code(code: str) -> Account:
    """The referral reseller whose code a customer entered (case-insensitive), or
    ApplicationError naming `reseller_code`."""
    code = (code or "").strip()
    reseller = Account.objects.filter(
        reseller_code__iexact=code,
        kind=Account.Kind.RESELLER,
        reseller_model=Account.ResellerModel.REFERRAL,
        status=Account.Status.ACTIVE,
    ).first()
    if reseller is None:
        raise ApplicationError("No reseller has this code.", field="reseller_code")
    return reseller


@transaction.atomic
def customer_sign_up(
    *,
    name: str,
    contact_name: str,
    email: str,
    username: str = "",
    password: str = "",
    reseller_code: str = "",
    acting_user: User | None = None,
) -> Account:
    """A customer signs up (seed 003): with a reseller code it is tagged to that referral
    reseller (its parent; the provider bills it), without one it is a direct customer of the
    provider. Creates the account, its contact (bill-to and primary) and, given a username, its
    login (provider staff creating a customer may leave the login for later)."""
    if username and User.objects.filter(username__iexact=username).exists():
        raise ApplicationError("This username is taken.", field="username")
    provider = Account.objects.filter(kind=Account.Kind.PROVIDER).order_by("pk").first()
    if provider is None:
        raise ApplicationError("Sign-up is not open yet.", field="reseller_code")
    parent = referral_reseller_by_code(reseller_code) if reseller_code.strip() else provider
    account = account_create(
        kind=Account.Kind.CUSTOMER, name=name, parent=parent, acting_user=acting_user
    )
    contact_create(
        account=account,
        name=contact_name,
        email=email,
        is_bill_to=True,
        is_primary=True,
        acting_user=acting_user,
    )
    if username:
        user_create(username=username, password=password, account=account, email=email)
    audit_record(
        actor=acting_user,
        action="account.sign_up",
        obj=account,
        account=account,
        details={"reseller_code": parent.reseller_code or "", "referred_by": parent.pk},
    )
    return account


BILLING_DETAILS_FIELDS = (
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "country",
    "tax_id",
    "payment_instructions",
)


@transaction.atomic
def account_billing_details_set(
    *, account: Account, acting_user: User | None, **changes
) -> Account:
    """Set an account's address, tax ID and payment instructions (BILLING_DETAILS_FIELDS): what
    the documents it issues print as its letterhead and how to pay it, and those it receives as
    the address billed. Provider staff, or the account's own users. Values are stripped; the
    country is an ISO 3166-1 alpha-2 code (upper-cased). Audited with the fields that changed."""
    unknown = set(changes) - set(BILLING_DETAILS_FIELDS)
    if unknown:
        raise ApplicationError(f"Not a billing detail: {', '.join(sorted(unknown))}.")
    require_own_or_staff(
        acting_user, account.pk, "Only provider staff or the account's own users can change this."
    )
    values = {field: (value or "").strip() for field, value in changes.items()}
    if "country" in values:
        values["country"] = values["country"].upper()
        country = values["country"]
        if country and not (len(country) == 2 and country.isascii() and country.isalpha()):
            raise ApplicationError(
                "The country is a two-letter ISO code, e.g. US or DE.", field="country"
            )
    for field, value in values.items():
        limit = Account._meta.get_field(field).max_length
        if limit is not None and len(value) > limit:
            raise ApplicationError(f"At most {limit} characters.", field=field)
    locked = Account.objects.select_for_update().get(pk=account.pk)
    touched = {k: v for k, v in values.items() if getattr(locked, k) != v}
    if not touched:
        return locked
    for field, value in touched.items():
        setattr(locked, field, value)
    locked.save(update_fields=[*touched, "updated_at"])
    audit_record(
        actor=acting_user,
        action="account.billing_details",
        obj=locked,
        account=locked,
        details={"changed": sorted(touched)},
    )
    return locked
