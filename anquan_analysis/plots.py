"""Figures for the assessment: funnel plot, ranking bars, unit × period heatmap,
sector bars and a unit's series with its process limits.

Importing this module registers the Noto Sans CJK SC font shipped by the
``mplfonts`` dependency and puts it first in matplotlib's sans-serif list, so that
Chinese titles, labels and unit names render without missing glyphs.

Every function takes DataFrames, never modifies them, draws on ``ax`` when one is
given (otherwise on a new figure) and returns the ``Figure``.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib import font_manager

from .catalogue import indicator_name, indicator_unit, unit_type_name
from .dataset import require_columns as _require

CJK_FONT_FILE = "NotoSansCJKsc-Regular.otf"
CJK_FONT_NAME = "Noto Sans CJK SC"

# Colours by unit type, fixed so a unit keeps its colour from figure to figure.
UNIT_TYPE_COLOURS = {
    "county": "#1f77b4", "town": "#2ca02c", "department": "#ff7f0e", "soe": "#9467bd",
}
_OTHER_COLOUR = "#7f7f7f"


def cjk_font_path() -> Path:
    """Path of the Noto Sans CJK SC font file inside the ``mplfonts`` package."""
    return Path(str(importlib.resources.files("mplfonts") / "fonts" / CJK_FONT_FILE))


def setup_cjk_font() -> str:
    """Register the CJK font with matplotlib and make it the first sans-serif face.

    Idempotent.  Also turns off the Unicode minus sign, which the CJK face lacks.
    Returns the font's family name."""
    path = cjk_font_path()
    if not path.exists():
        raise FileNotFoundError(f"CJK font not found at {path}; is mplfonts installed?")
    known = {f.fname for f in font_manager.fontManager.ttflist}
    if str(path) not in known:
        font_manager.fontManager.addfont(str(path))
    name = font_manager.FontProperties(fname=str(path)).get_name()
    sans = [name] + [f for f in matplotlib.rcParams["font.sans-serif"] if f != name]
    matplotlib.rcParams["font.family"] = "sans-serif"
    matplotlib.rcParams["font.sans-serif"] = sans
    matplotlib.rcParams["axes.unicode_minus"] = False
    return name


def apply_style() -> None:
    """Seaborn's white-grid style with the CJK font kept first (``set_theme`` resets
    the font family, so the font is registered again afterwards)."""
    sns.set_theme(style="whitegrid", context="notebook", rc={"figure.dpi": 100})
    setup_cjk_font()


apply_style()


def _axes(ax, figsize):
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax.figure, ax


def _type_colour(types) -> list[str]:
    return [UNIT_TYPE_COLOURS.get(t, _OTHER_COLOUR) for t in types]


def _type_legend(ax, types) -> None:
    present = [t for t in UNIT_TYPE_COLOURS if t in set(types)]
    if not present:
        return
    handles = [plt.Line2D([], [], marker="o", linestyle="", color=UNIT_TYPE_COLOURS[t],
                          label=unit_type_name(t)) for t in present]
    ax.legend(handles=handles, title="单位类型", loc="best", fontsize="small")


