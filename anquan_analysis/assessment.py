"""One period's assessment, as the notebook ``period_assessment.ipynb`` shows it.

``run_assessment`` reads a data folder, brings the panel to the assessment level
(month or quarter), runs every check for the period and the funnel table; the
``*_table`` functions give each bulletin section its table with Chinese headers;
``summary`` and ``save_outputs`` record the key figures (summary.json) and write
findings.xlsx.  The notebook only calls these and shows the results.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import config
from .catalogue import unit_type_name
from .dataset import LEDGER_COUNT_COLUMNS, PANEL_COLUMNS, Dataset, compact_panel
from .findings import CHECK_FAMILIES
from .periods import months_in, period_freq, period_name_zh, sort_periods, to_quarter
from .roster import REPORT_DATES_FILE, ROSTER_FILES

LEVELS = {"month": "M", "quarter": "Q"}
# Files of the bundled synthetic city that are not office inputs, or that repeat
# another file's figures: truth.csv is the generator's answer key; reports_messy.xlsx
# holds the same figures as reports_clean.csv, typed the way offices type them.
SKIP_FILES = {"truth.csv", "readme.md"}
# The office's own files beside its reports: the roster of units, the reports' dates
# kept for an ingested dataset (roster.py).  anquan.toml and the reports folder are
# not CSV/XLSX files and are never read as data.
SKIP_FILES |= {name.lower() for name in (*ROSTER_FILES, REPORT_DATES_FILE)}
ALTERNATES = {"reports_messy.xlsx": "reports_clean.csv"}
INPUT_SUFFIXES = {".csv", ".xlsx", ".xlsm", ".xls"}
KEY_INDICATOR = "major_hazards_found"


class PeriodNotFound(ValueError):
    """The requested period has no data; the message lists the periods that do."""


# ------------------------------------------------------------------------ inputs
def resolve_path(path) -> Path:
    """``path`` as given if it exists (absolute, or relative to the working folder),
    else relative to the project root (so notebooks run from ``notebooks/`` find
    ``data/raw/…``)."""
    p = Path(path)
    if p.is_absolute() or p.exists():
        return p
    return config.ROOT / p


def data_files(data_dir) -> list[Path]:
    """The input files of a data folder, sorted: every CSV/XLSX except the answer
    key and any file whose clean alternate is present (see ``ALTERNATES``)."""
    d = resolve_path(data_dir)
    if not d.is_dir():
        raise FileNotFoundError(f"data folder not found: {d}")
    files = {f.name: f for f in d.iterdir()
             if f.is_file() and f.suffix.lower() in INPUT_SUFFIXES and not f.name.startswith(".")}
    keep = [f for name, f in files.items()
            if name.lower() not in SKIP_FILES and ALTERNATES.get(name) not in files]
    if not keep:
        raise FileNotFoundError(f"no CSV or Excel files in {d}")
    return sorted(keep)


def read_data_dir(data_dir, *, compact: bool = False) -> Dataset:
    """The dataset of a folder: ``Dataset.load`` if it holds an ingested dataset
    (``panel.parquet``, as ``anquan ingest --output`` writes), else ``ingest.ingest``
    over ``data_files(data_dir)``.  ``compact=True`` gives the panel's repeated text
    columns as categoricals (``dataset.compact_panel``; the same values), read
    straight from the parquet file's dictionaries where there is one: a province's
    panel loads four times faster, and the checks and tables group on integer codes
    (the unit alias report is then not read, see ``_load_compact``)."""
    d = resolve_path(data_dir)
    if (d / "panel.parquet").is_file():
        ds = _load_compact(d) if compact else Dataset.load(d)
    else:
        from .ingest import ingest

        ds = ingest(data_files(d))
    if compact:
        ds.panel = compact_panel(ds.panel)
    return ds


def _load_compact(d: Path) -> Dataset:
    """``Dataset.load(d)`` with the panel's key columns as categoricals, without the
    unit alias report, which no assessment shows (``at_level`` drops it) and which
    for a province lists some 20,000 near-duplicate name pairs."""
    return Dataset.load(d, categorical=True, skip=("unit_aliases",))


def read_periods(data_dir) -> pd.Series:
    """The distinct periods of a data folder's panel, all that planning a run needs:
    of an ingested dataset only the ``period`` column is read (as its parquet
    dictionary); raw files are ingested."""
    d = resolve_path(data_dir)
    if (d / "panel.parquet").is_file():
        col = pd.read_parquet(d / "panel.parquet", columns=["period"],
                              read_dictionary=["period"])["period"]
        periods = col.cat.categories[np.unique(col.cat.codes[col.cat.codes >= 0])]
    else:
        periods = pd.unique(read_data_dir(d).panel["period"].dropna())
    return pd.Series(periods, name="period", dtype="str")


# ------------------------------------------------------------------------ levels
def _level_of(periods: pd.Series, level: str) -> pd.Series:
    """Each period at ``level``: months map to their quarter; periods that cannot be
    expressed at the level (a quarter at month level, a half-year) map to NaN."""
    freq = LEVELS[level]
    uniq = pd.unique(periods.dropna())
    if freq == "M":
        mapping = {p: p if period_freq(p) == "M" else None for p in uniq}
    else:
        mapping = {p: to_quarter(p) if period_freq(p) in ("M", "Q") else None for p in uniq}
    return periods.map(mapping)


def to_level(panel: pd.DataFrame, level: str) -> pd.DataFrame:
    """The panel at ``level`` ("month" or "quarter"): at month level the monthly rows;
    at quarter level the sum of each unit's in-period monthly values within each
    quarter (plus any rows reported quarterly).  A quarter with months missing is the
    sum of the months present.  ``approx`` is True if any summed figure was; source
    columns keep the first row's.  Returns PANEL_COLUMNS; ``panel`` is not modified."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {sorted(LEVELS)}, not {level!r}")
    missing = [c for c in PANEL_COLUMNS if c not in panel.columns]
    if missing:
        raise ValueError(f"to_level: missing column {missing[0]!r}")
    df = panel.assign(period=_level_of(panel["period"], level)).dropna(subset=["period"])
    if level == "month":
        return df[PANEL_COLUMNS].reset_index(drop=True)
    keys = ["unit", "unit_type", "parent", "period", "indicator"]
    out = (df.groupby(keys, dropna=False, sort=False)
           .agg(value=("value", "sum"), approx=("approx", "any"),
                source_file=("source_file", "first"), source_sheet=("source_sheet", "first"),
                source_row=("source_row", "min"))
           .reset_index())
    out["source_row"] = out["source_row"].astype("int64")
    return out[PANEL_COLUMNS]


