"""resellers/, customers/, contacts/ and payment-methods/: what each user is shown, with the
figures hand-computed in conftest.py."""

import json

ALPHA_FINANCIALS = {
    "currency": "USD",
    "credit_terms": "net_terms",
    "credit_limit": "1000.00",
    "payment_terms_days": 30,
    "credit_hold": False,
    "daily_invoicing": "prepaid_only",
    "open_debt": "350.00",  # 600 - 250 applied
    "credit_balance": "100.00",  # the unapplied credit memo
    "balance": "-250.00",  # 100 - 350
    "uninvoiced": "50.00",
    "reserved": "100.00",
    "available_credit": "500.00",  # 1000 - 350 - 50 - 100
    "auto_topup_enabled": False,
    "auto_topup_threshold": None,
    "auto_topup_amount": None,
    "auto_topup_payment_method": None,
}


def test_reseller_sees_its_own_figures(world, api):
    body = api(world.alpha).get(f"/api/v1/resellers/{world.a.pk}/").json()

    assert body["name"] == "Alpha Reseller"
    assert body["reseller_model"] == "resale"
    assert body["status"] == "active"
    assert body["financials"] == ALPHA_FINANCIALS
    assert [c["name"] for c in body["contacts"]] == ["Ann Alpha", "Art Alpha"]
    assert body["contacts"][0]["is_bill_to"] is True
    assert body["contacts"][1]["is_primary"] is True


def test_provider_staff_sees_the_same_figures(world, api):
    body = api(world.staff).get(f"/api/v1/resellers/{world.a.pk}/").json()
    assert body["financials"] == ALPHA_FINANCIALS


def test_reseller_list_shows_details_without_figures(world, api):
    rows = api(world.staff).get("/api/v1/resellers/?ordering=name").json()["results"]
    assert [r["name"] for r in rows] == ["Alpha Reseller", "Bravo Reseller", "Referral Partner"]
    assert set(rows[0]) == {
        "id",
        "name",
        "status",
        "currency",
        "reseller_model",
        "reseller_code",
        "signed_up_at",
    }


def test_reseller_filters_and_search(world, api):
    client = api(world.staff)
    referral = client.get("/api/v1/resellers/?reseller_model=referral").json()["results"]
    assert [r["id"] for r in referral] == [world.r.pk]
    found = client.get("/api/v1/resellers/?search=bravo").json()["results"]
    assert [r["id"] for r in found] == [world.b.pk]


def test_resale_reseller_sees_its_customers_figures(world, api):
    body = api(world.alpha).get(f"/api/v1/customers/{world.a1.pk}/").json()

    assert body["name"] == "Alpha Customer"
    assert body["reseller"] == world.a.pk
    assert [c["name"] for c in body["contacts"]] == ["Cara Customer"]
    fin = body["financials"]
    assert "daily_invoicing" not in fin  # a reseller setting
    assert (fin["credit_terms"], fin["credit_limit"]) == ("prepaid", "0.00")
    # 80 invoiced; the 30 payment applied automatically (prepaid)
    assert (fin["open_debt"], fin["credit_balance"], fin["balance"]) == ("50.00", "0.00", "-50.00")
    assert fin["available_credit"] == "-50.00"  # 0 - 50


def test_customer_sees_itself_with_its_figures(world, api):
    client = api(world.alpha_customer)
    body = client.get(f"/api/v1/customers/{world.a1.pk}/").json()
    assert body["financials"]["balance"] == "-50.00"
    assert ids_of(client.get("/api/v1/customers/")) == [world.a1.pk]
    assert client.get(f"/api/v1/resellers/{world.a.pk}/").status_code == 404


def test_referral_reseller_sees_customer_details_but_no_figures(world, api):
    client = api(world.referral)

    body = client.get(f"/api/v1/customers/{world.r1.pk}/").json()

    assert body["name"] == "Referral Customer"
    assert body["status"] == "active"
    assert body["reseller"] == world.r.pk
    assert body["signed_up_at"].startswith(str(world.r1.created_at.date()))
    assert body["contacts"] == [
        {
            "id": world.contacts["r1"].pk,
            "name": "Rex Referred",
            "email": "rex.referred@example.com",
            "phone": "+1 555 0100",
            "is_bill_to": False,
            "is_primary": False,
            "created_at": body["contacts"][0]["created_at"],
        }
    ]
    assert body["financials"] is None
    for word in ("70.00", "balance", "credit_limit", "credit_terms", "tok_"):
        assert word not in json.dumps(body)
    # ... and nothing of its documents or payment methods, even by id
    assert client.get(f"/api/v1/documents/{world.docs['inv_r1'].pk}/").status_code == 404
    assert client.get(f"/api/v1/payment-methods/{world.methods['r1_card'].pk}/").status_code == 404
    assert ids_of(client.get(f"/api/v1/documents/?recipient={world.r1.pk}")) == []


def test_referral_reseller_sees_its_own_figures(world, api):
    fin = api(world.referral).get(f"/api/v1/resellers/{world.r.pk}/").json()["financials"]
    assert fin["daily_invoicing"] == "disabled"
    assert (fin["open_debt"], fin["balance"], fin["available_credit"]) == (
        "20.00",
        "-20.00",
        "-20.00",
    )


def test_provider_sees_referral_customers_figures(world, api):
    fin = api(world.staff).get(f"/api/v1/customers/{world.r1.pk}/").json()["financials"]
    assert (fin["open_debt"], fin["credit_balance"], fin["balance"]) == ("70.00", "0.00", "-70.00")


def test_customers_filter_by_reseller(world, api):
    rows = api(world.staff).get(f"/api/v1/customers/?reseller={world.b.pk}").json()["results"]
    assert [(r["id"], r["name"], r["reseller"]) for r in rows] == [
        (world.b1.pk, "Bravo Customer", world.b.pk)
    ]


def test_contacts_list_fields_and_filter(world, api):
    rows = api(world.alpha).get(f"/api/v1/contacts/?account={world.a.pk}").json()["results"]
    assert [(r["name"], r["email"], r["is_bill_to"], r["is_primary"]) for r in rows] == [
        ("Ann Alpha", "ann.alpha@example.com", True, False),
        ("Art Alpha", "art.alpha@example.com", False, True),
    ]
    assert {r["account"] for r in rows} == {world.a.pk}


def test_payment_methods_never_show_the_gateway_token(world, api):
    response = api(world.staff).get("/api/v1/payment-methods/")
    assert response.status_code == 200
    assert "SECRET" not in response.content.decode()
    assert "gateway_token" not in response.content.decode()

    card = api(world.alpha).get(f"/api/v1/payment-methods/{world.methods['a_card'].pk}/").json()
    assert card == {
        "id": world.methods["a_card"].pk,
        "account": world.a.pk,
        "kind": "card",
        "label": "",
        "card_last4": "4242",
        "expiry_date": "2030-12-31",
        "is_default": True,
        "is_active": True,
        "created_at": card["created_at"],
    }


def ids_of(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]
