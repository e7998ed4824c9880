"""`manage.py run_billing --date YYYY-MM-DD [--dry-run] [--chunk-size N] [--inline]`

Runs the billing-date run for a date (billing.runs): fans the due accounts out to the Celery
workers in chunks and follows them with a progress bar, or bills them in this process with
--inline (the default when Celery runs eagerly). --dry-run prints what the run would issue,
line by line, and writes nothing. Exit status: 0 when every account was billed, 1 when the run
recorded failures (listed), 2 for bad arguments.
"""

from billing.runs.command import RunCommand


class Command(RunCommand):
    help = "Issue each due account's invoice for a billing date (see billing.runs)."
    kind = "billing"
