"""An order's `billing_contact_email` is an email address or null, never "" (the schema says
`format: email`, nullable); "" and null in a new order both mean none, as the panel stores it."""

from orders.models import Order

URL = "/api/v1/orders/"


def test_an_order_without_a_billing_contact_email_shows_null(world, shop, api):
    response = api(world.alpha).get(f"{URL}{shop.a1_pending.pk}/")

    assert response.status_code == 200
    assert shop.a1_pending.billing_contact_email == ""  # stored as the panel stores it
    assert response.json()["billing_contact_email"] is None


def test_a_new_order_takes_an_email_blank_or_null(world, shop, api):
    client = api(shop.bravo_customer)
    items = [{"product": shop.office.pk, "quantity": 1}]

    given = client.post(
        URL, {"items": items, "billing_contact_email": "carl@example.com"}, format="json"
    )
    blank = client.post(URL, {"items": items, "billing_contact_email": ""}, format="json")
    null = client.post(URL, {"items": items, "billing_contact_email": None}, format="json")
    omitted = client.post(URL, {"items": items}, format="json")

    assert given.json()["billing_contact_email"] == "carl@example.com"
    for response in (blank, null, omitted):
        assert response.status_code == 201, response.content
        assert response.json()["billing_contact_email"] is None
        assert Order.objects.get(pk=response.json()["id"]).billing_contact_email == ""
    listed = client.get(URL).json()["results"]
    assert {row["billing_contact_email"] for row in listed} <= {None, "carl@example.com"}


def test_the_schema_says_email_or_null(db, api):
    schema = api().get("/api/v1/schema/?format=json").json()
    components = schema["components"]["schemas"]

    shown = components["Order"]["properties"]["billing_contact_email"]
    sent = components["OrderCreateRequest"]["properties"]["billing_contact_email"]

    assert (shown["type"], shown["format"], shown["nullable"]) == ("string", "email", True)
    assert shown["readOnly"] is True
    assert sent["nullable"] is True  # an email, or "" (drf-spectacular's oneOf), or null
    assert {"type": "string", "maxLength": 0} in sent["oneOf"]
    assert any(option.get("format") == "email" for option in sent["oneOf"])


def test_the_confirmation_email_and_the_panels_billing_contact_pick_the_same_contact(
    world, shop, api, mailoutbox, django_capture_on_commit_callbacks
):
    """Seed 004's priority (bill-to, primary, oldest) is one rule: the reseller's Order
    Confirmation goes to the contact the panel names as billing contact by default."""
    from dashboard.selectors import billing_contact
    from tests.factories.api import contact

    reseller = world.b
    reseller.contacts.all().delete()
    contact(reseller, "Olga Oldest")
    contact(reseller, "Pete Primary", is_primary=True)

    def confirmation_to() -> list[str]:
        mailoutbox.clear()
        items = [{"product": shop.office.pk, "quantity": 1}]
        with django_capture_on_commit_callbacks(execute=True):
            response = api(shop.bravo_customer).post(URL, {"items": items}, format="json")
        assert response.status_code == 201, response.content
        sent = [m for m in mailoutbox if m.subject.startswith("Order Confirmation")]
        return [address for m in sent for address in m.to]

    assert confirmation_to() == ["pete.primary@example.com"]
    assert billing_contact(user=world.bravo, account=reseller).name == "Pete Primary"

    contact(reseller, "Bill Billto", is_bill_to=True)
    assert confirmation_to() == ["bill.billto@example.com"]
    assert billing_contact(user=world.bravo, account=reseller).name == "Bill Billto"
