"""The methods notebook's tables and pictures on a ``synth.make_city`` city: its
Dataset, the scores of ``score.score_checks`` in Chinese, the rates as bars, and
``check_figure``, one picture per check that shows what the check looks at.
"""

from __future__ import annotations

import pandas as pd

from ..catalogue import indicator_name
from ..dataset import Dataset
from ..findings import CHECK_ZH
from .score import _blank

def city_dataset(city) -> Dataset:
    """A ``Dataset`` of a synthetic city (panel, exposure, ledger and its effective
    counts), as ingest would give from its bundled files."""
    from ..ledger import effective_counts

    return Dataset(panel=city.panel, exposure=city.exposure, ledger=city.ledger,
                   ledger_counts=effective_counts(city.ledger))


def scores_zh(scores: pd.DataFrame) -> pd.DataFrame:
    """``score_checks`` with Chinese headers and rates in percent, for display."""
    return pd.DataFrame({
        "检查项目": scores["检查项目"], "注入数": scores["injected"], "检出数": scores["detected"],
        "检出率(%)": (scores["detection_rate"] * 100).round(1),
        "正常单位数": scores["clean_units"], "误报单位数": scores["false_alarms"],
        "误报率(%)": (scores["false_alarm_rate"] * 100).round(1), "漏检单位": scores["missed"],
    })


def rates_figure(scores: pd.DataFrame):
    """Paired horizontal bars: detection and false-alarm rate per check."""
    import matplotlib.pyplot as plt
    import numpy as np

    df = scores.iloc[::-1]
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(df) + 1.2), layout="constrained")
    y = np.arange(len(df))
    ax.barh(y + 0.2, df["detection_rate"].fillna(0), height=0.4, color="#2e7d32", label="检出率")
    ax.barh(y - 0.2, df["false_alarm_rate"], height=0.4, color="#c62828", label="误报率")
    ax.set_yticks(y, df["检查项目"].tolist())
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
    ax.legend(loc="lower right")
    ax.set_title("各项检查在合成数据上的检出率与误报率")
    return fig


# ------------------------------------------------------------------- one picture each
def _units_of(truth: pd.DataFrame, check: str) -> list[str]:
    t = truth.loc[(truth["kind"] == check) & ~_blank(truth["unit"])]
    return list(dict.fromkeys(t["unit"]))


def _indicator_of(truth: pd.DataFrame, check: str, default: str) -> str:
    t = truth.loc[(truth["kind"] == check) & ~_blank(truth["indicator"])]
    return str(t["indicator"].iloc[0]) if len(t) else default


def _first_period(truth: pd.DataFrame, check: str):
    t = truth.loc[(truth["kind"] == check) & ~_blank(truth["period"])]
    return str(t["period"].min()) if len(t) else None


def check_figure(check: str, ds: Dataset, findings: pd.DataFrame, truth: pd.DataFrame):
    """One figure showing what ``check`` looks at on the synthetic city, with the
    injected units marked.  ``findings`` are the checks' results on ``ds``."""
    from .. import indicators, plots
    from ..checks.outliers import funnel_table
    from ..periods import sort_periods

    panel = ds.panel
    injected = _units_of(truth, check)
    indicator = _indicator_of(truth, check, "major_hazards_found")
    title = f"{CHECK_ZH.get(check, check)}：注入的单位为 {'、'.join(injected) or '全区'}"
    if check == "low_outlier":
        return plots.funnel_plot(funnel_table(panel, exposure=ds.exposure), title=title)
    if check == "matching_series":  # the coordinated groups found, on their indicator
        hits = findings.loc[findings["check"] == check, "indicator"].dropna()
        indicator = str(hits.iloc[0]) if len(hits) else indicator
    if check in ("zero_report", "underdispersion", "matching_series"):
        f = findings.loc[findings["check"] == check, "unit"].dropna()
        units = list(dict.fromkeys(injected + list(f)))
        if check == "underdispersion":  # the coordinated towns among all their peers
            towns = _units_of(truth, "matching_series") or injected
            indicator = _indicator_of(truth, "matching_series", indicator)
            types = set(panel.loc[panel["unit"].isin(towns), "unit_type"])
            units = list(panel.loc[panel["unit_type"].isin(types), "unit"].unique())
        sub = panel.loc[panel["unit"].isin(units)]
        return plots.unit_period_heatmap(sub, indicator, title=title)
    if check == "identical_values":
        period = _first_period(truth, check)
        pair = truth.loc[(truth["kind"] == check) & (truth["period"] == period), "unit"]
        sub = panel.loc[panel["unit"].isin(list(pair)) & (panel["period"] == period)]
        table = sub.pivot_table(index="indicator", columns="unit", values="value", aggfunc="sum")
        table.index = [indicator_name(c) for c in table.index]
        return plots.value_heatmap(table, title=f"{title}（{period}）")
    if check in ("repeated_value", "surge"):
        unit = injected[0]
        period = _first_period(truth, check)
        hist = panel if period is None else panel.loc[panel["period"].isin(
            [p for p in sort_periods(panel["period"].unique()) if p <= period])]
        return plots.unit_series(hist, unit, indicator,
                                 baseline_periods=None if period is None else -1, title=title)
    if check == "group_shift":
        total = (panel.loc[panel["indicator"] == indicator]
                 .groupby(["period", "indicator"], as_index=False)["value"].sum()
                 .assign(unit="全区"))
        shift = _first_period(truth, check)
        n_before = sum(p < shift for p in total["period"]) if shift else None
        return plots.unit_series(total, "全区", indicator, baseline_periods=n_before, title=title)
    if check == "round_number":  # nothing injected for it: the first series it found
        f = findings.loc[(findings["check"] == check) & (findings["severity"] != "info")]
        unit, ind = ((f["unit"].iloc[0], f["indicator"].iloc[0]) if len(f)
                     else (panel["unit"].iloc[0], "worker_training_persons"))
        return plots.unit_series(panel, unit, ind, title=f"{CHECK_ZH[check]}：{unit}")
    if check in ("last_digit", "benford"):
        unit = injected[0]
        own = panel.loc[panel["unit"] == unit, "value"]
        rest = panel.loc[panel["unit"] != unit, "value"]
        return plots.digit_bars(own, rest, position="last" if check == "last_digit" else "first",
                                labels=(unit, "其他单位"), title=title)
    if check in ("pinned_rate", "low_self_report"):
        last = sort_periods(panel["period"].unique())[-1]
        if check == "pinned_rate":
            r = indicators.rectification_rates(panel).rename(columns={"major_rate": "rate"})
            xlabel = "重大事故隐患整改率（全年累计）"
        else:
            r = indicators.self_report_share(panel).rename(columns={"share": "rate"})
            xlabel = "企业自查发现占比（全年累计）"
        r = r.loc[r["period"] == last]
        return plots.ranking_bars(r, "rate", highlight=injected, title=title, xlabel=xlabel,
                                  top=12)
    if check == "sector_concentration":
        s = indicators.sector_shares(ds.ledger_counts)
        return plots.sector_bars(s, "count", title=title)
    if check == "rule_violation":
        f = findings.loc[findings["check"] == check]
        counts = f.groupby(["unit", "unit_type"], as_index=False).size()
        return plots.ranking_bars(counts, "size", highlight=injected, title=title,
                                  xlabel="逻辑关系错误（条）")
    raise KeyError(f"no figure for check {check!r}")