# --------------------------------------------------------------------------- funnel
def _funnel_on_ax(ax, df: pd.DataFrame, label_limit: str, max_labels: int) -> None:
    """One peer group's funnel: points O/E against E, and the 95% and 99.8% limits as
    smooth curves: the negative binomial test's limits with the group's shape k
    (``_stats.nb_limits``) when the table has a ``shape`` (the gamma model), else
    ``_stats.funnel_limits`` with the group's τ²."""
    from .checks._stats import funnel_limits, nb_limits

    df = df.loc[df["expected"] > 0].sort_values("expected")
    exp = df["expected"].to_numpy(dtype=float)
    ratio = df["observed"].to_numpy(dtype=float) / exp
    tau2 = float(df["tau2"].dropna().iloc[0]) if "tau2" in df and df["tau2"].notna().any() else 0.0
    shape = df["shape"].dropna() if "shape" in df else pd.Series(dtype=float)
    grid = np.geomspace(max(exp.min() * 0.8, 0.05), exp.max() * 1.2, 200) if len(exp) else []
    styles = {"95": ("--", "#555555", 0.95), "998": ("-", "#c62828", 0.998)}
    for key, (ls, colour, level) in styles.items():
        lo, hi = (nb_limits(grid, float(shape.iloc[0]), level=level) if len(shape)
                  else funnel_limits(grid, tau2, level=level))
        ax.plot(grid, lo / grid, ls=ls, color=colour, lw=1, label=f"{level * 100:g}%控制限")
        ax.plot(grid, hi / grid, ls=ls, color=colour, lw=1)
    types = df["unit_type"] if "unit_type" in df.columns else pd.Series([None] * len(df))
    ax.scatter(exp, ratio, c=_type_colour(types), s=28, zorder=3, edgecolor="white",
               linewidth=0.5)
    ax.axhline(1.0, color="black", lw=0.8)
    # Below the limit is judged on the exact tail P(X ≤ O) where the table has it: the
    # continuous lower limit is a hair above 0 for tiny E, and a 0 there is no signal.
    tail = (1 - styles[label_limit][2]) / 2
    low = (df["p_low"] < tail) if "p_low" in df.columns else (df["observed"] < df[f"lower{label_limit}"])
    outside = (low | (df["observed"] > df[f"upper{label_limit}"])).to_numpy()
    # Label the units farthest outside first; stagger the labels vertically, since
    # units at 0 sit on one line.
    dist = np.where(outside, np.abs(np.log((ratio + 0.05) / 1.05)), -1.0)
    chosen = [i for i in np.argsort(-dist, kind="stable")[:max_labels] if outside[i]]
    # The leader line is not clipped at the label's box (patchA=None): clipping a
    # path against a box is computed on every layout pass, and was most of the time
    # of drawing the figure; the label sits above and right of the line's end.
    for k, i in enumerate(sorted(chosen, key=lambda j: exp[j])):
        ax.annotate(str(df["unit"].iloc[i]), (exp[i], ratio[i]), fontsize=8,
                    xytext=(3, 4 + 10 * (k % 3)), textcoords="offset points",
                    arrowprops={"arrowstyle": "-", "color": "#999999", "lw": 0.5,
                                "patchA": None, "shrinkA": 0, "shrinkB": 0})
    # The limits rise steeply at small E: keep the points, not the limits, in view.
    top = max(3.0, 1.25 * float(np.nanmax(ratio))) if len(ratio) else 3.0
    ax.set_ylim(0, top)


