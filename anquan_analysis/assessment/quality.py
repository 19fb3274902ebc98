"""Tables for the report's 数据质量 section that say what the data lacks, rather than
blaming the units for it: which indicator was reported in which month (a column an
office's form lacked in August is a gap here, not a rule break), the headers that were
not read with the indicator each most likely is, and the rows a correction replaced.

Every function takes plain tables (a long panel, a Panel or a Dataset) and returns a
new DataFrame with Chinese headers; none modifies its input.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..catalogue import indicator_name
from ..periods import months_in, period_freq, sort_periods
from ..panel import as_panel


def coverage_table(panel, period: str | None = None, *, gaps_only: bool = False
                   ) -> pd.DataFrame:
    """Indicator × month: how many units reported each indicator in each month.

    Parameters
    ----------
    panel : DataFrame, Panel or Dataset
        The figures, monthly (a Dataset's ``panel``, or ``Assessment.dataset``);
        quarterly figures cannot be split into months and are not counted.
    period : str, optional
        The months of this period (2024Q3: July–September; a month: itself); None:
        every month of the data.
    gaps_only : bool
        Keep only the indicators with a month in which no unit reported them while
        some unit did in another month of the period: a column missing from a
        month's form.

    Returns
    -------
    DataFrame, one row per indicator with a figure in the months (sorted by
    code): ``indicator`` (code), ``指标`` (Chinese name), one column per month
    (canonical ``2024-07``: units with a figure, 0 where none), ``未报月份`` (the
    months with no figure, 、-separated; "" where none).
    """
    pv = as_panel(panel)
    monthly = [p for p in pv.periods if period_freq(p) == "M"]
    months = sort_periods(monthly) if period is None else [
        m for m in months_in(period) if m in set(monthly)]
    t = [int(np.flatnonzero(pv.periods == m)[0]) for m in months]
    counts = (~np.isnan(pv.values[:, :, t])).sum(axis=0) if t else \
        np.zeros((len(pv.indicators), 0), dtype=np.int64)
    out = pd.DataFrame(counts.astype("int64"), columns=months)
    out.insert(0, "指标", [indicator_name(c) for c in pv.indicators])
    out.insert(0, "indicator", pd.Series(pv.indicators, dtype="str"))
    seen = counts.sum(axis=1) > 0
    out["未报月份"] = ["、".join(m for m, n in zip(months, row) if n == 0) for row in counts]
    out = out[seen]
    if gaps_only:
        out = out[out["未报月份"] != ""]
    return out.reset_index(drop=True)


def unknown_columns_table(dataset) -> pd.DataFrame:
    """The headers that were not read, one row per header and file: 文件, 工作表, 列名,
    原因, 建议指标 (the catalogue name suggested, "" for none; accepted in the data
    folder's 列名对照.csv, they are read on the next run)."""
    u = dataset.unknown_columns
    if u is None or u.empty:
        return pd.DataFrame(columns=["文件", "工作表", "列名", "原因", "建议指标"])
    suggestion = u["suggestion"] if "suggestion" in u.columns else pd.Series("", index=u.index)
    return pd.DataFrame({
        "文件": u["file"].map(lambda f: str(f).rsplit("/", 1)[-1]),
        "工作表": u["sheet"].fillna(""), "列名": u["column"],
        "原因": u["reason"].astype("str").str.split("；").str[0],
        "建议指标": suggestion.fillna("").map(lambda c: indicator_name(c) if c else ""),
    }).reset_index(drop=True)


def corrections_table(dataset) -> pd.DataFrame:
    """The report rows a correction file replaced: 文件, 行号, 单位, 更正为 (the file and
    row that replaces it)."""
    from ..ingest.corrections import SUPERSEDED

    r = dataset.rejects
    hit = r[r["reason"].astype("str").str.startswith(SUPERSEDED)] if len(r) else r
    return pd.DataFrame({
        "文件": hit["file"].map(lambda f: str(f).rsplit("/", 1)[-1]), "行号": hit["row"],
        "单位": hit["value"],
        "更正为": hit["reason"].str.extract(r"correction in (.*)\)$")[0],
    }).reset_index(drop=True)
