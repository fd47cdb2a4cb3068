"""A small SVG writer: the shapes the report's pictures are made of, with every text escaped.

The pictures are written by hand rather than by a plotting library so that they are plain,
self-contained SVG a page can inline, a browser can show without scripts, and a test can read.
"""

from __future__ import annotations

from html import escape

# Backing objects take colours in the order they appear; colour-blind-safe (Okabe-Ito, then Tol).
OBJECT_COLOURS = ("#56b4e9", "#e69f00", "#009e73", "#cc79a7", "#0072b2", "#d55e00", "#f0e442", "#88ccee")
GAP_COLOUR = "#eeeeee"
BAD_COLOUR = "#d62728"
OK_COLOUR = "#2a7f2a"
INK = "#222222"
FONT = "font-family:ui-monospace,Menlo,Consolas,monospace"
CHAR_WIDTH = 6.6  # of the 11 px monospace font: enough to cut a label that would not fit its bar


def fit(text: str, width: float) -> str:
    """The text cut to what fits in width pixels, with an ellipsis when cut."""
    chars = int(width / CHAR_WIDTH)
    if len(text) <= chars:
        return text
    return text[: max(chars - 1, 0)] + "…" if chars > 1 else ""


class Svg:
    """Elements appended in drawing order; `text()` gives the finished picture."""

    def __init__(self, width: float, ident: str, css_class: str = "memview-picture") -> None:
        # ident prefixes the picture's own ids, as a page inlines many pictures into one document.
        self.width, self.height, self.ident, self.css_class = width, 0.0, ident, css_class
        self.parts: list[str] = []

    def grow(self, bottom: float) -> None:
        self.height = max(self.height, bottom)

    def rect(self, x: float, y: float, w: float, h: float, fill: str, *, stroke: str = "none",
             title: str | None = None, hatched: bool = False, css_class: str | None = None) -> None:
        attrs = f'x="{x:.1f}" y="{y:.1f}" width="{max(w, 0.0):.1f}" height="{h:.1f}" fill="{fill}"'
        if stroke != "none":
            attrs += f' stroke="{stroke}" stroke-width="1.5"'
        if css_class:
            attrs += f' class="{css_class}"'
        body = f"<title>{escape(title)}</title>" if title else ""
        self.parts.append(f"<rect {attrs}>{body}</rect>")
        if hatched:
            self.parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0.0):.1f}" height="{h:.1f}" '
                              f'fill="url(#{self.ident}-hatch)"/>')
        self.grow(y + h)

    def line(self, x1: float, y1: float, x2: float, y2: float, colour: str = INK, width: float = 1.0,
             dash: str | None = None) -> None:
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{colour}" '
                          f'stroke-width="{width}"{extra}/>')
        self.grow(max(y1, y2))

    def text(self, x: float, y: float, content: str, *, size: int = 11, colour: str = INK, bold: bool = False,
             anchor: str = "start", css_class: str | None = None, tooltip: str | None = None) -> None:
        weight = ' font-weight="bold"' if bold else ""
        extra = f' class="{css_class}"' if css_class else ""
        title = f"<title>{escape(tooltip)}</title>" if tooltip and tooltip != content else ""
        self.parts.append(f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{colour}" '
                          f'text-anchor="{anchor}" style="{FONT}"{weight}{extra}>{title}{escape(content)}</text>')
        self.grow(y + 4)

    def marker(self, x: float, y: float, colour: str, title: str) -> None:
        """A downward triangle whose tip is at (x, y): where an access landed."""
        self.parts.append(f'<path d="M{x - 6:.1f},{y - 10:.1f} L{x + 6:.1f},{y - 10:.1f} L{x:.1f},{y:.1f} Z" '
                          f'fill="{colour}" stroke="white" stroke-width="1" class="access-marker">'
                          f"<title>{escape(title)}</title></path>")

    def render(self, label: str) -> str:
        defs = (f'<defs><pattern id="{self.ident}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
                'patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="#555" '
                'stroke-width="1.5"/></pattern></defs>')
        height = self.height + 8
        return (f'<svg xmlns="http://www.w3.org/2000/svg" id="{self.ident}" class="{self.css_class}" role="img" '
                f'aria-label="{escape(label)}" width="{self.width:.0f}" height="{height:.0f}" '
                f'viewBox="0 0 {self.width:.0f} {height:.0f}">{defs}<title>{escape(label)}</title>'
                + "".join(self.parts) + "</svg>")
