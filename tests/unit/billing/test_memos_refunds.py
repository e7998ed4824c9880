"""The services behind memos and refunds refuse what the API never sends them too."""

import datetime
from decimal import Decimal as D

import pytest

from billing import ledger
from resellers.exceptions import ApplicationError, PermissionDenied
from tests import factories as f
from tests.factories.api import cash

DAY = datetime.date(2026, 3, 1)
pytestmark = pytest.mark.django_db


def _memo(account, staff, **overrides):
    kwargs = {
        "doc_type": "credit_memo",
        "recipient": account,
        "lines": [ledger.MemoLine(description="x", unit_price=D("5.00"))],
        "reason": "because",
        "issue_date": DAY,
        "acting_user": staff,
    }
    return ledger.memo_issue(**{**kwargs, **overrides})


def test_memo_issue_names_each_bad_input():
    provider = f.provider()
    staff = f.user(account=provider)
    reseller = f.reseller(parent=provider)
    for overrides, field in (
        ({"doc_type": "invoice"}, "doc_type"),
        ({"reason": "  "}, "reason"),
        ({"lines": []}, "lines"),
        ({"lines": [ledger.MemoLine(description="x", unit_price=D("0"))]}, "lines"),
        ({"recipient": provider}, "recipient"),
    ):
        with pytest.raises(ApplicationError) as caught:
            _memo(reseller, staff, **overrides)
        assert caught.value.field == field
    with pytest.raises(PermissionDenied):
        _memo(reseller, f.user(account=reseller))
    assert _memo(reseller, staff).total == D("5.00")


def test_credit_refund_refuses_a_debit_document_and_a_non_staff_user():
    provider = f.provider()
    staff = f.user(account=provider)
    reseller = f.reseller(parent=provider)
    invoice = f.invoice(reseller, "20.00", DAY)
    method = cash(reseller)
    with pytest.raises(ApplicationError) as caught:
        ledger.credit_refund(
            credit_document=invoice, amount=D("5"), payment_method=method,
            idempotency_key="k1", issue_date=DAY, acting_user=staff,
        )  # fmt: skip
    assert caught.value.field == "document"
    with pytest.raises(PermissionDenied):
        ledger.credit_refund(
            credit_document=f.payment(reseller, "10.00", DAY), amount=D("5"),
            payment_method=method, idempotency_key="k2", issue_date=DAY,
            acting_user=f.user(account=reseller),
        )  # fmt: skip
