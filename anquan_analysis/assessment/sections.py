"""The tables of the report's sections, each from one ``Assessment``: Chinese headers,
the figures read from the assessment's panel and findings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..catalogue import (FINDING_COUNTS, RECTIFIED_OF, indicator_name, indicator_unit,
                         unit_type_name)
from ..periods import shift_period, window
from .period import Assessment


def _rows_in_period(df: pd.DataFrame, period: str) -> pd.DataFrame:
    # compared as it is: a categorical column compares its codes, not a text per row
    return df.loc[(df["period"] == period).to_numpy(dtype=bool)]


def _column(a: Assessment, period: str) -> int | None:
    hit = np.flatnonzero(a.panel.periods == period)
    return int(hit[0]) if len(hit) else None


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


# ------------------------------------------------------------ what each section needs
# The checks whose findings a section shows (its needs are theirs, ``checks.NEEDS``).
SECTION_CHECKS = {
    "outliers": ("low_outlier", "zero_report"),
    "balance": ("underdispersion", "matching_series", "identical_values", "repeated_value",
                "last_digit", "round_number", "benford", "pinned_rate"),
    "trends": ("surge", "group_shift"),
    "sectors": ("sector_concentration",),
}
SOURCE_CODES = ("major_hazards_found_dept", "major_hazards_found_enterprise")
SKIPPED = "，本节从略。"


def _names(codes) -> str:
    return "、".join(indicator_name(c) for c in codes)


def section_note(a: Assessment, section: str) -> str | None:
    """What a section of the report cannot show, in one line, or None when it can.

    ``ranking`` (二) needs the key indicator; ``outliers`` (三), ``trends`` (五) and
    ``sectors`` (六) need what their checks need (``checks.NEEDS``): when none of them
    can run the section is left out ("本期数据未包含重大事故隐患排查数，本节从略。",
    "突击上报需至少4期数据（截至本期仅1期）…，本节从略。"), when some cannot the line
    says which were not judged; ``balance`` (四) lists the checks it could not run;
    ``source`` (七) needs a split by source in the units' figures, the 合计 row or the
    hazard ledger."""
    from ..checks import unmet_text

    if section == "ranking":
        if a.key_indicator is None:
            return f"本期数据未包含{_names(FINDING_COUNTS)}{SKIPPED}"
        if a.funnel.empty:
            return f"本期数据未包含{indicator_name(a.key_indicator)}{SKIPPED}"
        return None
    if section == "source":
        have = bool(len(source_table(a)))
        return None if have else f"本期数据未包含{_names(SOURCE_CODES)}{SKIPPED}"
    checks = SECTION_CHECKS.get(section)
    if checks is None:
        raise ValueError(f"unknown section {section!r}")
    unmet = a.unmet if len(a.unmet) else pd.DataFrame(columns=["check", "need", "message"])
    missing = [c for c in checks if c in set(unmet["check"])]
    if not missing:
        return None
    text = unmet_text(unmet, missing)
    if len(missing) == len(checks) and section != "balance":
        return text + SKIPPED
    return text + "，未作判断。"


def ranking_intro(a: Assessment) -> str:
    """The sentence above the ranking: how the expected counts were made, with or
    without the enterprises supervised (监管企业数)."""
    name = indicator_name(a.key_indicator) if a.key_indicator else "排查数"
    if a.has_exposure:
        return (f"按监管企业数推算各单位的期望{name}（同类单位的发现率 × 监管企业数），以偏离度 z "
                "排名（实际与期望之差按计数噪声折算，对大小单位同样公平；“实际/期望”比值并列显示），"
                "并在漏斗图中标出超出控制限的单位。漏斗图按单位类型分别绘制，虚线为95%控制限，"
                "实线为99.8%控制限。")
    text = (f"按同类单位平均水平比较（未提供监管企业数）：各单位的期望{name}取同类单位的中位数，"
            "不受个别数量特别大的单位左右；以偏离度 z 排名（实际与期望之差按计数噪声折算），"
            "漏斗图中虚线为95%控制限，实线为99.8%控制限。")
    if not a.funnel["expected"].notna().any():
        text += "本期同类单位的中位数为0，无法测算期望值，下表按数量排列。"
    return text


def ranking_title(a: Assessment) -> str:
    """The title of the ranking bars."""
    return ("按监管企业数校正后的排名（前10位与后10位）" if a.has_exposure
            else "与同类单位中位水平比较的排名（前10位与后10位）")


def ranking_table(a: Assessment) -> pd.DataFrame:
    """排名: units by their funnel z-score (campaign to date), highest first.

    The z-score measures how far a unit's count lies from what its exposure predicts
    in units of counting noise, so a small unit with 1 hazard against 0.1 expected
    does not outrank a large one with 32 against 8 as the raw ratio would; the ratio
    and the rank by raw count are shown beside it.  Units without an expectation (no
    exposure, or peers with no hazards) are unranked, at the end."""
    f = a.funnel.sort_values(["z", "observed"], ascending=False, kind="stable", na_position="last")
    out = pd.DataFrame({
        "排名": f["z"].rank(ascending=False, method="min").astype("Int64").to_numpy(),
        "单位": f["unit"].to_numpy(),
        "单位类型": _type_names(f["unit_type"]),
        "排查数": f["observed"].to_numpy(), "监管企业数": f["exposure"].to_numpy(),
        "期望值": f["expected"].round(1).to_numpy(), "实际/期望": f["ratio"].round(2).to_numpy(),
        "偏离度z": f["z"].round(2).to_numpy(),
        "按数量排名": f["observed"].rank(ascending=False, method="min").astype("int64").to_numpy(),
    })
    # without exposure every unit "supervises 1": a column of 1s says nothing true
    return out if a.has_exposure else out.drop(columns="监管企业数")


def _type_names(types: pd.Series) -> np.ndarray:
    """Unit types in Chinese, '' where a unit has none (never "nan")."""
    t = types.astype("object").where(types.notna(), None)
    return t.map(lambda c: unit_type_name(c) if isinstance(c, str) and c not in ("nan", "<NA>")
                 else "").to_numpy()


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


# Columns a reader of the main tables does not need: a test's own figures, left to
# the appendix (附表) and findings.xlsx.
APPENDIX_ONLY = ("统计量", "p值", "q值")
_P_BRACKET = r"[（(][^（）()]*\b[pq]\s*[=<≤][^（）()]*[）)]"
_P_CLAUSE = r"[，,；;]\s*[pq]\s*[=<≤][^，,；;。（）()]*"


def main_findings_table(a: Assessment, *, family: str | None = None,
                        checks=None) -> tuple[pd.DataFrame, int]:
    """``findings_table`` as a section shows it: the 预警 and 关注 rows only, without
    the test's figures (``APPENDIX_ONLY``); and the number of 提示 rows left to the
    appendix (weak evidence: p of 0.4 is not a finding a reader should act on)."""
    t = findings_table(a, family=family, checks=checks)
    info = (t["严重程度"] == "提示").to_numpy(dtype=bool)
    kept = t.loc[~info].drop(columns=[c for c in APPENDIX_ONLY if c in t.columns])
    # a message's own "(p=0.0116)" is a test's figure too
    kept["说明"] = (kept["说明"].str.replace(_P_BRACKET, "", regex=True)
                  .str.replace(_P_CLAUSE, "", regex=True))
    return kept.reset_index(drop=True), int(info.sum())


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
    in the period, per unit type and in total, with the self-reported share (%).

    A blank is not a 0: a part no unit reported stays blank and so does its share;
    the share is over the units that give both parts (企业自查 ÷ 部门 + 企业), 合计 over
    every unit reporting the key count.
    When the units give no split but the 合计 row does (桂林: 72 by departments, 7 by
    enterprises, of 79), a last row "合计（合计行）" gives the 合计 row's own figures and
    share (8.86%).  Empty when neither gives a split."""
    from ..indicators import self_report_share

    s = self_report_share(a.panel, cumulative=False)
    units = pd.Index(a.panel.units[reporting_units(a)], dtype=object)
    s = s.loc[(s["period"] == a.period).to_numpy() & s["unit"].isin(units).to_numpy()]
    s = s.assign(group=_type_names(s["unit_type"]))
    s["group"] = s["group"].where(s["group"] != "", "其他")
    cols = ["found_dept", "found_enterprise", "found"]
    # the share is over the units that give both parts: a unit without a split is not
    # a unit whose enterprises found 0
    split = s["found_dept"].notna() & s["found_enterprise"].notna()
    s = s.assign(_split=s["found_dept"].add(s["found_enterprise"]).where(split),
                 _ent=s["found_enterprise"].where(split))
    g = s.groupby("group", sort=False)[cols + ["_split", "_ent"]].sum(min_count=1)
    g.loc["合计"] = s[cols + ["_split", "_ent"]].sum(min_count=1)
    stated = district_totals(a)
    split_rows = g[["found_dept", "found_enterprise"]].notna().any(axis=1)
    if not split_rows.any():
        if not {"major_hazards_found_dept", "major_hazards_found_enterprise"} <= set(stated):
            return pd.DataFrame(columns=["单位类型", "部门检查发现", "企业自查发现", "合计",
                                         "企业自查占比(%)"])
        dept, ent = stated["major_hazards_found_dept"], stated["major_hazards_found_enterprise"]
        g.loc["合计（合计行）"] = [dept, ent, stated.get("major_hazards_found", dept + ent),
                                dept + ent, ent]
    share = (g["_ent"] / g["_split"].where(g["_split"] > 0) * 100).round(2)
    return pd.DataFrame({"单位类型": g.index, "部门检查发现": g["found_dept"].to_numpy(),
                         "企业自查发现": g["found_enterprise"].to_numpy(),
                         "合计": g["found"].to_numpy(), "企业自查占比(%)": share.to_numpy()})


