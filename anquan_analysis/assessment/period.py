"""One period's assessment: the data brought to the assessment's level (month or
quarter), every check's findings for the period, and the funnel of the key indicator.

``assess_dataset`` builds the panel once (``panel.Panel``) and hands the same panel to
the checks, the funnel and every section table.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field, replace

import pandas as pd

from ..dataset import ANALYSIS_COLUMNS, LEDGER_COUNT_COLUMNS, Dataset
from ..panel import LEVELS, Panel, as_panel, containing
from ..periods import months_in, period_bounds, period_freq, period_name_zh, sort_periods
from .folder import read_data_dir, resolve_path, skipped_files

# Months of history a period is judged on (``assess_dataset``'s ``lookback``): a
# campaign year, long enough for group_shift's eight months and the digit tests, the
# same for every period once a year of data is in (see docs/CONTRACTS.md, "Look-back").
LOOKBACK_MONTHS = 12

# The key indicator when neither the settings nor the data say otherwise; an
# assessment's own is ``Assessment.key_indicator`` (``key_indicator``).
KEY_INDICATOR = "major_hazards_found"


def key_indicator(panel: Panel, settings=None, period: str | None = None) -> str | None:
    """The indicator the report ranks units on and leads with: the settings'
    ``key_indicator`` when they name one (even one the data lacks: the sections then
    say so), else the first finding count of the catalogue with a figure up to
    ``period`` (``catalogue.FINDING_COUNTS``: 重大事故隐患排查数, 一般隐患排查数,
    火灾隐患排查数), else None (no finding count at all: 池州's accidents)."""
    import numpy as np

    from ..catalogue import FINDING_COUNTS

    named = settings.key_indicator_code() if settings is not None else None
    if named:
        return named
    for code in FINDING_COUNTS:
        if panel.has(code) and not np.isnan(panel.totals([code], period)).all():
            return code
    return None


_key_from_data = key_indicator  # assess_dataset's keyword of the same name hides it


def period_label(dataset, period: str) -> str:
    """The period as the report names it: 2024年第三季度, 2024年9月; 2024年1—6月累计 when
    its figures were typed as 累计 and are the first of their series (they hold the
    months before it too: ``ingest_findings.first_cumulative``)."""
    from ..ingest_findings import first_cumulative
    from ..periods import period_bounds

    if first_cumulative(dataset, period):
        end = period_bounds(period)[1]
        return f"{end.year}年1—{end.month}月累计"
    return period_name_zh(period)


class PeriodNotFound(ValueError):
    """The requested period has no data; the message lists the periods that do."""


def available_periods(data, level: str) -> list[str]:
    """The periods at ``level`` for which there are figures, in time order.  ``data``
    is a panel, a frame with a ``period`` column, or the periods themselves."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {sorted(LEVELS)}, not {level!r}")
    if isinstance(data, Panel):
        periods = data.periods
    elif isinstance(data, pd.DataFrame):
        periods = pd.unique(data["period"].dropna())
    else:
        periods = data
    target = LEVELS[level]
    freqs = "MQHY"[:"MQHY".index(target) + 1]
    return sort_periods(str(p) if level == "month" else containing(str(p), target)
                        for p in periods if period_freq(str(p)) in freqs)


def require_period(data, period: str, level: str) -> None:
    """Raise ``PeriodNotFound`` naming the periods that exist if ``period`` has no
    data at ``level``, or ValueError if the level is unknown or the period is not
    of that level."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {sorted(LEVELS)}, not {level!r}")
    if period_freq(period) != LEVELS[level]:
        right = {f: lv for lv, f in LEVELS.items()}[period_freq(period)]
        raise ValueError(f"period {period!r} is not a {level}; use level={right!r}")
    present = available_periods(data, level)
    if period not in present:
        listed = "、".join(present) if present else "（无）"
        raise PeriodNotFound(f"{period} 没有数据 / no data for {period}. "
                             f"有数据的期间 / periods with data: {listed}")