def ledger_counts_to_level(counts: pd.DataFrame, level: str) -> pd.DataFrame:
    """Effective ledger counts (LEDGER_COUNT_COLUMNS, monthly) summed to ``level``."""
    if counts is None or counts.empty:
        return pd.DataFrame(columns=LEDGER_COUNT_COLUMNS)
    df = counts.assign(period=_level_of(counts["period"].astype(str), level)).dropna(
        subset=["period"])
    value_cols = [c for c in LEDGER_COUNT_COLUMNS if c not in ("unit", "period", "sector")]
    return (df.groupby(["unit", "period", "sector"], dropna=False, sort=False)[value_cols]
            .sum().reset_index()[LEDGER_COUNT_COLUMNS])


def at_level(ds: Dataset, level: str) -> Dataset:
    """A copy of ``ds`` whose panel and ledger counts are at ``level``."""
    return Dataset(panel=to_level(ds.panel, level), rejects=ds.rejects, exposure=ds.exposure,
                   ledger=ds.ledger, ledger_counts=ledger_counts_to_level(ds.ledger_counts, level),
                   reconciliation=ds.reconciliation, unknown_columns=ds.unknown_columns,
                   summary=ds.summary)


def available_periods(panel: pd.DataFrame, level: str) -> list[str]:
    """The periods at ``level`` for which the panel holds data, in time order."""
    return sort_periods(_level_of(panel["period"], level).dropna().unique())


