"""The names an analyst uses in JupyterLab, exported by ``anquan_analysis``::

    import anquan_analysis as aq
    ds = aq.read("data/raw/synthetic_city")
    findings = aq.check(ds, period="2024-09")
    aq.findings_table(findings)
    aq.plot_funnel(aq.funnel(ds, period="2024-09"))
    aq.unit_history(ds, "花溪街道")

Every function takes what ``read`` returns (a ``Dataset``), a data folder, or a
``Panel``, and returns a DataFrame (or a figure, for the ``plot_`` functions).  None
modifies its input.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .dataset import Dataset
from .panel import Panel, as_panel

KEY_INDICATOR = "major_hazards_found"


def read(path, *, categorical: bool = True) -> Dataset:
    """The dataset of a data folder (raw CSV/XLSX reports, exposure table and hazard
    ledger, or a folder written by ``anquan ingest --output``), of one file, or of a
    list of files.

    Parameters
    ----------
    path : str, Path or list of them
    categorical : bool
        The panel's repeated text columns as categoricals (the same values, a
        fraction of the memory).

    Returns
    -------
    Dataset: ``panel`` (the figures, long), ``rejects`` (what could not be read, with
    file, sheet, row and reason), ``exposure``, ``ledger``, ``ledger_counts``,
    ``reconciliation`` (合计 rows against their units).
    """
    from .assessment import read_data_dir, resolve_path
    from .dataset import compact_panel
    from .ingest import ingest

    if isinstance(path, (list, tuple)):
        ds = ingest([resolve_path(p) for p in path])
    elif resolve_path(path).is_dir():
        return read_data_dir(path, compact=categorical)
    else:
        ds = ingest([resolve_path(path)])
    if categorical:
        ds.panel = compact_panel(ds.panel)
    return ds


def _dataset(data) -> Dataset:
    if isinstance(data, Dataset):
        return data
    if isinstance(data, (str, Path)):
        return read(data)
    if isinstance(data, (Panel, pd.DataFrame)):
        return Dataset(panel=data) if isinstance(data, pd.DataFrame) else Dataset()
    raise TypeError(f"expected a Dataset, a data folder or a Panel, not {type(data).__name__}")


def _panel(data) -> Panel:
    return data if isinstance(data, Panel) else as_panel(_dataset(data).panel)


def check(data, period=None, checks=None, **options) -> pd.DataFrame:
    """Every check's findings (``checks.run_checks``): one row per finding, in the
    findings schema (``findings.FINDINGS_COLUMNS``), most severe first.  ``options``
    as ``check_id={threshold: value}``."""
    from .checks import run_checks

    ds = _dataset(data)
    return run_checks(ds, period=period, checks=checks,
                      panel=data if isinstance(data, Panel) else None, **options)


def assess(data, period: str, level: str | None = None, thresholds: dict | None = None):
    """One period's assessment (``assessment.Assessment``): findings, funnel, and
    the report's section tables through ``assessment.progress_table(a)`` and the
    like.  ``level`` defaults to the period's own (month, quarter, half or year)."""
    from .assessment import assess_dataset
    from .periods import parse_period, period_freq

    period = parse_period(period)
    level = level or {"M": "month", "Q": "quarter", "H": "half", "Y": "year"}[period_freq(period)]
    return assess_dataset(_dataset(data), period, level, thresholds)


def funnel(data, indicator: str = KEY_INDICATOR, period=None, **options) -> pd.DataFrame:
    """The funnel table of ``indicator`` (``checks.outliers.funnel_table``): per unit
    the observed count, the exposure, the count its peers' rate predicts, the limits
    and the z-score."""
    from .checks.outliers import funnel_table

    ds = _dataset(data)
    return funnel_table(_panel(data), indicator=indicator, exposure=ds.exposure,
                        period=period, **options)


def totals(data, indicators=(KEY_INDICATOR,), period=None, *, cumulative: bool = True
           ) -> pd.DataFrame:
    """Each unit's totals over a window (``indicators.window_totals``)."""
    from .indicators import window_totals

    return window_totals(_panel(data), list(indicators), period=period, cumulative=cumulative)