def ledger_counts_to_level(counts: pd.DataFrame, level: str) -> pd.DataFrame:
    """Effective ledger counts (LEDGER_COUNT_COLUMNS, monthly) summed to ``level``."""
    if counts is None or counts.empty:
        return pd.DataFrame(columns=LEDGER_COUNT_COLUMNS)
    if level not in LEVELS:
        raise ValueError(f"level must be one of {sorted(LEVELS)}, not {level!r}")
    period = counts["period"].astype(str)
    if level != "month":
        target = LEVELS[level]
        finer = "MQHY"[:"MQHY".index(target) + 1]
        period = period.map({p: containing(p, target) if period_freq(p) in finer else None
                             for p in period.unique()})
    df = counts.assign(period=period).dropna(subset=["period"])
    value_cols = [c for c in LEDGER_COUNT_COLUMNS if c not in ("unit", "period", "sector")]
    return (df.groupby(["unit", "period", "sector"], dropna=False, sort=False)[value_cols]
            .sum().reset_index()[LEDGER_COUNT_COLUMNS])


@dataclass
class Assessment:
    """Everything the report shows for one period.

    Attributes
    ----------
    dataset : Dataset
        The data as read (exposure, rejects, reconciliation …), with its ledger counts
        at the assessment level.
    panel : Panel
        The figures at the assessment level (``Panel.at_level``): what every table and
        check of the assessment reads.
    period, level : str
        The canonical period assessed, and "month", "quarter", "half" or "year".
    findings : DataFrame
        Every check's findings for the period (``findings.FINDINGS_COLUMNS``).
    funnel : DataFrame
        ``checks.outliers.funnel_table`` of the key indicator in the period.
    thresholds : dict
        The checks' options used.
    roster : DataFrame or None
        The office's roster of units (``roster.ROSTER_COLUMNS``), None without one.
    settings : settings.Settings or None
        The office's settings, None for the defaults.
    key_indicator : str or None
        The indicator the report ranks on and leads with (``key_indicator``); None
        when the data hold no finding count and the settings name none.
    unmet : DataFrame
        The checks the data cannot feed, and why (``checks.unmet_needs``): the
        sections say "需至少N期数据" or "本期数据未包含…" instead of "未发现".
    label : str
        The period as the report names it (``period_label``: 2024年1—6月累计 for a
        first 累计 period).
    provenance : dict or None
        Where the data came from (``provenance.build_provenance``): the data folder,
        each file with its SHA-256 and row counts, the package version; None when
        not known (a dataset built in memory).
    lookback : int or None
        Months of history the checks judged (``assess_dataset``), None for the
        campaign to date.
    judged : dict
        The span judged (``judged_span``): first, last, months, lookback, full, text.
    """

    dataset: Dataset
    panel: Panel
    period: str
    level: str
    findings: pd.DataFrame
    funnel: pd.DataFrame
    thresholds: dict = field(default_factory=dict)
    roster: pd.DataFrame | None = None
    settings: object = None
    key_indicator: str | None = KEY_INDICATOR
    unmet: pd.DataFrame = field(default_factory=pd.DataFrame)
    label: str = ""
    provenance: dict | None = None
    lookback: int | None = LOOKBACK_MONTHS
    judged: dict = field(default_factory=dict)

    @property
    def period_zh(self) -> str:
        """The period as the report names it (``label``; 2024年第三季度 by default)."""
        return self.label or period_name_zh(self.period)

    @property
    def has_exposure(self) -> bool:
        """Whether the data give enterprises supervised (监管企业数) per unit."""
        e = self.dataset.exposure
        return e is not None and len(e) > 0

    @property
    def frame(self) -> pd.DataFrame:
        """The figures at the assessment level as a long frame (``Panel.to_frame``),
        for the tables that list rows (the roster's, the bulletin's annex)."""
        return self.panel.to_frame()


