"""Provider staff's account set-up in the panel: customer classes and their billing policies
(Bill for subscriptions on hold, refund on cancel), an account's class from its page, and a new
customer tagged to a referral reseller by its code. Provider staff only; every change audited."""

import pytest

from resellers.models import Account, AuditEvent, CustomerClass, User
from resellers.services import customer_class_default

pytestmark = pytest.mark.django_db
CLASSES = "/billing/customer-classes/"
NEW_CUSTOMER = "/billing/customers/new/"


def test_staff_add_a_class_and_turn_its_bill_on_hold_policy_off(login, world):
    client = login(world.staff)
    default = customer_class_default()

    page = client.get(CLASSES)
    added = client.post(CLASSES, {"name": "Strict", "bill_for_subscriptions_on_hold": "on"})
    strict = CustomerClass.objects.get(name="Strict")
    edit_page = client.get(f"{CLASSES}{strict.pk}/")
    edited = client.post(f"{CLASSES}{strict.pk}/", {"name": "Strict", "refund_on_cancel": "on"})
    listed = client.get(CLASSES)

    assert page.status_code == 200 and default.name in page.content.decode()
    assert 'href="/billing/customer-classes/"' in page.content.decode()  # in the billing nav
    assert added.status_code == 302 and edited.status_code == 302
    assert edit_page.context["form"].initial["bill_for_subscriptions_on_hold"] is True
    strict.refresh_from_db()
    assert (strict.bill_for_subscriptions_on_hold, strict.refund_on_cancel) == (False, True)
    rows = {row.name: row for row in listed.context["table"].data}
    assert rows["Strict"].account_count == 0 and rows[default.name].account_count >= 5
    update = AuditEvent.objects.get(action="customer_class.update", object_id=str(strict.pk))
    assert update.actor == world.staff
    assert update.details["before"] == {
        "bill_for_subscriptions_on_hold": "True",
        "refund_on_cancel": "False",
    }
    assert update.details["after"] == {
        "bill_for_subscriptions_on_hold": "False",
        "refund_on_cancel": "True",
    }


def test_a_class_name_must_be_given_and_unique(login, world):
    client = login(world.staff)
    default = customer_class_default()

    empty = client.post(CLASSES, {"name": "  "})
    taken = client.post(CLASSES, {"name": default.name.upper()})

    assert empty.status_code == taken.status_code == 200
    assert "name" in empty.context["form"].errors
    assert "already a customer class" in taken.context["form"].errors["name"][0]
    assert CustomerClass.objects.count() == 1


def test_staff_move_an_account_to_another_class_from_its_page(login, world):
    client = login(world.staff)
    strict = CustomerClass.objects.create(name="Strict", bill_for_subscriptions_on_hold=False)

    page = client.get(f"/billing/resellers/{world.r1.pk}/")
    moved = client.post(
        f"/billing/accounts/{world.r1.pk}/customer-class/", {"customer_class": strict.pk}
    )
    customer = client.post(
        f"/billing/accounts/{world.refc.pk}/customer-class/", {"customer_class": strict.pk}
    )
    bogus = client.post(
        f"/billing/accounts/{world.r2.pk}/customer-class/", {"customer_class": 999999}
    )
    after = client.get(f"/billing/resellers/{world.r1.pk}/")

    assert 'id="class-form"' in page.content.decode()
    assert moved["Location"] == f"/billing/resellers/{world.r1.pk}/#financial-information"
    assert customer["Location"] == f"/billing/customers/{world.refc.pk}/#financial-information"
    assert bogus.status_code == 302
    world.r1.refresh_from_db()
    world.refc.refresh_from_db()
    world.r2.refresh_from_db()
    assert world.r1.customer_class == strict and world.refc.customer_class == strict
    assert world.r2.customer_class != strict
    assert "one catch-up invoice on reactivation" in after.content.decode()
    event = AuditEvent.objects.get(action="account.customer_class", account=world.r1)
    assert event.details["after"] == "Strict"


def test_nobody_but_provider_staff_touches_classes(login, world):
    strict = CustomerClass.objects.create(name="Strict")
    default = customer_class_default()
    for user in (world.r1_user, world.c1_user, world.ref_user):
        client = login(user)
        assert client.get(CLASSES).status_code == 403
        assert client.post(CLASSES, {"name": "Mine"}).status_code == 403
        assert client.post(f"{CLASSES}{strict.pk}/", {"name": "X"}).status_code == 403
        moved = client.post(
            f"/billing/accounts/{world.c1.pk}/customer-class/", {"customer_class": strict.pk}
        )
        assert moved.status_code == 403
        own_page = client.get("/account/")
        assert 'id="class-form"' not in own_page.content.decode()
    world.c1.refresh_from_db()
    assert world.c1.customer_class == default
    assert list(CustomerClass.objects.order_by("name").values_list("name", flat=True)) == sorted(
        [default.name, "Strict"]
    )


def test_staff_create_a_customer_tagged_to_a_referral_reseller_by_its_code(login, world):
    client = login(world.staff)

    listed = client.get("/billing/customers/")
    form = client.get(NEW_CUSTOMER)
    made = client.post(
        NEW_CUSTOMER,
        {
            "name": "Fabrikam Labs",
            "contact_name": "Fay Brik",
            "email": "fay@fabrikam.example",
            "reseller_code": world.ref.reseller_code.lower(),
        },
    )
    fabrikam = Account.objects.get(name="Fabrikam Labs")
    direct = client.post(
        NEW_CUSTOMER,
        {
            "name": "Direct Co",
            "contact_name": "Dee",
            "email": "dee@direct.example",
            "username": "directco",
            "password": "a-Long-enough-pass-9",
        },
    )
    client.force_login(world.ref_user)
    referrals = client.get("/account/referrals/")

    assert 'href="/billing/customers/new/"' in listed.content.decode()
    assert form.status_code == 200
    assert made["Location"] == f"/billing/customers/{fabrikam.pk}/"
    assert fabrikam.parent == world.ref and fabrikam.issuer == world.provider
    assert not fabrikam.users.exists()  # no login asked for
    assert fabrikam.contacts.get().email == "fay@fabrikam.example"
    assert AuditEvent.objects.filter(action="account.sign_up", account=fabrikam).get().actor == (
        world.staff
    )
    direct_co = Account.objects.get(name="Direct Co")
    assert direct.status_code == 302 and direct_co.parent == world.provider
    assert User.objects.get(username="directco").account == direct_co
    acquired = [row.name for row in referrals.context["acquired_table"].data]
    assert "Fabrikam Labs" in acquired and "Direct Co" not in acquired


def test_a_bad_code_or_half_a_login_creates_nothing(login, world):
    client = login(world.staff)
    base = {"name": "Nope Inc", "contact_name": "N", "email": "n@nope.example"}

    bad_code = client.post(NEW_CUSTOMER, {**base, "reseller_code": "NOPE"})
    resale_code = client.post(NEW_CUSTOMER, {**base, "reseller_code": world.r1.reseller_code})
    half_login = client.post(NEW_CUSTOMER, {**base, "username": "nope"})
    client.force_login(world.r1_user)
    reseller = client.post(NEW_CUSTOMER, base)

    assert "No reseller has this code" in bad_code.context["form"].errors["reseller_code"][0]
    assert "reseller_code" in resale_code.context["form"].errors  # only referral resellers' codes
    assert "password" in half_login.context["form"].errors
    assert reseller.status_code == 403
    assert not Account.objects.filter(name="Nope Inc").exists()
    assert not User.objects.filter(username="nope").exists()
