import datetime
from decimal import Decimal as D
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from billing.models import Balance, Document
from billing.tasks import verify_balances
from tests import factories as f

DAY = datetime.date(2026, 5, 1)


def test_clean_books_pass(reseller_a, reseller_b):
    f.invoice(reseller_a, "10.00", DAY)
    f.payment(reseller_b, "5.00", DAY)
    out = StringIO()
    call_command("verify_balances", stdout=out)
    assert "agree" in out.getvalue()


def test_tampered_balance_fails_naming_the_account(reseller_a, reseller_b):
    f.invoice(reseller_a, "10.00", DAY)
    f.invoice(reseller_b, "20.00", DAY)
    Balance.objects.filter(recipient=reseller_b).update(open_debt=D("19.99"))
    err = StringIO()
    with pytest.raises(CommandError, match="Bravo Reseller") as exc:
        call_command("verify_balances", stderr=err)
    assert "Alpha" not in str(exc.value)
    assert "open debt is 19.99 cached, 20.00 from documents" in err.getvalue()
    result = verify_balances()
    assert result["ok"] is False
    assert [m["account"] for m in result["mismatches"]] == ["Bravo Reseller"]


def test_tampered_open_amount_is_caught(reseller_a):
    inv = f.invoice(reseller_a, "10.00", DAY)
    Document.objects.filter(pk=inv.pk).update(open_amount=D("3.00"))  # the guard allows this column
    with pytest.raises(CommandError, match="Alpha Reseller"):
        call_command("verify_balances", stderr=StringIO())


def test_exit_code_is_non_zero(reseller_a):
    f.invoice(reseller_a, "10.00", DAY)
    Balance.objects.filter(recipient=reseller_a).update(credit_balance=D("1.00"))
    with pytest.raises(CommandError) as exc:  # manage.py turns this into exit status 1
        call_command("verify_balances", stderr=StringIO())
    assert exc.value.returncode == 1
