"""The anomaly checks, one module per family, and ``run_checks`` that runs them all.

Every check is a function ``name(panel, *, period=None, <what it uses>, **thresholds)``
returning a findings table (``findings.make_findings``): ``panel`` is a long frame or a
``panel.Panel``; a check that compares units with their size also takes ``exposure``,
one that reads the hazard ledger ``ledger_counts``.  Each check's docstring lists its
parameters, the columns of the findings it fills, and its null model (docs/CONTRACTS.md).

``CHECKS`` maps each check id to its function, in the report's order.
"""

from __future__ import annotations

import inspect

import pandas as pd

from ..findings import concat_findings
from ..panel import Panel, as_panel
from . import balance, consistency, outliers, sectors, trends

CHECKS = {
    "low_outlier": outliers.low_outlier,
    "zero_report": outliers.zero_report,
    "surge": trends.surge,
    "group_shift": trends.group_shift,
    "low_self_report": sectors.low_self_report,
    "sector_concentration": sectors.sector_concentration,
    "underdispersion": balance.underdispersion,
    "identical_values": balance.identical_values,
    "repeated_value": balance.repeated_value,
    "last_digit": balance.last_digit,
    "round_number": balance.round_number,
    "benford": balance.benford,
    "pinned_rate": balance.pinned_rate,
    "rule_violation": consistency.rule_violation,
}


def run_checks(dataset, period=None, checks=None, *, panel: Panel | None = None,
               **options) -> pd.DataFrame:
    """Run every check (or the ids in ``checks``) on a ``Dataset`` and return one
    findings table, sorted by severity then check (``findings.concat_findings``).

    Parameters
    ----------
    dataset : Dataset
        The figures (``dataset.panel``) and, where a check uses them, the exposure
        table and the hazard ledger's effective counts (computed from the ledger
        when only the ledger is given).  Not modified.
    period : str, optional
        Report on this period (history before it is used where a method needs it);
        None assesses the whole panel.
    checks : list of str, optional
        Check ids to run, default all of ``CHECKS``.
    panel : Panel, optional
        ``dataset.panel`` already built as a ``Panel`` (the assessment builds it once
        for its tables and checks); built here otherwise, once for all checks.
    **options
        Thresholds for one check, as ``check_id={kwarg: value}``.  A key that is not
        a check id raises ValueError: no option is broadcast to every check, so each
        check's defaults stay explicit.

    Returns
    -------
    DataFrame of ``findings.FINDINGS_COLUMNS``.
    """
    if not hasattr(dataset, "panel") or isinstance(dataset, pd.DataFrame):
        raise TypeError(f"run_checks takes a Dataset (e.g. Dataset(panel=frame)), "
                        f"not {type(dataset).__name__}")
    ids = list(CHECKS) if checks is None else list(checks)
    unknown = [k for k in list(options) + ids if k not in CHECKS]
    if unknown:
        raise ValueError(f"run_checks: unknown check(s) {unknown}; known: {', '.join(CHECKS)}. "
                         f"Options go as {{check_id: {{kwarg: value}}}}")
    inputs = {"panel": as_panel(dataset.panel) if panel is None else panel,
              "exposure": getattr(dataset, "exposure", None),
              "ledger_counts": _ledger_counts(dataset), "period": period}
    frames = []
    for check_id in ids:
        fn = CHECKS[check_id]
        takes = inspect.signature(fn).parameters
        frames.append(fn(**{k: v for k, v in inputs.items() if k in takes},
                         **options.get(check_id, {})))
    return concat_findings(frames)


def _ledger_counts(dataset):
    counts = getattr(dataset, "ledger_counts", None)
    ledger = getattr(dataset, "ledger", None)
    if (counts is None or len(counts) == 0) and ledger is not None and len(ledger):
        from ..ledger import effective_counts  # a Dataset built by hand, not by ingest
        return effective_counts(ledger)
    return counts


def summarise(findings: pd.DataFrame) -> pd.DataFrame:
    """Count of findings per check and severity: one row per check, columns
    check, info, warning, alert, total (checks in the report's order)."""
    counts = (findings.groupby(["check", "severity"]).size().unstack(fill_value=0)
              .reindex(columns=["info", "warning", "alert"], fill_value=0))
    order = [c for c in CHECKS if c in counts.index] + \
        [c for c in counts.index if c not in CHECKS]
    counts = counts.reindex(order)
    counts["total"] = counts.sum(axis=1)
    counts.columns.name = None
    return counts.reset_index()
