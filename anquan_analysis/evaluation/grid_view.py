"""The stored detection grid (``benchmarks/detection.py --output``) for the methods
notebook: recall of the checks beside the oracle's per kind and strength, the cells
that miss issue 12's targets, the false alarms, one picture, and the grid's districts
against held-out ones (``heldout_comparison``)."""

from __future__ import annotations

import pandas as pd

from ..dataset import require_columns

_COLUMNS = ["cell", "strength", "kind", "kind_zh", "planted", "found", "oracle_found",
            "recall", "oracle_recall", "clean_units", "clean_flagged", "null_units",
            "null_flagged", "clean_flagged_oracle", "null_flagged_oracle"]
# issue 12's absolute floor (strong cells) for these kinds; every kind has 0.95 × oracle
_ABSOLUTE = {"coordinated_group": 0.9, "last_digit_heaping": 0.9, "round_number_heaping": 0.9,
             "flat_line": 0.9, "surge": 0.9, "pinned_rate": 0.9, "rule_break": 0.9}


def grid_summary(grid: pd.DataFrame) -> pd.DataFrame:
    """Recall per kind and strength, pooled over the grid's cells.

    Parameters
    ----------
    grid : DataFrame
        The tidy per-cell, per-kind table (``benchmarks/results/detection_grid.csv``).
        Not modified.

    Returns
    -------
    DataFrame, one row per (strength, kind), strong first: 强度, 异常类型, 注入,
    检查检出, 神谕检出, 检查检出率, 神谕检出率, and 未达标格数 — the cells where the
    checks' recall is below 0.95 × the oracle's (or, in strong cells, below the
    issue's absolute floor for the kind), of 格数 cells with a planting.
    """
    require_columns(grid, _COLUMNS, "grid_summary")
    g = grid[grid["planted"] > 0].copy()
    floor = g["kind"].map(_ABSOLUTE).fillna(0.0).where(g["strength"] == "strong", 0.0)
    g["_short"] = (g["recall"] < 0.95 * g["oracle_recall"] - 1e-12) | (g["recall"] < floor)
    out = g.groupby(["strength", "kind"], sort=False).agg(
        kind_zh=("kind_zh", "first"), planted=("planted", "sum"), found=("found", "sum"),
        oracle=("oracle_found", "sum"), cells=("cell", "nunique"), short=("_short", "sum"))
    out = out.reset_index()
    out["order"] = (out["strength"] != "strong").astype(int)
    out = out.sort_values(["order"], kind="stable")
    return pd.DataFrame({
        "强度": out["strength"].map({"strong": "强", "mild": "弱"}).fillna(out["strength"]),
        "异常类型": out["kind_zh"], "注入": out["planted"], "检查检出": out["found"],
        "神谕检出": out["oracle"],
        "检查检出率": (out["found"] / out["planted"]).round(2),
        "神谕检出率": (out["oracle"] / out["planted"]).round(2),
        "未达标格数": out["short"].astype(int), "格数": out["cells"]}).reset_index(drop=True)


def grid_false_alarms(grid: pd.DataFrame) -> pd.DataFrame:
    """Units flagged with nothing planted, per strength: clean units of the planted
    districts and every unit of the null twins, by the checks and by the oracle.

    Returns
    -------
    DataFrame, one row per strength: 强度, 正常单位, 检查误报, 神谕误报, 空白对照单位,
    检查误报（对照）, 神谕误报（对照）, and the four shares in percent.
    """
    require_columns(grid, _COLUMNS, "grid_false_alarms")
    cells = grid.drop_duplicates(["cell", "strength"])
    rows = []
    for strength, c in cells.groupby("strength", sort=False):
        s = {k: int(c[k].sum()) for k in ("clean_units", "clean_flagged", "clean_flagged_oracle",
                                          "null_units", "null_flagged", "null_flagged_oracle")}
        rows.append({
            "强度": {"strong": "强", "mild": "弱"}.get(strength, strength),
            "正常单位": s["clean_units"], "检查误报": s["clean_flagged"],
            "神谕误报": s["clean_flagged_oracle"],
            "检查误报率(%)": round(100 * s["clean_flagged"] / max(s["clean_units"], 1), 2),
            "空白对照单位": s["null_units"], "检查误报（对照）": s["null_flagged"],
            "神谕误报（对照）": s["null_flagged_oracle"],
            "对照误报率(%)": round(100 * s["null_flagged"] / max(s["null_units"], 1), 2)})
    return pd.DataFrame(rows)


