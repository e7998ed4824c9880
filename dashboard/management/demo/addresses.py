"""The demo accounts' billing details (resellers.services.account_billing_details_set): postal
addresses, tax IDs, and for those that issue documents (the provider and the resale resellers)
how to pay them. Printed on the documents' pages and PDFs. All fictitious: .example-style
names, made-up account numbers."""

from __future__ import annotations

BILLING_DETAILS: dict[str, dict[str, str]] = {
    "Cloud Distributor": {
        "address_line1": "1200 Harbor Boulevard",
        "address_line2": "Suite 800",
        "city": "Seattle",
        "region": "WA",
        "postal_code": "98101",
        "country": "US",
        "tax_id": "EIN 91-7654321",
        "payment_instructions": (
            "Bank transfer (ACH or wire) to Cloud Distributor Inc.\n"
            "Bank: First Harbor Bank, 500 Pike Street, Seattle, WA 98101\n"
            "Account number: 4401 2290 7713\n"
            "ABA routing number: 125000024 · SWIFT/BIC: FHBKUS66"
        ),
    },
    "Northwind Cloud Services": {
        "address_line1": "48 Lakeview Drive",
        "address_line2": "Floor 3",
        "city": "Redmond",
        "region": "WA",
        "postal_code": "98052",
        "country": "US",
        "tax_id": "EIN 91-2345678",
        "payment_instructions": (
            "Bank transfer to Northwind Cloud Services LLC\n"
            "Bank: Cascade Community Bank\n"
            "Account number: 0058 1142 2096\n"
            "ABA routing number: 125108405"
        ),
    },
    "Southridge IT": {
        "address_line1": "7 Southridge Plaza",
        "city": "Austin",
        "region": "TX",
        "postal_code": "78701",
        "country": "US",
        "tax_id": "EIN 74-3456789",
        "payment_instructions": (
            "Bank transfer to Southridge IT Inc.\n"
            "Bank: Lone Star Commerce Bank\n"
            "Account number: 7730 4418 0091\n"
            "ABA routing number: 114000093\n"
            "Or cash at our Austin office, 7 Southridge Plaza, Monday to Friday 9:00-17:00."
        ),
    },
    "Blue Yonder Partners": {  # a referral reseller: it issues no documents
        "address_line1": "301 Skyline Avenue",
        "city": "Denver",
        "region": "CO",
        "postal_code": "80202",
        "country": "US",
        "tax_id": "EIN 84-5678901",
    },
    "Proseware Cloud": {
        "address_line1": "220 Market Street",
        "address_line2": "Suite 1500",
        "city": "San Francisco",
        "region": "CA",
        "postal_code": "94105",
        "country": "US",
        "tax_id": "EIN 94-4567890",
        "payment_instructions": (
            "Bank transfer to Proseware Cloud Inc.\n"
            "Bank: Golden Gate Savings Bank\n"
            "Account number: 2209 8876 5510\n"
            "ABA routing number: 121000358"
        ),
    },
    "Contoso Ltd": {
        "address_line1": "1 Contoso Way",
        "city": "Bellevue",
        "region": "WA",
        "postal_code": "98004",
        "country": "US",
    },
    "Fabrikam Inc": {
        "address_line1": "55 Fabrikam Avenue",
        "city": "Portland",
        "region": "OR",
        "postal_code": "97204",
        "country": "US",
    },
    "Tailspin Toys": {
        "address_line1": "900 Runway Road",
        "city": "Dallas",
        "region": "TX",
        "postal_code": "75201",
        "country": "US",
    },
    "Wide World Importers": {
        "address_line1": "12 Harbor Road",
        "city": "Houston",
        "region": "TX",
        "postal_code": "77002",
        "country": "US",
    },
    "Litware Inc": {
        "address_line1": "400 Mile High Street",
        "city": "Boulder",
        "region": "CO",
        "postal_code": "80302",
        "country": "US",
    },
    "Adatum Corp": {
        "address_line1": "18 Aspen Court",
        "city": "Colorado Springs",
        "region": "CO",
        "postal_code": "80903",
        "country": "US",
    },
    "Coho Winery": {
        "address_line1": "3 Vineyard Road",
        "city": "Napa",
        "region": "CA",
        "postal_code": "94558",
        "country": "US",
    },
}
