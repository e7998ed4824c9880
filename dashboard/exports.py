"""CSV export of the panels' lists and reports (django-tables2's export, through tablib).

Every table a panel page shows offers "Export CSV": the same rows with the page's filters and
sort applied, all pages of them. A page with several tables exports each by its own link
(`?_export=csv&_table=<the table's prefix>`).

A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage return)
as a formula: such a text cell is written with a leading apostrophe, so it stays text (OWASP's
CSV injection advice). A plain number, such as a negative amount, is left as it is.
"""

from __future__ import annotations

import re

from django.http import Http404
from django.utils.text import slugify
from django_tables2 import Table
from django_tables2.export import TableExport

TRIGGER = "_export"
WHICH = "_table"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"^[+-]?\d[\d,]*(\.\d+)?( [A-Z]{3})?$")


def neutralise(value):
    """`value` as a spreadsheet will show it, never run it."""
    formula = isinstance(value, str) and value.startswith(FORMULA_START)
    if formula and not PLAIN_NUMBER.match(value):
        return "'" + value
    return value


class SafeTableExport(TableExport):
    def table_to_dataset(self, table, exclude_columns, dataset_kwargs=None):
        dataset = super().table_to_dataset(table, exclude_columns, dataset_kwargs)
        safe = type(dataset)(headers=[neutralise(h) for h in dataset.headers or []])
        for row in dataset:
            safe.append([neutralise(cell) for cell in row])
        safe.title = dataset.title
        return safe


class CsvExportMixin:
    """For a view whose context holds django-tables2 tables: `?_export=csv` (and `_table=` the
    table's prefix where the page holds several) answers that table as a CSV file instead of
    the page. Each table in the context is marked so the table template offers the link."""

    export_name = ""

    def render_to_response(self, context, **kwargs):
        tables = [value for value in context.values() if isinstance(value, Table)]
        for table in tables:
            table.csv_export = True
        if self.request.GET.get(TRIGGER) == "csv":
            wanted = self.request.GET.get(WHICH, "")
            for table in tables:
                if (table.prefix or "") == wanted:
                    return self._csv(table, wanted)
            raise Http404("No such table on this page.")
        return super().render_to_response(context, **kwargs)

    def _csv(self, table: Table, prefix: str):
        name = slugify(self.export_name or self.request.path.strip("/").replace("/", "-"))
        suffix = f"-{prefix.strip('-')}" if prefix else ""
        export = SafeTableExport("csv", table)
        return export.response(filename=f"{name or 'export'}{suffix}.csv")
