"""Colour arithmetic for the page's rules: WCAG contrast, and how colours look to the colour-blind.

Contrast is WCAG 2.x's relative luminance ratio. Colour vision deficiency is simulated with Machado, Oliveira
and Fernandes (2009) at full severity, in linear RGB; colours are then compared by CIE76 distance in CIELAB.
"""
from itertools import combinations

Vector = tuple[float, float, float]
Matrix = tuple[Vector, Vector, Vector]

DEUTERANOPIA: Matrix = ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413),
                        (-0.011820, 0.042940, 0.968881))
PROTANOPIA: Matrix = ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216),
                      (-0.003882, -0.048116, 1.051998))
TYPICAL: Matrix = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))


def linear(hex_colour: str) -> Vector:
    """Return the linear-light RGB of a #RRGGBB colour."""
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    digits = hex_colour.lstrip("#")
    r, g, b = (channel(int(digits[i:i + 2], 16)) for i in (0, 2, 4))
    return r, g, b


def luminance(hex_colour: str) -> float:
    """Return WCAG relative luminance."""
    r, g, b = linear(hex_colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one: str, other: str) -> float:
    """Return the WCAG contrast ratio of two colours (1 to 21)."""
    dark, light = sorted((luminance(one), luminance(other)))
    return (light + 0.05) / (dark + 0.05)


def seen(hex_colour: str, matrix: Matrix) -> Vector:
    """Return the colour as `matrix`'s viewer sees it, in CIELAB."""
    rgb = linear(hex_colour)
    r, g, b = (min(1.0, max(0.0, sum(row[i] * rgb[i] for i in range(3)))) for row in matrix)
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116
    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def closest_pair(colours: dict[str, str], matrix: Matrix) -> tuple[float, str, str]:
    """Return (distance, name, name) of the two colours `matrix`'s viewer finds most alike."""
    def distance(a: str, b: str) -> float:
        return sum((p - q) ** 2 for p, q in zip(seen(colours[a], matrix), seen(colours[b], matrix))) ** 0.5
    return min((distance(a, b), a, b) for a, b in combinations(colours, 2))
