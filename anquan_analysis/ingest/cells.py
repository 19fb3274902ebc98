"""Figures of a report sheet → one cell record per figure, parsed into the catalogue unit.

A wide sheet has a column per indicator; a long sheet has 指标 and 数值 columns.
Each figure is parsed by ``numbers.parse_numbers`` (``17万余``, ``109.33万元``,
full-width digits; a bracketed column unit is the unit of bare numbers) and then
checked for plausibility (``plausible``).  A figure that cannot be read keeps its
text and gets an ``error``; it becomes a reject later, never a silent blank.
"""

from __future__ import annotations

import pandas as pd

from ..catalogue import indicator_unit
from ..numbers import is_count_unit, parse_numbers
from ._frames import concat_frames

# No figure in a district or city report comes near this, in any catalogue unit
# (10^9 persons, 10^9 万元): larger is a typing slip or a pasted ID number.
MAX_PLAUSIBLE = 1e9

CELL_COLUMNS = ["row", "column", "indicator", "text", "value", "approx", "error"]


def plausible(parsed: pd.DataFrame, code: str) -> pd.DataFrame:
    """``parse_numbers`` output with an error set (value NaN) where a figure cannot be
    right for indicator ``code``: a fractional count (2.5 hazards) or a figure above
    ``MAX_PLAUSIBLE``.  Does not modify ``parsed``."""
    v = parsed["value"]
    fraction = is_count_unit(indicator_unit(code)) & v.notna() & (v % 1 != 0)
    huge = v > MAX_PLAUSIBLE
    if not (fraction.any() or huge.any()):
        return parsed
    out = parsed.copy()
    out["error"] = out["error"].mask(fraction, "计数不是整数 (implausible: a count must be a "
                                     "whole number): " + v.astype("str"))
    out["error"] = out["error"].mask(huge, f"数值过大 (implausible: above {MAX_PLAUSIBLE:.0e}): "
                                     + v.map(lambda x: f"{x:.6g}"))
    out["value"] = v.mask(fraction | huge)
    return out


def wide_cells(body: pd.DataFrame, rows: pd.DataFrame, indicators: dict) -> pd.DataFrame:
    """The figures of a wide sheet's kept rows.

    Parameters
    ----------
    body : the sheet's cells below the header, indexed by row number.
    rows : the kept rows (index: row number; column ``row``).
    indicators : {code: (column position, label, column unit or None)}.

    Returns
    -------
    DataFrame with ``CELL_COLUMNS``, one row per non-blank figure cell.
    """
    frames = []
    for code, (pos, label, cunit) in indicators.items():
        texts = body[pos].reindex(rows.index)
        texts = texts[texts.notna()].astype("str")
        parsed = plausible(parse_numbers(texts, target_unit=indicator_unit(code),
                                         assumed_unit=cunit), code)
        frames.append(pd.DataFrame({"row": rows.loc[texts.index, "row"], "column": label,
                                    "indicator": code, "text": texts, "value": parsed["value"],
                                    "approx": parsed["approx"], "error": parsed["error"]}))
    return concat_frames(frames, CELL_COLUMNS)


def long_cells(rows: pd.DataFrame, names: pd.Series, codes: pd.Series,
               texts: pd.Series) -> pd.DataFrame:
    """The figures of a long sheet's kept rows: ``names`` (the 指标 cells), ``codes``
    (their indicator codes, missing when unknown) and ``texts`` (the 数值 cells), all
    aligned with ``rows``.  Returns ``CELL_COLUMNS``, one row per row with an indicator
    code and a non-blank value."""
    frames = []
    for code, idx in codes.groupby(codes).groups.items():
        t = texts.loc[idx]
        parsed = plausible(parse_numbers(t, target_unit=indicator_unit(code)), code)
        frames.append(pd.DataFrame({"row": rows.loc[idx, "row"], "column": names.loc[idx],
                                    "indicator": code, "text": t, "value": parsed["value"],
                                    "approx": parsed["approx"], "error": parsed["error"]}))
    cells = concat_frames(frames, CELL_COLUMNS)
    return cells[cells["text"].notna()]