def wide(data, indicators=None, *, cumulative: bool = False) -> pd.DataFrame:
    """One row per unit and period, one column per indicator (``indicators.wide_panel``)."""
    from .indicators import wide_panel

    return wide_panel(_panel(data), indicators, cumulative=cumulative)


def findings_table(findings, family: str | None = None) -> pd.DataFrame:
    """Findings with Chinese headers, as the report shows them (``report.findings_zh``);
    ``findings`` is a findings table or an ``Assessment``."""
    from .report import findings_zh

    f = getattr(findings, "findings", findings)
    if family is not None:
        f = f.loc[f["family"] == family]
    return findings_zh(f).reset_index(drop=True)


def unit_history(data, unit: str, indicators=None) -> pd.DataFrame:
    """One unit's figures, period by period: rows are periods, columns the indicators
    it reported (or ``indicators``), with Chinese names as headers."""
    from .catalogue import indicator_name

    pv = _panel(data)
    k = pv.unit_index([unit])[0]
    if k < 0:
        raise ValueError(f"unit {unit!r} is not in the data (units: "
                         f"{'、'.join(pv.units[:10])}{'…' if len(pv.units) > 10 else ''})")
    codes = list(pv.indicators) if indicators is None else list(indicators)
    idx = pv.indicator_index(codes)
    v = np.full((len(codes), len(pv.periods)), np.nan)
    v[idx >= 0] = pv.values[k, idx[idx >= 0]]
    keep = [j for j in range(len(codes)) if indicators is not None or not np.isnan(v[j]).all()]
    out = pd.DataFrame(v[keep].T, index=pd.Index(pv.periods, name="期间"),
                       columns=[indicator_name(codes[j]) for j in keep])
    return out.dropna(how="all")


def peers(data, unit: str, indicator: str = KEY_INDICATOR, period=None) -> pd.DataFrame:
    """The unit beside its peers (same unit type) on ``indicator`` over the window: the
    funnel's rows of the peer group, sorted by z-score, the unit marked."""
    f = funnel(data, indicator=indicator, period=period)
    row = f.loc[f["unit"] == unit]
    if row.empty:
        raise ValueError(f"unit {unit!r} reported no {indicator} in the window")
    group = row["peer"].iloc[0]
    out = f.loc[f["peer"] == group] if group != "all" else f
    out = out.sort_values("z", ascending=False, kind="stable").reset_index(drop=True)
    return out.assign(this_unit=out["unit"] == unit)


def compare_years(data, period: str, indicators=(KEY_INDICATOR,)) -> pd.DataFrame:
    """Each unit's figures in ``period`` beside the period before (环比) and the same
    period last year (同比) (``indicators.period_changes``)."""
    from .indicators import period_changes
    from .periods import parse_period

    period = parse_period(period)
    c = period_changes(_panel(data), list(indicators))
    return c.loc[c["period"] == period].reset_index(drop=True)


def plot_funnel(table: pd.DataFrame, **kw):
    """The funnel plot of a ``funnel`` table (``plots.funnel_plot``)."""
    from .plots import funnel_plot

    return funnel_plot(table, **kw)


def plot_heatmap(data, indicator: str = KEY_INDICATOR, **kw):
    """Units × periods of ``indicator`` as a heatmap (``plots.unit_period_heatmap``)."""
    from .plots import unit_period_heatmap

    frame = _panel(data).to_frame()
    return unit_period_heatmap(frame.loc[frame["indicator"] == indicator], **kw)


def plot_unit(data, unit: str, indicator: str = KEY_INDICATOR, **kw):
    """One unit's series with its process limits (``plots.unit_series``)."""
    from .plots import unit_series

    frame = _panel(data).to_frame()
    return unit_series(frame.loc[frame["indicator"] == indicator], unit, **kw)


__all__ = ["read", "check", "assess", "funnel", "totals", "wide", "findings_table",
           "unit_history", "peers", "compare_years", "plot_funnel", "plot_heatmap",
           "plot_unit"]
