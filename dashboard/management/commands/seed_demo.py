"""Create the demo installation: a provider, resellers, customers, documents, a catalogue with
price lists, orders in every status, and the demo logins.

Running it twice adds nothing. Prints the logins and where to open the panel.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from dashboard.management.demo import PASSWORD, seed_demo
from resellers.exceptions import ApplicationError


class Command(BaseCommand):
    help = "Create demo data and the demo logins (password 'demo'). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument(
            "--base-url",
            default="http://127.0.0.1:8000/",
            help="Where the panel will be served, for the closing message.",
        )

    def handle(self, *args, **options):
        try:
            report = seed_demo(today=timezone.localdate())
        except ApplicationError as exc:
            raise CommandError(f"seed_demo failed: {exc.message}") from exc
        if report.created:
            self.stdout.write(f"Created {len(report.created)} demo objects.")
        else:
            self.stdout.write("Demo data already present; nothing added.")
        base = options["base_url"].rstrip("/") + "/"
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Demo logins (password for each: {PASSWORD})"))
        for username, account in report.logins:
            self.stdout.write(f"  {username:<10} {account}")
        self.stdout.write("")
        self.stdout.write(f"Panel:     {base}")
        self.stdout.write(f"API docs:  {base}api/v1/docs/")
        self.stdout.write(f"Admin:     {base}admin/")