def district_totals(a: Assessment) -> dict[str, float]:
    """The 合计 rows' own figures for the period (stated, as ingest read them:
    ``Dataset.reconciliation``), by indicator: the largest totals row of each (a 小计 is
    part of its 合计).  Empty when the totals rows inside the period belong to several
    periods (a quarter's months): whether to add them or take the last depends on a
    basis the totals do not keep."""
    rc = a.dataset.reconciliation
    if rc is None or len(rc) == 0 or "stated" not in rc.columns:
        return {}
    per = rc["period"].astype("object").where(rc["period"].notna(), "")
    names = sorted(set(per) - {""})
    inside = dict(zip(names, window(names, a.period, cumulative=False))) if names else {}
    rc = rc.loc[per.map(lambda p: bool(inside.get(p, False))).to_numpy(dtype=bool)
                & (rc["status"] != "unreadable").to_numpy()]
    if rc["period"].nunique() != 1:
        # months of a quarter each with its 合计: their sum or their last depends on the
        # basis (当期 / 累计), which the totals do not keep; no district figure then
        return {}
    # a sheet's 小计 rows are parts of its 合计: the district's figure is the largest
    best = rc.groupby("indicator")["stated"].max()
    return {str(k): float(v) for k, v in best.items() if pd.notna(v)}