def assess_dataset(ds: Dataset, period: str, level: str, thresholds: dict | None = None,
                   *, roster: pd.DataFrame | None = None, report_dates: pd.DataFrame | None = None,
                   settings=None, key_indicator: str | None = None,
                   provenance: dict | None = None,
                   lookback: int | None = LOOKBACK_MONTHS) -> Assessment:
    """Bring ``ds`` to ``level``, check that ``period`` has data (``PeriodNotFound``
    otherwise), run every check for the period (``checks.run_checks``, options
    from ``thresholds``) and the funnel table of the key indicator (``key_indicator``,
    else the settings', else the data's: ``key_indicator``), all on one panel.  With a
    ``roster`` or ``report_dates`` the reporting findings
    (``roster.reporting_findings``: 未报送, 迟报, names not on the roster) are
    appended; their options are the ``thresholds`` of those check ids.
    ``provenance`` is kept on the result as it is.

    The checks, the funnel and the unmet needs judge the ``lookback`` months ending
    with the period (``Panel.look_back``; None: all history up to it, the campaign to
    date), so that periods with a full look-back are judged on as much data each and
    their alert counts compare; ``Assessment.judged`` names the span.  The tables of
    the report still read the whole panel (``Assessment.panel``)."""
    from ..checks import run_checks, unmet_needs
    from ..checks.outliers import funnel_table
    from ..findings import INGEST_CHECKS, REPORTING_CHECKS, concat_findings
    from ..ingest_findings import ingest_findings

    thresholds = dict(thresholds or {})
    full = as_panel(ds.panel)
    require_period(full, period, level)
    pv = full.at_level(level)
    judged = pv.look_back(period, lookback)
    lv = replace(ds, ledger_counts=ledger_counts_to_level(ds.ledger_counts, level))
    options = {k: v for k, v in thresholds.items()
               if k not in REPORTING_CHECKS and k not in INGEST_CHECKS}
    key = key_indicator or _key_from_data(pv, settings, period)
    for check in ("surge", "group_shift"):  # the checks following one indicator follow the key
        if key is not None and "indicator" not in options.get(check, {}):
            options[check] = {**options.get(check, {}), "indicator": key}
    # the ledger's counts follow the panel's window (low_self_report, sector_concentration)
    judged_ds = replace(lv, ledger_counts=_counts_within(lv.ledger_counts, judged.periods))
    # the office may hold the single-unit checks to one error rate (anquan.toml)
    suite = bool(getattr(settings, "suite_level", False))
    findings = run_checks(judged_ds, period=period, panel=judged, suite_level=suite, **options)
    if level != "month":  # what the months (and quarters) inside found, the union
        findings = concat_findings([findings, inner_findings(
            ds, full, period, level, findings, options=options, lookback=lookback,
            suite_level=suite)])
    # ingest (ingest_findings.py): its side tables, outside the check registry
    findings = concat_findings([findings, ingest_findings(lv, period)])
    # reporting (roster.py): outside the check registry, see findings.REPORTING_CHECKS
    if roster is not None or (report_dates is not None and len(report_dates)):
        from ..roster import reporting_findings

        extra = {k: v for k, v in thresholds.items() if k in REPORTING_CHECKS}
        if settings is not None:
            extra.setdefault("late_report", {
                "deadline_day": settings.report_deadline_day,
                "months_after": settings.report_deadline_months_after})
        findings = concat_findings([findings, reporting_findings(
            pv.to_frame(), period, roster=roster, report_dates=report_dates, options=extra)])
    # the funnel of the report is the one low_outlier judges: the same model and options
    takes = inspect.signature(funnel_table).parameters
    same = {k: v for k, v in thresholds.get("low_outlier", {}).items()
            if k in takes and k not in ("indicator", "exposure", "period")}
    # with no key indicator the funnel is empty (KEY_INDICATOR is then absent too)
    funnel = funnel_table(judged, indicator=key or KEY_INDICATOR, exposure=lv.exposure,
                          period=period, **same)
    unmet = unmet_needs(judged, period, ledger_counts=judged_ds.ledger_counts, **options)
    if level != "month" and len(unmet):
        # a check the months could judge was judged there (inner_findings): not "未作判断"
        months = full.at_level("month")
        inside = [m for m in available_periods(months, "month") if m <= max(months_in(period))
                  and m >= min(months_in(period))]
        if inside:
            last = months.look_back(inside[-1], lookback)
            monthly = unmet_needs(last, inside[-1], ledger_counts=_counts_within(
                ds.ledger_counts, last.periods), **options)
            unmet = unmet.loc[unmet["check"].isin(set(monthly["check"]))].reset_index(drop=True)
    return Assessment(dataset=lv, panel=pv, period=period, level=level, findings=findings,
                      funnel=funnel, thresholds=thresholds, roster=roster, settings=settings,
                      key_indicator=key, unmet=unmet, label=period_label(lv, period),
                      provenance=provenance, lookback=lookback,
                      judged=judged_span(judged, period, lookback, suite_level=suite))


