"""The dashboard's 12-month trend as a server-rendered SVG, readable without colour.

Geometry only: the template draws it. Each series has its own fill pattern (solid, hatched) as
well as its colour, every bar carries its value as text, and the same figures are given as a
table, so nothing depends on telling colours apart or on seeing the picture at all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

WIDTH, HEIGHT = 720, 280
LEFT, RIGHT, TOP, BOTTOM = 40, 8, 24, 40
PATTERNS = ("solid", "hatched", "dotted")


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    series: int
    label: str  # "Oct 2026, filming: 3", for assistive technology and tooltips


@dataclass(frozen=True)
class Gridline:
    y: float
    value: int


@dataclass(frozen=True)
class MonthTick:
    x: float
    label: str


@dataclass(frozen=True)
class TrendChart:
    width: int
    height: int
    baseline: float
    left: float
    right: float
    series: list[tuple[str, str]]  # (name, pattern)
    months: list[MonthTick]
    bars: list[Bar]
    gridlines: list[Gridline]
    rows: list[tuple[str, list[int]]]  # the table: month label and one value per series
    total: int


def nice_top(largest: int) -> tuple[int, int]:
    """The axis top and step: a round number at or above the largest value, in 2 to 5 steps."""
    if largest <= 4:
        return max(largest, 1), 1
    magnitude = 10 ** int(math.log10(largest))
    for step in (magnitude // 10 or 1, magnitude // 5 or 1, magnitude // 2 or 1, magnitude, 2 * magnitude, 5 * magnitude):
        if math.ceil(largest / step) <= 5:
            return math.ceil(largest / step) * step, step
    return math.ceil(largest / magnitude) * magnitude, magnitude


def trend_chart(months: list[str], series: dict[str, list[int]]) -> TrendChart:
    """Grouped bars: one group per month (oldest first), one bar per series within it."""
    names = list(series)
    for name, values in series.items():
        if len(values) != len(months):
            raise ValueError(f"{name} has {len(values)} values for {len(months)} months")
    largest = max((v for values in series.values() for v in values), default=0)
    top, step = nice_top(largest)
    plot_height = HEIGHT - TOP - BOTTOM
    plot_width = WIDTH - LEFT - RIGHT
    group = plot_width / max(len(months), 1)
    bar_width = (group * 0.8) / max(len(names), 1)
    bars, ticks = [], []
    for m, month in enumerate(months):
        group_left = LEFT + m * group + group * 0.1
        ticks.append(MonthTick(LEFT + m * group + group / 2, month))
        for s, name in enumerate(names):
            value = series[name][m]
            height = plot_height * value / top
            bars.append(
                Bar(
                    x=round(group_left + s * bar_width, 2),
                    y=round(TOP + plot_height - height, 2),
                    width=round(bar_width - 1, 2),
                    height=round(height, 2),
                    value=value,
                    series=s,
                    label=f"{month}, {name}: {value}",
                )
            )
    gridlines = [Gridline(round(TOP + plot_height - plot_height * v / top, 2), v) for v in range(0, top + 1, step)]
    return TrendChart(
        width=WIDTH,
        height=HEIGHT,
        baseline=TOP + plot_height,
        left=LEFT,
        right=WIDTH - RIGHT,
        series=[(name, PATTERNS[i % len(PATTERNS)]) for i, name in enumerate(names)],
        months=ticks,
        bars=bars,
        gridlines=gridlines,
        rows=[(month, [series[name][m] for name in names]) for m, month in enumerate(months)],
        total=sum(sum(values) for values in series.values()),
    )
