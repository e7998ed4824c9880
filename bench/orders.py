#!/usr/bin/env python
"""Ordering benchmark: place orders through the service layer (order_place, as POST orders/ does;
no HTTP) on PostgreSQL with concurrent workers across many resellers, then check that no reseller
spent more credit than it had.

    .venv/bin/python bench/orders.py                      # 3000 orders, 4 processes, 50 resellers
    .venv/bin/python bench/orders.py --mode threads       # the same with 4 threads
    .venv/bin/python bench/orders.py --profile 300        # + cProfile (CPU clock) of 300 orders

DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/cb_bench_orders; the database is
created if missing and migrated. Each run adds its own provider, resellers, customers, catalogue
and price lists (names carry the run's timestamp), so runs can share the database.

What every order goes through: the customer's approval is off and its reseller pays cash, so
order_submit runs the whole validation chain at once: the credit check and reservation under the
reseller's row lock, the auto-executed-product check, no card (no gateway), then execution
(subscription, reseller transactions, audit rows, emails queued on commit). A fifth of the
resellers get a credit limit, less an open invoice, that runs out during the run, so part of
their orders end *Unexecuted due to Insufficient Credit* and the overspend check is meaningful.

Workers are processes by default: Django serves requests from several worker processes (gunicorn,
Celery), and on CPython threads share one interpreter lock, so four threads measure mostly the
lock (the ORM's Python work is most of an order's cost), not what four workers would do. Each
process opens its own database connection. The machine has 2 cores that PostgreSQL shares with
the workers; that is part of the figure.

Printed: orders placed, orders/s, p50/p99 latency per order (create + submit), completed vs
unexecuted; the CPU each order cost in the workers and in their PostgreSQL backends (from /proc),
with how busy the machine was and how much of it went to other work (other people's tests skew
the figures: say so when you quote them); queries per order, counted with CaptureQueriesContext
on a separate probe run, and each statement's share; and the overspend check, read from the
tables at the end: for every reseller, reserved + uninvoiced transactions never exceed its credit
limit minus its open debt. Exit 1 when a reseller overspent, an order was left in another status
or a worker failed. A script, not a test.

Emails go to Django's dummy backend (EMAIL_URL=dummymail://, unless set): the services make their
messages and hand them to a backend as in production, but nothing is rendered, printed or sent.
"""

import argparse
import contextlib
import datetime
import multiprocessing
import os
import random
import re
import statistics
import sys
import threading
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cb_bench_orders")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("EMAIL_URL", "dummymail://")
os.environ["DEBUG"] = "false"

TARGET_RATE = 150  # orders/s
TARGET_P99_MS = 100
# Python CPU per order at most this many times PostgreSQL's: the ratio holds across machines,
# where orders/s differs by 2x between them (issue 10).
TARGET_CPU_RATIO = 1.5
TIGHT_EVERY = 5  # every fifth reseller runs out of credit
WARMUP_PER_WORKER = 5
BENCH_DAY = datetime.date(2026, 11, 25)


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


# --- the world the orders are placed in ----------------------------------------------------------


