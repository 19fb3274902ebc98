"""An exposure sheet (单位, 监管企业数, optional 行业领域) → the enterprises each unit
supervises, with its rejects and row counts.  A unit and sector given twice is handled
as any duplicate (``duplicates.flag_duplicates``): identical copies keep the first."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..catalogue import resolve_sector
from ..dataset import REJECT_COLUMNS
from ..numbers import parse_numbers
from ..tables import RawSheet
from ..text import normalise_name
from ._frames import reject_frame, text_column
from .duplicates import flag_duplicates
from .sheets import NOTE_LABEL, is_total


def exposure_sheet(raw: RawSheet, h_last: int, roles: dict,
                   seq0: int) -> tuple[pd.DataFrame, list[pd.DataFrame], dict]:
    """The exposure rows of a sheet whose header ends at ``h_last``.

    Returns
    -------
    exposure : unit, sector ("" = all sectors), enterprises (float64), source_file,
        source_row; one row per readable, non-duplicate row with a figure.
    rejects : REJECT_COLUMNS frames (no unit, unreadable figure, unknown sector,
        duplicates).
    stats : rows_read, rows_clean, rows_empty, rows_rejected,
        rows_duplicate_identical, rows_totals (the sheet's summary counts).
    """
    file, sheet = raw.file, raw.sheet or ""
    body = raw.cells.loc[h_last + 1:]
    unit = text_column(body, roles.get("unit")).map(normalise_name, na_action="ignore").astype("str")
    ent = text_column(body, roles.get("enterprises"))
    sec_txt = text_column(body, roles.get("sector"))
    keep = unit.notna() | ent.notna() | sec_txt.notna()
    total = is_total(unit) & keep
    note = unit.fillna("").str.match(NOTE_LABEL) & ent.isna()
    data = keep & ~total & ~note
    df = pd.DataFrame({"file": file, "sheet": sheet, "row": body.index.astype("int64"),
                       "unit": unit, "text": ent, "sector_txt": sec_txt})[data]
    df["seq"] = seq0 + np.arange(len(df))
    parsed = parse_numbers(df["text"], target_unit="家")
    df["enterprises"] = parsed["value"]
    sector = df["sector_txt"].map(resolve_sector, na_action="ignore").astype("str")
    df["sector"] = sector.where(df["sector_txt"].notna(), "")
    reason = pd.Series(pd.NA, index=df.index, dtype="str")
    reason = reason.mask(df["unit"].isna(), "缺少单位名称 (no unit name)")
    reason = reason.fillna(parsed["error"])
    reason = reason.mask(reason.isna() & df["sector"].isna(),
                         "无法识别的行业领域 (unknown sector): " + df["sector_txt"])
    bad = reason.notna()
    col = np.where(df["unit"].isna(), "单位", np.where(parsed["error"].notna(), "监管企业数", "行业领域"))
    rejects = [reject_frame(df[bad], col[bad.to_numpy()],
                            df.loc[bad, "text"].fillna(""), reason[bad])]
    good = df[~bad & df["enterprises"].notna()].copy()
    good["signature"] = good["enterprises"].map(lambda v: f"{v:g}")
    dups = flag_duplicates(good, ["unit", "sector"], "监管企业数")
    rejects.append(dups[REJECT_COLUMNS])
    gone = pd.MultiIndex.from_frame(dups[["file", "row"]]) if len(dups) else None
    if gone is not None:
        good = good[~pd.MultiIndex.from_frame(good[["file", "row"]]).isin(gone)]
    exposure = pd.DataFrame({"unit": good["unit"], "sector": good["sector"],
                             "enterprises": good["enterprises"].astype("float64"),
                             "source_file": file, "source_row": good["row"].astype("int64")})
    n_read = int(data.sum())
    n_rej = len(set(pd.concat(rejects)["row"]))
    n_empty = int((~bad & df["enterprises"].isna()).sum())
    stats = {"rows_read": n_read, "rows_clean": n_read - n_rej, "rows_empty": n_empty,
             "rows_rejected": n_rej, "rows_duplicate_identical": int(dups["identical"].sum())
             if len(dups) else 0, "rows_totals": int(total.sum())}
    return exposure, rejects, stats
