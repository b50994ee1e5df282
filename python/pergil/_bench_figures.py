"""_bench_figures.py: how the benchmark writes a measured figure for people: rounded, in plain
notation, in a unit that keeps it short."""


def figure(value, unit=""):
    """A measured figure for people: three significant digits in plain notation (never
    ``8.890000344763394e-07``), whole numbers from 100 up; "-" for None."""
    if value is None:
        return "-"
    rounded = float(f"{value:.3g}")
    if abs(rounded) >= 100:
        text = f"{value:,.0f}"
    else:
        from decimal import Decimal

        text = format(Decimal(repr(rounded)), "f")  # 8.89e-07 -> 0.000000889
    return f"{text} {unit}" if unit else text


def seconds_text(seconds):
    """A duration in the unit that keeps it short: s, ms or µs."""
    if seconds >= 1:
        return figure(seconds, "s")
    if seconds >= 1e-3:
        return figure(seconds * 1e3, "ms")
    return figure(seconds * 1e6, "µs")