def inner_findings(ds: Dataset, full: Panel, period: str, level: str, own: pd.DataFrame, *,
                   options: dict, lookback: int | None,
                   suite_level: bool = False) -> pd.DataFrame:
    """The 预警 and 关注 findings of the shorter periods inside ``period`` (its months;
    for a half-year or a year its quarters too) that ``own``, the period's own
    findings, lacks: so a quarter's report holds everything its months found.

    Each shorter period is judged as its own report judges it (the same options,
    look-back and ``suite_level``).  A finding counts as held when ``own`` has one of
    the same check, unit (or group) and indicator; of the same finding in several
    shorter periods the most severe is kept, then the earliest.  Each kept finding
    keeps its own period (the month it was found in) and its message is headed by
    where it was found:
    ``（2024年7月月度评估发现）``.  Checks only: the ingest and reporting findings
    already cover the whole period.  ``ds``, ``full`` and ``own`` are not modified.

    Returns
    -------
    DataFrame of ``findings.FINDINGS_COLUMNS`` (empty when there is nothing to add).
    """
    from ..checks import run_checks
    from ..findings import empty_findings

    inner_levels = ["month"] + (["quarter"] if level in ("half", "year") else [])
    frames = []
    for inner in inner_levels:
        pv = full.at_level(inner)
        inside = [p for p in available_periods(pv, inner)
                  if set(months_in(p)) <= set(months_in(period))]
        counts = ledger_counts_to_level(ds.ledger_counts, inner)
        for p in inside:
            judged = pv.look_back(p, lookback)
            sub = replace(ds, ledger_counts=_counts_within(counts, judged.periods))
            f = run_checks(sub, period=p, panel=judged, suite_level=suite_level, **options)
            f = f.loc[f["severity"].isin(["alert", "warning"])]
            if len(f):
                found = f"（{period_name_zh(p)}{'月度' if inner == 'month' else '季度'}评估发现）"
                frames.append(f.assign(message=found + f["message"], _found=p))
    if not frames:
        return empty_findings()
    f = pd.concat(frames, ignore_index=True)
    key = ["check", "unit", "unit_type", "indicator"]

    def keys(frame) -> pd.Series:
        cells = frame[key].astype("str").fillna("")
        return pd.Series(["|".join(r) for r in cells.itertuples(index=False)],
                         index=frame.index, dtype="str")
    f = f.loc[~keys(f).isin(set(keys(own)))]
    rank = f["severity"].map({"alert": 0, "warning": 1})
    order = f["_found"].map(lambda p: period_bounds(p))
    f = (f.assign(_r=rank, _o=order, _k=keys(f))
         .sort_values(["_r", "_o"], kind="stable")
         .drop_duplicates("_k"))
    return f.drop(columns=["_r", "_o", "_k", "_found"]).reset_index(drop=True)


def _counts_within(counts, periods) -> pd.DataFrame:
    """The ledger counts of ``periods`` only (all of them when there are none)."""
    if counts is None or len(counts) == 0:
        return counts
    return counts.loc[counts["period"].astype(str).isin([str(p) for p in periods])]


