"""Charts drawn on the server as SVG with pygal: no script and nothing from a CDN; the page
shows the same figures as a table beside each chart (for screen readers and tests)."""

from __future__ import annotations

import re

import pygal
from pygal.style import Style

from dashboard.product_mix import ProductMix

_SCRIPT = re.compile(rb"<script\b.*?</script>", re.DOTALL)
PALETTE = (
    "#2563eb",
    "#16a34a",
    "#f59e0b",
    "#dc2626",
    "#7c3aed",
    "#0891b2",
    "#db2777",
    "#65a30d",
    "#ea580c",
    "#475569",
)


def product_mix_svg(mix: ProductMix) -> bytes:
    """The Product Mix as a pie chart: one slice per product, in its share of the total, each
    in a distinct colour, with a legend below."""
    chart = pygal.Pie(
        style=Style(
            background="transparent",
            plot_background="transparent",
            colors=PALETTE,
            font_family="system-ui, sans-serif",
        ),
        js=[],  # no tooltips script: the page's table carries the figures
        width=480,
        height=360,
        legend_at_bottom=True,
        legend_at_bottom_columns=1,
        truncate_legend=60,
        print_values=False,
        show_legend=True,
        inner_radius=0,
        disable_xml_declaration=False,
    )
    chart.title = None
    if not mix.slices:
        chart.no_data_text = "Nothing bought in this period"
    for part in mix.slices:
        # a float for drawing only: the figures themselves stay Decimal in the table and API
        chart.add(f"{part.product} ({part.share * 100:.1f} %)", [float(part.share)])
    # pygal writes its config as an inline script even without tooltips: an image runs none,
    # and the page's policy allows none, so it goes.
    return _SCRIPT.sub(b"", chart.render())
