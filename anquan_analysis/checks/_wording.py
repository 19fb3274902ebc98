"""How the checks write figures, windows and p-values into their messages."""

from __future__ import annotations

import pandas as pd


def figure(x: float) -> str:
    """A figure as a bulletin prints it: integers plain, others to one decimal."""
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.1f}"


def fmt(values: pd.Series, spec: str = "n") -> pd.Series:
    """Figures as text for a message, as a ``str`` series (also when empty): ``n``
    integers plain and others to one decimal, ``pct`` a percentage to two decimals,
    ``p`` a p-value to three significant digits, else a format spec (``.1f``)."""
    funcs = {"n": figure, "pct": lambda v: f"{100 * v:.2f}%", "p": lambda v: f"{v:.3g}"}
    f = funcs.get(spec, lambda v: format(v, spec))
    return pd.Series([f(v) for v in values], index=values.index, dtype="str")


def p_text(p: float) -> str:
    """A p-value in a balance check's message: two significant digits, or 1.0e-05."""
    return f"{p:.2g}" if p >= 1e-3 else f"{p:.1e}"


def window_label(period, cumulative: bool, periods) -> str:
    """The window a finding covers, as its message names it: 截至P累计, P, or the
    first and last period of the panel."""
    if period is None:
        return f"{periods[0]}至{periods[-1]}" if len(periods) > 1 else (periods[0] if periods else "")
    if cumulative:
        return f"截至{period}累计"
    return str(period)
