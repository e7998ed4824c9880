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
compiling checks the last two. The compiled form is kept per database connection, so each
thread compiles its own and a compiler never serves another thread's connection. A value may be
a list (`pk__in=ids`): the query is compiled once per length, so an order of one item and one of
three each have their SQL.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from django.db import connections
from django.db.models import QuerySet


def _sentinel(index: int, position: int = 0) -> int:
    """A value no real query uses (ids are positive): one per parameter and list position."""
    return -987_000_000 - 1000 * index - position


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
        wanted: dict[tuple, int] = {}  # (name, list position or None) -> sentinel
        for i, (name, length) in enumerate(zip(self._names, shape, strict=True)):
            if length is None:
                values[name] = wanted[(name, None)] = _sentinel(i)
            else:
                values[name] = [_sentinel(i, j) for j in range(length)]
                wanted.update({(name, j): _sentinel(i, j) for j in range(length)})
        queryset = self._build(**values)
        query = queryset.query
        if not (query.values_select or query.annotation_select) or queryset._fields is None:
            raise TypeError("PreparedQuery takes a .values() queryset")
        compiler = query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        slots: dict[tuple, list[int]] = {}
        for key, value in wanted.items():
            slots[key] = [i for i, param in enumerate(params) if param == value]
            if not slots[key]:
                raise ValueError(f"{key[0]} is not a parameter of the compiled query")
        fields = [column for column, _, _ in compiler.select[: compiler.col_count]]
        converters = compiler.get_converters(fields)
        names = [*query.extra_select, *query.values_select, *query.annotation_select]
        return sql, list(params), slots, compiler, converters, names

    def rows(self, *, using: str = "default", **values: Any) -> list[dict]:
        shape = tuple(
            len(values[name]) if isinstance(values[name], list | tuple) else None
            for name in self._names
        )
        connection = connections[using]
        cache = connection.__dict__.setdefault("_prepared_queries", {})
        compiled = cache.get((self._serial, shape))
        if compiled is None:
            compiled = cache[(self._serial, shape)] = self._compile(using, shape)
        sql, params, slots, compiler, converters, names = compiled
        params = list(params)
        for (name, index), positions in slots.items():
            value = values[name] if index is None else values[name][index]
            for position in positions:
                params[position] = value
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
