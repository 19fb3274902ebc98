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
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..catalogue import FINDING_COUNTS, RECTIFIED_OF, indicator_name
from ..findings import CHECK_ZH, concat_findings
from ..forked import cpus_available, share_values
from ..panel import Panel, as_panel
from . import balance, consistency, outliers, sectors, steps, trends

CHECKS = {
    "low_outlier": outliers.low_outlier,
    "zero_report": outliers.zero_report,
    "surge": trends.surge,
    "group_shift": steps.group_shift,
    "low_self_report": sectors.low_self_report,
    "sector_concentration": sectors.sector_concentration,
    "underdispersion": balance.underdispersion,
    "matching_series": balance.matching_series,
    "identical_values": balance.identical_values,
    "repeated_value": balance.repeated_value,
    "last_digit": balance.last_digit,
    "round_number": balance.round_number,
    "benford": balance.benford,
    "pinned_rate": balance.pinned_rate,
    "rule_violation": consistency.rule_violation,
}


@dataclass(frozen=True)
class Need:
    """What a check needs of the data before it can say anything (``NEEDS``).

    Attributes
    ----------
    any_of : tuple of str
        Indicators one of which must have a figure up to the period (none: any data).
    indicator_option : str
        The check's option naming the one indicator it follows (``surge``'s
        ``indicator``): its value, or its default, is what must have a figure.
    periods : str or int
        Periods of the assessed frequency needed up to the period: a number, or the
        name of the check's option that sets it (its value, or its default).
    extra_periods : int
        Added to the option's value (``surge`` needs ``min_history`` periods before
        the one it tests: ``min_history`` + 1).
    ledger_or : tuple of str
        Indicators the hazard ledger can stand in for: either one of them has a figure
        or the dataset has ledger counts.
    ledger : bool
        Needs the hazard ledger's effective counts.
    """

    any_of: tuple[str, ...] = ()
    indicator_option: str = ""
    periods: str | int = 1
    extra_periods: int = 0
    ledger_or: tuple[str, ...] = ()
    ledger: bool = False


# What each check needs; a check whose need is unmet returns no findings, and the
# report says why (``unmet_needs``) instead of "未发现".
NEEDS: dict[str, Need] = {
    "low_outlier": Need(any_of=FINDING_COUNTS),
    "zero_report": Need(any_of=FINDING_COUNTS),
    "surge": Need(indicator_option="indicator", periods="min_history", extra_periods=1),
    "group_shift": Need(indicator_option="indicator", periods="min_periods"),
    "low_self_report": Need(ledger_or=("major_hazards_found_dept",
                                       "major_hazards_found_enterprise")),
    "sector_concentration": Need(ledger=True),
    "underdispersion": Need(periods="min_periods"),
    "matching_series": Need(periods="min_periods"),
    "identical_values": Need(),
    "repeated_value": Need(periods="min_run"),
    "last_digit": Need(),
    "round_number": Need(),
    "benford": Need(),
    "pinned_rate": Need(any_of=tuple(RECTIFIED_OF[c] for c in FINDING_COUNTS)),
    "rule_violation": Need(),
}
UNMET_COLUMNS = ["check", "need", "required", "available", "message"]


def _option(check_id: str, name: str, options: dict):
    given = options.get(check_id, {})
    if name in given:
        return given[name]
    return inspect.signature(CHECKS[check_id]).parameters[name].default


def _names(codes) -> str:
    return "、".join(indicator_name(c) for c in codes)


def unmet_needs(panel, period=None, *, ledger_counts=None, checks=None,
                **options) -> pd.DataFrame:
    """The checks whose needs (``NEEDS``) the data does not meet, and why.

    Parameters
    ----------
    panel : DataFrame or Panel
        The figures at the level assessed.  Not modified.
    period : str, optional
        The period assessed: its frequency's periods up to it are counted; None:
        every period.
    ledger_counts : DataFrame, optional
        The hazard ledger's effective counts, if any.
    checks : list of str, optional
        The check ids to look at, default all of ``CHECKS``.
    **options
        The checks' options, as ``run_checks`` takes them (a need set by an option
        follows it).

    Returns
    -------
    DataFrame with ``UNMET_COLUMNS``: check, need (``indicator``, ``periods`` or
    ``ledger``), required (the indicators' names, or the periods needed), available
    (the periods there are, or ''), message (one Chinese clause, without the check's
    name: 本期数据未包含重大事故隐患排查数 / 需至少4期数据（截至本期仅1期）).  One row
    per unmet check, in ``CHECKS`` order.
    """
    pv = as_panel(panel)
    cube = pv.series(period)
    codes = [str(c) for c in pv.indicators]
    sums = pv.totals(codes, period, cumulative=True) if codes else np.empty((0, 0))
    held = {c for c, any_ in zip(codes, (~np.isnan(sums)).any(axis=0)) if any_}
    n_periods = int(len(cube.periods))
    has_ledger = ledger_counts is not None and len(ledger_counts) > 0
    rows = []
    for check_id in (list(CHECKS) if checks is None else list(checks)):
        need = NEEDS.get(check_id, Need())
        wanted = list(need.any_of)
        if need.indicator_option:
            wanted = [_option(check_id, need.indicator_option, options)]
        if wanted and not held & set(wanted):
            rows.append((check_id, "indicator", _names(wanted), "",
                         f"本期数据未包含{_names(wanted)}"))
            continue
        if need.ledger and not has_ledger or (
                need.ledger_or and not has_ledger and not held & set(need.ledger_or)):
            what = "隐患台账" if need.ledger else f"{_names(need.ledger_or)}或隐患台账"
            rows.append((check_id, "ledger", what, "", f"本期数据未包含{what}"))
            continue
        required = (need.periods if isinstance(need.periods, int)
                    else int(_option(check_id, need.periods, options)) + need.extra_periods)
        if n_periods < required:
            rows.append((check_id, "periods", str(required), str(n_periods),
                         f"需至少{required}期数据（截至本期仅{n_periods}期）"))
    return pd.DataFrame(rows, columns=UNMET_COLUMNS)


