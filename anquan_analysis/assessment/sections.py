"""The tables of the report's sections, each from one ``Assessment``: Chinese headers,
the figures read from the assessment's panel and findings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..catalogue import unit_type_name
from ..periods import shift_period
from .period import KEY_INDICATOR, Assessment


def _rows_in_period(df: pd.DataFrame, period: str) -> pd.DataFrame:
    # compared as it is: a categorical column compares its codes, not a text per row
    return df.loc[(df["period"] == period).to_numpy(dtype=bool)]


def _column(a: Assessment, period: str) -> int | None:
    hit = np.flatnonzero(a.panel.periods == period)
    return int(hit[0]) if len(hit) else None


def _type_zh(unit_type: pd.Series) -> pd.Series:
    """The Chinese name of each unit type; missing where the unit has none (shown as
    —), never the text "nan"."""
    return unit_type.map(unit_type_name, na_action="ignore")


def reporting_units(a: Assessment, period: str | None = None) -> np.ndarray:
    """bool per unit of the panel: gave at least one figure in ``period`` (default the
    assessed period)."""
    t = _column(a, a.period if period is None else period)
    if t is None:
        return np.zeros(len(a.panel.units), dtype=bool)
    return (~np.isnan(a.panel.values[:, :, t])).any(axis=1)


def period_total(a: Assessment, indicator: str, period: str | None = None) -> float:
    """The sum over units of ``indicator`` in ``period`` (default the assessed one);
    NaN when no unit gave a figure of it there."""
    t = _column(a, a.period if period is None else period)
    i = a.panel.indicator_index([indicator])[0]
    if t is None or i < 0:
        return float("nan")
    v = a.panel.values[:, i, t]
    return float("nan") if np.isnan(v).all() else float(np.nansum(v))


def progress_table(a: Assessment) -> pd.DataFrame:
    """总体进展: every indicator reported, total over all units in the period and
    the period before, the change and the growth rate, and the campaign total to
    date.  Chinese headers, catalogue order."""
    from ..indicators import action_totals

    t = action_totals(a.panel, a.period)
    growth = (t["change"] / t["previous"].where(t["previous"] > 0)).mul(100).round(1)
    return pd.DataFrame({
        "行动": t["action_zh"], "指标": t["name_zh"], "计量单位": t["unit"],
        "本期": t["value"], "上期": t["previous"], "增减": t["change"], "增幅(%)": growth,
        "累计": t["cumulative"],
    })


def ranking_table(a: Assessment) -> pd.DataFrame:
    """排名: units by their funnel z-score (campaign to date), highest first.

    The z-score measures how far a unit's count lies from what its exposure predicts
    in units of counting noise, so a small unit with 1 hazard against 0.1 expected
    does not outrank a large one with 32 against 8 as the raw ratio would; the ratio
    and the rank by raw count are shown beside it.  Units without an expectation (no
    exposure, or peers with no hazards) are unranked, at the end."""
    f = a.funnel.sort_values(["z", "observed"], ascending=False, kind="stable", na_position="last")
    return pd.DataFrame({
        "排名": f["z"].rank(ascending=False, method="min").astype("Int64").to_numpy(),
        "单位": f["unit"].to_numpy(),
        "单位类型": _type_zh(f["unit_type"]).to_numpy(),
        "排查数": f["observed"].to_numpy(), "监管企业数": f["exposure"].to_numpy(),
        "期望值": f["expected"].round(1).to_numpy(), "实际/期望": f["ratio"].round(2).to_numpy(),
        "偏离度z": f["z"].round(2).to_numpy(),
        "按数量排名": f["observed"].rank(ascending=False, method="min").astype("int64").to_numpy(),
    })


def findings_table(a: Assessment, *, family: str | None = None, checks=None) -> pd.DataFrame:
    """The period's findings of one family or of the listed checks, Chinese headers
    (see ``report.findings_zh``), most severe first."""
    from ..report import findings_zh

    f = a.findings
    if family is not None:
        f = f.loc[f["family"] == family]
    if checks is not None:
        f = f.loc[f["check"].isin(list(checks))]
    return findings_zh(f).reset_index(drop=True)


def sector_table(a: Assessment) -> pd.DataFrame:
    """行业领域: effective major hazards per sector in the period (ledger counts),
    every catalogue sector listed, with its share; columns sector, found, share."""
    from ..indicators import sector_shares

    counts = _rows_in_period(a.dataset.ledger_counts, a.period)
    if counts.empty:
        return pd.DataFrame({"sector": pd.Series(dtype="str"), "found": pd.Series(dtype=float),
                             "share": pd.Series(dtype=float)})
    s = sector_shares(counts, value="found")
    return s[["sector", "count", "share"]].rename(columns={"count": "found"})


def sector_summary(a: Assessment) -> pd.DataFrame:
    """The sector profile of the period in one row: total, top two sectors and
    their share, sectors with 0, HHI; Chinese headers."""
    from ..indicators import sector_profile

    counts = _rows_in_period(a.dataset.ledger_counts, a.period)
    if counts.empty:
        return pd.DataFrame()
    p = sector_profile(counts, value="found")
    return pd.DataFrame({
        "重大事故隐患合计": p["total"], "占比最高的两个行业领域": p["top_sectors"],
        "两者合计占比(%)": (p["top2_share"] * 100).round(1),
        "为0的行业领域": p["zero_sectors"], "集中度HHI": p["hhi"].round(3),
    })


def source_table(a: Assessment) -> pd.DataFrame:
    """来源结构: major hazards found by departments and self-reported by enterprises
    in the period, per unit type and in total, with the self-reported share (%)."""
    from ..indicators import self_report_share

    s = self_report_share(a.panel, cumulative=False)
    units = pd.Index(a.panel.units[reporting_units(a)], dtype=object)
    s = s.loc[(s["period"] == a.period).to_numpy() & s["unit"].isin(units).to_numpy()]
    s = s.assign(group=_type_zh(s["unit_type"]).fillna("其他"))
    g = s.groupby("group", sort=False)[["found_dept", "found_enterprise", "found"]].sum()
    g.loc["合计"] = g.sum()
    share = (g["found_enterprise"] / g["found"].where(g["found"] > 0) * 100).round(2)
    return pd.DataFrame({"单位类型": g.index, "部门检查发现": g["found_dept"].to_numpy(),
                         "企业自查发现": g["found_enterprise"].to_numpy(),
                         "合计": g["found"].to_numpy(), "企业自查占比(%)": share.to_numpy()})


def rejects_table(a: Assessment) -> pd.DataFrame:
    """数据质量: the ingest rejects counted by file and reason (Chinese headers)."""
    r = a.dataset.rejects
    if r is None or r.empty:
        return pd.DataFrame(columns=["文件", "原因", "行数"])
    g = r.groupby(["file", "reason"], dropna=False).size().rename("行数").reset_index()
    g["file"] = g["file"].map(lambda f: Path(str(f)).name)
    return g.rename(columns={"file": "文件", "reason": "原因"}).sort_values("行数", ascending=False)


def history(a: Assessment, indicator: str | None = None) -> pd.DataFrame:
    """The figures at the assessment level up to and including the period, of one
    ``indicator`` or all, as a long frame (for the heatmap and the unit series)."""
    frame = a.panel.to_frame()
    if indicator is not None:
        frame = frame.loc[frame["indicator"] == indicator]
    inside = set(a.panel.periods[a.panel.window(a.period, cumulative=True)].tolist())
    return frame.loc[frame["period"].isin(inside)].reset_index(drop=True)


def heatmap_units(a: Assessment, *, family: str = "balance", indicator: str = KEY_INDICATOR,
                  max_units: int = 40) -> tuple[list[str], list[str]]:
    """The rows of the unit × period heatmap: the units named by the findings of
    ``family`` (most severe first), then the units with the largest totals of
    ``indicator`` to date, ``max_units`` in all.  Returns (units, flagged units)."""
    f = a.findings.loc[(a.findings["family"] == family) & a.findings["unit"].notna()]
    # most severe first, whatever order the table is in (run_checks sorts it so)
    rank = f["severity"].map({"alert": 0, "warning": 1, "info": 2})
    f = f.assign(_r=rank).sort_values("_r", kind="stable")
    flagged = list(dict.fromkeys(f["unit"].astype(str)))[:max_units]
    totals = pd.Series(a.panel.totals([indicator], a.period)[:, 0],
                       index=pd.Index(a.panel.units, dtype=object)).dropna()
    totals = totals.sort_values(ascending=False, kind="stable")
    named = set(flagged)
    rest = [u for u in totals.index if u not in named]
    return flagged + rest[:max_units - len(flagged)], flagged


def top_unit(a: Assessment, check: str) -> str | None:
    """The unit of the most severe finding of ``check`` (None if there is none)."""
    f = a.findings.loc[(a.findings["check"] == check) & a.findings["unit"].notna()]
    return None if f.empty else str(f["unit"].iloc[0])


def headline(a: Assessment) -> str:
    """One sentence opening the report: units reporting, major hazards found and
    rectified in the period against the previous period, findings and alerts."""
    found = period_total(a, KEY_INDICATOR)
    prev = period_total(a, KEY_INDICATOR, shift_period(a.period, -1))
    rect = period_total(a, "major_hazards_rectified")
    units = int(reporting_units(a).sum())
    text = f"{a.period_zh}，{units}个单位报送调度数据，共排查重大事故隐患{np.nan_to_num(found):.0f}项"
    if prev == prev:  # not NaN: the previous period has data
        change = np.nan_to_num(found) - prev
        text += f"（上期{prev:.0f}项，{'增加' if change >= 0 else '减少'}{abs(change):.0f}项）"
    if rect == rect:
        text += f"，整改{rect:.0f}项"
    n_alert = int((a.findings["severity"] == "alert").sum())
    n_warn = int((a.findings["severity"] == "warning").sum())
    return text + f"。各项检查共发现预警{n_alert}条、关注{n_warn}条，详见以下各节及附表。"
