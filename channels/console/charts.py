"""Small server-side SVG charts (no JavaScript, no external assets; safe under a strict CSP)."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape


def bar_chart(labels: Sequence[str], values: Sequence[float], title: str, *, width: int = 640,
              height: int = 200, unit: str = "") -> Markup:
    """Vertical bars with value labels; `title` is the accessible name."""
    n = max(len(values), 1)
    top = max(values) if values and max(values) > 0 else 1
    pad_l, pad_b, pad_t = 8, 34, 18
    slot = (width - pad_l * 2) / n
    bar_w = max(slot * 0.6, 2)
    plot_h = height - pad_b - pad_t
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
             f"<title>{escape(title)}</title>",
             f'<line x1="{pad_l}" y1="{height - pad_b}" x2="{width - pad_l}" y2="{height - pad_b}" '
             'stroke="#888" stroke-width="1"/>']
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = plot_h * (value / top)
        x = pad_l + i * slot + (slot - bar_w) / 2
        y = height - pad_b - h
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                     f'fill="#1d6fb8"><title>{escape(label)}：{value:g}{escape(unit)}</title></rect>')
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{y - 4:.1f}" font-size="11" '
                     f'text-anchor="middle" fill="#222">{value:g}</text>')
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{height - pad_b + 14:.1f}" font-size="10" '
                     f'text-anchor="middle" fill="#444">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def hbar_chart(items: Sequence[tuple[str, int]], title: str, *, width: int = 640) -> Markup:
    """Horizontal bars for ranked items (top topics, channels)."""
    row_h, label_w = 26, 150
    height = max(len(items), 1) * row_h + 10
    top = max((v for _, v in items), default=1) or 1
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
             f"<title>{escape(title)}</title>"]
    if not items:
        parts.append('<text x="10" y="20" font-size="13" fill="#666">暂无数据</text>')
    for i, (label, value) in enumerate(items):
        y = 5 + i * row_h
        w = (width - label_w - 50) * value / top
        parts.append(f'<text x="{label_w - 6}" y="{y + 17}" font-size="12" text-anchor="end" '
                     f'fill="#222">{escape(label)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" '
                     f'fill="#2e8b57"/>')
        parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 17}" font-size="12" '
                     f'fill="#222">{value}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