def unmet_text(unmet: pd.DataFrame, checks=None) -> str:
    """The unmet needs of ``checks`` (default all rows) as one clause: the checks'
    Chinese names grouped by what they lack, ``突击上报、整体阶跃需至少4期数据（截至本期
    仅1期）``; '' when every need is met."""
    rows = unmet if checks is None else unmet.loc[unmet["check"].isin(list(checks))]
    parts = []
    for (need, message), g in rows.groupby(["need", "message"], sort=False):
        names = "、".join(CHECK_ZH.get(c, c) for c in g["check"])
        parts.append(names + ("" if need == "periods" else "：") + message)
    return "；".join(parts)


# From this many unit × period × indicator cells run_checks shares its checks with a
# forked process (``forked.share_values``): a fork and the findings' return cost
# ~10 ms, the suite on a province's 2 M cells ~4 s.  The child starts with
# matching_series (``BESIDE``), about half the work at every scale; the rest are
# claimed by both, longest first (``BY_COST``: national seconds, 2026-12-06:
# repeated_value 3.6, underdispersion 1.4, last_digit 1.3, round_number 0.9,
# pinned_rate 0.8, benford, zero_report, low_self_report, low_outlier 0.5 …).
BESIDE = ("matching_series",)
BY_COST = ("repeated_value", "underdispersion", "last_digit", "round_number", "pinned_rate",
           "benford", "zero_report", "low_self_report", "low_outlier", "surge", "group_shift",
           "identical_values", "rule_violation", "sector_concentration")
BESIDE_MIN_CELLS = 200_000


def run_checks(dataset, period=None, checks=None, *, panel: Panel | None = None,
               parallel: bool | None = None, suite_level: bool = False,
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
    parallel : bool, optional
        Share the checks with a forked process (``forked.share_values``; Linux
        only): it starts with ``matching_series`` (``BESIDE``), about half of the
        work, and the two take the others in turn, longest first (``BY_COST``), so
        that a two-core machine finishes in about half the time.  None: when the
        panel has at least ``BESIDE_MIN_CELLS`` unit × period × indicator cells and
        this process may use two CPUs or more.
        The findings are the same either way.
    suite_level : bool
        Hold the checks that judge each unit on its own figures
        (``suite.SINGLE_UNIT``) to one false-discovery rate together, not 5 % each
        (``suite.suite_level``: Benjamini & Bogomolov's two stages; their q-values
        and severities are then the suite's).  Fewer honest units are named in a
        quiet district, and fewer weak anomalies are found: the office's choice.
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

    def run(check_id):
        fn = CHECKS[check_id]
        takes = inspect.signature(fn).parameters
        return fn(**{k: v for k, v in inputs.items() if k in takes},
                  **options.get(check_id, {}))

    if parallel is None:
        parallel = (int(np.prod(inputs["panel"].shape)) >= BESIDE_MIN_CELLS
                    and cpus_available() >= 2)
    rank = {c: i for i, c in enumerate(BESIDE + BY_COST)}
    order = sorted(ids, key=lambda c: rank.get(c, len(rank)))  # unknown ones last
    if not parallel or len(ids) < 2 or order[0] not in BESIDE:
        found = concat_findings([run(c) for c in ids])
    else:
        values = share_values([lambda c=c: run(c) for c in order]).values()
        frames = dict(zip(order, values))
        found = concat_findings([frames[c] for c in ids])
    if not suite_level:
        return found
    from . import suite  # only where asked: a kernel preloads the checks' own modules

    together = [c for c in ids if c in suite.SINGLE_UNIT]
    unmet = set(unmet_needs(inputs["panel"], period, ledger_counts=inputs["ledger_counts"],
                            checks=together, **options)["check"])
    return concat_findings([suite.suite_level(found, [c for c in together if c not in unmet])])


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
