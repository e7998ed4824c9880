"""The demo's catalogue, catalogues, price lists and orders."""

from __future__ import annotations

from dashboard.management.demo.builder import D
from orders.models import (
    Product,
)
from resellers import services as accounts
from resellers.models import Account


class CatalogueAndOrders:
    """Mixed into the seeder (dashboard.management.demo): uses its Builder helpers."""

    def _products(self) -> dict[str, Product]:
        """Ten products: every product type and billing type, one executed by hand by the
        distributor, one with a 30-day trial. Made first: the resellers' history invoices name
        theirs (the Product Mix reads them)."""
        T, B = Product.ProductType, Product.BillingType
        return {
            "m365_standard": self.product(
                "DEMO-M365-BS",
                name="Microsoft 365 Business Standard",
                product_type=T.SOFTWARE_SUBSCRIPTION,
                billing_type=B.RECURRING_MONTHLY,
                list_price=D("12.50"),
            ),
            "m365_basic": self.product(
                "DEMO-M365-BB",
                name="Microsoft 365 Business Basic",
                product_type=T.SOFTWARE_SUBSCRIPTION,
                billing_type=B.RECURRING_MONTHLY,
                list_price=D("6.00"),
            ),
            "acronis": self.product(
                "DEMO-ACRONIS-CP",
                name="Acronis Cyber Protect",
                description="30-day free trial, then billed monthly.",
                product_type=T.SOFTWARE_SUBSCRIPTION,
                billing_type=B.RECURRING_MONTHLY,
                trial_days=30,
                list_price=D("15.00"),
            ),
            "azure_ri": self.product(
                "DEMO-AZ-RI-D2S",
                name="Azure Reserved VM Instance D2s v5, 1 year",
                product_type=T.RESERVED_INSTANCE,
                billing_type=B.RECURRING_ANNUAL,
                list_price=D("840.00"),
            ),
            "azure_ri_3y": self.product(
                "DEMO-AZ-RI-D2S-3Y",
                name="Azure Reserved VM Instance D2s v5, 3 years",
                description="Billed three years in advance; no refund on cancellation.",
                product_type=T.RESERVED_INSTANCE,
                billing_type=B.RECURRING_THREE_YEARS,
                list_price=D("2100.00"),
            ),
            "windows_esd": self.product(
                "DEMO-WINSRV-ESD",
                name="Windows Server 2022 Standard, 16 cores (ESD)",
                product_type=T.ESD_LICENCE,
                billing_type=B.ONE_TIME,
                list_price=D("950.00"),
            ),
            "azure_usage": self.product(
                "DEMO-AZ-USAGE",
                name="Azure consumption",
                description="Billed monthly in arrears, per unit of usage.",
                product_type=T.SERVICE,
                billing_type=B.USAGE,
                list_price=D("1.00"),
            ),
            "backup": self.product(
                "DEMO-BACKUP-TB",
                name="Managed backup storage, per TB",
                product_type=T.SERVICE,
                billing_type=B.RECURRING_MONTHLY,
                list_price=D("80.00"),
            ),
            "server_setup": self.product(
                "DEMO-SRV-SETUP",
                name="Dedicated server setup",
                description="Executed by hand by the distributor's engineers.",
                product_type=T.SERVICE,
                billing_type=B.ONE_TIME,
                auto_executed=False,
                list_price=D("300.00"),
            ),
            "workspace": self.product(
                "DEMO-GWS-BS",
                name="Google Workspace Business Starter",
                product_type=T.SOFTWARE_SUBSCRIPTION,
                billing_type=B.RECURRING_MONTHLY,
                list_price=D("14.00"),
            ),
        }

    def _catalogue(self, p: dict[str, Product]) -> None:
        """The default catalogue holds every product; Fabrikam is assigned a smaller one."""
        self.catalogue("Standard catalogue", list(p.values()), default=True)
        essentials = self.catalogue(
            "Essentials catalogue",
            [p["m365_basic"], p["m365_standard"], p["acronis"], p["azure_usage"]],
        )
        self.assign_catalogue(self.users["customer2"].account, essentials)  # Fabrikam

    def _price_lists(
        self, provider: Account, p: dict[str, Product], *, r1: Account, r2: Account, r4: Account
    ) -> None:
        """The provider's lists give each reseller's cost; each reseller's list gives its
        customers' amount: a markup on that cost, with an explicit price or two. Referral
        customers (Blue Yonder's) have no list and pay catalogue prices."""
        self.price_list(
            provider,
            "Gold partner prices",
            markup="-20",
            items={p["m365_standard"]: "10.80"},
            buyers=(r1,),
        )
        self.price_list(
            provider,
            "Silver partner prices",
            markup="-10",
            items={p["m365_standard"]: "11.00", p["azure_ri"]: "720.00"},
            buyers=(r2, r4),
        )
        self.price_list(
            r1,
            "Northwind retail",
            markup="25",
            items={p["m365_standard"]: "12.50"},
            buyers=(self.users["customer1"].account, self.users["customer2"].account),
        )
        self.price_list(
            r2,
            "Southridge retail",
            markup="20",
            items={p["m365_standard"]: "13.90"},
            buyers=(self.users["customer3"].account, self.users["customer4"].account),
        )
        self.price_list(
            r4, "Proseware retail", markup="15", items={}, buyers=(self.users["customer5"].account,)
        )

    def _orders_reseller1(self, p: dict[str, Product], r1: Account) -> None:
        """Northwind pays by card, so every order of its customers waits for its approval."""
        owen, carla, felix = (self.users[n] for n in ("reseller1", "customer1", "customer2"))
        contoso, fabrikam = carla.account, felix.account
        # Approved: credit reserved, Northwind's card charged through the gateway, executed.
        self.order(
            "DEMO-NW-ORD-1",
            placed_by=carla,
            customer=contoso,
            items=[(p["m365_standard"], 5)],
            approve_by=owen,
        )
        # Waiting in Submitted Orders Pending Approval.
        for key, buyer, customer, product, quantity in (
            ("DEMO-NW-ORD-2", carla, contoso, "m365_basic", 10),
            ("DEMO-NW-ORD-3", carla, contoso, "azure_ri", 1),
            ("DEMO-NW-ORD-4", felix, fabrikam, "acronis", 5),
        ):
            self.order(key, placed_by=buyer, customer=customer, items=[(p[product], quantity)])

    def _orders_reseller2(self, p: dict[str, Product], r2: Account) -> None:
        """Southridge pays cash, so it switched approval off for Tailspin Toys and left it on for
        Wide World Importers. Its available credit starts at 1,655.00 (limit 2,000.00 less
        345.00 open debt); the first four orders leave 916.00, too little for the next three."""
        sam, tara, will = (self.users[n] for n in ("reseller2", "customer3", "customer4"))
        tailspin, wwi = tara.account, will.account
        if not self.order_exists("DEMO-SR-ORD-1"):
            accounts.customer_set_order_approval(customer=tailspin, required=False, acting_user=sam)
        # Completed at once: 55.00 at cost recorded, usage billed later in arrears.
        self.order(
            "DEMO-SR-ORD-1",
            placed_by=tara,
            customer=tailspin,
            items=[(p["m365_standard"], 5), (p["azure_usage"], 1)],
        )
        # Completed into a 30-day trial: nothing charged yet, the reservation released.
        self.order("DEMO-SR-ORD-2", placed_by=tara, customer=tailspin, items=[(p["acronis"], 3)])
        # A manual product: submitted to the distributor, 270.00 reserved.
        self.order(
            "DEMO-SR-ORD-3", placed_by=tara, customer=tailspin, items=[(p["server_setup"], 1)]
        )
        # Mixed: split into a completed sub-order (144.00) and one with the distributor (270.00);
        # the order stays Submitted until both are executed.
        self.order(
            "DEMO-SR-ORD-4",
            placed_by=tara,
            customer=tailspin,
            items=[(p["backup"], 2), (p["server_setup"], 1)],
        )
        # Unexecuted due to insufficient credit: 1,440.00 needed, never approved (approval off).
        self.order("DEMO-SR-ORD-5", placed_by=tara, customer=tailspin, items=[(p["azure_ri"], 2)])
        # Approved by Southridge, then short of credit (1,575.00): in both of its lists.
        self.order(
            "DEMO-SR-ORD-6",
            placed_by=will,
            customer=wwi,
            items=[(p["azure_ri"], 1), (p["windows_esd"], 1)],
            approve_by=sam,
        )
        # Southridge's own purchase (customer blank), short of credit (1,710.00).
        self.order("DEMO-SR-ORD-7", placed_by=sam, reseller=r2, items=[(p["windows_esd"], 2)])
        # Cancelled by Southridge before approval; then waiting for approval.
        self.order(
            "DEMO-SR-ORD-8",
            placed_by=will,
            customer=wwi,
            items=[(p["m365_basic"], 10)],
            cancel_by=sam,
            cancel_reason="Ordered the wrong plan; replaced by the next order.",
        )
        self.order("DEMO-SR-ORD-9", placed_by=will, customer=wwi, items=[(p["m365_standard"], 20)])

    def _orders_reseller4(self, p: dict[str, Product], r4: Account) -> None:
        """Proseware approves an order, but its card's token has expired: the order stays
        Pending with seed 004's warning and nothing is reserved."""
        self.order(
            "DEMO-PW-ORD-1",
            placed_by=self.users["customer5"],
            customer=self.users["customer5"].account,
            items=[(p["m365_standard"], 3)],
            approve_by=self.users["reseller4"],
        )
