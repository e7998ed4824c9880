# IdempotencyKey now lives in `billing` (billing 0011 took over its table): drop it from orders'
# state only. The table and its rows stay.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0004_subscription_renewal_quantity'),
        ('billing', '0011_idempotencykey'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='IdempotencyKey')],
            database_operations=[],
        ),
    ]
