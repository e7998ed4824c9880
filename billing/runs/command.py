"""What `run_billing` and `run_daily_invoicing` share: arguments, the progress bar, the dry run's
listing and the summary."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from billing.models import BillingRun
from billing.runs.orchestration import RunError, parse_run_date, run_preview, run_start
from billing.runs.planning import CHUNK_SIZE


class RunCommand(BaseCommand):
    kind = BillingRun.Kind.BILLING

    def add_arguments(self, parser):
        parser.add_argument("--date", required=True, help="The run's date, YYYY-MM-DD.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Show what would be issued; write nothing."
        )
        parser.add_argument("--chunk-size", type=int, default=CHUNK_SIZE)
        parser.add_argument(
            "--inline",
            action="store_true",
            help="Bill the chunks in this process instead of the Celery workers.",
        )
        parser.add_argument(
            "--no-wait", action="store_true", help="Start the run on the workers and return."
        )
        parser.add_argument("--timeout", type=float, default=3600, help="Seconds to wait.")

    def handle(self, *args, **options):
        try:
            run_date = parse_run_date(options["date"])
        except RunError as exc:
            raise CommandError(exc.message, returncode=2) from None
        if options["chunk_size"] < 1:
            raise CommandError("--chunk-size must be at least 1.", returncode=2)
        if options["dry_run"]:
            return self._dry_run(run_date, options["chunk_size"])
        inline = options["inline"] or settings.CELERY_TASK_ALWAYS_EAGER
        bar = tqdm(total=0, unit="chunk", desc=f"{self.kind} {run_date}", file=self.stderr._out)
        try:
            run = run_start(
                run_date=run_date,
                kind=self.kind,
                trigger="command",
                chunk_size=options["chunk_size"],
                inline=inline,
                progress=lambda done, total: self._tick(bar, done, total),
            )
        except RunError as exc:
            raise CommandError(exc.message, returncode=2) from None
        else:
            if not inline and not options["no_wait"]:
                run = self._follow(run, bar, options["timeout"])
        finally:
            bar.close()
        self._summary(run)
        if options["no_wait"] and run.status == BillingRun.Status.RUNNING:
            return
        if run.status != BillingRun.Status.COMPLETED:
            raise CommandError(f"Run {run.pk} recorded {run.failures_count} failure(s).")

    @staticmethod
    def _tick(bar, done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    def _follow(self, run: BillingRun, bar, timeout: float) -> BillingRun:
        deadline = time.monotonic() + timeout
        while True:
            run.refresh_from_db()
            self._tick(bar, run.chunks_done, run.chunks_total)
            if run.status != BillingRun.Status.RUNNING:
                return run
            if time.monotonic() > deadline:
                raise CommandError(
                    f"Run {run.pk} is still running after {timeout:g} s "
                    f"({run.chunks_done} of {run.chunks_total} chunks): are the workers up?"
                )
            time.sleep(0.2)

    def _summary(self, run: BillingRun) -> None:
        amounts = ", ".join(f"{v} {k}" for k, v in run.amounts.items()) or "nothing"
        duration = f"{run.duration.total_seconds():.1f} s" if run.duration else "running"
        self.stdout.write(
            f"Run {run.pk} ({run.get_kind_display()}, {run.run_date}): {run.status}; "
            f"{run.accounts_total} accounts due, {run.invoices_issued} invoices issued to "
            f"{run.accounts_invoiced} accounts, {run.subscriptions_billed} subscriptions "
            f"billed, {amounts}; {duration}."
        )
        for failure in run.failures.select_related("account"):
            who = failure.account.name if failure.account else f"chunk {failure.chunk}"
            self.stderr.write(f"  failed: {who}: {failure.reason}")

    def _dry_run(self, run_date, chunk_size: int) -> None:
        plans = run_preview(run_date=run_date, kind=self.kind, chunk_size=chunk_size)
        invoices = [inv for plan in plans for inv in plan.invoices]
        for inv in invoices:
            self.stdout.write(
                f"{inv.account_name} (#{inv.account_id}): invoice {inv.total} {inv.currency}, "
                f"due {inv.due_date}"
            )
            for charge, tax in zip(inv.charges, inv.tax or [None] * len(inv.charges), strict=True):
                period = (
                    f" [{charge.period_start}, {charge.period_end})" if charge.period_start else ""
                )
                self.stdout.write(
                    f"    {charge.description}{period}: {charge.amount}"
                    + (f" + tax {tax}" if tax else "")
                )
        failures = [f for plan in plans for f in plan.failures]
        for account_id, reason in failures:
            self.stderr.write(f"  would fail: account #{account_id}: {reason}")
        held = sum(len(plan.held) for plan in plans)
        self.stdout.write(
            f"Dry run for {run_date}: {len(invoices)} invoices, "
            f"{sum(len(i.charges) for i in invoices)} lines, {held} accounts on hold; "
            "nothing written."
        )
