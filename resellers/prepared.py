"""Hot read queries compiled once per process: the queryset stays the one definition of the rule,
only Django's per-call compilation is skipped. (Here, in the one app every other app may import.)

Placing an order reads the same few queries every time with different ids (its credit figures,
the orderer's catalogue and prices, the default payment method, the contacts to email). Building
and compiling those querysets costs several times what PostgreSQL spends running them. A
`PreparedQuery` builds its queryset once, with sentinel values where the ids go, compiles it,
and then runs that SQL with the real values in their places, converting each row as Django
would (`compiler.apply_converters`, so SQLite's dates and decimals come back typed too).

Only `.values()` querysets whose SQL depends on nothing but the named values (no clock, no
setting read while building), and only values that appear as query parameters (never inlined):
compiling checks the last two. A value is an id (an int), a date or an aware datetime (the
dashboard's figures are for a month and a day): its sentinel is of the same type, and a value
is sent as the backend adapts it (SQLite takes dates and datetimes as text). The compiled form
is kept per database connection, so each thread compiles its own and a compiler never serves
another thread's connection. A value may be a list (`pk__in=ids`): the query is compiled once
per length, so an order of one item and one of three each have their SQL.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable
from typing import Any

from django.db import connections
from django.db.models import IntegerField, QuerySet, Value


def _sentinel(index: int, position: int = 0, kind: type = int):
    """A value no real query uses, of the value's type: one per parameter and list position
    (ids are positive; no figure is for a day in the 11th century)."""
    if kind is datetime.datetime:
        return datetime.datetime(1000 + index, 1, 1 + position, tzinfo=datetime.UTC)
    if kind is datetime.date:
        return datetime.date(1000 + index, 1, 1 + position)
    return -987_000_000 - 1000 * index - position


def _kind(value) -> type:
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            raise TypeError("PreparedQuery takes aware datetimes only")
        return datetime.datetime
    return datetime.date if isinstance(value, datetime.date) else int


def _adapters(connection, kind: type) -> tuple[Callable[[Any], Any], ...]:
    """How a value of `kind` may reach the compiled parameters: as it is, or as the backend
    adapts a date or a datetime (the same function then turns the real value into its
    parameter)."""
    same = lambda value: value  # noqa: E731
    if kind is datetime.datetime:
        return (same, connection.ops.adapt_datetimefield_value)
    if kind is datetime.date:
        return (same, connection.ops.adapt_datefield_value)
    return (same,)


def _matching(adapters: tuple, param, sentinel) -> Callable | None:
    """The adapter that turned `sentinel` into `param`, or None when `param` is another value."""
    for adapt in adapters:
        if param == adapt(sentinel):
            return adapt
    return None


def _shape(value) -> tuple[int | None, type]:
    """What the compiled SQL depends on: a list's length, and the type of the value(s)."""
    if isinstance(value, list | tuple):
        return len(value), _kind(value[0]) if value else int
    return None, _kind(value)


def aggregate_row(queryset: QuerySet, **aggregates) -> QuerySet:
    """`queryset.aggregate(**aggregates)` as a `.values()` queryset of one row (no GROUP BY, so
    a row even over no rows): the form a PreparedQuery takes."""
    return (
        queryset.annotate(all_rows=Value(1, output_field=IntegerField()))
        .values("all_rows")
        .annotate(**aggregates)
        .order_by()
    )


_serials = itertools.count()


