#!/usr/bin/env python
"""Billing-run benchmark: N accounts with M monthly subscriptions each on PostgreSQL, billed for
2026-02-01 by real Celery workers; prints subscriptions billed per second, invoices per second,
the run's wall time and the workers' peak memory, for each size N x M, then bills the same date
again (nothing left to do: it must be fast) and checks the result.

    .venv/bin/python bench/billing_run.py                         # 10,000 and 100,000 subscriptions
    .venv/bin/python bench/billing_run.py --sizes 10000 --profile  # + two chunks profiled
    .venv/bin/python bench/billing_run.py --sizes 100000 --workers 2 --chunk-size 250 --keep

DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/cb_bench_billing: dropped, created and
migrated for every size (--keep leaves the last size's data behind). The broker is Redis database
13 (CELERY_BROKER_URL to change it) with a queue of the bench's own, so no other worker takes its
chunks and no stale message reaches its workers.

The shape (printed): one provider; resale resellers with --per-reseller customers each (100); N =
size / M customers with M (--per-account, 10) subscriptions each. Every account is anchored on
2026-01-01 with its cycle due on 2026-02-01; every subscription is monthly, billed through
2026-02-01 (so due that day), 10.00 cost / 15.00 price, quantity 1..5, every 97th suspended (the
default customer class bills on hold, so those are rated too). The run bills in two phases: the
customers' chunks write 2 charges per subscription (the customer's February at price, invoiced
at once; the reseller's at cost), then the resellers' chunks issue each reseller's billing order
carrying its customers' February (a billing order carries what its customers consumed in its
period). So the run issues N customer invoices (M lines each) and one invoice per reseller
(per-reseller x M lines each). The data is written with INSERT ... SELECT generate_series, not
through orders.

K (--workers, 2) worker processes `celery -A config worker --pool=prefork --concurrency=1` are
started per size after the data (eager mode off, DEBUG off), pinged until they answer, and then
run_start(run_date=2026-02-01, inline=False) fans the chunks out from this process. Wall time is
from just before run_start to the run's finished_at; the workers' RSS (task process + parent,
from /proc) is sampled every 0.2 s and each task process's VmHWM read at the end. CPU used by the
workers and by PostgreSQL (all postgres processes, exited backends included through the
postmaster) during the run comes from /proc.

Checks after each size (exit 1 if one fails): the run completed with no failure; every due
account has exactly one live invoice keyed billing:2026-02-01; every subscription is billed
through 2026-03-01; one customer and one reseller charge per subscription for February, both
invoiced; invoice totals add up; numbering gap-free per issuer;
balance_mismatches() empty; the second run issued nothing.

--profile: before the timed run, plan_billing_chunk + apply_billing_plan of the first chunk (the
resellers) and of a customer chunk, in this process, in a transaction rolled back afterwards:
statements counted and timed at the driver, then again under cProfile. A script, not a test.
"""

import argparse
import contextlib
import datetime
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cb_bench_billing")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/13")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("EMAIL_URL", "dummymail://")
os.environ["DEBUG"] = "false"  # DEBUG keeps every query in memory: it would swamp the RSS figure
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
QUEUE = f"bench_billing_{os.getpid()}_{uuid.uuid4().hex[:6]}"
os.environ["CELERY_TASK_DEFAULT_QUEUE"] = QUEUE

RUN_DATE = datetime.date(2026, 2, 1)
ANCHOR = datetime.date(2026, 1, 1)
BILLED_THROUGH_AFTER = datetime.date(2026, 3, 1)
COST, PRICE = Decimal("10.00"), Decimal("15.00")
SUSPEND_EVERY = 97
TARGET_RATE = 2000  # subscriptions/s at the largest size
LINEAR_SLACK = 1.25  # time per subscription may grow by a quarter from the smallest size
MEMORY_SLACK = 1.25  # and peak memory by a quarter
SECOND_RUN_SHARE = 0.05  # the second run: at most 5% of the first


def admin_dsn(url: str) -> str:
    return url.rsplit("/", 1)[0] + "/postgres"


