"""Charts drawn on the server as SVG: bars in the page's own markup, so they
need no script and pass the content security policy."""

from __future__ import annotations

from casework.selectors import MonthFigures


def chart_bars(figures: list[MonthFigures], *, width: int = 640, height: int = 240) -> dict:
    """Coordinates for a server-drawn SVG bar chart: received and accepted per month."""
    top = max([f.received for f in figures] + [1])
    left, bottom, plot_h = 30, height - 30, height - 50
    slot = (width - left - 10) / max(len(figures), 1)
    bars = []
    for i, f in enumerate(figures):
        x = left + i * slot
        for j, (kind, value) in enumerate((("received", f.received), ("accepted", f.accepted))):
            h = round(plot_h * value / top, 1)
            bars.append({"kind": kind, "x": round(x + 4 + j * (slot - 8) / 2, 1), "y": round(bottom - h, 1),
                         "w": round((slot - 8) / 2 - 1, 1), "h": h, "value": value})
    labels = [{"x": round(left + i * slot + slot / 2, 1), "text": f.month.strftime("%b")} for i, f in enumerate(figures)]
    return {"width": width, "height": height, "bars": bars, "labels": labels, "top": top,
            "left": left, "bottom": bottom, "label_y": bottom + 16}
