"""Link each existing order charge (kind `order`, reference `order:N`) to its order detail, so a
correcting order finds it: the order's only detail, or the detail of the same subscription.
Charges that match no detail, or several, stay unlinked (a correcting order then refuses them)."""

from django.db import migrations


def link(apps, schema_editor):
    ResellerTransaction = apps.get_model("billing", "ResellerTransaction")
    OrderItem = apps.get_model("orders", "OrderItem")
    rows = ResellerTransaction.objects.filter(
        kind="order", order_item__isnull=True, reference__startswith="order:"
    )
    for tx in rows.iterator():
        try:
            order_id = int(tx.reference.split(":", 1)[1])
        except ValueError:
            continue
        items = list(OrderItem.objects.filter(order_id=order_id).values("pk", "subscription_id"))
        if tx.subscription_id is not None:
            items = [i for i in items if i["subscription_id"] == tx.subscription_id]
        if len(items) == 1:
            ResellerTransaction.objects.filter(pk=tx.pk).update(order_item_id=items[0]["pk"])


class Migration(migrations.Migration):
    dependencies = [("billing", "0012_corrections")]

    operations = [migrations.RunPython(link, migrations.RunPython.noop)]
