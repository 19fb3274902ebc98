"""Small frame helpers shared by the ingest modules: a column of cell text, reject
records, and concatenation that keeps the columns when there is nothing to join."""

from __future__ import annotations

import pandas as pd

from ..dataset import REJECT_COLUMNS


def text_column(body: pd.DataFrame, pos) -> pd.Series:
    """Column ``pos`` of a sheet body as str (all missing when ``pos`` is None: the
    sheet has no such column)."""
    if pos is None:
        return pd.Series(pd.NA, index=body.index, dtype="str")
    return body[pos].astype("str")


def reject_frame(df: pd.DataFrame, column, value, reason) -> pd.DataFrame:
    """REJECT_COLUMNS for the rows of ``df`` (which has file, sheet, row); ``column``,
    ``value`` and ``reason`` are scalars or Series aligned with ``df``."""
    out = pd.DataFrame({"file": df["file"], "sheet": df["sheet"], "row": df["row"],
                        "column": column, "value": value, "reason": reason})
    return out[REJECT_COLUMNS]


def concat_frames(frames, columns) -> pd.DataFrame:
    """The non-empty ``frames`` (None allowed) concatenated with a fresh index; with
    none, an empty frame of str ``columns``."""
    frames = [f for f in frames if f is not None and len(f)]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="str") for c in columns})
    return pd.concat(frames, ignore_index=True)
