"""The accounting of every sheet read: ``Dataset.summary``.

Per sheet, ``rows_read == rows_clean + rows_rejected`` where

* clean: the row has at least one value in the panel (its bad cells, if any, are in
  rejects), or it has no figure at all and no reject (``rows_empty``, a subset);
* rejected: nothing of the row is in the panel and it has at least one reject record
  (no unit name, an unreadable period or 口径, duplicates, or every figure bad).

Skipped sheets (empty, hidden, no recognisable header) have a row with a ``note``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SUMMARY_COLUMNS = ["file", "sheet", "kind", "header_row", "rows_read", "rows_clean", "rows_empty",
                   "rows_rejected", "rows_duplicate_identical", "rows_totals", "reject_records",
                   "note"]


def sheet_summary(rows: pd.DataFrame, panel: pd.DataFrame, rejects: pd.DataFrame,
                  dups: pd.DataFrame, sheets: list[dict]) -> pd.DataFrame:
    """``SUMMARY_COLUMNS``, one row per record of ``sheets`` (in its order).

    Parameters
    ----------
    rows : every report row (file, sheet, row, is_total).
    panel : the panel built from them (source_file, source_sheet, source_row).
    rejects : every reject record (file, sheet, row).
    dups : the report rows' duplicate rejects (file, sheet, row, identical).
    sheets : one record per sheet: file, sheet, kind, and for exposure and ledger
        sheets (and skipped ones) their counts or note already; report sheets
        (kind ``reports`` or ``long``) get their counts here.
    """
    data = rows[~rows["is_total"]]
    key3 = ["file", "sheet", "row"]
    idx = pd.MultiIndex.from_frame(data[key3].astype({"sheet": "str"}))
    in_panel = idx.isin(pd.MultiIndex.from_frame(panel[["source_file", "source_sheet", "source_row"]]))
    in_rej = idx.isin(pd.MultiIndex.from_frame(rejects[key3]))
    ident = idx.isin(pd.MultiIndex.from_frame(dups.loc[dups["identical"].astype(bool), key3])) \
        if len(dups) else np.zeros(len(data), bool)
    flags = pd.DataFrame({"file": data["file"], "sheet": data["sheet"].fillna(""),
                          "read": 1, "clean": (in_panel | ~in_rej).astype(int),
                          "empty": (~in_panel & ~in_rej).astype(int),
                          "rejected": (~in_panel & in_rej).astype(int), "ident": ident.astype(int)})
    per = flags.groupby(["file", "sheet"]).sum()
    tot = rows[rows["is_total"]].assign(sheet=lambda d: d["sheet"].fillna("")).groupby(
        ["file", "sheet"]).size()
    nrej = rejects.assign(sheet=rejects["sheet"].fillna("")).groupby(["file", "sheet"]).size()
    out = []
    for s in sheets:
        k = (s["file"], "" if pd.isna(s["sheet"]) else s["sheet"])
        if s.get("kind") in ("reports", "long"):
            p = per.loc[k] if k in per.index else pd.Series(0, index=per.columns)
            s = {**s, "rows_read": int(p.get("read", 0)), "rows_clean": int(p.get("clean", 0)),
                 "rows_empty": int(p.get("empty", 0)), "rows_rejected": int(p.get("rejected", 0)),
                 "rows_duplicate_identical": int(p.get("ident", 0)),
                 "rows_totals": int(tot.get(k, 0)), "reject_records": int(nrej.get(k, 0)), "note": ""}
        out.append(s)
    return summary_frame(out)


def summary_frame(sheets: list[dict]) -> pd.DataFrame:
    """The records as ``SUMMARY_COLUMNS``, counts as int64 (0 where not given)."""
    df = pd.DataFrame(sheets, columns=SUMMARY_COLUMNS)
    for c in SUMMARY_COLUMNS[3:-1]:
        df[c] = df[c].fillna(0).astype("int64")
    return df