def district_rates(a: Assessment) -> pd.DataFrame:
    """The district's own rates for the period: the enterprises' self-report share of
    major hazards and the rectification rate of each finding count, from the units'
    figures (来源 各单位之和) and, where a 合计 row states them, from it (来源 合计行).
    A rate the units do not give (blank, not 0) comes from the 合计 row alone
    (桂林: 7 / 79 = 8.86%; 巴南: (64 + 59) / 156 = 78.85%); the units' rate is over the
    units that give both figures.  Columns 指标, 分子, 分母, 比率(%), 来源."""
    t = _column(a, a.period)
    stated = district_totals(a)

    def units_pair(num, den):
        """Σ numerator and Σ denominator over the units that give both (a blank
        numerator is not a 0)."""
        i, j = a.panel.indicator_index([num, den])
        if t is None or i < 0 or j < 0:
            return np.nan, np.nan
        n, d = a.panel.values[:, i, t], a.panel.values[:, j, t]
        both = ~np.isnan(n) & ~np.isnan(d)
        return (float(n[both].sum()), float(d[both].sum())) if both.any() else (np.nan, np.nan)

    def from_total(code, parts=()):
        if code in stated:
            return stated[code]
        got = [stated[p] for p in parts if p in stated]
        return float(sum(got)) if parts and len(got) == len(parts) else np.nan

    rows = []
    pairs = [("企业自查占比", "major_hazards_found_enterprise", "major_hazards_found", ())]
    for found in FINDING_COUNTS:
        rect = RECTIFIED_OF[found]
        parts = ((f"{rect}_dept", f"{rect}_enterprise") if found == "major_hazards_found" else ())
        pairs.append((f"{indicator_name(found).replace('排查数', '')}整改率", rect, found, parts))
    for label, num, den, parts in pairs:
        for source, (n, d) in (("各单位之和", units_pair(num, den)),
                               ("合计行", (from_total(num, parts), from_total(den)))):
            if np.isnan(n) or np.isnan(d) or d <= 0:
                continue
            rows.append({"指标": label, "分子": n, "分母": d, "比率(%)": round(n / d * 100, 2),
                         "来源": source})
    return pd.DataFrame(rows, columns=["指标", "分子", "分母", "比率(%)", "来源"])


