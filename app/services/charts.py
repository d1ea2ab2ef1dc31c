"""Charts drawn on the server: the geometry of an SVG column, bar or stacked chart, no JavaScript.

A view builds a chart from rows it already has (``(label, value)`` or ``(label, value, href)``) and the
template ``_macros/charts.html`` draws it: an ``<svg role="img">`` whose title summarises the figures,
and the same figures as a table (the accessible form; the picture adds nothing a reader needs).

    chart = charts.columns("Revenue, last 12 months", rows, label_header="Month",
                           value_header="Revenue", money=True)

Everything here is arithmetic: no Flask, no database. Values are Decimal or int; negative values are
drawn as zero-height bars (the table still shows them). The scale's top is a "nice" number
(1, 2, 2.5 or 5 times a power of ten) at or above the largest value, with five gridlines.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Sequence

WIDTH = 720
HEIGHT = 260
TOP, BOTTOM = 16, 40           # room above the plot and for the labels below it
LEFT_COLUMNS = 64              # room for the value axis of column charts
LEFT_BARS = 170                # room for the labels of horizontal bars
BAR_ROW = 26                   # height of one horizontal bar's row
SERIES = 6                     # chart-series-0..5 in static/css/app.css


@dataclass(frozen=True)
class Segment:
    series: int
    name: str
    value: Decimal
    display: str
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal
    display: str
    x: float
    y: float
    width: float
    height: float
    label_x: float
    label_y: float
    value_x: float
    value_y: float
    href: str | None = None
    segments: tuple[Segment, ...] = ()


@dataclass(frozen=True)
class Tick:
    position: float            # y for columns, x for horizontal bars
    display: str


@dataclass(frozen=True)
class Chart:
    kind: str                  # "columns", "bars" or "stacked"
    title: str
    summary: str               # the SVG's accessible name: what the picture says in words
    label_header: str
    value_header: str
    width: int
    height: int
    plot_left: float
    plot_top: float
    plot_right: float
    plot_bottom: float
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    total_display: str
    series_names: tuple[str, ...] = ()
    table_rows: tuple[tuple[Any, ...], ...] = field(default=())

    @property
    def label_step(self) -> int:
        """Columns: label every n-th column so that at most 12 labels share the axis."""
        return max(1, -(-len(self.bars) // 12))

    @property
    def empty(self) -> bool:
        return not self.bars or all(bar.value == 0 for bar in self.bars)


def _decimal(value: Any) -> Decimal:
    if value is None:
        return Decimal(0)
    return value if isinstance(value, Decimal) else Decimal(str(value))


def display(value: Any, money: bool = False) -> str:
    amount = _decimal(value)
    if money:
        amount = amount.quantize(Decimal("0.01"))
        sign = "-" if amount < 0 else ""
        return f"{sign}${abs(amount):,.2f}"
    if amount == amount.to_integral_value():
        return f"{int(amount):,}"
    return f"{amount:,.1f}"


def _short(value: Decimal, money: bool) -> str:
    """Axis labels: 12.5k, 1.2M."""
    prefix = "$" if money else ""
    for limit, suffix in ((Decimal(1_000_000), "M"), (Decimal(1_000), "k")):
        if abs(value) >= limit:
            scaled = (value / limit).normalize()
            text = f"{scaled:f}".rstrip("0").rstrip(".") if "." in f"{scaled:f}" else f"{scaled:f}"
            return f"{prefix}{text}{suffix}"
    return f"{prefix}{int(value):,}" if value == value.to_integral_value() else f"{prefix}{value:f}"


def nice_top(largest: Decimal) -> Decimal:
    """The smallest of 1, 2, 2.5, 5 x 10^k at or above ``largest`` (1 for nothing to show)."""
    if largest <= 0:
        return Decimal(1)
    exponent = largest.adjusted()
    for _ in range(2):
        base = Decimal(10) ** exponent
        for step in (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10)):
            if step * base >= largest:
                return step * base
        exponent += 1
    return largest  # pragma: no cover - the loop always returns


def _rows(rows: Sequence[Sequence[Any]]) -> list[tuple[str, Decimal, str | None]]:
    out = []
    for row in rows:
        label, value = str(row[0]), _decimal(row[1])
        href = row[2] if len(row) > 2 else None
        out.append((label, value, href))
    return out


def _summary(title: str, rows: list[tuple[str, Decimal, str | None]], money: bool, total: Decimal | None) -> str:
    if not rows or all(value == 0 for _, value, _ in rows):
        return f"{title}: nothing to show."
    high = max(rows, key=lambda r: r[1])
    low = min(rows, key=lambda r: r[1])
    text = (f"{title}: {len(rows)} {'entry' if len(rows) == 1 else 'entries'}, from {rows[0][0]} to {rows[-1][0]}; "
            f"highest {high[0]} ({display(high[1], money)})")
    if len(rows) > 1:
        text += f", lowest {low[0]} ({display(low[1], money)})"
    if total is not None:
        text += f"; total {display(total, money)}"
    return text + "."


def columns(title: str, rows: Sequence[Sequence[Any]], *, label_header: str, value_header: str,
            money: bool = False, width: int = WIDTH, height: int = HEIGHT) -> Chart:
    """Vertical columns in row order (months, buckets): one column per row."""
    data = _rows(rows)
    total = sum((value for _, value, _ in data), Decimal(0))
    top = nice_top(max((value for _, value, _ in data), default=Decimal(0)))
    left, right, plot_top, bottom = LEFT_COLUMNS, width - 8, TOP, height - BOTTOM
    plot_height = bottom - plot_top
    slot = (right - left) / max(len(data), 1)
    bar_width = slot * 0.64
    bars = []
    for index, (label, value, href) in enumerate(data):
        h = float(max(value, Decimal(0)) / top) * plot_height
        x = left + index * slot + (slot - bar_width) / 2
        bars.append(Bar(label=label, value=value, display=display(value, money), x=round(x, 1),
                        y=round(bottom - h, 1), width=round(bar_width, 1), height=round(h, 1),
                        label_x=round(left + index * slot + slot / 2, 1), label_y=bottom + 16,
                        value_x=round(left + index * slot + slot / 2, 1), value_y=round(bottom - h - 4, 1),
                        href=href))
    ticks = tuple(Tick(position=round(bottom - plot_height * i / 4, 1), display=_short(top * i / 4, money))
                  for i in range(5))
    return Chart(kind="columns", title=title, summary=_summary(title, data, money, total),
                 label_header=label_header, value_header=value_header, width=width, height=height,
                 plot_left=left, plot_top=plot_top, plot_right=right, plot_bottom=bottom, bars=tuple(bars),
                 ticks=ticks, total_display=display(total, money),
                 table_rows=tuple((b.label, b.display, b.href) for b in bars))


def bars(title: str, rows: Sequence[Sequence[Any]], *, label_header: str, value_header: str,
         money: bool = False, width: int = WIDTH, percent: bool = False) -> Chart:
    """Horizontal bars for rankings (instructors, courses): long labels fit on the left.
    ``percent``: values are percentages and the scale runs to 100 (or the largest value above it)."""
    data = _rows(rows)
    total = sum((value for _, value, _ in data), Decimal(0))
    largest = max((value for _, value, _ in data), default=Decimal(0))
    top = max(Decimal(100), nice_top(largest)) if percent else nice_top(largest)
    left, right, plot_top = LEFT_BARS, width - 70, TOP
    height = plot_top + BAR_ROW * max(len(data), 1) + 24
    bottom = height - 24
    plot_width = right - left
    fmt = (lambda v: f"{display(v)} %") if percent else (lambda v: display(v, money))
    out = []
    for index, (label, value, href) in enumerate(data):
        w = float(max(value, Decimal(0)) / top) * plot_width
        y = plot_top + index * BAR_ROW + 4
        out.append(Bar(label=label, value=value, display=fmt(value), x=left, y=y, width=round(w, 1),
                       height=BAR_ROW - 8, label_x=left - 6, label_y=y + (BAR_ROW - 8) / 2 + 4,
                       value_x=round(left + w + 4, 1), value_y=y + (BAR_ROW - 8) / 2 + 4, href=href))
    ticks = tuple(Tick(position=round(left + plot_width * i / 4, 1),
                       display=(f"{_short(top * i / 4, False)} %" if percent else _short(top * i / 4, money)))
                  for i in range(5))
    return Chart(kind="bars", title=title, summary=_summary(title, data, money and not percent,
                                                            None if percent else total),
                 label_header=label_header, value_header=value_header, width=width, height=height,
                 plot_left=left, plot_top=plot_top, plot_right=right, plot_bottom=bottom, bars=tuple(out),
                 ticks=ticks, total_display="" if percent else display(total, money),
                 table_rows=tuple((b.label, b.display, b.href) for b in out))


def stacked(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[Any]]], *,
            label_header: str, value_header: str, money: bool = False, hrefs: Sequence[str | None] = (),
            width: int = WIDTH, height: int = HEIGHT) -> Chart:
    """Stacked columns: one column per label, one coloured segment per series (at most six series).
    The table has a column per series and a total."""
    if len(series) > SERIES:
        raise ValueError(f"at most {SERIES} series")
    values = [[_decimal(v) for v in vals] for _, vals in series]
    totals = [sum((max(vals[i], Decimal(0)) for vals in values), Decimal(0)) for i in range(len(labels))]
    top = nice_top(max(totals, default=Decimal(0)))
    left, right, plot_top, bottom = LEFT_COLUMNS, width - 8, TOP, height - BOTTOM
    plot_height = bottom - plot_top
    slot = (right - left) / max(len(labels), 1)
    bar_width = slot * 0.64
    out = []
    for index, label in enumerate(labels):
        x = left + index * slot + (slot - bar_width) / 2
        running = float(bottom)
        segments = []
        for s, (name, _) in enumerate(series):
            value = values[s][index]
            h = float(max(value, Decimal(0)) / top) * plot_height
            running -= h
            segments.append(Segment(series=s, name=name, value=value, display=display(value, money),
                                    x=round(x, 1), y=round(running, 1), width=round(bar_width, 1), height=round(h, 1)))
        href = hrefs[index] if index < len(hrefs) else None
        out.append(Bar(label=label, value=totals[index], display=display(totals[index], money), x=round(x, 1),
                       y=round(running, 1), width=round(bar_width, 1), height=round(bottom - running, 1),
                       label_x=round(left + index * slot + slot / 2, 1), label_y=bottom + 16,
                       value_x=round(left + index * slot + slot / 2, 1), value_y=round(running - 4, 1),
                       href=href, segments=tuple(segments)))
    ticks = tuple(Tick(position=round(bottom - plot_height * i / 4, 1), display=_short(top * i / 4, money))
                  for i in range(5))
    data = [(label, totals[i], None) for i, label in enumerate(labels)]
    grand = sum(totals, Decimal(0))
    table = tuple((b.label, *[seg.display for seg in b.segments], b.display, b.href) for b in out)
    return Chart(kind="stacked", title=title, summary=_summary(title, data, money, grand),
                 label_header=label_header, value_header=value_header, width=width, height=height,
                 plot_left=left, plot_top=plot_top, plot_right=right, plot_bottom=bottom, bars=tuple(out),
                 ticks=ticks, total_display=display(grand, money), series_names=tuple(n for n, _ in series),
                 table_rows=table)