def funnel_plot(funnel: pd.DataFrame, *, ax=None, title: str | None = None,
                indicator: str = "major_hazards_found", label_limit: str = "95",
                max_labels: int = 12):
    """Funnel plot of each unit's observed/expected ratio against its expected count.

    ``funnel`` is ``checks.outliers.funnel_table``'s output (unit, unit_type, peer,
    observed, expected, lower95, upper95, lower998, upper998 on the count scale, and
    shape or tau2 for the curves).
    Limits are drawn as ratios along the expected axis, the 95% and the 99.8% pair;
    units outside the ``label_limit`` pair are labelled by name.  One panel per peer
    group (the groups have their own rates and τ²) unless ``ax`` is given."""
    _require(funnel, ["unit", "observed", "expected", "lower95", "upper95", "lower998",
                      "upper998"], "funnel_plot")
    peers = (funnel["peer"].fillna("all") if "peer" in funnel.columns
             else pd.Series("all", index=funnel.index))
    groups = [g for g in dict.fromkeys(peers) if (funnel.loc[peers == g, "expected"] > 0).any()]
    if ax is not None:
        fig, axes = ax.figure, [ax] * max(len(groups), 1)
    else:
        ncol = min(max(len(groups), 1), 2)
        nrow = -(-max(len(groups), 1) // ncol)
        fig, grid = plt.subplots(nrow, ncol, figsize=(6.5 * ncol, 4.2 * nrow), squeeze=False,
                                 layout="constrained")
        axes = list(grid.ravel())
        for extra in axes[len(groups):]:
            extra.set_visible(False)
    for g, a in zip(groups, axes):
        _funnel_on_ax(a, funnel.loc[peers == g], label_limit, max_labels)
        if ax is None:
            a.set_title("全部单位" if g in ("all", "") else unit_type_name(g), fontsize=10)
        a.set_xlabel(f"期望值（{indicator_unit(indicator)}）")
        a.set_ylabel("实际值 / 期望值")
    first = axes[0]
    handles = [h for h in first.get_lines() if h.get_label().endswith("控制限")]
    first.legend(handles=handles, loc="upper right", fontsize="small")
    fig.suptitle(title or f"{indicator_name(indicator)}漏斗图（按监管企业数推算期望值）")
    return fig


# -------------------------------------------------------------------------- ranking
def ranking_bars(table: pd.DataFrame, value: str, *, label: str = "unit", ax=None,
                 title: str | None = None, xlabel: str | None = None, top: int | None = None,
                 highlight=None):
    """Horizontal bars of ``value`` per ``label``, highest at the top, coloured by
    unit type where ``unit_type`` is present; units in ``highlight`` are outlined red.
    Rows where ``value`` is missing (not rankable) are left out; ``top`` keeps only
    that many rows from the top and that many from the bottom."""
    _require(table, [label, value], "ranking_bars")
    df = table.dropna(subset=[value]).sort_values(value, ascending=False, kind="stable")
    if top is not None and len(df) > 2 * top:
        df = pd.concat([df.head(top), df.tail(top)])
    fig, ax = _axes(ax, (8, max(3.0, 0.26 * len(df) + 1)))
    types = df["unit_type"] if "unit_type" in df.columns else pd.Series([None] * len(df))
    y = np.arange(len(df))
    bars = ax.barh(y, df[value].to_numpy(dtype=float), color=_type_colour(types))
    marked = set(highlight or ())
    for bar, name in zip(bars, df[label]):
        if name in marked:
            bar.set_edgecolor("#c62828")
            bar.set_linewidth(1.8)
    ax.set_yticks(y, df[label].astype(str).tolist(), fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel or value)
    if title:
        ax.set_title(title)
    _type_legend(ax, types)
    return fig


# -------------------------------------------------------------------------- heatmap
def _heatmap(ax, grid: pd.DataFrame, *, annot: bool, cbar_label: str) -> None:
    """``grid`` as seaborn's heatmap (YlOrRd, white gaps, NaN cells blank, every row
    labelled, a colour bar); with ``annot`` each cell's figure written in it."""
    sns.heatmap(grid.astype(float), ax=ax, cmap="YlOrRd", annot=annot, fmt=".0f",
                annot_kws={"fontsize": 7}, linewidths=0.3, linecolor="white", yticklabels=True,
                cbar_kws={"label": cbar_label or None})


def unit_period_heatmap(panel: pd.DataFrame, indicator: str = "major_hazards_found", *,
                        units=None, highlight=None, max_units: int = 40, ax=None,
                        title: str | None = None, annot: bool | None = None):
    """Heatmap of one indicator, units down, periods across.

    ``panel`` is long (unit, period, indicator, value).  Rows are ``units`` in the
    order given (a unit without figures is a blank row), by default every unit by
    its total, highest first; at most ``max_units`` rows are drawn (a heatmap of a
    province's 1,500 units is neither readable nor quick to draw), and the title then
    says how many of how many.  Units in ``highlight`` have their names in red.
    Missing cells (no report) stay blank, so a blank and a reported 0 look different."""
    _require(panel, ["unit", "period", "indicator", "value"], "unit_period_heatmap")
    from .dataset import as_text
    from .periods import sort_periods

    sub = as_text(panel.loc[panel["indicator"] == indicator, ["unit", "period", "value"]])
    grid = sub.groupby(["unit", "period"])["value"].sum().unstack("period")
    grid = grid.reindex(columns=sort_periods(grid.columns))
    n_units = len(grid)
    if units is None:
        grid = grid.loc[grid.sum(axis=1).sort_values(ascending=False, kind="stable").index]
    else:
        grid = grid.reindex(list(dict.fromkeys(str(u) for u in units)))
    grid = grid.head(max_units)
    if not grid.notna().to_numpy().any():  # nothing to colour: say so, do not fail
        fig, ax = _axes(ax, (6, 2.5))
        ax.axis("off")
        ax.text(0.5, 0.5, f"本期数据未包含{indicator_name(indicator)}", ha="center", va="center")
        ax.set_title(title or f"各单位{indicator_name(indicator)}")
        return fig
    fig, ax = _axes(ax, (min(3 + 0.6 * grid.shape[1], 14), max(3.0, 0.22 * len(grid) + 1.5)))
    if annot is None:
        annot = grid.size <= 800
    _heatmap(ax, grid, annot=annot,
             cbar_label=f"{indicator_name(indicator)}（{indicator_unit(indicator)}）")
    ax.set_xlabel("期间")
    ax.set_ylabel("单位")
    ax.tick_params(axis="y", labelsize=7)
    marked = {str(u) for u in highlight or ()}
    for label in ax.get_yticklabels():
        if label.get_text() in marked:
            label.set_color("#c62828")
    shown = (f"；显示{len(grid)}个，共{n_units}个单位"
             if units is not None or len(grid) < n_units else "")
    ax.set_title(title or f"各单位{indicator_name(indicator)}（按期间{shown}）")
    return fig


# ---------------------------------------------------------------------- sector bars
def sector_bars(sectors: pd.DataFrame, value: str = "found", *, label: str = "sector",
                ax=None, title: str | None = None, xlabel: str | None = None):
    """Bars of a count per sector (行业领域), largest first (ties in the table's
    order), each labelled with its count and its share of the total; sectors with 0
    are kept and drawn as 0."""
    _require(sectors, [label, value], "sector_bars")
    df = sectors.groupby(label, as_index=False, sort=False)[value].sum()
    df = df.sort_values(value, ascending=False, kind="stable")
    total = float(df[value].sum())
    fig, ax = _axes(ax, (8, max(3.0, 0.3 * len(df) + 1)))
    y = np.arange(len(df))
    vals = df[value].to_numpy(dtype=float)
    ax.barh(y, vals, color=sns.color_palette("crest", n_colors=max(len(df), 1)))
    for yi, v in zip(y, vals):
        share = f"，{v / total:.1%}" if total > 0 and v > 0 else ""
        ax.text(v, yi, f" {v:.0f}{share}", va="center", fontsize=8)
    ax.set_yticks(y, df[label].astype(str).tolist())
    ax.invert_yaxis()
    ax.set_xlabel(xlabel or "重大事故隐患（项）")
    ax.set_title(title or "重大事故隐患行业领域分布")
    ax.margins(x=0.18)
    return fig


# ------------------------------------------------------------------ process limits
def control_limits(values, *, sigmas: float = 3.0) -> tuple[float, float, float]:
    """Centre line and limits of a c-chart (Shewhart chart for counts).

    Null model: the counts are Poisson with a constant mean, estimated by the series
    mean c̄; limits are c̄ ± ``sigmas``·√c̄, the lower one clipped at 0.
    Returns (centre, lower, upper); NaNs if the series is empty."""
    v = pd.to_numeric(pd.Series(values), errors="coerce").dropna().to_numpy(dtype=float)
    if not len(v):
        return (np.nan, np.nan, np.nan)
    c = float(v.mean())
    half = sigmas * np.sqrt(c)
    return (c, max(0.0, c - half), c + half)


def unit_series(panel: pd.DataFrame, unit: str, indicator: str = "major_hazards_found", *,
                baseline_periods: int | None = None, ax=None, title: str | None = None):
    """One unit's series of an indicator with c-chart limits (see ``control_limits``)
    estimated from its first ``baseline_periods`` periods (all if None; negative
    counts from the end like a slice, so -1 leaves the last period out of the
    baseline); points beyond the limits are drawn in red."""
    _require(panel, ["unit", "period", "indicator", "value"], "unit_series")
    from .periods import sort_periods

    sub = panel.loc[(panel["unit"] == unit) & (panel["indicator"] == indicator)]
    s = sub.groupby("period")["value"].sum()
    s = s.reindex(sort_periods(s.index))
    base = s if baseline_periods is None else s.iloc[:baseline_periods]
    centre, lower, upper = control_limits(base)
    fig, ax = _axes(ax, (8, 3.5))
    x = np.arange(len(s))
    ax.plot(x, s.to_numpy(dtype=float), marker="o", color="#1f77b4", lw=1.2)
    out = ((s < lower) | (s > upper)).to_numpy()
    ax.scatter(x[out], s.to_numpy(dtype=float)[out], color="#c62828", zorder=4, s=40,
               label="超出控制限")
    ax.axhline(centre, color="black", lw=0.8, label=f"均值 {centre:.1f}")
    ax.axhline(upper, color="#c62828", ls="--", lw=0.8, label=f"上控制限 {upper:.1f}")
    ax.axhline(lower, color="#c62828", ls="--", lw=0.8, label=f"下控制限 {lower:.1f}")
    ax.set_xticks(x, list(s.index), rotation=45, ha="right", fontsize=8)
    ax.set_ylabel(f"{indicator_name(indicator)}（{indicator_unit(indicator)}）")
    ax.set_title(title or f"{unit}：{indicator_name(indicator)}逐期走势")
    ax.legend(fontsize="small", loc="upper left")
    return fig


# ------------------------------------------------------------------------- digits
def digit_bars(values, reference, *, position: str = "last", ax=None, title: str | None = None,
               labels=("本单位", "其他单位"), min_value: float = 10):
    """Share of each last digit (0–9) or first digit (1–9) among ``values`` against
    ``reference``, as paired bars.  Last digits are taken from whole numbers of at
    least ``min_value`` (smaller ones are mostly determined by their size); first
    digits from every positive value.  The reference shares are the yardstick:
    10% each for last digits, Benford's log10(1 + 1/d) for first digits."""
    if position not in ("last", "first"):
        raise ValueError("position must be 'last' or 'first'")

    def shares(v):
        v = pd.to_numeric(pd.Series(v), errors="coerce").dropna()
        if position == "last":
            v = v.loc[(v >= min_value) & (v % 1 == 0)].astype("int64")
            d, idx = v % 10, range(10)
        else:
            v = v.loc[v > 0]
            d = (v / 10 ** np.floor(np.log10(v))).astype("int64").clip(1, 9)
            idx = range(1, 10)
        return d.value_counts(normalize=True).reindex(idx, fill_value=0.0), len(v)

    own, n_own = shares(values)
    ref, n_ref = shares(reference)
    fig, ax = _axes(ax, (7, 3.5))
    x = np.arange(len(own))
    ax.bar(x - 0.2, own.to_numpy(), width=0.4, color="#c62828", label=f"{labels[0]}（{n_own}个）")
    ax.bar(x + 0.2, ref.to_numpy(), width=0.4, color="#90a4ae", label=f"{labels[1]}（{n_ref}个）")
    digits = np.asarray(own.index)
    expected = np.full(len(x), 0.1) if position == "last" else np.log10(1 + 1 / digits)
    ax.plot(x, expected, "k--", lw=0.8, label="均匀分布" if position == "last" else "本福特定律")
    ax.set_xticks(x, [str(d) for d in digits])
    ax.set_xlabel("尾数" if position == "last" else "首位数字")
    ax.set_ylabel("占比")
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.legend(fontsize="small")
    ax.set_title(title or ("尾数分布" if position == "last" else "首位数字分布"))
    return fig


def value_heatmap(table: pd.DataFrame, *, ax=None, title: str | None = None,
                  cbar_label: str = "", annot: bool = True):
    """Heatmap of a wide table as given (rows and columns in their order), e.g. two
    units' figures side by side across indicators; blank where NaN."""
    fig, ax = _axes(ax, (min(4 + 1.2 * table.shape[1], 15), max(2.5, 0.3 * len(table) + 1.5)))
    _heatmap(ax, table.astype(float), annot=annot, cbar_label=cbar_label)
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.tick_params(axis="both", labelsize=8)
    if title:
        ax.set_title(title)
    return fig