def reconciliation_table(a: Assessment) -> pd.DataFrame:
    """数据质量: each figure of the period's 合计 rows against the sum of the units
    listed.  Columns 文件, 行, 指标, 合计行, 所列单位之和, 差额, 说明 (一致; 所列单位未报送分项;
    合计与所列单位之和相差X, with what it may mean); the rows that do not agree first."""
    from ..ingest.reconcile import STATUS_ZH
    from ..ingest_findings import TOTAL_LESS, TOTAL_MORE

    rc = a.dataset.reconciliation
    cols = ["文件", "行", "指标", "合计行", "所列单位之和", "差额", "说明"]
    if rc is None or len(rc) == 0 or "status" not in rc.columns:
        return pd.DataFrame(columns=cols)
    per = rc["period"].astype("object").where(rc["period"].notna(), "")
    names = sorted(set(per) - {""})
    inside = dict(zip(names, window(names, a.period, cumulative=False))) if names else {}
    rc = rc.loc[per.map(lambda p: bool(inside.get(p, False))).to_numpy(dtype=bool)]

    def why(r):
        if r.status == "mismatch":
            unit = indicator_unit(r.indicator)
            return (f"合计与所列单位之和相差{abs(r.difference):g}{unit}，"
                    + (TOTAL_MORE if r.difference > 0 else TOTAL_LESS))
        return STATUS_ZH.get(r.status, str(r.status))

    out = pd.DataFrame({
        "文件": [Path(str(f)).name for f in rc["file"]], "行": rc["row"].to_numpy(),
        "指标": [indicator_name(c) for c in rc["indicator"]], "合计行": rc["stated"].to_numpy(),
        "所列单位之和": rc["sum_of_units"].to_numpy(),
        # 19.04 - 19.04 in floating point is -3.6e-15: shown as 0, not -0.00
        "差额": rc["difference"].astype(float).round(6).to_numpy() + 0.0,
        "说明": [why(r) for r in rc.itertuples()]}, columns=cols)
    # what needs a look first: the rows that do not agree, then the ones that do
    return out.iloc[np.argsort((out["说明"] == "一致").to_numpy(), kind="stable")
                    ].reset_index(drop=True)


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
    ``indicator`` or all, as a long frame (for the heatmap and the unit series).
    The panel is cut to them before it is made a frame: the rows and their order are
    those of the whole panel's frame, filtered (a province's whole frame has millions
    of rows for a figure that shows a few thousand)."""
    p = a.panel
    pick = None if indicator is None else np.flatnonzero(p.indicators == indicator)
    return p.take(pick, p.window(a.period, cumulative=True)).to_frame()


def heatmap_units(a: Assessment, *, family: str = "balance", indicator: str | None = None,
                  max_units: int = 40) -> tuple[list[str], list[str]]:
    """The rows of the unit × period heatmap: the units named by the findings of
    ``family`` (most severe first), then the units with the largest totals of
    ``indicator`` (default the key indicator) to date, ``max_units`` in all.  Returns
    (units, flagged units); ([], []) without a key indicator."""
    indicator = indicator or a.key_indicator
    if indicator is None:
        return [], []
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


def top_finding(a: Assessment, check: str) -> tuple[str, str] | None:
    """(unit, indicator) of the most severe finding of ``check`` naming a unit (None
    if there is none)."""
    f = a.findings.loc[(a.findings["check"] == check) & a.findings["unit"].notna()]
    if f.empty:
        return None
    ind = f["indicator"].iloc[0]
    return str(f["unit"].iloc[0]), (str(ind) if pd.notna(ind) else a.key_indicator)


def top_unit(a: Assessment, check: str) -> str | None:
    """The unit of the most severe finding of ``check`` (None if there is none)."""
    f = a.findings.loc[(a.findings["check"] == check) & a.findings["unit"].notna()]
    return None if f.empty else str(f["unit"].iloc[0])


def _noun(code: str) -> str:
    """重大事故隐患排查数 → 重大事故隐患: the thing a finding count counts."""
    name = indicator_name(code)
    return name[:-3] if name.endswith("排查数") else name


def headline(a: Assessment) -> str:
    """One sentence opening the report: units reporting, the key indicator found and
    rectified in the period against the previous period (and the 合计 row's own total
    where it differs from the units'), findings and alerts."""
    units = int(reporting_units(a).sum())
    key = a.key_indicator
    text = f"{a.period_zh}，{units}个单位报送调度数据"
    found = period_total(a, key) if key else float("nan")
    if key is None:
        text += f"（本期数据未包含{_names(FINDING_COUNTS)}）"
    elif found != found:
        text += f"（本期数据未包含{indicator_name(key)}）"
    else:
        unit = indicator_unit(key)
        text += f"，共排查{_noun(key)}{found:.0f}{unit}"
        stated = district_totals(a).get(key)
        if stated is not None and stated != found:
            text += f"（合计行{stated:.0f}{unit}）"
        prev = period_total(a, key, shift_period(a.period, -1))
        if prev == prev:  # not NaN: the previous period has data
            change = found - prev
            text += f"（上期{prev:.0f}{unit}，{'增加' if change >= 0 else '减少'}{abs(change):.0f}{unit}）"
        rect = period_total(a, RECTIFIED_OF[key]) if key in RECTIFIED_OF else float("nan")
        if rect == rect:
            text += f"，整改{rect:.0f}{unit}"
    n_alert = int((a.findings["severity"] == "alert").sum())
    n_warn = int((a.findings["severity"] == "warning").sum())
    return text + f"。各项检查共发现预警{n_alert}条、关注{n_warn}条，详见以下各节及附表。"


def period_note(a: Assessment) -> str:
    """A line under the headline when the period's figures are not its own: 累计
    figures that are the first of their series (``cumulative_start``); '' otherwise."""
    f = a.findings.loc[a.findings["check"] == "cumulative_start"]
    if f.empty:
        return ""
    return (f"本期数据口径为累计（{a.period_zh}），且为第一期累计数，无法分出当期数："
            "以下各节均按累计数评估，不与各月当期数比较。")
