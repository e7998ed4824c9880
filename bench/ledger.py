#!/usr/bin/env python
"""Ledger benchmark: issue invoices and record payments through billing.ledger on PostgreSQL with
concurrent writers, then check numbering is gap-free and cached balances agree.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cb_bench .venv/bin/python bench/ledger.py \
        --accounts 50 --documents 2000 --workers 4

It creates (or reuses) the database named in DATABASE_URL, migrates it, and prints documents per
second, p50/p99 latency per issued document, and the checks. A script, not a test.
"""

import argparse
import os
import statistics
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cb_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ["DEBUG"] = "false"


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--documents", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()

    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections

    call_command("migrate", verbosity=0)
    import datetime

    from billing import ledger, selectors
    from billing.models import Document
    from resellers import services as accounts

    run = str(int(time.time()))
    provider = accounts.account_create(kind="provider", name=f"Bench provider {run}")
    resellers = [
        accounts.account_create(
            kind="reseller",
            name=f"Bench {run} R{i}",
            parent=provider,
            reseller_model="resale",
            credit_terms="net_terms",
            credit_limit=Decimal("1000000"),
            payment_terms_days=30,
        )
        for i in range(args.accounts)
    ]
    day = datetime.date(2026, 11, 1)
    latencies: list[float] = []
    lock = threading.Lock()
    per_worker = args.documents // args.workers

    def work(w: int) -> None:
        mine = []
        try:
            for i in range(per_worker):
                recipient = resellers[(w * per_worker + i) % len(resellers)]
                start = time.perf_counter()
                if i % 4 == 3:
                    ledger.payment_record(
                        recipient=recipient,
                        amount=Decimal("25.00"),
                        received_date=day,
                        acting_user=None,
                    )
                else:
                    draft = ledger.document_create(
                        doc_type="invoice",
                        issuer=provider,
                        recipient=recipient,
                        lines=[
                            ledger.LineSpec(
                                description="Seat",
                                unit_price=Decimal("9.99"),
                                quantity=Decimal(1 + i % 5),
                            )
                        ],
                    )
                    ledger.document_issue(document=draft, issue_date=day)
                mine.append(time.perf_counter() - start)
        finally:
            with lock:
                latencies.extend(mine)
            connections.close_all()

    threads = [threading.Thread(target=work, args=(w,)) for w in range(args.workers)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began

    numbers = sorted(
        Document.objects.filter(issuer=provider, doc_type="invoice").values_list(
            "number", flat=True
        )
    )
    gap_free = numbers == list(range(1, len(numbers) + 1))
    mismatches = selectors.balance_mismatches()
    q = statistics.quantiles(latencies, n=100)
    print(f"database          {connection.settings_dict['NAME']} ({connection.vendor})")
    print(f"workers           {args.workers}")
    print(f"accounts          {len(resellers)}")
    print(f"documents         {len(latencies)} ({len(numbers)} invoices, rest payments)")
    print(f"wall time         {wall:.2f} s")
    print(f"documents/s       {len(latencies) / wall:.0f}")
    print(f"latency p50       {q[49] * 1000:.1f} ms")
    print(f"latency p99       {q[98] * 1000:.1f} ms")
    print(
        f"numbering         {'gap-free' if gap_free else 'GAPS'} 1..{numbers[-1] if numbers else 0}"
    )
    print(f"verify_balances   {'ok' if not mismatches else f'{len(mismatches)} mismatches'}")
    return 0 if gap_free and not mismatches else 1


if __name__ == "__main__":
    sys.exit(main())
