"""Terminal sparklines: a series of counts as one line of block characters."""

from __future__ import annotations

_BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float]) -> str:
    """One character per value, scaled to the series' maximum; zero is a space-like low bar."""
    if not values:
        return ""
    top = max(values)
    if top <= 0:
        return _BARS[0] * len(values)
    return "".join(_BARS[min(len(_BARS) - 1, int(round(v / top * (len(_BARS) - 1))))] if v > 0 else " " for v in values)
