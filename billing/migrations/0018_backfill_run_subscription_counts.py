"""Runs finished before runs counted the distinct subscriptions on their invoices recorded each
chunk's count, so a customer's subscription, on its invoice and on its reseller's billing order,
was counted twice, or a first period billed by the run not at all. Recount them as
billing.runs.orchestration._subscriptions_invoiced does."""

from django.db import migrations
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce


def recount(apps, schema_editor):
    BillingRun = apps.get_model("billing", "BillingRun")
    ResellerTransaction = apps.get_model("billing", "ResellerTransaction")
    invoiced = (
        ResellerTransaction.objects.filter(
            invoice__billing_run=OuterRef("pk"), subscription__isnull=False
        )
        .order_by()
        .values("invoice__billing_run")
        .annotate(n=Count("subscription_id", distinct=True))
        .values("n")
    )
    BillingRun.objects.exclude(status="running").update(
        subscriptions_billed=Coalesce(Subquery(invoiced), 0)
    )


class Migration(migrations.Migration):
    dependencies = [("billing", "0017_document_line_product")]

    operations = [migrations.RunPython(recount, migrations.RunPython.noop)]
