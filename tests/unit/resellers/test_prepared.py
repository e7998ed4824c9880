"""resellers.prepared: a prepared query answers what its queryset answers, for any values and list
lengths, typed as Django types them; a prepared insert writes what bulk_create writes."""

import datetime
from decimal import Decimal

import pytest
from django.db.models import Count

from orders.models import Subscription
from resellers.models import Account, AuditEvent
from resellers.prepared import PreparedInsert, PreparedQuery
from tests import factories as f
from tests.factories import billing as bf
from tests.factories.billing import d

pytestmark = pytest.mark.django_db


def test_a_prepared_query_answers_as_its_queryset_for_each_value_and_list_length():
    accounts = [f.reseller(name=f"R{i}") for i in range(3)]
    ids = [a.pk for a in accounts]

    def build(ids, kind):
        return Account.objects.filter(pk__in=ids, kind=kind).order_by("pk").values("pk", "name")

    prepared = PreparedQuery(lambda ids: build(ids, "reseller"), "ids")
    for chosen in ([ids[0]], ids[:2], ids, [ids[2], ids[0]]):
        assert prepared.rows(ids=chosen) == list(build(chosen, "reseller"))
    assert prepared.rows(ids=[987654321]) == []


def test_rows_come_back_typed_and_instances_whole():
    w = bf.world()
    sub = bf.subscribe(w, today=d("2026-01-01"))
    fields = PreparedQuery.fields(Subscription)
    prepared = PreparedQuery(lambda pk: Subscription.objects.filter(pk=pk).values(*fields), "pk")

    [row] = prepared.rows(pk=sub.pk)
    assert isinstance(row["start_date"], datetime.date)
    assert isinstance(row["unit_price"], Decimal)
    [again] = prepared.instances(Subscription, pk=sub.pk)
    assert again == sub
    assert (again.account_id, again.unit_price, again.next_billing_date) == (
        sub.account_id,
        sub.unit_price,
        sub.next_billing_date,
    )
    assert not again._state.adding


def test_a_value_that_is_not_a_parameter_is_refused_when_compiled():
    prepared = PreparedQuery(lambda pk: Account.objects.filter(pk=1).values("pk"), "pk")
    with pytest.raises(ValueError, match="pk is not a parameter"):
        prepared.rows(pk=1)


def test_a_prepared_insert_writes_what_bulk_create_would():
    account = f.reseller(name="Audited")
    events = [
        AuditEvent(
            account=account,
            action="x.test",
            object_type="resellers.account",
            object_id=str(account.pk),
            details={"amount": "12.50", "n": i},
        )
        for i in range(2)
    ]

    PreparedInsert(AuditEvent).insert(events)

    stored = list(AuditEvent.objects.filter(action="x.test").order_by("pk"))
    assert [e.pk for e in events] == [e.pk for e in stored]
    assert [e.details for e in stored] == [{"amount": "12.50", "n": 0}, {"amount": "12.50", "n": 1}]
    assert all(e.created_at is not None for e in stored)  # auto_now_add, as save() sets it
    assert all(e.account_id == account.pk for e in stored)


def test_a_new_query_never_runs_the_sql_of_a_freed_one():
    """Compiled SQL is cached per connection; a freed query's id may be reused by a new one, which
    must still run its own SQL."""
    accounts = [f.reseller(name=f"Serial {i}") for i in range(3)]
    for round_ in range(30):
        chosen = accounts[round_ % 3]
        prepared = PreparedQuery(
            lambda pk, name=chosen.name: Account.objects.filter(pk=pk, name=name).values("name"),
            "pk",
        )
        assert prepared.rows(pk=chosen.pk) == [{"name": chosen.name}]
        del prepared


def test_dates_and_aware_datetimes_are_parameters_too():
    """The dashboard's figures are for a month and a day: a date or an aware datetime takes a
    sentinel of its type, and each call answers as the queryset would for its values."""
    import datetime as dt

    from django.utils import timezone

    from billing.models import Document

    w = bf.world()
    f.invoice(w.reseller, "10.00", d("2026-01-05"))
    f.invoice(w.reseller, "20.00", d("2026-02-05"))

    def build(pk, start, end, after):
        return (
            Document.objects.filter(
                recipient_id=pk, issue_date__gte=start, issue_date__lte=end, created_at__gte=after
            )
            .values("recipient_id")
            .annotate(n=Count("pk"))
            .order_by()
        )

    prepared = PreparedQuery(build, "pk", "start", "end", "after")
    after = timezone.make_aware(dt.datetime(2000, 1, 1))
    for start, end in ((d("2026-01-01"), d("2026-01-31")), (d("2026-01-01"), d("2026-02-28"))):
        values = {"pk": w.reseller.pk, "start": start, "end": end, "after": after}
        assert prepared.rows(**values) == list(build(**values))
    none = {"pk": w.reseller.pk, "start": d("2026-01-01"), "end": d("2026-02-28")}
    assert prepared.rows(**none, after=timezone.now() + dt.timedelta(days=1)) == []
    with pytest.raises(TypeError, match="aware"):
        prepared.rows(**none, after=dt.datetime(2000, 1, 1))
