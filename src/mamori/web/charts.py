"""Server-side SVG charts: nothing to download, nothing to execute, every label escaped by the template."""

from __future__ import annotations

from dataclasses import dataclass

PALETTE = (
    "#4cc9f0",
    "#f72585",
    "#b5e48c",
    "#ffb703",
    "#9d4edd",
    "#fb8500",
    "#90e0ef",
    "#ef476f",
    "#06d6a0",
    "#ffd166",
)


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str


@dataclass(frozen=True)
class StackedChart:
    width: int
    height: int
    bars: list[Bar]
    max_total: int
    legend: list[tuple[str, str]]
    labels: list[tuple[float, str]]


def stacked_daily(
    days: list[str], per_org: dict[str, list[int]], *, width: int = 900, height: int = 220
) -> StackedChart:
    """One column per day, stacked by organisation (largest organisations at the bottom)."""
    orgs = sorted(per_org, key=lambda o: -sum(per_org[o]))
    totals = [sum(per_org[o][i] for o in orgs) for i in range(len(days))]
    top = max(totals, default=0) or 1
    step = width / max(1, len(days))
    bars: list[Bar] = []
    for i, day in enumerate(days):
        y = float(height)
        for n, org in enumerate(orgs):
            value = per_org[org][i]
            if value <= 0:
                continue
            h = value / top * (height - 10)
            y -= h
            bars.append(Bar(i * step + 1, y, step - 2, h, PALETTE[n % len(PALETTE)], f"{day} {org}: {value}"))
    labels = [(i * step + step / 2, day[5:]) for i, day in enumerate(days) if i % 5 == 0 or i == len(days) - 1]
    legend = [(org, PALETTE[n % len(PALETTE)]) for n, org in enumerate(orgs)]
    return StackedChart(width, height, bars, max(totals, default=0), legend, labels)