def judged_span(panel: Panel, period: str, lookback: int | None, *,
                suite_level: bool = False) -> dict:
    """What a period was judged on: ``first`` and ``last`` month with a figure in the
    look-back, ``months`` (how many months that spans), ``lookback`` (the option; None
    for the campaign to date) and ``full`` (whether the data fill the look-back, so
    the alert count compares with other full periods), and ``text``, the sentence the
    report and the index show: 判断依据：2024年1月—9月数据（9个月；回看期12个月，数据未满）;
    with ``suite_level`` it adds that the single-unit checks were judged together."""
    from ..periods import months_in

    spans = [months_in(str(p)) for p in panel.periods]
    months = sorted({m for ms in spans for m in ms})
    if not months:
        return {"first": None, "last": None, "months": 0, "lookback": lookback,
                "full": False, "text": "判断依据：无数据"}
    first, last = months[0], months[-1]
    n = (pd.Period(last, freq="M") - pd.Period(first, freq="M")).n + 1
    full = lookback is not None and n >= lookback
    span = f"{_month_zh(first)}—{_month_zh(last, first)}"
    if lookback is None:
        tail = "，截至本期累计"
    elif full:
        tail = f"，回看期{lookback}个月"
    else:
        tail = f"；回看期{lookback}个月，数据未满，预警数不宜与数据已满的期间直接比较"
    together = "；针对单个单位的九项检查合并控制误报" if suite_level else ""
    return {"first": first, "last": last, "months": int(n), "lookback": lookback,
            "full": bool(full), "text": f"判断依据：{span}数据（{n}个月{tail}）{together}"}


def _month_zh(month: str, after: str | None = None) -> str:
    """2024年9月, or 9月 when ``after`` is of the same year."""
    if after is not None and after[:4] == month[:4]:
        return f"{int(month[5:])}月"
    return f"{month[:4]}年{int(month[5:])}月"


def merge_thresholds(*layers: dict | None) -> dict:
    """The checks' options of several layers (the settings file's, then the command
    line's), a later layer's keyword winning over an earlier one's for the same
    check: {check id: {keyword: value}}.  The layers are not modified."""
    out: dict = {}
    for layer in layers:
        for check, options in (layer or {}).items():
            out[check] = {**out.get(check, {}), **dict(options)}
    return out


def run_assessment(data_dir, period: str, level: str, thresholds: dict | None = None,
                   *, key_indicator: str | None = None) -> Assessment:
    """``assess_dataset`` over the files of ``data_dir``, with the office's settings
    (``anquan.toml``: its thresholds under the ones given, keyword by keyword;
    its key indicator unless ``key_indicator`` is given; its ``lookback_months``, 0
    for the campaign to date), roster and report dates
    when the folder has them, and the provenance of the data (kept in the folder by
    ``anquan assess`` or ``anquan ingest --output``, else computed here)."""
    from ..provenance import build_provenance, load_provenance
    from ..roster import load_report_dates, load_roster
    from ..settings import load_settings

    if level not in LEVELS:
        raise ValueError(f"level must be one of {sorted(LEVELS)}, not {level!r}")
    d = resolve_path(data_dir)
    settings = load_settings(d)
    if key_indicator is not None:
        settings = replace(settings, key_indicator=key_indicator)
    merged = merge_thresholds(settings.thresholds, thresholds)
    # the source columns (file, sheet, row) are a third of a panel's memory and no
    # part of an assessment reads them
    ds = read_data_dir(d, columns=ANALYSIS_COLUMNS)
    prov = load_provenance(d)
    if prov is None:
        raw = not (d / "panel.parquet").is_file()
        prov = build_provenance(d, ds.summary, skipped=skipped_files(d) if raw else ())
    return assess_dataset(ds, period, level, merged, roster=load_roster(d),
                          report_dates=load_report_dates(d), settings=settings,
                          key_indicator=settings.key_indicator_code(), provenance=prov,
                          lookback=settings.lookback_months or None)
