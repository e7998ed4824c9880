"""My account's payment methods: make one the default, remove one after a confirmation page;
another tenant's method, or a customer's seen by its reseller, answers 404."""

from django.urls import reverse

from resellers.models import Account, PaymentMethod
from tests import factories as f


def test_make_default_then_remove_after_confirming(world, login):
    client = login(world.r1_user)
    html = client.get(reverse("account")).content.decode()
    assert f'aria-label="Remove {world.r1_card}"' in html
    Account.objects.filter(pk=world.r1.pk).update(auto_topup_payment_method=world.r1_card)

    client.post(reverse("payment_method_default", args=[world.r1_card.pk]))
    assert PaymentMethod.objects.get(pk=world.r1_card.pk).is_default

    url = reverse("payment_method_remove", args=[world.r1_card.pk])
    page = client.get(url).content.decode()
    assert "It is your default payment method" in page
    assert "Automatic top-up will charge your default payment method." in page
    assert PaymentMethod.objects.get(pk=world.r1_card.pk).is_active  # the GET only asked

    response = client.post(url)

    assert response.status_code == 302 and response.url == reverse("account")
    card = PaymentMethod.objects.get(pk=world.r1_card.pk)
    assert (card.is_active, card.is_default) == (False, False)
    assert Account.objects.get(pk=world.r1.pk).auto_topup_payment_method_id is None
    assert (
        f'aria-label="Remove {world.r1_card}"'
        not in client.get(reverse("account")).content.decode()
    )


def test_another_tenants_or_a_customers_method_is_404(world, login):
    customer_card = f.card(world.c1, token="tok_c1")
    client = login(world.r1_user)
    for method in (world.r2_card, customer_card):
        assert client.get(reverse("payment_method_remove", args=[method.pk])).status_code == 404
        assert client.post(reverse("payment_method_remove", args=[method.pk])).status_code == 404
        assert client.post(reverse("payment_method_default", args=[method.pk])).status_code == 404
    assert PaymentMethod.objects.get(pk=world.r2_card.pk).is_active
    assert PaymentMethod.objects.get(pk=customer_card.pk).is_active
