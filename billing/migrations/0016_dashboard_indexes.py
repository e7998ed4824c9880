"""Indexes for the reseller dashboard at scale (issue 12, bench/dashboard.py).

The General Statistics and the Product Mix read an account's (or the provider's) documents of
this month or of a period, and its overdue ones; the account page lists its documents newest
first. (recipient, issue_date) and (issuer, issue_date) read a period as one index range; the
partial indexes on the open documents (open amount > 0) read the overdue and unpaid ones without
the settled rest. The foreign keys' own single-column indexes on issuer and recipient go: each now
leads two composite indexes, which serve any lookup by it, so a document insert maintains two
more index entries (the partial ones, while it is open), not four.

At a million documents each index builds in about half a second (bench/dashboard.py --reuse
prints the migrate time); the build holds a lock that blocks writes to billing_document meanwhile.
"""

import django.db.models.deletion
from django.db import migrations, models

# The names Django gave them (schema_editor._create_index_name), the same on every backend.
FOREIGN_KEY_INDEXES = (
    ("billing_document_issuer_id_07a1a6c7", "issuer_id"),
    ("billing_document_recipient_id_cef2b915", "recipient_id"),
)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0015_referral_payouts"),
    ]

    operations = [
        # The foreign keys' indexes are dropped by name, not by AlterField: on SQLite (the demo)
        # AlterField rebuilds the table, which the ledger guards' triggers (0003) forbid.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="document",
                    name=name,
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name=related_name,
                        to="resellers.account",
                    ),
                )
                for name, related_name in (
                    ("issuer", "issued_documents"),
                    ("recipient", "received_documents"),
                )
            ],
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX IF EXISTS {index}",
                    reverse_sql=f"CREATE INDEX {index} ON billing_document ({column})",
                )
                for index, column in FOREIGN_KEY_INDEXES
            ],
        ),
        migrations.AddIndex(
            model_name="document",
            index=models.Index(
                fields=["recipient", "issue_date"], name="document_recipient_issue_date"
            ),
        ),
        migrations.AddIndex(
            model_name="document",
            index=models.Index(fields=["issuer", "issue_date"], name="document_issuer_issue_date"),
        ),
        migrations.AddIndex(
            model_name="document",
            index=models.Index(
                condition=models.Q(("open_amount__gt", 0)),
                fields=["recipient", "due_date"],
                name="open_document_by_recipient",
            ),
        ),
        migrations.AddIndex(
            model_name="document",
            index=models.Index(
                condition=models.Q(("open_amount__gt", 0)),
                fields=["issuer", "due_date"],
                name="open_document_by_issuer",
            ),
        ),
    ]
