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
from .folder import read_data_dir, resolve_path

KEY_INDICATOR = "major_hazards_found"


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

    @property
    def period_zh(self) -> str:
        return period_name_zh(self.period)

    @property
    def frame(self) -> pd.DataFrame:
        """The figures at the assessment level as a long frame (``Panel.to_frame``),
        for the tables that list rows (the roster's, the bulletin's annex)."""
        return self.panel.to_frame()


def assess_dataset(ds: Dataset, period: str, level: str, thresholds: dict | None = None,
                   *, roster: pd.DataFrame | None = None, report_dates: pd.DataFrame | None = None,
                   settings=None) -> Assessment:
    """Bring ``ds`` to ``level``, check that ``period`` has data (``PeriodNotFound``
    otherwise), run every check for the period (``checks.run_checks``, options
    from ``thresholds``) and the funnel table of the key indicator, all on one
    panel.  With a ``roster`` or ``report_dates`` the reporting findings
    (``roster.reporting_findings``: 未报送, 迟报, names not on the roster) are
    appended; their options are the ``thresholds`` of those check ids."""
    from ..checks import run_checks
    from ..checks.outliers import funnel_table
    from ..findings import REPORTING_CHECKS, concat_findings

    thresholds = dict(thresholds or {})
    full = as_panel(ds.panel)
    require_period(full, period, level)
    pv = full.at_level(level)
    lv = replace(ds, ledger_counts=ledger_counts_to_level(ds.ledger_counts, level))
    options = {k: v for k, v in thresholds.items() if k not in REPORTING_CHECKS}
    findings = run_checks(lv, period=period, panel=pv, **options)
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
    funnel = funnel_table(pv, indicator=KEY_INDICATOR, exposure=lv.exposure, period=period,
                          **same)
    return Assessment(dataset=lv, panel=pv, period=period, level=level, findings=findings,
                      funnel=funnel, thresholds=thresholds, roster=roster, settings=settings)


def run_assessment(data_dir, period: str, level: str, thresholds: dict | None = None
                   ) -> Assessment:
    """``assess_dataset`` over the files of ``data_dir``, with the office's settings
    (``anquan.toml``: its thresholds under the ones given), roster and report dates
    when the folder has them."""
    from ..roster import load_report_dates, load_roster
    from ..settings import load_settings

    if level not in LEVELS:
        raise ValueError(f"level must be one of {sorted(LEVELS)}, not {level!r}")
    d = resolve_path(data_dir)
    settings = load_settings(d)
    merged = {**settings.thresholds, **(thresholds or {})}
    # the source columns (file, sheet, row) are a third of a panel's memory and no
    # part of an assessment reads them
    return assess_dataset(read_data_dir(d, columns=ANALYSIS_COLUMNS), period, level, merged,
                          roster=load_roster(d),
                          report_dates=load_report_dates(d), settings=settings)
