"""Check every cached balance and open amount against the documents.

Exit 0 when all agree; otherwise print each account that differs and exit 1.
"""

from django.core.management.base import BaseCommand, CommandError

from billing.selectors import balance_mismatches


class Command(BaseCommand):
    help = "Verify cached balances against documents; exit 1 naming each account that differs."

    def handle(self, *args, **options):
        mismatches = balance_mismatches()
        if not mismatches:
            self.stdout.write(self.style.SUCCESS("All balances agree with their documents."))
            return
        for mismatch in mismatches:
            self.stderr.write(str(mismatch))
        accounts = sorted({m.account_name for m in mismatches})
        raise CommandError(
            f"{len(mismatches)} mismatch(es) in {len(accounts)} account(s): {', '.join(accounts)}"
        )
