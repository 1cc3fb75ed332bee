"""The two charts of a document, as inline SVG: the month's price by service (horizontal
bars) and the customer's last six monthly totals (columns).

Geometry is computed here; the markup comes from autoescaped templates, so service and
customer names are text, never markup. Amounts are written exactly as the document's
lines add up (no rounding beyond cents); bar lengths are the only approximation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from msp_cli.common.money import ZERO, exact_sum
from msp_cli.common.templates import render_template

MAX_BARS = 8
LABEL_CHARS = 22
HISTORY_SLOTS = 6
BAR_COLOUR = "#2f6690"
NEGATIVE_COLOUR = "#b5523b"


@dataclass(frozen=True)
class Bar:
    label: str
    amount: Decimal


@dataclass(frozen=True)
class DrawnBar:
    label: str
    amount: Decimal
    x: float
    y: float
    width: float
    height: float
    colour: str
    text_x: float
    text_y: float


def _short(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def top_bars(amounts: dict[str, list[Decimal]], limit: int = MAX_BARS) -> list[Bar]:
    """The largest amounts (by size) as bars, the rest summed into one 'Other' bar."""
    bars = sorted((Bar(label, exact_sum(values)) for label, values in amounts.items()), key=lambda b: -abs(b.amount))
    bars = [b for b in bars if b.amount != 0]
    if len(bars) <= limit:
        return bars
    kept, rest = bars[: limit - 1], bars[limit - 1 :]
    return [*kept, Bar(f"Other ({len(rest)} services)", exact_sum(b.amount for b in rest))]


def _scale(bars: Sequence[Bar]) -> tuple[Decimal, Decimal]:
    low = min([ZERO, *(b.amount for b in bars)])
    high = max([ZERO, *(b.amount for b in bars)])
    return low, high if high != low else low + 1


def service_chart(bars: Sequence[Bar], currency: str, title: str) -> str:
    """Horizontal bars, one per service, with the amount at the end of each."""
    width, label_width, amount_width, row, top = 380.0, 128.0, 76.0, 22.0, 28.0
    plot = width - label_width - amount_width
    low, high = _scale(bars)
    span = float(high - low)
    zero = label_width + plot * float(-low) / span
    drawn = []
    for index, bar in enumerate(bars):
        length = plot * abs(float(bar.amount)) / span
        x = zero if bar.amount >= 0 else zero - length
        y = top + index * row
        drawn.append(
            DrawnBar(
                _short(bar.label),
                bar.amount,
                x,
                y + 4,
                max(length, 1.0),
                row - 8,
                BAR_COLOUR if bar.amount >= 0 else NEGATIVE_COLOUR,
                width - 4,
                y + row / 2 + 4,
            )
        )
    height = top + max(len(bars), 1) * row + 8
    return render_template(
        "msp_cli.billing",
        "chart_services.svg.j2",
        bars=drawn,
        width=width,
        height=height,
        zero=zero,
        top=top,
        label_width=label_width,
        currency=currency,
        title=title,
        empty=not bars,
    )


def history_chart(bars: Sequence[Bar], currency: str, title: str) -> str:
    """Columns, one per month, the newest in the last of six slots, with the amount above
    (or below, when negative) each."""
    width, height, top, bottom, side = 380.0, 220.0, 44.0, 34.0, 8.0
    plot_height = height - top - bottom
    low, high = _scale(bars)
    span = float(high - low)
    zero = top + plot_height * float(high) / span
    slot = (width - 2 * side) / HISTORY_SLOTS
    drawn = []
    first_slot = HISTORY_SLOTS - len(bars)
    for index, bar in enumerate(bars, start=first_slot):
        length = plot_height * abs(float(bar.amount)) / span
        x = side + index * slot + slot * 0.2
        y = zero - length if bar.amount >= 0 else zero
        text_y = y - 5 if bar.amount >= 0 else y + length + 12
        drawn.append(
            DrawnBar(
                bar.label,
                bar.amount,
                x,
                y,
                slot * 0.6,
                max(length, 1.0),
                BAR_COLOUR if bar.amount >= 0 else NEGATIVE_COLOUR,
                x + slot * 0.3,
                text_y,
            )
        )
    return render_template(
        "msp_cli.billing",
        "chart_history.svg.j2",
        bars=drawn,
        width=width,
        height=height,
        zero=zero,
        side=side,
        label_y=height - bottom + 16,
        currency=currency,
        title=title,
        empty=not bars,
    )