def require_period(panel: pd.DataFrame, period: str, level: str) -> None:
    """Raise ``PeriodNotFound`` naming the periods that exist if ``period`` has no
    data at ``level``, or ValueError if the level is unknown or the period is not
    of that level."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {sorted(LEVELS)}, not {level!r}")
    if period_freq(period) != LEVELS[level]:
        raise ValueError(f"period {period!r} is not a {level}; use level="
                         f"{'quarter' if period_freq(period) == 'Q' else 'month'!r}")
    present = available_periods(panel, level)
    if period not in present:
        listed = "、".join(present) if present else "（无）"
        raise PeriodNotFound(f"{period} 没有数据 / no data for {period}. "
                             f"有数据的期间 / periods with data: {listed}")


# -------------------------------------------------------------------- assessment
@dataclass
class Assessment:
    """Everything the notebook shows for one period.

    dataset   the data at the assessment level (panel, ledger counts per period)
    period    the canonical period assessed; level "month" or "quarter"
    findings  every check's findings for the period (findings.FINDINGS_COLUMNS)
    funnel    checks.outliers.funnel_table for the key indicator in the period
    roster    the office's roster of units (roster.ROSTER_COLUMNS), None without one
    settings  the office's settings (settings.Settings), None for the defaults
    """

    dataset: Dataset
    period: str
    level: str
    findings: pd.DataFrame
    funnel: pd.DataFrame
    thresholds: dict = field(default_factory=dict)
    roster: pd.DataFrame | None = None
    settings: object = None

    @property
    def period_zh(self) -> str:
        return period_name_zh(self.period)

    @property
    def panel(self) -> pd.DataFrame:
        return self.dataset.panel


def assess_dataset(ds: Dataset, period: str, level: str, thresholds: dict | None = None,
                   *, roster: pd.DataFrame | None = None, report_dates: pd.DataFrame | None = None,
                   settings=None) -> Assessment:
    """Bring ``ds`` to ``level``, check that ``period`` has data (``PeriodNotFound``
    otherwise), run every check for the period (``checks.run_checks``, options
    from ``thresholds``) and the funnel table of the key indicator.  With a
    ``roster`` or ``report_dates`` the reporting findings (``roster.reporting_findings``:
    未报送, 迟报, names not on the roster) are appended; their options are the
    ``thresholds`` of those check ids."""
    from .checks import run_checks
    from .checks.outliers import funnel_table
    from .findings import REPORTING_CHECKS, concat_findings

    thresholds = dict(thresholds or {})
    require_period(ds.panel, period, level)
    lv = at_level(ds, level)
    options = {k: v for k, v in thresholds.items() if k not in REPORTING_CHECKS}
    findings = run_checks(lv, period=period, **options)
    # --- reporting (roster.py): outside the check registry, see findings.REPORTING_CHECKS
    if roster is not None or (report_dates is not None and len(report_dates)):
        from .roster import reporting_findings

        extra = {k: v for k, v in thresholds.items() if k in REPORTING_CHECKS}
        if settings is not None:
            extra.setdefault("late_report", {
                "deadline_day": settings.report_deadline_day,
                "months_after": settings.report_deadline_months_after})
        findings = concat_findings([findings, reporting_findings(
            lv.panel, period, roster=roster, report_dates=report_dates, options=extra)])
    funnel = funnel_table(lv.panel, indicator=KEY_INDICATOR, exposure=lv.exposure, period=period)
    return Assessment(dataset=lv, period=period, level=level, findings=findings, funnel=funnel,
                      thresholds=thresholds, roster=roster, settings=settings)


def run_assessment(data_dir, period: str, level: str, thresholds: dict | None = None
                   ) -> Assessment:
    """``assess_dataset`` over the files of ``data_dir``, with the office's settings
    (``anquan.toml``: its thresholds under the ones given), roster and report dates
    when the folder has them."""
    from .roster import load_report_dates, load_roster
    from .settings import load_settings

    if level not in LEVELS:
        raise ValueError(f"level must be one of {sorted(LEVELS)}, not {level!r}")
    d = resolve_path(data_dir)
    settings = load_settings(d)
    merged = {**settings.thresholds, **(thresholds or {})}
    return assess_dataset(read_data_dir(d, compact=True), period, level, merged,
                          roster=load_roster(d), report_dates=load_report_dates(d),
                          settings=settings)


# ---------------------------------------------------------------------- sections
def _in_period(df: pd.DataFrame, period: str) -> pd.DataFrame:
    # compared as it is: a categorical column compares its codes, not a text per row
    return df.loc[(df["period"] == period).to_numpy(dtype=bool)]


def progress_table(a: Assessment) -> pd.DataFrame:
    """总体进展: every indicator reported, total over all units in the period and
    the period before, the change and the growth rate, and the campaign total to
    date.  Chinese headers, catalogue order."""
    from .indicators import action_totals

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
        "单位类型": f["unit_type"].map(unit_type_name).to_numpy(),
        "排查数": f["observed"].to_numpy(), "监管企业数": f["exposure"].to_numpy(),
        "期望值": f["expected"].round(1).to_numpy(), "实际/期望": f["ratio"].round(2).to_numpy(),
        "偏离度z": f["z"].round(2).to_numpy(),
        "按数量排名": f["observed"].rank(ascending=False, method="min").astype("int64").to_numpy(),
    })


def findings_table(a: Assessment, *, family: str | None = None, checks=None) -> pd.DataFrame:
    """The period's findings of one family or of the listed checks, Chinese headers
    (see ``report.findings_zh``), most severe first."""
    from .report import findings_zh

    f = a.findings
    if family is not None:
        f = f.loc[f["family"] == family]
    if checks is not None:
        f = f.loc[f["check"].isin(list(checks))]
    return findings_zh(f).reset_index(drop=True)


def sector_table(a: Assessment) -> pd.DataFrame:
    """行业领域: effective major hazards per sector in the period (ledger counts),
    every catalogue sector listed, with its share; columns sector, found, share."""
    from .indicators import sector_shares

    counts = _in_period(a.dataset.ledger_counts, a.period)
    if counts.empty:
        return pd.DataFrame({"sector": pd.Series(dtype="str"), "found": pd.Series(dtype=float),
                             "share": pd.Series(dtype=float)})
    s = sector_shares(counts, value="found")
    return s[["sector", "count", "share"]].rename(columns={"count": "found"})


def sector_summary(a: Assessment) -> pd.DataFrame:
    """The sector profile of the period in one row: total, top two sectors and
    their share, sectors with 0, HHI; Chinese headers."""
    from .indicators import sector_profile

    counts = _in_period(a.dataset.ledger_counts, a.period)
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
    from .indicators import self_report_share

    # the period's rows only: the shares are in-period, and a province's panel is long
    s = self_report_share(_in_period(a.panel, a.period), cumulative=False)
    s = s.assign(group=s["unit_type"].map(unit_type_name).fillna("其他"))
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
    """The panel at the assessment level up to and including the period, of one
    ``indicator`` or all (for the heatmap and the unit series)."""
    from .indicators import in_window

    p = a.panel if indicator is None else a.panel.loc[a.panel["indicator"] == indicator]
    return p.loc[in_window(p["period"], a.period, cumulative=True)]


def heatmap_units(a: Assessment, *, family: str = "balance", indicator: str = KEY_INDICATOR,
                  max_units: int = 40) -> tuple[list[str], list[str]]:
    """The rows of the unit × period heatmap: the units named by the findings of
    ``family`` (most severe first), then the units with the largest totals of
    ``indicator`` to date, ``max_units`` in all.  Returns (units, flagged units)."""
    from .dataset import as_text

    f = a.findings.loc[(a.findings["family"] == family) & a.findings["unit"].notna()]
    # most severe first, whatever order the table is in (run_checks sorts it so)
    rank = f["severity"].map({"alert": 0, "warning": 1, "info": 2})
    f = f.assign(_r=rank).sort_values("_r", kind="stable")
    flagged = list(dict.fromkeys(f["unit"].astype(str)))[:max_units]
    h = as_text(history(a, indicator)[["unit", "value"]])
    totals = h.groupby("unit")["value"].sum().sort_values(ascending=False, kind="stable")
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
    from .periods import shift_period

    # the two indicators first: a group-by over a province's every row takes 0.2 s
    key = a.panel.loc[a.panel["indicator"].isin([KEY_INDICATOR, "major_hazards_rectified"])
                      .to_numpy(dtype=bool)]
    totals = key.groupby(["period", "indicator"], observed=True)["value"].sum()

    def total(period, code):
        return float(totals.get((period, code), float("nan")))

    found = total(a.period, KEY_INDICATOR)
    prev = total(shift_period(a.period, -1), KEY_INDICATOR)
    rect = total(a.period, "major_hazards_rectified")
    units = _in_period(a.panel, a.period)["unit"].nunique()
    text = f"{a.period_zh}，{units}个单位报送调度数据，共排查重大事故隐患{found:.0f}项"
    if prev == prev:  # not NaN: the previous period has data
        change = found - prev
        text += f"（上期{prev:.0f}项，{'增加' if change >= 0 else '减少'}{abs(change):.0f}项）"
    if rect == rect:
        text += f"，整改{rect:.0f}项"
    n_alert = int((a.findings["severity"] == "alert").sum())
    n_warn = int((a.findings["severity"] == "warning").sum())
    return text + f"。各项检查共发现预警{n_alert}条、关注{n_warn}条，详见以下各节及附表。"


# ------------------------------------------------------------------------ record
def summary(a: Assessment) -> dict:
    """The key figures of the assessment, as recorded in summary.json: period,
    level, units reporting, hazards found in the period (sum of the key indicator
    over units), and per check the number of findings and of alerts."""
    cur = _in_period(a.panel, a.period)
    hazards = float(cur.loc[cur["indicator"] == KEY_INDICATOR, "value"].sum())
    f = a.findings
    checks = sorted(set(CHECK_FAMILIES) | set(f["check"].dropna()))
    per_check = f.groupby("check").size().reindex(checks, fill_value=0)
    alerts = f.loc[f["severity"] == "alert"].groupby("check").size().reindex(checks, fill_value=0)
    return {
        "period": a.period, "period_zh": a.period_zh, "level": a.level,
        "months": months_in(a.period),
        "units_reporting": int(cur["unit"].nunique()),
        "hazards_found": hazards,
        "findings_total": int(len(f)), "alerts_total": int(alerts.sum()),
        "findings_per_check": {k: int(v) for k, v in per_check.items()},
        "alerts_per_check": {k: int(v) for k, v in alerts.items()},
        "thresholds": a.thresholds,
    }


def save_outputs(a: Assessment, output_dir, *, draft: str | None = None) -> dict:
    """Write findings.xlsx (with the ingest rejects), bulletin.docx (the 通报 in the
    official layout, ``bulletin_docx.bulletin_from_assessment``) and summary.json
    (``summary`` plus the drafted paragraph) into ``output_dir``; returns the summary."""
    from .bulletin_docx import bulletin_from_assessment
    from .io import write_text_atomic
    from .report import write_findings_xlsx

    out = Path(output_dir)
    write_findings_xlsx(a.findings, out / "findings.xlsx", rejects=a.dataset.rejects)
    bulletin_from_assessment(a, out / "bulletin.docx")
    record = summary(a)
    if draft is not None:
        record["draft"] = draft
    write_text_atomic(json.dumps(record, ensure_ascii=False, indent=2), out / "summary.json")
    return record


# ------------------------------------------------------------------------ display
# p-values are shown with two significant digits: 3.3e-06, not 0.00.
_PROBABILITY_COLUMNS = {"p_value", "q_value", "p值", "q值"}


def _figure(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def show(table: pd.DataFrame, empty: str = "本期未发现此类问题。", *, max_rows: int = 30):
    """Display a table in a notebook (pandas escapes every cell), or ``empty`` as a
    line of text when it has no rows; long tables show their first ``max_rows``."""
    from IPython.display import Markdown, display

    if table is None or len(table) == 0:
        display(Markdown(f"*{empty}*"))
        return
    shown = table.head(max_rows)
    # Counts without decimals, other figures with two: decided cell by cell, since a
    # totals table mixes counts and 万元 in one column.
    probs = [c for c in shown.columns if str(c) in _PROBABILITY_COLUMNS]
    floats = [c for c in shown.columns
              if pd.api.types.is_float_dtype(shown[c]) and c not in probs]
    style = (shown.style.hide(axis="index")
             .format(precision=2, na_rep="—", escape="html")
             .format(_figure, subset=floats, na_rep="—")
             .format("{:.2g}", subset=probs, na_rep="—"))
    display(style)
    if len(table) > max_rows:
        display(Markdown(f"*（共 {len(table)} 行，仅显示前 {max_rows} 行）*"))


def text_html(text: str, *, heading: str | None = None) -> str:
    """A paragraph (and an optional heading) built from the data, as escaped HTML:
    a unit name is text, never markup."""
    import html as _html

    head = f"<h2>{_html.escape(heading)}</h2>" if heading else ""
    return f"{head}<p>{_html.escape(text)}</p>"


def show_text(text: str, *, heading: str | None = None) -> None:
    """Display ``text_html(text, heading=heading)`` in the notebook."""
    from IPython.display import HTML, display

    display(HTML(text_html(text, heading=heading)))


def notebook_setup() -> None:
    """Plot style with the CJK font, figures drawn once, and pandas display options
    for the notebook.

    In a notebook kernel a figure is otherwise drawn more often than it is shown:
    pyplot's hook after every cell redraws every open figure (for interactive
    windows; the inline backend then renders it to PNG anyway), and the inline
    backend's default ``bbox_inches="tight"`` measures the laid-out figure once more
    before saving it.  The hook is removed and figures are saved at their size
    (every figure of ``plots`` is laid out by matplotlib's constrained layout within
    it): at a province this halves the figures' time.  Outside a kernel nothing is
    changed."""
    from . import plots  # noqa: F401 - registers the CJK font on import

    try:
        import matplotlib.pyplot as plt
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:
        pass
    else:
        if get_ipython() is not None and "inline" in plt.get_backend():
            plt.uninstall_repl_displayhook()
            set_matplotlib_formats("png", bbox_inches=None)
    pd.set_option("display.max_columns", 30)
    pd.set_option("display.width", 200)
    pd.set_option("display.precision", 2)


def close_figures() -> None:
    """Close every open figure (after ``display(fig)`` in a loop, so the inline
    backend does not show them a second time at the end of the cell)."""
    import matplotlib.pyplot as plt

    plt.close("all")
