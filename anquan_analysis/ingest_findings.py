"""What ingest found, as findings: totals rows that do not match their units, rows not
read, columns not understood, unit names that are probably one unit, and figures typed
as 累计 that cannot be read as the period's own.

These need ingest's side tables (``Dataset.reconciliation``, ``rejects``,
``unknown_columns``, ``unit_aliases``, ``cumulative``), not the panel alone, so
``checks.run_checks`` does not run them: ``assessment.assess_dataset`` appends them
(``findings.INGEST_CHECKS``, family ``consistency``: the report's 数据质量 section), as
it appends the reporting findings of ``roster``.

============== ========= =================================================================
check          severity  what
============== ========= =================================================================
total_mismatch info /    a 合计 row against the sum of the units listed: info when the total
               warning   is larger (it may count units the table does not list, 桂林's 79
                         against 32), warning when the units sum to more than their total
                         (亳州's 631 against 630: counted twice, or a slip)
rejected_rows  warning   rows or figures ingest could not take, per file and reason
unknown_column info      a column that is not an indicator of the catalogue (not read)
likely_alias   info      two unit names one edit apart: perhaps one unit under two names
cumulative_start info    累计 figures that are the first of their series while the period
                         does not begin the year: a total since January (or the campaign's
                         start), not the period's own figure; the report says so
============== ========= =================================================================
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .catalogue import indicator_name, indicator_unit
from .findings import empty_findings, figure_text, make_findings
from .periods import period_bounds, period_freq, window

TOTAL_MORE = "合计可能包含表中未列出的单位，不一定是差错"
TOTAL_LESS = "所列单位之和多于合计，需核实是否重复统计或合计有误"


def _inside(periods: pd.Series, period: str | None) -> np.ndarray:
    """bool per row: the row's period lies inside ``period`` (a month in its quarter);
    every row when ``period`` is None; rows without a period never."""
    text = periods.astype("object").where(periods.notna(), "")
    if period is None:
        return (text != "").to_numpy()
    names = sorted(set(text) - {""})
    ok = dict(zip(names, window(names, period, cumulative=False))) if names else {}
    return text.map(lambda p: bool(ok.get(p, False))).to_numpy(dtype=bool)


def _file(name) -> str:
    return Path(str(name)).name if isinstance(name, str) and name else ""


def total_mismatch(reconciliation: pd.DataFrame | None, period: str | None = None
                   ) -> pd.DataFrame:
    """One finding per 合计 figure that differs from the sum of the units listed.

    Parameters
    ----------
    reconciliation : DataFrame
        ``Dataset.reconciliation`` (``ingest.reconcile.RECONCILIATION_COLUMNS``); not
        modified.
    period : str, optional
        Only the totals of this period (a quarter takes its months); None: all.

    Returns
    -------
    Findings: unit blank, indicator, period the total's, observed = the stated total,
    expected = the units' sum, statistic = stated − sum, severity ``info`` when the
    total is larger (it may include units not listed) and ``warning`` when the units
    sum to more; the message names the file's row and both figures:
    ``重大事故隐患排查数合计行630项，所列单位之和631项，合计与所列单位之和相差1项，所列单位之和多于合计…``.

    Notes
    -----
    Deterministic: a difference is a difference; no null model.
    """
    rc = reconciliation
    if rc is None or rc.empty or "status" not in rc.columns:
        return empty_findings()
    rc = rc.loc[(rc["status"] == "mismatch").to_numpy() & _inside(rc["period"], period)]
    if rc.empty:
        return empty_findings()
    rows = []
    for r in rc.itertuples():
        name, unit = indicator_name(r.indicator), indicator_unit(r.indicator)
        diff = float(r.stated) - float(r.sum_of_units)
        where = f"{_file(r.file)}第{int(r.row)}行" if _file(r.file) else ""
        text = (f"{where}{name}合计{figure_text(r.stated)}{unit}，所列单位之和"
                f"{figure_text(r.sum_of_units)}{unit}，合计与所列单位之和相差"
                f"{figure_text(abs(diff))}{unit}，{TOTAL_MORE if diff > 0 else TOTAL_LESS}。")
        rows.append({"check": "total_mismatch", "period": r.period, "indicator": r.indicator,
                     "observed": r.stated, "expected": r.sum_of_units, "statistic": diff,
                     "severity": "info" if diff > 0 else "warning", "message": text})
    return make_findings(pd.DataFrame(rows))


def rejected_rows(rejects: pd.DataFrame | None, period: str | None = None) -> pd.DataFrame:
    """One finding per file and reason of the rows and figures ingest did not take.

    Parameters
    ----------
    rejects : DataFrame
        ``Dataset.rejects`` (``dataset.REJECT_COLUMNS``); not modified.
    period : str, optional
        The period of the report the findings go to (a reject carries no period of
        its own: every period's report lists them).

    Returns
    -------
    Findings: unit blank, observed = the records, severity ``warning``; the message
    names the file, the first rows and the reason.
    """
    if rejects is None or rejects.empty:
        return empty_findings()
    out = []
    keys = [rejects["file"].map(_file), rejects["reason"].astype("str")]
    for (file, reason), g in rejects.groupby(keys, sort=True):
        rows = sorted({int(x) for x in g["row"] if pd.notna(x)})
        shown = "、".join(str(x) for x in rows[:5]) + ("等" if len(rows) > 5 else "")
        out.append({"check": "rejected_rows", "period": period, "observed": float(len(g)),
                    "statistic": float(len(rows)), "severity": "warning",
                    "message": f"{file}第{shown}行有{len(g)}处数据未读入：{reason}。"})
    return make_findings(pd.DataFrame(out))


def unknown_columns(unknown: pd.DataFrame | None, period: str | None = None) -> pd.DataFrame:
    """One ``info`` finding per column ingest did not understand (``Dataset.unknown_columns``):
    its figures are not in the assessment."""
    if unknown is None or unknown.empty:
        return empty_findings()
    return make_findings(pd.DataFrame({
        "check": "unknown_column", "period": period, "severity": "info",
        "message": [f"{_file(f)}中“{c}”列不是指标目录中的指标，未读入（{why}）。"
                    for f, c, why in zip(unknown["file"], unknown["column"], unknown["reason"])]}))


def likely_aliases(unit_aliases: pd.DataFrame | None, period: str | None = None
                   ) -> pd.DataFrame:
    """One ``info`` finding per pair of unit names ingest reports as likely one unit
    (``Dataset.unit_aliases`` kind ``likely``): unit = the longer name."""
    if unit_aliases is None or unit_aliases.empty:
        return empty_findings()
    lk = unit_aliases.loc[unit_aliases["kind"] == "likely"]
    if lk.empty:
        return empty_findings()
    return make_findings(pd.DataFrame({
        "check": "likely_alias", "unit": lk["unit"].astype("str").to_numpy(), "period": period,
        "statistic": pd.to_numeric(lk["distance"], errors="coerce").to_numpy(),
        "severity": "info",
        "message": [f"单位名称“{a}”与“{b}”仅差一字，可能是同一单位，需核对；如是，请列入单位别名表。"
                    for a, b in zip(lk["name"], lk["unit"])]}))


def cumulative_start(cumulative: pd.DataFrame | None, period: str | None = None
                     ) -> pd.DataFrame:
    """One ``info`` finding per period whose 累计 figures are the first of their
    series while the period does not begin its year (``Dataset.cumulative``): the
    figure is a total since an earlier start, not the period's own; the assessment
    then labels the period as 1—N月累计 (``assessment.period_label``)."""
    if cumulative is None or cumulative.empty:
        return empty_findings()
    c = cumulative.loc[(pd.to_numeric(cumulative["first_cells"]) > 0).to_numpy()
                       & _inside(cumulative["period"].astype("str"), period)]
    if c.empty:
        return empty_findings()
    rows = []
    for r in c.itertuples():
        start, end = period_bounds(str(r.period))
        rows.append({
            "check": "cumulative_start", "period": r.period, "observed": float(r.first_cells),
            "statistic": float(r.cells), "severity": "info",
            "message": (f"{r.period}的{int(r.first_cells)}个数据口径为“累计”，且是各单位该指标的"
                        f"第一期数据：其中含{end.month}月以前的数，无法分出当期数，本期按"
                        f"{end.year}年1—{end.month}月累计评估，不与各月当期数比较。")})
    return make_findings(pd.DataFrame(rows))


def ingest_findings(dataset, period: str | None = None) -> pd.DataFrame:
    """Every ingest finding of ``dataset`` (a ``Dataset``) for ``period`` (None: all),
    in the one findings schema: ``total_mismatch``, ``rejected_rows``,
    ``unknown_column``, ``likely_alias``, ``cumulative_start``.  Not modified."""
    from .findings import concat_findings

    return concat_findings([
        total_mismatch(getattr(dataset, "reconciliation", None), period),
        rejected_rows(getattr(dataset, "rejects", None), period),
        unknown_columns(getattr(dataset, "unknown_columns", None), period),
        likely_aliases(getattr(dataset, "unit_aliases", None), period),
        cumulative_start(getattr(dataset, "cumulative", None), period),
    ])


def first_cumulative(dataset, period: str) -> bool:
    """Whether the figures of ``period`` (its months, for a quarter) were typed as 累计
    and were the first of their series while ``period`` does not begin its year, for
    most of them: the period is then labelled 1—N月累计."""
    c = getattr(dataset, "cumulative", None)
    if c is None or c.empty or period_freq(period) not in ("M", "Q"):
        return False
    inside = c.loc[_inside(c["period"].astype("str"), period)]
    return bool(len(inside)) and int(inside["first_cells"].sum()) * 2 >= int(inside["cells"].sum()) \
        and int(inside["first_cells"].sum()) > 0
