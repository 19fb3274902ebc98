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
from ..panel import LEVELS, Panel, as_panel
from ..periods import period_freq, period_name_zh, sort_periods, to_quarter
from .folder import read_data_dir, resolve_path, skipped_files

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
    freqs = {"month": ("M",), "quarter": ("M", "Q")}[level]
    return sort_periods(str(p) if level == "month" else to_quarter(str(p))
                        for p in periods if period_freq(str(p)) in freqs)


def require_period(data, period: str, level: str) -> None:
    """Raise ``PeriodNotFound`` naming the periods that exist if ``period`` has no
    data at ``level``, or ValueError if the level is unknown or the period is not
    of that level."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {sorted(LEVELS)}, not {level!r}")
    if period_freq(period) != LEVELS[level]:
        raise ValueError(f"period {period!r} is not a {level}; use level="
                         f"{'quarter' if period_freq(period) == 'Q' else 'month'!r}")
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
    if level == "quarter":
        period = period.map({p: to_quarter(p) if period_freq(p) in ("M", "Q") else None
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
        The canonical period assessed, and "month" or "quarter".
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
                   provenance: dict | None = None) -> Assessment:
    """Bring ``ds`` to ``level``, check that ``period`` has data (``PeriodNotFound``
    otherwise), run every check for the period (``checks.run_checks``, options
    from ``thresholds``) and the funnel table of the key indicator (``key_indicator``,
    else the settings', else the data's: ``key_indicator``), all on one panel.  With a
    ``roster`` or ``report_dates`` the reporting findings
    (``roster.reporting_findings``: 未报送, 迟报, names not on the roster) are
    appended; their options are the ``thresholds`` of those check ids.
    ``provenance`` is kept on the result as it is."""
    from ..checks import run_checks, unmet_needs
    from ..checks.outliers import funnel_table
    from ..findings import INGEST_CHECKS, REPORTING_CHECKS, concat_findings
    from ..ingest_findings import ingest_findings

    thresholds = dict(thresholds or {})
    full = as_panel(ds.panel)
    require_period(full, period, level)
    pv = full.at_level(level)
    lv = replace(ds, ledger_counts=ledger_counts_to_level(ds.ledger_counts, level))
    options = {k: v for k, v in thresholds.items()
               if k not in REPORTING_CHECKS and k not in INGEST_CHECKS}
    key = key_indicator or _key_from_data(pv, settings, period)
    for check in ("surge", "group_shift"):  # the checks following one indicator follow the key
        if key is not None and "indicator" not in options.get(check, {}):
            options[check] = {**options.get(check, {}), "indicator": key}
    findings = run_checks(lv, period=period, panel=pv, **options)
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
    funnel = funnel_table(pv, indicator=key or KEY_INDICATOR, exposure=lv.exposure,
                          period=period, **same)
    unmet = unmet_needs(pv, period, ledger_counts=lv.ledger_counts, **options)
    return Assessment(dataset=lv, panel=pv, period=period, level=level, findings=findings,
                      funnel=funnel, thresholds=thresholds, roster=roster, settings=settings,
                      key_indicator=key, unmet=unmet, label=period_label(lv, period),
                      provenance=provenance)


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
    its key indicator unless ``key_indicator`` is given), roster and report dates
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
                          key_indicator=settings.key_indicator_code(), provenance=prov)
