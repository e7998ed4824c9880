# Moves IdempotencyKey from `orders` to `billing` (one idempotency mechanism for every API POST,
# billing.idempotency), keeping its rows: the model enters billing's state on the existing table,
# which is then renamed; orders 0005 drops it from orders' state. Nothing is copied.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0010_billing_run_phases'),
        ('orders', '0004_subscription_renewal_quantity'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='IdempotencyKey',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('key', models.CharField(max_length=255)),
                        ('endpoint', models.CharField(max_length=100)),
                        ('request_hash', models.CharField(help_text='sha256 of the canonical JSON body.', max_length=64)),
                        ('response_status', models.PositiveSmallIntegerField(blank=True, null=True)),
                        ('response_body', models.JSONField(blank=True, null=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('completed_at', models.DateTimeField(blank=True, null=True)),
                        ('order', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='orders.order')),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'orders_idempotencykey',
                        'constraints': [models.UniqueConstraint(fields=('user', 'key'), name='one_response_per_key'), models.CheckConstraint(condition=models.Q(('completed_at__isnull', True), models.Q(('response_body__isnull', False), ('response_status__isnull', False)), _connector='OR'), name='completed_key_has_response')],
                    },
                ),
            ],
            database_operations=[],
        ),
        # orders_idempotencykey -> billing_idempotencykey, rows, indexes and constraints kept.
        migrations.AlterModelTable(name='idempotencykey', table=None),
    ]
