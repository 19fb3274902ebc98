"""The validated tidy dataset that ingest produces and every later stage reads.

``Dataset.panel`` is long: one row per unit, period and indicator, values in
the indicator's catalogue unit and always *in-period* (cumulative 累计 series are
converted at ingest).  Columns (``PANEL_COLUMNS``):

============= ==============================================================
unit          normalised unit name (str)
unit_type     ``county``, ``town``, ``department``, ``soe`` or missing (str)
parent        the parent unit (上级), or missing (str)
period        canonical period: ``2024-04``, ``2024Q2``, ``2024H1``, ``2024`` (str)
indicator     catalogue code (str)
value         float64, never negative, never NaN (missing figures are not rows)
approx        True where the figure was typed as approximate (``17万余``)
source_file   file the figure came from (str)
source_sheet  sheet name, missing for CSV (str)
source_row    1-based row number in that file or sheet, as Excel shows it (int64)
============= ==============================================================

``Dataset.rejects`` has ``REJECT_COLUMNS``: file, sheet, row, column, value, reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

PANEL_COLUMNS = ["unit", "unit_type", "parent", "period", "indicator", "value", "approx",
                 "source_file", "source_sheet", "source_row"]
REJECT_COLUMNS = ["file", "sheet", "row", "column", "value", "reason"]
# Exposure: enterprises supervised, per unit and optionally per sector ('' = all sectors).
EXPOSURE_COLUMNS = ["unit", "sector", "enterprises", "source_file", "source_row"]
# One row per hazard, cleaned (see ledger.py).
LEDGER_COLUMNS = ["hazard_id", "unit", "sector", "found_date", "reported_date", "source",
                  "meets_standard", "status", "rectified_date", "source_file", "source_row"]
# Figures typed as 累计 per period (ingest.cumulative): how many, and how many were the
# first of their series while their period does not begin its year (a total since an
# earlier start, not the period's own figure).
CUMULATIVE_COLUMNS = ["period", "cells", "first_cells"]
# Effective counts per unit, month and sector (see ledger.py).
LEDGER_COUNT_COLUMNS = ["unit", "period", "sector", "reported", "found", "found_dept",
                        "found_enterprise", "rectified", "rectified_dept",
                        "rectified_enterprise", "excluded_standard", "excluded_late",
                        "excluded_window"]


def require_columns(df: pd.DataFrame, columns, what: str = "table") -> None:
    """The one validator at the top of every function that takes a DataFrame: a
    ValueError naming the first missing column, what needed it and every column it
    needs.  Does not modify ``df``."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what}: missing column {missing[0]!r} "
                         f"(needs {', '.join(map(str, columns))}; has {', '.join(map(str, df.columns))})")


def empty_panel() -> pd.DataFrame:
    """A panel with no rows and the right dtypes."""
    return pd.DataFrame({
        "unit": pd.Series(dtype="str"), "unit_type": pd.Series(dtype="str"),
        "parent": pd.Series(dtype="str"), "period": pd.Series(dtype="str"),
        "indicator": pd.Series(dtype="str"), "value": pd.Series(dtype="float64"),
        "approx": pd.Series(dtype="bool"), "source_file": pd.Series(dtype="str"),
        "source_sheet": pd.Series(dtype="str"), "source_row": pd.Series(dtype="int64"),
    })


def empty_rejects() -> pd.DataFrame:
    """A rejects table with no rows."""
    return pd.DataFrame({c: pd.Series(dtype="int64" if c == "row" else "str")
                         for c in REJECT_COLUMNS})


