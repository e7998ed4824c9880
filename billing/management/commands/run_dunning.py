"""`manage.py run_dunning --date YYYY-MM-DD [--dry-run]`

Takes the day's dunning steps (billing.dunning): reminders before and after due dates, credit
hold, suspension, and lifting what is no longer overdue. Running a date twice does nothing the
second time. --dry-run prints what a run would do and writes and sends nothing; it may look at a
date ahead of today, which a real run refuses. Exit status: 0 when every account was done, 1 when
some failed (listed), 2 for bad arguments.
"""

from django.core.management.base import BaseCommand, CommandError

from billing.dunning import DunningError, dunning_run
from billing.runs.orchestration import RunError, parse_run_date


class Command(BaseCommand):
    help = "Take the day's dunning steps: reminders, credit hold, suspension, reactivation."

    def add_arguments(self, parser):
        parser.add_argument("--date", required=True, help="The day, YYYY-MM-DD.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Show what would be done; write nothing."
        )

    def handle(self, *args, **options):
        try:
            today = parse_run_date(options["date"])
            result = dunning_run(today=today, dry_run=options["dry_run"])
        except (RunError, DunningError) as exc:
            raise CommandError(exc.message, returncode=2) from None
        verb = "would take" if result.dry_run else "took"
        for step in result.steps:
            who = f"{step.account_name} (#{step.account_id})"
            self.stdout.write(f"{who}: {step.step}, {step.detail}")
        self.stdout.write(
            f"Dunning {today.isoformat()}: {result.accounts} account(s) looked at, "
            f"{verb} {len(result.steps)} step(s), {len(result.failed)} failed."
        )
        for failure in result.failed:
            who = f"{failure.account_name} (#{failure.account_id})"
            self.stderr.write(f"FAILED {who}: {failure.detail}")
        if result.failed:
            raise CommandError(f"{len(result.failed)} account(s) failed.")