def build_world(*, run: str, resellers: int, customers_per_reseller: int) -> dict:
    """A provider, resellers paying cash (net terms), customers with approval off, a catalogue of
    auto-executed products, the provider's price lists to the resellers and each reseller's list
    to its customers. Accounts and documents go through the services; the catalogue and price
    lists are written as the admin writes them (the ORM), as the demo does."""
    from billing import ledger
    from orders.models import (
        Catalogue,
        CatalogueAssignment,
        PriceList,
        PriceListAssignment,
        PriceListItem,
        Product,
    )
    from resellers import services as accounts
    from resellers.models import Account, PaymentMethod

    provider = accounts.account_create(kind=Account.Kind.PROVIDER, name=f"Bench {run} provider")
    staff = accounts.user_create(
        username=f"bench-{run}-staff", password="x", account=provider, is_staff=True
    )
    accounts.contact_create(
        account=provider, name="Desk", email="desk@bench.example", is_bill_to=True
    )
    products = [
        Product.objects.create(
            sku=f"B{run}-{i}",
            name=f"Bench {run} product {i}",
            product_type=Product.ProductType.SOFTWARE_SUBSCRIPTION,
            billing_type=Product.BillingType.RECURRING_MONTHLY,
            list_price=Decimal(price),
        )
        for i, price in enumerate(("12.00", "6.00", "20.00", "40.00"))
    ]
    catalogue = Catalogue.objects.create(name=f"Bench {run}")
    catalogue.products.add(*products)
    cost_lists = []
    for tier, markup in (("gold", "-20"), ("silver", "-10")):
        plist = PriceList.objects.create(
            seller=provider, name=f"{tier} {run}", currency="USD", markup_percent=Decimal(markup)
        )
        PriceListItem.objects.create(price_list=plist, product=products[0], unit_price=9)
        cost_lists.append(plist)

    world = {"provider": provider, "staff": staff, "products": products, "resellers": []}
    for r in range(resellers):
        tight = r % TIGHT_EVERY == 0
        reseller = accounts.account_create(
            kind=Account.Kind.RESELLER,
            name=f"Bench {run} R{r:02d}",
            parent=provider,
            reseller_model=Account.ResellerModel.RESALE,
            credit_terms=Account.CreditTerms.NET_TERMS,
            credit_limit=Decimal("1000.00") if tight else Decimal("1000000.00"),
            payment_terms_days=30,
            acting_user=staff,
        )
        accounts.payment_method_create(account=reseller, kind=PaymentMethod.Kind.CASH)
        accounts.contact_create(
            account=reseller, name="Billing", email=f"r{r}@bench.example", is_bill_to=True
        )
        user = accounts.user_create(username=f"bench-{run}-r{r}", password="x", account=reseller)
        if tight:  # an open invoice: available credit = 1,000 - 250 = 750
            invoice = ledger.document_create(
                doc_type="invoice",
                issuer=provider,
                recipient=reseller,
                lines=[ledger.LineSpec(description="Earlier month", unit_price=Decimal("250"))],
            )
            ledger.document_issue(document=invoice, issue_date=BENCH_DAY)
        PriceListAssignment.objects.create(buyer=reseller, price_list=cost_lists[r % 2])
        CatalogueAssignment.objects.create(account=reseller, catalogue=catalogue)
        retail = PriceList.objects.create(
            seller=reseller, name=f"retail {run}", currency="USD", markup_percent=Decimal("25")
        )
        PriceListItem.objects.create(price_list=retail, product=products[0], unit_price=14)
        buyers = []
        for c in range(customers_per_reseller):
            customer = accounts.account_create(
                kind=Account.Kind.CUSTOMER, name=f"Bench {run} R{r:02d} C{c}", parent=reseller
            )
            accounts.contact_create(
                account=customer, name="Buyer", email=f"r{r}c{c}@bench.example", is_primary=True
            )
            accounts.customer_set_order_approval(
                customer=customer, required=False, acting_user=user
            )
            PriceListAssignment.objects.create(buyer=customer, price_list=retail)
            CatalogueAssignment.objects.create(account=customer, catalogue=catalogue)
            buyer = accounts.user_create(
                username=f"bench-{run}-r{r}c{c}",
                password="x",
                account=customer,
                email=f"buyer-r{r}c{c}@bench.example",
            )
            buyers.append((customer.pk, buyer.pk))
        world["resellers"].append({"pk": reseller.pk, "tight": tight, "buyers": buyers})
    return world