@dataclass
class Dataset:
    """Everything ingest read, cleaned, plus what it could not read.

    panel          long unit × period × indicator values (PANEL_COLUMNS)
    rejects        rows or cells not taken, with file, sheet, row, column, reason
    exposure       enterprises supervised per unit (EXPOSURE_COLUMNS), may be empty
    ledger         cleaned hazard ledger rows (LEDGER_COLUMNS), may be empty
    ledger_counts  effective counts per unit, month and sector, may be empty
    reconciliation totals rows (合计/总计/小计) against the sum of their units
    unknown_columns headers that did not map to the catalogue: file, sheet, column
    summary        rows read / clean / rejected per file and sheet
    cumulative     figures typed as 累计 per period: cells, first_cells (CUMULATIVE_COLUMNS)
    unit_aliases   unit names cleaned of control characters (kind ``cleaned``), replaced by
                   the alias table (kind ``applied``) and near-duplicate names left apart
                   (kind ``likely``; ``unlisted`` and ``unexamined`` count what the caps left
                   out): name, unit, kind, rows, distance
    """

    panel: pd.DataFrame = field(default_factory=empty_panel)
    rejects: pd.DataFrame = field(default_factory=empty_rejects)
    exposure: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=EXPOSURE_COLUMNS))
    ledger: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=LEDGER_COLUMNS))
    ledger_counts: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=LEDGER_COUNT_COLUMNS))
    reconciliation: pd.DataFrame = field(default_factory=pd.DataFrame)
    unknown_columns: pd.DataFrame = field(default_factory=pd.DataFrame)
    summary: pd.DataFrame = field(default_factory=pd.DataFrame)
    unit_aliases: pd.DataFrame = field(default_factory=pd.DataFrame)
    cumulative: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CUMULATIVE_COLUMNS))

    @property
    def periods(self) -> list[str]:
        """The periods present in the panel, in time order."""
        from .periods import sort_periods
        return sort_periods(self.panel["period"].dropna().unique())

    def units(self) -> pd.DataFrame:
        """One row per unit: unit, unit_type, parent."""
        return (self.panel[["unit", "unit_type", "parent"]]
                .drop_duplicates("unit").sort_values("unit").reset_index(drop=True))

    def save(self, directory) -> None:
        """Write panel.parquet, rejects.csv and the side tables into ``directory``."""
        from .io import write_table_atomic
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        # categorical keys are written in text order, the order every reader numbers
        # them in, so that no reader has to renumber tens of millions of codes
        write_table_atomic(keys_in_text_order(self.panel), d / "panel.parquet")
        write_table_atomic(self.rejects, d / "rejects.csv")
        for name in ("exposure", "ledger", "ledger_counts", "reconciliation",
                     "unknown_columns", "summary", "unit_aliases", "cumulative"):
            table = getattr(self, name)
            if table is not None and len(table.columns):
                suffix = ".parquet" if name in ("ledger", "ledger_counts") else ".csv"
                write_table_atomic(table, d / f"{name}{suffix}")

    @classmethod
    def load(cls, directory, *, categorical: bool = False, skip: tuple[str, ...] = (),
             columns=None) -> "Dataset":
        """Read a directory written by ``save``.

        Parameters
        ----------
        directory : str or Path
            Folder holding ``panel.parquet`` and the side tables.
        categorical : bool
            The panel's text key columns (``PANEL_KEY_COLUMNS``) read as categoricals,
            each parquet dictionary decoded once rather than one string per row (a
            quarter of the time), with their categories in text order (the order
            ``Panel.build`` numbers them in).
        skip : tuple of str
            Side tables not to read.
        columns : list of str, optional
            Panel columns to read (those the file has), e.g. ``ANALYSIS_COLUMNS``,
            all that the indicators and checks read: a national panel's source
            columns are a third of its memory.  Default every column.

        Returns
        -------
        Dataset
        """
        import pyarrow.parquet as pq

        from .io import restore_formulas
        d = Path(directory)
        path = d / "panel.parquet"
        names = pq.read_schema(path).names
        cols = None if columns is None else [c for c in names if c in set(columns)]
        if categorical:
            keys = [c for c in PANEL_KEY_COLUMNS if c in names and (cols is None or c in cols)]
            panel = keys_in_text_order(pd.read_parquet(path, columns=cols, read_dictionary=keys),
                                       keys)
        else:
            panel = pd.read_parquet(path, columns=cols)
        kw = {"panel": panel}
        for name in ("rejects", "exposure", "reconciliation", "unknown_columns", "summary",
                     "unit_aliases", "cumulative"):
            if name in skip:
                continue
            p = d / f"{name}.csv"
            if p.exists() and p.stat().st_size > 0:
                # undo the apostrophe that neutralised formula-like text on writing
                kw[name] = restore_formulas(pd.read_csv(p))
        for name in ("ledger", "ledger_counts"):
            p = d / f"{name}.parquet"
            if p.exists():
                kw[name] = pd.read_parquet(p)
        return cls(**kw)


# Text columns of a panel that repeat a few values over many rows.
PANEL_KEY_COLUMNS = ["unit", "unit_type", "parent", "period", "indicator", "source_file",
                     "source_sheet"]
# The panel columns ``Panel.build`` reads: all that the indicators and checks use.
ANALYSIS_COLUMNS = ["unit", "unit_type", "parent", "period", "indicator", "value", "approx"]


def keys_in_text_order(panel: pd.DataFrame, columns=PANEL_KEY_COLUMNS) -> pd.DataFrame:
    """``panel`` with the categories of its categorical ``columns`` in the sort order
    of their text (the same values; the codes renumbered once).  Other columns, and
    categoricals already in that order, are kept as they are.  Returns a new frame
    (the input itself when nothing moves); ``panel`` is not modified."""
    todo = {}
    for c in columns:
        if c in panel.columns and isinstance(panel[c].dtype, pd.CategoricalDtype):
            cats = panel[c].cat.categories
            text = cats.astype("str")
            if not text.is_monotonic_increasing:
                todo[c] = panel[c].cat.reorder_categories(cats[np.argsort(text, kind="stable")])
    return panel.assign(**todo) if todo else panel


def compact_panel(panel: pd.DataFrame) -> pd.DataFrame:
    """The panel with its repeated text columns (``PANEL_KEY_COLUMNS``) as categoricals:
    the same values, a fraction of the memory, and integer codes for every group-by.
    Columns already categorical are kept as they are; other columns are untouched.
    Returns a new frame; ``panel`` is not modified.  ``str(value)`` of every cell is
    unchanged, so findings computed from either form are the same."""
    todo = {c: "category" for c in PANEL_KEY_COLUMNS
            if c in panel.columns and not isinstance(panel[c].dtype, pd.CategoricalDtype)}
    return panel.astype(todo) if todo else panel.copy(deep=False)


def as_text(df: pd.DataFrame, columns=None) -> pd.DataFrame:
    """``df`` with its categorical columns (or those of ``columns`` that are
    categorical) as str, the form the findings and messages are built in.  Meant for
    the small tables a check reduces the panel to.  Returns a new frame; ``df`` is
    not modified."""
    cols = df.columns if columns is None else [c for c in columns if c in df.columns]
    todo = [c for c in cols if isinstance(df[c].dtype, pd.CategoricalDtype)]
    if not todo:
        return df
    return df.assign(**{c: categorical_as_text(df[c]) for c in todo})


def categorical_as_text(s: pd.Series) -> pd.Series:
    """A categorical Series as str, equal to ``s.astype("str")`` (missing stays
    missing): the categories are converted once and spread by their integer codes,
    an order of magnitude faster than converting every row on a long panel."""
    cats = pd.array(s.cat.categories.astype("str"), dtype="str")
    codes = s.cat.codes.to_numpy()
    if (codes < 0).any():
        return s.astype("str")  # rare; astype's own handling of missing values
    return pd.Series(cats.take(codes), index=s.index, name=s.name)
