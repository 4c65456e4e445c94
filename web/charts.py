"""Charts drawn on the server as SVG: bars in the page's own markup, so they
need no script and pass the content security policy."""

from __future__ import annotations

import math

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


def chart_rows(labels: list[str], figures: list, *, width: int = 640, bar_height: int = 22) -> dict:
    """A server-drawn horizontal bar chart of one figure per row (the
    monitoring's year totals). A hidden figure (``suppression.Figure`` with
    no count) draws no bar, only its words, so the chart shows exactly what
    the table beside it shows."""
    top = max([f.count for f in figures if f.count is not None] + [1])
    return _bars(labels, [f.count for f in figures], [f.text for f in figures], top, width, bar_height)


def chart_shares(labels: list[str], shares: list[float | None], texts: list[str], *, width: int = 640,
                 bar_height: int = 22) -> dict:
    """A horizontal bar chart of a share (0 to 1) per row, drawn against
    the whole: a full bar is 100%. A share not shown (None) draws no bar,
    only its words."""
    return _bars(labels, shares, texts, 1, width, bar_height)


def _bars(labels: list[str], values: list, texts: list[str], top: float, width: int, bar_height: int) -> dict:
    left, right = 230, 80
    plot_w = width - left - right
    bars = []
    for i, (label, value, text) in enumerate(zip(labels, values, texts)):
        y = 6 + i * (bar_height + 6)
        w = round(plot_w * value / top, 1) if value is not None else 0
        bars.append({"label": label[:36] + ("…" if len(label) > 36 else ""), "y": y, "w": w, "h": bar_height,
                     "text_y": y + bar_height * 0.7, "value_x": left + w + 6, "text": text})
    return {"width": width, "height": 12 + len(values) * (bar_height + 6), "left": left, "bars": bars}


def chart_table(protected, measure: str) -> dict:
    """The chart before a monitoring table (``suppression.Protected``): each
    row's total (``measure``) or, for a table of separate measures, its
    first."""
    if protected.row_totals is not None:
        return {**chart_rows(protected.rows, protected.row_totals), "measure": measure}
    figures = [cells[0] for cells in protected.cells]
    return {**chart_rows(protected.rows, figures), "measure": protected.columns[0].lower()}


def _project(geometries: list[dict]):
    """A projection of longitude and latitude into the map's box: a plain
    equirectangular one, scaled by the cosine of the middle latitude, which
    is true enough over a borough."""
    points = [pt for g in geometries for ring in _rings(g) for pt in ring]
    if not points:
        return None
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    mid = math.radians((min(lats) + max(lats)) / 2)
    span_x = max((max(lons) - min(lons)) * math.cos(mid), 1e-9)
    span_y = max(max(lats) - min(lats), 1e-9)
    return min(lons), max(lats), mid, span_x, span_y


def _rings(geometry: dict) -> list:
    if geometry.get("type") == "Polygon":
        return list(geometry["coordinates"])
    return [ring for polygon in geometry.get("coordinates", []) for ring in polygon]


# Referrals per 1,000 young people: the map's shading classes, lightest first.
MAP_CLASSES = ((0, "#f3f2f1"), (5, "#c6dbef"), (10, "#6baed6"), (20, "#2171b5"), (40, "#08306b"))


def ward_map(wards: list[dict], *, width: int = 640, max_height: int = 480) -> dict:
    """A choropleth of the wards, drawn on the server as SVG paths from the
    boundaries the partnership loaded. Each entry of ``wards`` has the
    ``ward`` (with its GeoJSON ``boundary``), its ``figure`` and its
    ``rate`` per 1,000 young people (None when the figure is hidden or
    there is no population): a hidden figure is hatched, not shaded."""
    box = _project([w["ward"].boundary for w in wards])
    if box is None:
        return {"width": width, "height": 0, "wards": [], "legend": []}
    min_lon, max_lat, mid, span_x, span_y = box
    scale = min((width - 20) / span_x, (max_height - 20) / span_y)
    height = round(span_y * scale + 20)
    shapes = []
    for entry in wards:
        d = []
        for ring in _rings(entry["ward"].boundary):
            pts = [(10 + (lon - min_lon) * math.cos(mid) * scale, 10 + (max_lat - lat) * scale) for lon, lat, *_ in ring]
            d.append("M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in pts) + " Z")
        rate = entry["rate"]
        fill = next((colour for floor, colour in reversed(MAP_CLASSES) if rate is not None and rate >= floor), None)
        xs = [x for ring in _rings(entry["ward"].boundary) for x, *_ in ring]
        ys = [y for ring in _rings(entry["ward"].boundary) for _, y, *_ in ring]
        cx = 10 + ((sum(xs) / len(xs)) - min_lon) * math.cos(mid) * scale
        cy = 10 + (max_lat - sum(ys) / len(ys)) * scale
        shapes.append({
            "name": entry["ward"].name, "d": " ".join(d), "fill": fill, "hatched": fill is None,
            "label_x": round(cx, 1), "label_y": round(cy, 1),
            "rate": f"{rate:.1f}" if rate is not None else "", "text": entry["figure"].text,
        })
    legend = [{"colour": colour, "text": f"{floor} or more" if i else f"under {MAP_CLASSES[1][0]}"}
              for i, (floor, colour) in enumerate(MAP_CLASSES)]
    return {"width": width, "height": height, "wards": shapes, "legend": legend}