def recreate_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(admin_dsn(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


# --- data ----------------------------------------------------------------------------------------


def generate(*, customers: int, per_account: int, per_reseller: int) -> dict:
    """The provider, resellers, customers and subscriptions, in a handful of set-wise statements.
    Returns the counts."""
    from django.db import connection, transaction

    from orders.models import Product
    from resellers.models import Account
    from resellers.services import customer_class_default

    resellers = -(-customers // per_reseller)
    klass = customer_class_default()
    products = [
        Product.objects.create(
            sku=f"BENCH-{i}",
            name=f"Cloud Suite {i}",
            product_type=Product.ProductType.SOFTWARE_SUBSCRIPTION,
            billing_type=Product.BillingType.RECURRING_MONTHLY,
            list_price=COST,
        )
        for i in range(5)
    ]
    provider = Account.objects.create(
        kind=Account.Kind.PROVIDER, name="Bench provider", customer_class=klass
    )
    product_ids = "ARRAY[" + ", ".join(str(p.pk) for p in products) + "]::bigint[]"
    common = (
        "status, currency, credit_hold, auto_topup_enabled, created_at, updated_at, "
        "customer_class_id, order_approval_required, daily_invoicing, billing_anchor, "
        "next_billing_date, commission_rate, address_line1, address_line2, city, region, "
        "postal_code, country, tax_id, payment_instructions"
    )
    common_values = (
        "'active', 'USD', false, false, now(), now(), %(klass)s, false, 'prepaid_only', "
        "%(anchor)s, %(next)s, 0, '', '', '', '', '', '', '', ''"
    )
    params = {
        "klass": klass.pk,
        "anchor": ANCHOR,
        "next": RUN_DATE,
        "provider": provider.pk,
        "resellers": resellers,
        "customers": customers,
        "per_reseller": per_reseller,
        "m": per_account,
        "suspend": SUSPEND_EVERY,
        "cost": COST,
        "price": PRICE,
    }
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            f"""INSERT INTO resellers_account (kind, name, parent_id, issuer_id, reseller_model,
                credit_terms, credit_limit, payment_terms_days, {common})
            SELECT 'reseller', 'Bench R' || lpad(g::text, 5, '0'), %(provider)s, %(provider)s,
                'resale', 'net_terms', 1000000000, 30, {common_values}
            FROM generate_series(1, %(resellers)s) g""",
            params,
        )
        cur.execute(
            f"""INSERT INTO resellers_account (kind, name, parent_id, issuer_id, reseller_model,
                credit_terms, credit_limit, payment_terms_days, {common})
            SELECT 'customer', 'Bench C' || lpad(g::text, 7, '0'), r.id, r.id, '',
                'net_terms', 100000, 30, {common_values}
            FROM generate_series(0, %(customers)s - 1) g
            JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS rn FROM resellers_account
                  WHERE kind = 'reseller') r ON r.rn = g / %(per_reseller)s""",
            params,
        )
        cur.execute(
            f"""INSERT INTO orders_subscription (account_id, credit_account_id, product_id,
                quantity, status, billing_period, unit_cost, unit_price, currency, start_date,
                billing_anchor, billed_through, next_billing_date, created_at)
            SELECT c.id, c.parent_id, ({product_ids})[1 + (k %% 5)],
                1 + ((c.id * 7 + k) %% 5),
                CASE WHEN (c.id * %(m)s + k) %% %(suspend)s = 0 THEN 'suspended' ELSE 'active' END,
                'monthly', %(cost)s, %(price)s, 'USD', %(anchor)s, %(anchor)s, %(next)s,
                %(next)s, now()
            FROM resellers_account c CROSS JOIN generate_series(1, %(m)s) k
            WHERE c.kind = 'customer'
            ORDER BY c.id, k""",
            params,
        )
        cur.execute("SELECT count(*) FROM orders_subscription")
        subscriptions = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM orders_subscription WHERE status = 'suspended'")
        suspended = cur.fetchone()[0]
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    return {
        "resellers": resellers,
        "customers": customers,
        "subscriptions": subscriptions,
        "suspended": suspended,
    }


# --- workers -------------------------------------------------------------------------------------


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            found += [int(x) for x in task.read_text().split()]
    return found


def status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def proc_cpu(pid: int, *, reaped: bool = False) -> float:
    """CPU seconds (user + system) of a process; with `reaped`, plus its exited children's."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if reaped:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def postgres_cpu() -> float:
    """CPU of every postgres process; exited backends count through the postmaster's reaped
    children."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/comm"):
        try:
            if stat.read_text().strip() == "postgres":
                total += proc_cpu(int(stat.parent.name), reaped=True)
        except (OSError, ValueError):
            pass
    return total


def machine_cpu() -> tuple[float, float]:
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    hz = os.sysconf("SC_CLK_TCK")
    return (sum(ticks) - ticks[3] - ticks[4]) / hz, sum(ticks) / hz


class Workers:
    """K celery workers (prefork, one task process each) on the bench's queue."""

    def __init__(self, count: int, log_dir: Path):
        self.count = count
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen] = []
        self.names: list[str] = []
        self.peak_tree: list[int] = []  # kB, sampled: task process(es) + parent
        self.peak_child: list[int] = []
        self.baseline: list[int] = []
        self._stop = threading.Event()
        self._sampler: threading.Thread | None = None

    def start(self) -> None:
        env = dict(os.environ)
        env["CELERY_TASK_DEFAULT_QUEUE"] = QUEUE
        env.setdefault("LOG_LEVEL", "WARNING")
        token = uuid.uuid4().hex[:6]
        for i in range(self.count):
            name = f"bench-billing-{i}-{token}@%h"
            log = open(self.log_dir / f"worker-{i}.log", "w")  # noqa: SIM115
            self.procs.append(
                subprocess.Popen(
                    [
                        str(ROOT / ".venv/bin/celery"),
                        "-A",
                        "config",
                        "worker",
                        "--pool=prefork",
                        "--concurrency=1",
                        "-Q",
                        QUEUE,
                        "-n",
                        name,
                        "--loglevel=WARNING",
                        "--without-gossip",
                        "--without-mingle",
                        "--without-heartbeat",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            self.names.append(name.replace("%h", os.uname().nodename))

    def wait_ready(self, timeout: float = 90) -> None:
        from config.celery import app

        deadline = time.monotonic() + timeout
        answered: set[str] = set()
        while time.monotonic() < deadline:
            for p in self.procs:
                if p.poll() is not None:
                    raise RuntimeError(f"worker exited with {p.returncode}: see {self.log_dir}")
            for reply in app.control.ping(destination=self.names, timeout=1.0):
                answered |= set(reply)
            if answered >= set(self.names) and all(children(p.pid) for p in self.procs):
                return
        raise RuntimeError(f"workers not ready after {timeout:.0f} s: see {self.log_dir}")

    def tree_cpu(self) -> float:
        return sum(proc_cpu(pid) for p in self.procs for pid in [p.pid, *children(p.pid)])

    def sample(self) -> None:
        self.peak_tree = [0] * self.count
        self.peak_child = [0] * self.count
        self.baseline = [self._tree_rss(i)[0] for i in range(self.count)]

        def loop():
            while not self._stop.is_set():
                for i in range(self.count):
                    tree, child = self._tree_rss(i)
                    self.peak_tree[i] = max(self.peak_tree[i], tree)
                    self.peak_child[i] = max(self.peak_child[i], child)
                self._stop.wait(0.2)

        self._sampler = threading.Thread(target=loop, daemon=True)
        self._sampler.start()

    def _tree_rss(self, i: int) -> tuple[int, int]:
        pid = self.procs[i].pid
        kids = [status_kb(c, "VmRSS") for c in children(pid)]
        return status_kb(pid, "VmRSS") + sum(kids), max(kids, default=0)

    def hwm(self) -> list[int]:
        """Each worker's task process(es) peak RSS (VmHWM), kB: exact, whatever the sampling."""
        return [max((status_kb(c, "VmHWM") for c in children(p.pid)), default=0)
                for p in self.procs]  # fmt: skip

    def stop(self) -> None:
        self._stop.set()
        if self._sampler:
            self._sampler.join()
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


# --- the run -------------------------------------------------------------------------------------


def run_and_wait(*, chunk_size: int, timeout: float, quiet: bool = False):
    """Start the run on the workers and poll until it stops running. Returns (run, wall s,
    enqueue s)."""
    from django.utils import timezone

    from billing.models import BillingRun
    from billing.runs import run_start

    began = timezone.now()
    t0 = time.perf_counter()
    run = run_start(run_date=RUN_DATE, inline=False, chunk_size=chunk_size, trigger="bench")
    enqueued = time.perf_counter() - t0
    last = 0.0
    while run.status == BillingRun.Status.RUNNING:
        if time.perf_counter() - t0 > timeout:
            raise RuntimeError(
                f"run {run.pk} still running after {timeout:.0f} s "
                f"({run.chunks_done}/{run.chunks_total} chunks)"
            )
        time.sleep(0.2)
        run.refresh_from_db()
        if not quiet and time.perf_counter() - last > 10:
            last = time.perf_counter()
            print(
                f"    ... {run.chunks_done}/{run.chunks_total} chunks, "
                f"{time.perf_counter() - t0:.0f} s",
                file=sys.stderr,
                flush=True,
            )
    end = run.finished_at or timezone.now()
    return run, (end - began).total_seconds(), enqueued


# --- checks --------------------------------------------------------------------------------------


def verify(*, due: list[int], run, second) -> list[str]:
    from django.db import connection
    from django.db.models import Sum

    from billing.models import BillingRun, Document
    from billing.selectors import balance_mismatches
    from orders.models import Subscription

    problems = []
    key = f"billing:{RUN_DATE.isoformat()}"
    if run.status != BillingRun.Status.COMPLETED or run.failures_count:
        reasons = list(run.failures.values_list("reason", flat=True)[:3])
        problems.append(f"run {run.status}, {run.failures_count} failures: {reasons}")
    invoices = Document.objects.filter(doc_type="invoice", billing_key=key).exclude(
        status="cancelled"
    )
    per_account = Counter(invoices.values_list("recipient_id", flat=True))
    missing = set(due) - set(per_account)
    extra = set(per_account) - set(due)
    twice = [a for a, n in per_account.items() if n != 1]
    if missing or extra or twice:
        problems.append(
            f"invoices: {len(missing)} due accounts without one, {len(extra)} not due with one, "
            f"{len(twice)} with more than one"
        )
    left = Subscription.objects.exclude(billed_through=BILLED_THROUGH_AFTER).count()
    if left:
        problems.append(f"{left} subscriptions not billed through {BILLED_THROUGH_AFTER}")
    with connection.cursor() as cur:
        cur.execute(
            """SELECT
                count(*) FILTER (WHERE t.account_id = s.account_id AND t.status = 'invoiced'),
                count(*) FILTER (WHERE t.account_id = s.credit_account_id
                                 AND t.status = 'invoiced'),
                count(*)
            FROM billing_resellertransaction t JOIN orders_subscription s
              ON s.id = t.subscription_id
            WHERE t.period_start_date = %s""",
            [RUN_DATE],
        )
        holder, cost, total = cur.fetchone()
        cur.execute("SELECT count(*) FROM orders_subscription")
        subs = cur.fetchone()[0]
        if (holder, cost, total) != (subs, subs, 2 * subs):
            problems.append(
                f"February charges: {holder} holder (invoiced), {cost} reseller (invoiced), "
                f"{total} in all, for {subs} subscriptions"
            )
        cur.execute(
            "SELECT sum(unit_price * quantity) + sum(unit_cost * quantity) FROM orders_subscription"
        )
        expected = cur.fetchone()[0]
    invoiced = invoices.aggregate(s=Sum("total"))["s"] or Decimal(0)
    if invoiced != expected:
        problems.append(f"invoice totals {invoiced} != expected {expected}")
    numbers = defaultdict(list)
    for issuer, number in Document.objects.filter(doc_type="invoice").values_list(
        "issuer_id", "number"
    ):
        numbers[issuer].append(number)
    gappy = [i for i, ns in numbers.items() if sorted(ns) != list(range(1, len(ns) + 1))]
    if gappy:
        problems.append(f"numbering not gap-free for {len(gappy)} issuers")
    mismatches = balance_mismatches()
    if mismatches:
        problems.append(f"{len(mismatches)} balance mismatches, e.g. {mismatches[0]}")
    if second.invoices_issued or second.status != BillingRun.Status.COMPLETED:
        problems.append(f"second run: {second.status}, {second.invoices_issued} invoices issued")
    return problems


# --- profile -------------------------------------------------------------------------------------


def shape(sql: str) -> str:
    """A statement's shape: literals and long value lists folded, truncated."""
    sql = re.sub(r"'[^']*'", "?", sql)
    sql = re.sub(r"\b\d+(\.\d+)?\b", "?", sql)
    row = r"\(\s*(?:%s|\?)(?:\s*,\s*(?:%s|\?))*\s*\)"
    sql = re.sub(rf"({row})(?:\s*,\s*{row})+", r"\1, ...", sql)
    sql = re.sub(r"IN \((\?|%s)(, (\?|%s))*\)", "IN (...)", sql)
    sql = re.sub(r"\s+", " ", sql)
    return sql[:150]


LAYERS = (
    ("django/db/models/sql/", "Django ORM: compiling SQL"),
    ("django/db/models/", "Django ORM: querysets, model instances, fields"),
    ("django/db/backends/", "Django database backend"),
    ("psycopg", "psycopg (sending queries, reading results)"),
    ("django/", "Django, other"),
    ("/billing/runs.py", "billing/runs.py (planning, rating, applying)"),
    ("/billing/taxes/", "billing/taxes"),
    ("/billing/", "billing, other"),
    ("/work/main/", "project, other"),
)


def layer(filename: str) -> str:
    for fragment, name in LAYERS:
        if fragment in filename:
            return name
    return "Python builtins and standard library"


def profile_chunks(chunks: tuple[list[list[int]], list[list[int]]]) -> None:
    """Plan + apply the first chunk and a customer chunk in this process, rolled back: once with
    every statement timed at the driver, once under cProfile (CPU clock)."""
    import cProfile
    import pstats

    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from billing.runs import apply_billing_plan, plan_billing_chunk

    first, second = chunks
    picks = [("a customer chunk (first phase)", first[0])] if first else []
    if second:  # profiled before the first phase wrote its customers' charges: a lighter chunk
        picks.append(("a reseller chunk (second phase, without this run's charges)", second[0]))

    def one(ids, *, profiler=None):
        timing: Counter = Counter()
        counts: Counter = Counter()
        phases = {}

        def timed(execute, sql, params, many, context):
            start = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                timing[shape(sql)] += time.perf_counter() - start
                counts[shape(sql)] += 1

        ctx = CaptureQueriesContext(connection)
        with transaction.atomic():
            with ctx, connection.execute_wrapper(timed):
                if profiler:
                    profiler.enable()
                t0, c0 = time.perf_counter(), time.process_time()
                plan = plan_billing_chunk(account_ids=ids, run_date=RUN_DATE, lock=True)
                t1, c1 = time.perf_counter(), time.process_time()
                figures = apply_billing_plan(plan)
                t2, c2 = time.perf_counter(), time.process_time()
                if profiler:
                    profiler.disable()
            phases = {"plan": (t1 - t0, c1 - c0), "apply": (t2 - t1, c2 - c1)}
            transaction.set_rollback(True)
        return plan, figures, phases, timing, counts, ctx

    for label, ids in picks:
        plan, figures, phases, timing, shapes, ctx = one(ids)
        lines = sum(len(inv.charges) for inv in plan.invoices)
        sql_s = sum(timing.values())
        wall = sum(w for w, _ in phases.values())
        print(
            f"\nprofile: {label}: {len(ids)} accounts, {figures['subscriptions_billed']} "
            f"subscriptions billed, {len(plan.new_charges)} new charges, "
            f"{len(plan.invoices)} invoices, {lines} lines (rolled back)"
        )
        for name, (w, c) in phases.items():
            print(f"  {name:<6} {w * 1000:8.0f} ms wall, {c * 1000:8.0f} ms Python CPU")
        print(
            f"  {len(ctx.captured_queries)} statements, {sql_s * 1000:.0f} ms at the driver "
            f"({sql_s / wall:.0%} of {wall * 1000:.0f} ms); the rest is Python"
        )
        print("  statements by time (count, ms):")
        for sql, seconds in timing.most_common(12):
            print(f"    {shapes[sql]:4d} {seconds * 1000:8.1f}  {sql}")
        profiler = cProfile.Profile(time.process_time)
        one(ids, profiler=profiler)
        stats = pstats.Stats(profiler)
        layers: Counter = Counter()
        for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():
            layers[layer(filename)] += tottime
        total = sum(layers.values()) or 1
        print("  Python CPU by layer (own time, under cProfile):")
        for name, seconds in layers.most_common():
            print(f"    {seconds / total:5.1%}  {seconds * 1000:7.0f} ms  {name}")
        print("  top functions by cumulative time in billing/ (under cProfile):")
        rows = []
        for (filename, lineno, func), (_, _, tottime, cumtime, _) in stats.stats.items():
            if "/billing/" in filename:
                rows.append((cumtime, tottime, f"{Path(filename).name}:{lineno} {func}"))
        for cumtime, tottime, name in sorted(rows, reverse=True)[:14]:
            print(f"    {cumtime * 1000:7.0f} ms cum {tottime * 1000:7.0f} ms own  {name}")


# --- main ----------------------------------------------------------------------------------------


def one_size(args, size: int, log_root: Path) -> dict:
    from django.db import connections

    from billing.runs import CHUNK_WEIGHT, account_weights, chunked, due_account_ids, phases

    customers = max(1, size // args.per_account)
    connections.close_all()
    recreate_database(os.environ["DATABASE_URL"])
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    t0 = time.perf_counter()
    counts = generate(
        customers=customers, per_account=args.per_account, per_reseller=args.per_reseller
    )
    setup_s = time.perf_counter() - t0
    due = due_account_ids(run_date=RUN_DATE)
    weights = account_weights(run_date=RUN_DATE)
    first, second = (chunked(ids, args.chunk_size, weights) for ids in phases("billing", due))
    print(
        f"\n== {counts['subscriptions']} subscriptions: 1 provider, {counts['resellers']} resale "
        f"resellers x {args.per_reseller} customers, {counts['customers']} customers x "
        f"{args.per_account} subscriptions ({counts['suspended']} suspended, billed on hold); "
        f"{len(due)} accounts due, {len(first)} + {len(second)} chunks in two phases (at most "
        f"{args.chunk_size} accounts or "
        f"{CHUNK_WEIGHT} charges each); "
        f"data in {setup_s:.1f} s",
        flush=True,
    )
    if args.profile:
        profile_chunks((first, second))
        connections.close_all()

    log_dir = log_root / f"size-{size}"
    log_dir.mkdir(parents=True, exist_ok=True)
    workers = Workers(args.workers, log_dir)
    connections.close_all()
    try:
        workers.start()
        workers.wait_ready()
        workers.sample()
        busy0, total0 = machine_cpu()
        wcpu0, pg0 = workers.tree_cpu(), postgres_cpu()
        run, wall, enqueued = run_and_wait(chunk_size=args.chunk_size, timeout=args.timeout)
        wcpu1, pg1 = workers.tree_cpu(), postgres_cpu()
        busy1, total1 = machine_cpu()
        hwm = workers.hwm()
        second, second_wall, _ = run_and_wait(
            chunk_size=args.chunk_size, timeout=args.timeout, quiet=True
        )
    finally:
        workers.stop()
    problems = verify(due=due, run=run, second=second)
    cores = os.cpu_count() or 1
    result = {
        "size": size,
        "subscriptions": counts["subscriptions"],
        "accounts": len(due),
        "billed": run.subscriptions_billed,
        "invoices": run.invoices_issued,
        "wall": wall,
        "enqueue": enqueued,
        "peak_tree": [kb / 1024 for kb in workers.peak_tree],
        "peak_child": [kb / 1024 for kb in workers.peak_child],
        "baseline": [kb / 1024 for kb in workers.baseline],
        "hwm": [kb / 1024 for kb in hwm],
        "second": second_wall,
        "worker_cpu": wcpu1 - wcpu0,
        "pg_cpu": pg1 - pg0,
        "busy": (busy1 - busy0) / max(total1 - total0, 1e-9),
        "other": max(0.0, (busy1 - busy0) - (wcpu1 - wcpu0) - (pg1 - pg0))
        / max(total1 - total0, 1e-9)
        * cores,
        "problems": problems,
        "log_dir": log_dir,
    }
    r = result
    print(
        f"   run {run.pk}: {run.status}, {run.chunks_total} chunks, {r['billed']} subscriptions "
        f"billed, {r['invoices']} invoices, {run.charges_invoiced} lines; wall {wall:.2f} s "
        f"(run_start returned after {enqueued:.2f} s); second run {second_wall:.3f} s, "
        f"{second.invoices_issued} invoices"
    )
    print(
        f"   CPU during the run: workers {r['worker_cpu']:.1f} s, PostgreSQL {r['pg_cpu']:.1f} s "
        f"(of {wall * cores:.1f} core-s; machine {r['busy']:.0%} busy, "
        f"{r['other']:.2f} cores on other work)"
    )
    print(
        "   worker RSS MB (task process + parent): before "
        + ", ".join(f"{x:.0f}" for x in r["baseline"])
        + "; peak "
        + ", ".join(f"{x:.0f}" for x in r["peak_tree"])
        + "; task process VmHWM "
        + ", ".join(f"{x:.0f}" for x in r["hwm"])
    )
    print("   checks: " + ("all passed" if not problems else "FAILED"))
    for p in problems:
        print(f"     - {p}")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="N x M, comma-separated")
    parser.add_argument("--per-account", type=int, default=10, help="M: subscriptions per account")
    parser.add_argument("--per-reseller", type=int, default=100, help="customers per reseller")
    parser.add_argument("--workers", type=int, default=2, help="K worker processes")
    parser.add_argument("--chunk-size", type=int, default=None, help="accounts per chunk")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per run")
    parser.add_argument("--profile", action="store_true", help="profile two chunks (rolled back)")
    parser.add_argument("--keep", action="store_true", help="don't drop the database at the end")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]

    import django

    django.setup()
    from django.conf import settings
    from django.db import connections

    from billing.runs import CHUNK_SIZE

    if args.chunk_size is None:
        args.chunk_size = CHUNK_SIZE
    assert not settings.CELERY_TASK_ALWAYS_EAGER and not settings.DEBUG
    log_root = Path(f"/tmp/bench_billing_{os.getpid()}")
    print(
        f"database {os.environ['DATABASE_URL']}, broker {settings.CELERY_BROKER_URL}, "
        f"queue {QUEUE}; {args.workers} workers (prefork, concurrency 1), {os.cpu_count()} CPUs; "
        f"worker logs in {log_root}"
    )
    results = []
    try:
        for size in sizes:
            results.append(one_size(args, size, log_root))
    finally:
        connections.close_all()
        if not args.keep:
            import psycopg

            name = os.environ["DATABASE_URL"].rsplit("/", 1)[1]
            with psycopg.connect(admin_dsn(os.environ["DATABASE_URL"]), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    print(
        f"\n{'subscriptions':>13} {'accounts':>8} {'invoices':>8} {'wall s':>8} {'subs/s':>8} "
        f"{'inv/s':>7} {'peak RSS/worker MB':>19} {'2nd run s':>9}"
    )
    for r in results:
        print(
            f"{r['subscriptions']:>13} {r['accounts']:>8} {r['invoices']:>8} {r['wall']:>8.2f} "
            f"{r['billed'] / r['wall']:>8.0f} {r['invoices'] / r['wall']:>7.0f} "
            f"{'/'.join(f'{x:.0f}' for x in r['hwm']):>19} {r['second']:>9.3f}"
        )
    per_k = [(r["subscriptions"], r["wall"] / r["subscriptions"] * 1000) for r in results]
    print("linearity: " + ", ".join(f"{s}: {t:.3f} s per 1k subscriptions" for s, t in per_k))
    ok = not any(r["problems"] for r in results)
    if results:
        big, small = results[-1], results[0]
        rate = big["billed"] / big["wall"]
        targets = [
            (f"{TARGET_RATE} subscriptions/s at {big['subscriptions']}", rate >= TARGET_RATE),
            (
                f"time per subscription within {LINEAR_SLACK:g}x of the smallest size",
                per_k[-1][1] <= per_k[0][1] * LINEAR_SLACK,
            ),
            (
                f"peak worker memory within {MEMORY_SLACK:g}x of the smallest size",
                max(big["hwm"]) <= max(small["hwm"]) * MEMORY_SLACK,
            ),
            (
                f"second run under {SECOND_RUN_SHARE:.0%} of the first",
                all(r["second"] <= r["wall"] * SECOND_RUN_SHARE for r in results),
            ),
        ]
        for label, met in targets:
            print(f"target: {label}: {'met' if met else 'MISSED'}")
    print("checks: " + ("all passed" if ok else "FAILED (see above)"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
