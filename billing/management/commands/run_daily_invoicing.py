"""`manage.py run_daily_invoicing --date YYYY-MM-DD [--dry-run] [--chunk-size N] [--inline]`

Runs the daily invoicing run (billing.runs.daily) for a date, with the same options, progress bar,
dry run and exit status as run_billing.
"""

from billing.runs.command import RunCommand


class Command(RunCommand):
    help = "Invoice each reseller's qualifying orders of the day (see billing.runs.daily)."
    kind = "daily"