def heldout_comparison(grid: pd.DataFrame, heldout: pd.DataFrame, *,
                       labels: tuple[str, str] = ("调参区县", "留出区县")) -> pd.DataFrame:
    """The strong cells of two runs side by side, pooled per kind, and the null twins'
    units flagged per district size: by default the grid the checks were tuned on
    beside a held-out run (other district seeds, never read while writing rules).

    Parameters
    ----------
    grid, heldout : DataFrame
        Tidy per-cell, per-kind tables (``detection_grid.csv`` and
        ``detection_heldout_strong.csv``, or any two such runs).  Not modified.
    labels : (str, str)
        What the two runs are called in the columns (e.g. 各项单独, 合并控制 for a run
        without and with ``run_checks(suite_level=True)`` on the same districts).

    Returns
    -------
    DataFrame, one row per kind planted in the second run, then one per district
    size: 项目, {first}检查, {first}神谕, {second}检查, {second}神谕 — recall (kinds)
    or the share of null-twin units flagged in percent (sizes, 项目
    "空白对照误报(N个单位)"), rounded to 2 decimals; and {second:2}/神谕, the second
    run's checks over its oracle (kinds only): 留出/神谕 by default.
    """
    cols = _COLUMNS + ["units"]
    require_columns(grid, cols, "heldout_comparison: grid")
    require_columns(heldout, cols, "heldout_comparison: heldout")
    first, second = labels
    ratio = f"{second[:2]}/神谕"
    rows = []
    parts = {first: grid[grid["strength"] == "strong"],
             second: heldout[heldout["strength"] == "strong"]}
    kinds = parts[second].groupby("kind", sort=False).agg(
        kind_zh=("kind_zh", "first"), planted=("planted", "sum"))
    for kind, k in kinds[kinds["planted"] > 0].iterrows():
        row = {"项目": k["kind_zh"]}
        for name, t in parts.items():
            t = t[t["kind"] == kind]
            n = max(int(t["planted"].sum()), 1)
            row[f"{name}检查"] = round(t["found"].sum() / n, 2)
            row[f"{name}神谕"] = round(t["oracle_found"].sum() / n, 2)
        row[ratio] = (round(row[f"{second}检查"] / row[f"{second}神谕"], 2)
                      if row[f"{second}神谕"] > 0 else float("nan"))
        rows.append(row)
    for units in sorted(set(parts[second]["units"])):
        row = {"项目": f"空白对照误报({units}个单位)"}
        for name, t in parts.items():
            c = t[t["units"] == units].drop_duplicates("cell")
            n = max(int(c["null_units"].sum()), 1)
            row[f"{name}检查"] = round(100 * c["null_flagged"].sum() / n, 2)
            row[f"{name}神谕"] = round(100 * c["null_flagged_oracle"].sum() / n, 2)
        row[ratio] = float("nan")
        rows.append(row)
    return pd.DataFrame(rows, columns=["项目", f"{first}检查", f"{first}神谕", f"{second}检查",
                                       f"{second}神谕", ratio])


def grid_figure(summary: pd.DataFrame):
    """Paired bars per kind: the checks' recall beside the oracle's, one panel per
    strength (``grid_summary``'s table)."""
    import matplotlib.pyplot as plt
    import numpy as np

    strengths = list(dict.fromkeys(summary["强度"]))
    fig, axes = plt.subplots(1, len(strengths), sharey=True, layout="constrained",
                             figsize=(4.5 * len(strengths) + 1.5,
                                      0.38 * summary["异常类型"].nunique() + 1.4))
    axes = np.atleast_1d(axes)
    kinds = list(dict.fromkeys(summary["异常类型"]))[::-1]
    y = np.arange(len(kinds))
    for ax, strength in zip(axes, strengths):
        s = summary[summary["强度"] == strength].set_index("异常类型").reindex(kinds)
        ax.barh(y + 0.2, s["检查检出率"].fillna(0), height=0.4, color="#1565c0", label="各项检查")
        ax.barh(y - 0.2, s["神谕检出率"].fillna(0), height=0.4, color="#9e9e9e",
                label="神谕（已知真实模型）")
        ax.set_xlim(0, 1)
        ax.set_title(f"{strength}异常")
        ax.xaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
    axes[0].set_yticks(y, kinds)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=2)
    fig.suptitle("独立基准网格：各项检查与神谕的检出率")
    return fig
