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


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    lines: list[tuple[str, str, str]]  # (name, colour, SVG polyline points)
    top: float  # the value at the top edge
    labels: list[tuple[float, str]]


def latency_lines(points: list[tuple[str, float, float]], *, width: int = 900, height: int = 160) -> LineChart:
    """p50 and p95 latency per bucket, ``points`` as (label, p50, p95), oldest first."""
    if len(points) == 1:  # one bucket: a flat line across the chart rather than an invisible point
        points = points * 2
    top = max((p95 for _, _, p95 in points), default=0.0) or 1.0
    step = width / max(1, len(points) - 1)

    def polyline(values: list[float]) -> str:
        return " ".join(f"{i * step:.1f},{height - v / top * (height - 8):.1f}" for i, v in enumerate(values))

    every = max(1, len(points) // 8)
    labels = [(i * step, label) for i, (label, _, _) in enumerate(points) if i % every == 0]
    p50, p95 = [p[1] for p in points], [p[2] for p in points]
    lines = [("p50", PALETTE[0], polyline(p50)), ("p95", PALETTE[3], polyline(p95))] if points else []
    return LineChart(width, height, lines, round(top, 1), labels)
