"""Colours shared by charts, workbooks and the web pages.

Stage colours are ColorBrewer YlGnBu picks: sequential, safe for the common kinds of
colour blindness, and clearly darker at each level so they survive greyscale printing
(relative luminance 0.88, 0.52, 0.24, 0.05). Every fill has a text colour with a WCAG
contrast of at least 4.5:1.
"""

from __future__ import annotations

STAGE_COLORS: dict[int, str] = {
    1: "#EDF8B1",
    2: "#7FCDBB",
    3: "#1D91C0",
    4: "#253494",
}

DARK_TEXT = "#1A1A1A"
LIGHT_TEXT = "#FFFFFF"

STAGE_TEXT_COLORS: dict[int, str] = {
    1: DARK_TEXT,
    2: DARK_TEXT,
    3: DARK_TEXT,
    4: LIGHT_TEXT,
}

# Suppressed or undefined figures: light grey, drawn with hatching in charts.
SUPPRESSED_COLOR = "#D9D9D9"
SUPPRESSED_TEXT_COLOR = DARK_TEXT
SUPPRESSED_HATCH = "///"
NO_DATA_COLOR = "#FFFFFF"

# Answers that carry no score, in level distributions.
DONT_KNOW_COLOR = "#969696"
NOT_APPLICABLE_COLOR = "#D9D9D9"

# Industry gap: business higher (orange) versus other partner types higher (purple),
# the two ends of ColorBrewer PuOr.
GAP_COLORS: tuple[str, str] = ("#E66101", "#5E3C99")

# Okabe-Ito: categorical and colour-blind safe, for series (partner types, elements).
CATEGORICAL: tuple[str, ...] = (
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
    "#F0E442",
    "#000000",
)

# Series also differ by marker, line style and hatch, for greyscale print.
MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P", "X", "*")
LINESTYLES: tuple[str, ...] = ("-", "--", "-.", ":", (0, (5, 1, 1, 1)), (0, (3, 1, 1, 1, 1, 1)))
HATCHES: tuple[str, ...] = ("", "//", "..", "xx", "\\\\", "++", "--", "oo")


def stage_color(level: int | None) -> str:
    """The fill for a stage level, or the suppressed grey when there is none."""
    return STAGE_COLORS.get(level, SUPPRESSED_COLOR) if level is not None else SUPPRESSED_COLOR


def stage_text_color(level: int | None) -> str:
    """The readable text colour on that fill."""
    return STAGE_TEXT_COLORS.get(level, DARK_TEXT) if level is not None else DARK_TEXT