class PreparedQuery:
    """`PreparedQuery(lambda pk, customer: qs..., "pk", "customer")`; then `.rows(pk=1, ...)`
    returns what `list(qs)` would for those values (dicts of the queryset's values)."""

    def __init__(self, build: Callable[..., QuerySet], *names: str):
        self._build = build
        self._names = names
        # The per-connection cache is keyed by a serial, not id(self): an id is reused once its
        # object is freed, and a new query would then run the freed one's SQL.
        self._serial = next(_serials)

    def _compile(self, alias: str, shape: tuple) -> tuple:
        values: dict[str, Any] = {}
        wanted: dict[tuple, Any] = {}  # (name, list position or None) -> sentinel
        for i, (name, (length, kind)) in enumerate(zip(self._names, shape, strict=True)):
            if length is None:
                values[name] = wanted[(name, None)] = _sentinel(i, kind=kind)
            else:
                values[name] = [_sentinel(i, j, kind) for j in range(length)]
                wanted.update({(name, j): _sentinel(i, j, kind) for j in range(length)})
        queryset = self._build(**values)
        query = queryset.query
        if not (query.values_select or query.annotation_select) or queryset._fields is None:
            raise TypeError("PreparedQuery takes a .values() queryset")
        compiler = query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        slots: dict[tuple, list[tuple[int, Callable]]] = {}
        for key, value in wanted.items():
            tried = _adapters(connections[alias], _kind(value))
            slots[key] = [
                (i, adapt)
                for i, param in enumerate(params)
                if (adapt := _matching(tried, param, value)) is not None
            ]
            if not slots[key]:
                raise ValueError(f"{key[0]} is not a parameter of the compiled query")
        fields = [column for column, _, _ in compiler.select[: compiler.col_count]]
        converters = compiler.get_converters(fields)
        names = [*query.extra_select, *query.values_select, *query.annotation_select]
        return sql, list(params), slots, compiler, converters, names

    def rows(self, *, using: str = "default", **values: Any) -> list[dict]:
        shape = tuple(_shape(values[name]) for name in self._names)
        connection = connections[using]
        cache = connection.__dict__.setdefault("_prepared_queries", {})
        compiled = cache.get((self._serial, shape))
        if compiled is None:
            compiled = cache[(self._serial, shape)] = self._compile(using, shape)
        sql, params, slots, compiler, converters, names = compiled
        params = list(params)
        for (name, index), positions in slots.items():
            value = values[name] if index is None else values[name][index]
            for position, adapt in positions:
                params[position] = adapt(value)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if converters:
            rows = compiler.apply_converters(rows, converters)
        return [dict(zip(names, row, strict=True)) for row in rows]

    def first(self, *, using: str = "default", **values: Any) -> dict | None:
        found = self.rows(using=using, **values)
        return found[0] if found else None

    def instances(self, model, *, using: str = "default", **values: Any) -> list:
        """The rows as `model` instances (Model.from_db), for a queryset whose values are the
        model's concrete fields (`PreparedQuery.fields(model)`)."""
        found = []
        for row in self.rows(using=using, **values):
            found.append(model.from_db(using, list(row), list(row.values())))
        return found

    @staticmethod
    def fields(model) -> list[str]:
        """What to pass to `.values()` to get whole instances back from `instances`."""
        return [field.attname for field in model._meta.concrete_fields]


class PreparedInsert:
    """`Model.objects.bulk_create(objs)` for a hot path, with the INSERT statement built once per
    row count instead of compiled per call. Each value still goes through its field as Django
    saves it (`pre_save`, then `get_db_prep_save`: auto_now times, JSON, decimals), and the new
    primary keys come back through RETURNING, as bulk_create sets them on PostgreSQL. Like
    bulk_create it sends no signals and calls no `save()`."""

    def __init__(self, model):
        self.model = model
        meta = model._meta
        self.fields = [f for f in meta.concrete_fields if f is not meta.pk or f.has_default()]
        self._sql: dict[tuple, str] = {}

    def _statement(self, connection, count: int) -> str:
        key = (connection.alias, count)
        sql = self._sql.get(key)
        if sql is None:
            quote = connection.ops.quote_name
            columns = ", ".join(quote(f.column) for f in self.fields)
            row = "(" + ", ".join(["%s"] * len(self.fields)) + ")"
            sql = (  # names from the model's meta, quoted; every value a parameter
                f"INSERT INTO {quote(self.model._meta.db_table)} ({columns}) "  # noqa: S608
                f"VALUES {', '.join([row] * count)} "
                f"RETURNING {quote(self.model._meta.pk.column)}"
            )
            self._sql[key] = sql
        return sql

    def insert(self, objs: list, *, using: str = "default") -> list:
        if not objs:
            return objs
        connection = connections[using]
        params = []
        for obj in objs:
            # as bulk_create: a related object saved since it was assigned gives its new id
            obj._prepare_related_fields_for_save(operation_name="bulk_create")
            for field in self.fields:
                value = field.pre_save(obj, add=True)
                params.append(field.get_db_prep_save(value, connection=connection))
        with connection.cursor() as cursor:
            cursor.execute(self._statement(connection, len(objs)), params)
            keys = cursor.fetchall()
        for obj, (pk,) in zip(objs, keys, strict=True):
            obj.pk = pk
            obj._state.adding = False
            obj._state.db = using
        return objs