def plan(world: dict, *, orders: int, seed: int = 7) -> list[tuple[int, int, list[tuple]]]:
    """The orders to place, as (customer id, user id, [(product id, quantity)]): spread evenly
    over the resellers in a shuffled order, one item mostly, two in every fourth order."""
    rng = random.Random(seed)
    product_ids = [p.pk for p in world["products"]]
    out = []
    for i in range(orders):
        reseller = world["resellers"][i % len(world["resellers"])]
        customer_id, user_id = rng.choice(reseller["buyers"])
        count = 2 if i % 4 == 3 else 1
        items = [(pid, rng.randint(1, 3)) for pid in rng.sample(product_ids, count)]
        out.append((customer_id, user_id, items))
    rng.shuffle(out)
    return out


# --- placing orders ------------------------------------------------------------------------------


class Placer:
    """Places planned orders through the services, with objects loaded once per worker (what a
    request would have loaded anyway: the user, the customer, the products)."""

    def __init__(self):
        from orders import services
        from orders.models import Product
        from resellers.models import Account, User

        self.services = services
        self.Product, self.Account, self.User = Product, Account, User
        self.products: dict = {}

    def place(self, customer_id: int, user_id: int, items: list[tuple], capture=None) -> str:
        """Load what a request would (its user, the customer; products are cached per worker),
        then call the two services; `capture`, a context manager, wraps only the services."""
        services = self.services
        for pid, _ in items:
            if pid not in self.products:
                self.products[pid] = self.Product.objects.get(pk=pid)
        user = self.User.objects.select_related("account").get(pk=user_id)
        customer = self.Account.objects.get(pk=customer_id)
        specs = [services.ItemSpec(product=self.products[p], quantity=q) for p, q in items]
        with capture if capture is not None else contextlib.nullcontext():
            return services.order_place(
                placed_by=user, customer=customer, items=specs, today=BENCH_DAY
            ).status


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used, from /proc (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    hz = os.sysconf("SC_CLK_TCK")
    return (sum(ticks) - idle) / hz, sum(ticks) / hz


def work(slice_: list, barrier, results, warmup: list, threaded: bool) -> None:
    """One worker: warm up (connection, caches), wait for the others, place its orders. Reports
    its latencies and the CPU it and its PostgreSQL backend used while placing them."""
    from django.db import connection, connections

    own_cpu = time.thread_time if threaded else time.process_time
    placer = Placer()
    try:
        for job in warmup:
            placer.place(*job)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
        barrier.wait()
        began, cpu0, db0 = time.perf_counter(), own_cpu(), proc_cpu(backend)
        rows = []
        for job in slice_:
            start = time.perf_counter()
            status = placer.place(*job)
            rows.append((time.perf_counter() - start, status))
        results.put(
            {
                "began": began,
                "ended": time.perf_counter(),
                "rows": rows,
                "cpu": own_cpu() - cpu0,
                "db_cpu": proc_cpu(backend) - db0,
                "error": None,
            }
        )
    except Exception as exc:  # report, never hang the parent
        results.put({"began": 0, "ended": 0, "rows": [], "cpu": 0, "db_cpu": 0,
                     "error": repr(exc)})  # fmt: skip
        raise
    finally:
        connections.close_all()


def run_workers(jobs: list, warmup: list, *, workers: int, mode: str) -> list[dict]:
    from django.db import connections

    slices = [jobs[w::workers] for w in range(workers)]
    warm = [warmup[w::workers] for w in range(workers)]
    if mode == "threads":
        import queue

        barrier, results = threading.Barrier(workers), queue.Queue()
        runners = [
            threading.Thread(target=work, args=(slices[w], barrier, results, warm[w], True))
            for w in range(workers)
        ]
    else:
        connections.close_all()  # never share a connection across fork
        ctx = multiprocessing.get_context("fork")
        barrier, results = ctx.Barrier(workers), ctx.Queue()
        runners = [
            ctx.Process(target=work, args=(slices[w], barrier, results, warm[w], False))
            for w in range(workers)
        ]
    for r in runners:
        r.start()
    outcome = [results.get(timeout=1800) for _ in runners]
    for r in runners:
        r.join()
    return outcome


# --- checks and probes ---------------------------------------------------------------------------


def overspend(world: dict) -> list[str]:
    """Offenders: resellers whose reserved + uninvoiced exceed credit limit - open debt. Read
    straight from the tables, not through the selectors under test."""
    from django.db.models import Sum

    from billing.models import Balance, CreditReservation, ResellerTransaction
    from resellers.models import Account

    zero = Decimal("0")
    offenders = []
    for r in world["resellers"]:
        account = Account.objects.get(pk=r["pk"])
        debt = (
            Balance.objects.filter(recipient=account, issuer_id=account.issuer_id)
            .values_list("open_debt", flat=True)
            .first()
        ) or zero
        uninvoiced = (
            ResellerTransaction.objects.filter(account=account, status="uninvoiced").aggregate(
                s=Sum("amount")
            )["s"]
            or zero
        )
        reserved = (
            CreditReservation.objects.filter(account=account, status="active").aggregate(
                s=Sum("amount")
            )["s"]
            or zero
        )
        if reserved + uninvoiced > account.credit_limit - debt:
            offenders.append(
                f"{account.name}: reserved {reserved} + uninvoiced {uninvoiced} > "
                f"limit {account.credit_limit} - open debt {debt}"
            )
    return offenders


_SHAPE = re.compile(r"'[^']*'|\b\d+(\.\d+)?\b")


def shape(sql: str) -> str:
    """A statement with its literals blanked, cut to what names it: verb, table, filter."""
    sql = re.sub(r"::\w+", "", _SHAPE.sub("?", sql.replace("%s", "?")))  # casts differ in logs
    sql = re.sub(r"SELECT .*? FROM", "SELECT … FROM", sql, count=1)
    sql = re.sub(r"INSERT INTO (\S+) .*", r"INSERT INTO \1 …", sql)
    sql = re.sub(r"SAVEPOINT \S+|RELEASE SAVEPOINT \S+", lambda m: m.group(0).split()[0], sql)
    return sql[:150]


def probe_queries(world: dict, *, count: int) -> dict:
    """Count the queries of `count` single-item and `count` two-item orders, placed one by one on
    a reseller with ample credit (so every order completes), and name the costliest shapes."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    roomy = next(r for r in world["resellers"] if not r["tight"])
    pids = [p.pk for p in world["products"]]
    placer = Placer()
    placer.place(*roomy["buyers"][0], [(pids[0], 1)])  # warm the placer's cache
    per_order: dict[int, list[int]] = {1: [], 2: []}
    shapes: Counter = Counter()
    timing: Counter = Counter()

    def timed(execute, sql, params, many, context):
        """Time each statement at the driver, to the microsecond (connection.queries keeps ms)."""
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            timing[shape(sql)] += time.perf_counter() - start

    for n in (1, 2):
        for i in range(count):
            customer_id, user_id = roomy["buyers"][i % len(roomy["buyers"])]
            ctx = CaptureQueriesContext(connection)  # counts BEGIN and COMMIT too
            if n == 1:
                with connection.execute_wrapper(timed):
                    placer.place(customer_id, user_id, [(pids[0], 1)], capture=ctx)
                for q in ctx.captured_queries:
                    shapes[shape(q["sql"])] += 1
                    if q["sql"] in ("BEGIN", "COMMIT"):
                        timing[q["sql"]] += float(q["time"])
            else:
                placer.place(customer_id, user_id, [(p, 1) for p in pids[:n]], capture=ctx)
            per_order[n].append(len(ctx.captured_queries))
    return {
        "one_item": statistics.mean(per_order[1]),
        "two_items": statistics.mean(per_order[2]),
        "shapes": {s: (c / count, timing[s] / count * 1000) for s, c in shapes.items()},
    }


def profile_orders(world: dict, *, count: int, dump: str | None = None) -> None:
    """cProfile `count` orders placed one by one in this process, timed by this process's CPU
    clock, so time spent waiting for PostgreSQL is left out: what the figures show is the Python
    CPU each service function costs. Orders on a reseller with ample credit, so all complete."""
    import cProfile
    import pstats

    roomy = [r for r in world["resellers"] if not r["tight"]]
    rng = random.Random(11)
    pids = [p.pk for p in world["products"]]
    jobs = [(*rng.choice(roomy[i % len(roomy)]["buyers"]), [(pids[i % 4], 1)])
            for i in range(count)]  # fmt: skip
    placer = Placer()
    placer.place(*jobs[0])
    profiler = cProfile.Profile(time.process_time)
    began, cpu = time.perf_counter(), time.process_time()
    profiler.enable()
    for job in jobs[1:]:
        placer.place(*job)
    profiler.disable()
    n = count - 1
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu
    print(
        f"\nprofile: {n} single-item orders, one process, under cProfile (CPU clock): "
        f"{wall / n * 1000:.1f} ms wall, {cpu / n * 1000:.1f} ms Python CPU per order"
    )
    stats = pstats.Stats(profiler)
    if dump:
        stats.dump_stats(dump)  # for pstats / snakeviz: callers and callees of each function
    layers: Counter = Counter()
    for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():
        layers[layer(filename)] += tottime
    total = sum(layers.values())
    print("Python CPU by layer (own time of the functions in it):")
    for name, seconds in layers.most_common():
        print(f"  {seconds / total:5.1%}  {name}")
    stats.sort_stats("cumulative").print_stats(r"/(orders|billing|resellers)/.*\.py", 40)
    stats.sort_stats("tottime").print_stats(15)


LAYERS = (
    ("django/db/models/sql/", "Django ORM: compiling SQL"),
    ("django/db/models/", "Django ORM: querysets, model instances, fields"),
    ("django/db/backends/", "Django database backend (cursor wrappers, transactions)"),
    ("django/db/transaction", "Django database backend (cursor wrappers, transactions)"),
    ("psycopg", "psycopg (sending queries, reading results)"),
    ("django/core/mail", "email"),
    ("django/", "Django, other"),
    ("/work/main/", "project code (orders, billing, resellers)"),
)


def layer(filename: str) -> str:
    for fragment, name in LAYERS:
        if fragment in filename:
            return name
    return "Python builtins and standard library"


# --- main ----------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--resellers", type=int, default=50)
    parser.add_argument("--customers", type=int, default=4, help="per reseller")
    parser.add_argument("--orders", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--mode", choices=("processes", "threads"), default="processes")
    parser.add_argument("--probe", type=int, default=20, help="orders per query-count probe")
    parser.add_argument("--profile", type=int, default=0, help="also cProfile this many orders")
    parser.add_argument("--profile-file", default=None, help="write the profile's stats here")
    args = parser.parse_args()

    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    # The bench's 250 users log in nowhere: don't spend a minute of setup on PBKDF2.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from django.db import connection

    from orders.models import Order

    call_command("migrate", verbosity=0)
    run = str(int(time.time()))
    setup_began = time.perf_counter()
    world = build_world(run=run, resellers=args.resellers, customers_per_reseller=args.customers)
    setup_s = time.perf_counter() - setup_began
    warmup = plan(world, orders=WARMUP_PER_WORKER * args.workers, seed=3)
    jobs = plan(world, orders=args.orders)

    load_before = os.getloadavg()[0]
    busy0, total0 = machine_cpu()
    outcome = run_workers(jobs, warmup, workers=args.workers, mode=args.mode)
    busy1, total1 = machine_cpu()
    errors = [o["error"] for o in outcome if o["error"]]
    rows = [row for o in outcome for row in o["rows"]]
    wall = max(o["ended"] for o in outcome) - min(o["began"] for o in outcome)
    latencies = sorted(lat for lat, _ in rows)
    statuses = Counter(status for _, status in rows)
    by_status = {
        s: statistics.median([lat for lat, st in rows if st == s]) * 1000 for s in statuses
    }
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0] * 99

    offenders = overspend(world)
    reseller_ids = [r["pk"] for r in world["resellers"]]
    left = Counter(
        Order.objects.filter(credit_account_id__in=reseller_ids, parent__isnull=True)
        .exclude(status__in=["completed", "unexecuted_credit"])
        .values_list("status", flat=True)
    )
    probe = probe_queries(world, count=args.probe)

    rate = len(rows) / wall if wall else 0
    p50, p99 = q[49] * 1000, q[98] * 1000
    tight = sum(r["tight"] for r in world["resellers"])
    print(f"database          {connection.settings_dict['NAME']} ({connection.vendor})")
    print(f"workers           {args.workers} {args.mode}, {os.cpu_count()} CPUs")
    print(f"resellers         {len(world['resellers'])} ({tight} with credit that runs out)")
    print(f"customers         {len(world['resellers']) * args.customers} (approval off)")
    print(f"setup             {setup_s:.1f} s (not timed)")
    print(f"orders placed     {len(rows)} (+ {len(warmup)} warm-up orders, not timed)")
    print(f"wall time         {wall:.2f} s")
    print(f"orders/s          {rate:.0f}")
    print(f"latency p50       {p50:.1f} ms")
    print(f"latency p99       {p99:.1f} ms")
    print(f"latency max       {latencies[-1] * 1000:.1f} ms" if latencies else "")
    n = max(len(rows), 1)
    py_ms = sum(o["cpu"] for o in outcome) / n * 1000
    db_ms = sum(o["db_cpu"] for o in outcome) / n * 1000
    busy_s, total_s = busy1 - busy0, total1 - total0
    other = busy_s - sum(o["cpu"] + o["db_cpu"] for o in outcome)
    print(
        f"CPU per order     {py_ms:.1f} ms Python (workers) + {db_ms:.1f} ms PostgreSQL "
        f"(their backends) = room for {os.cpu_count() * 1000 / (py_ms + db_ms):.0f} orders/s "
        f"on {os.cpu_count()} cores"
    )
    ratio = py_ms / db_ms if db_ms else float("inf")
    print(f"CPU ratio         {ratio:.2f} (Python per order / PostgreSQL per order)")
    print(
        f"machine           {busy_s / total_s:.0%} busy during the run; "
        f"{max(other, 0) / total_s * os.cpu_count():.2f} cores on other work "
        f"(load average {load_before:.2f} before)"
    )
    for status, count in statuses.most_common():
        print(f"  {status:<18}{count:>6}   p50 {by_status[status]:.1f} ms")
    print(
        f"queries/order     {probe['one_item']:.1f} (one item), {probe['two_items']:.1f} "
        "(two items), completed orders"
    )
    print(
        "overspend         "
        + ("zero overspend" if not offenders else f"{len(offenders)} OFFENDERS")
        + f" ({len(reseller_ids)} resellers checked)"
    )
    for line in offenders:
        print(f"  {line}")
    if left:
        print(f"other statuses    {dict(left)}")
    if errors:
        print(f"worker errors     {errors}")
    met = rate >= TARGET_RATE and p99 < TARGET_P99_MS and ratio <= TARGET_CPU_RATIO
    print(
        f"target            {TARGET_RATE} orders/s, p99 < {TARGET_P99_MS} ms and CPU ratio <= "
        f"{TARGET_CPU_RATIO}: " + ("met" if met else "MISSED")
    )
    print(
        "\nstatements of one single-item order: count per order, and ms per order spent at the "
        "driver\n(round trip + PostgreSQL); the ORM's Python work for each comes on top:"
    )
    for sql, (count, ms) in sorted(probe["shapes"].items(), key=lambda kv: -kv[1][0])[:40]:
        print(f"  {count:4.1f}  {ms:5.2f}  {sql}")
    if args.profile:
        profile_orders(world, count=args.profile, dump=args.profile_file)
    return 0 if not offenders and not left and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
