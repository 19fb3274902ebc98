"""The anomaly checks, one module per family, and ``run_checks`` that runs them all.

Every check is ``name(panel, *, exposure=None, ledger_counts=None, period=None,
**thresholds)`` and returns a findings table (``findings.make_findings``); see
docs/CONTRACTS.md.  ``CHECKS`` maps each check id to its function, for notebooks
that iterate over them.
"""

from __future__ import annotations

import importlib

import pandas as pd

from .. import cube
from ..findings import CHECK_FAMILIES, concat_findings

# check id -> module of this package: a check lives in the module named by its family.
_MODULES = CHECK_FAMILIES


def get_check(check_id: str):
    """The function of a check id; a clear error when the id or its module is unknown."""
    if check_id not in _MODULES:
        raise KeyError(f"unknown check {check_id!r}; known: {', '.join(_MODULES)}")
    name = f"{__name__}.{_MODULES[check_id]}"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as err:
        if err.name != name:
            raise
        raise ImportError(f"check {check_id!r} needs module {name}, which is not installed "
                          "in this version") from err
    try:
        return getattr(module, check_id)
    except AttributeError:
        raise ImportError(f"module {name} has no function {check_id!r}") from None


class _Registry(dict):
    """check id -> function, importing each module on first use."""

    def __missing__(self, key):
        fn = get_check(key)
        self[key] = fn
        return fn

    def __iter__(self):
        return iter(_MODULES)

    def __len__(self):
        return len(_MODULES)

    def keys(self):
        return list(_MODULES)

    def items(self):
        return [(k, self[k]) for k in _MODULES]

    def values(self):
        return [self[k] for k in _MODULES]

    def __contains__(self, key):
        return key in _MODULES


CHECKS = _Registry()


def run_checks(dataset, period=None, checks=None, **options) -> pd.DataFrame:
    """Run every check (or the ids in ``checks``) on a ``Dataset`` and return one
    findings table, sorted by severity then check (``findings.concat_findings``).

    ``period`` restricts findings to that period (history before it is used where a
    method needs it); ``None`` assesses the whole panel.  Options for one check go in
    ``options[check_id] = {kwarg: value}``; a key that is not a check id raises
    ValueError (no option is broadcast to every check, so each check's defaults stay
    explicit).  A check whose module is missing raises ImportError naming it.  The
    dataset is not modified."""
    if not hasattr(dataset, "panel"):
        raise TypeError(f"run_checks takes a Dataset (e.g. Dataset(panel=frame)), "
                        f"not {type(dataset).__name__}")
    ids = list(_MODULES) if checks is None else list(checks)
    unknown = [k for k in options if k not in _MODULES]
    if unknown:
        raise ValueError(f"run_checks: options for unknown check(s) {unknown}; "
                         f"pass them as {{check_id: {{kwarg: value}}}}")
    exposure = getattr(dataset, "exposure", None)
    ledger_counts = getattr(dataset, "ledger_counts", None)
    ledger = getattr(dataset, "ledger", None)
    if (ledger_counts is None or len(ledger_counts) == 0) and ledger is not None and len(ledger):
        from ..ledger import effective_counts  # a Dataset built by hand, not by ingest
        ledger_counts = effective_counts(ledger)
    frames = []
    with cube.shared():  # the dense cube of the panel is built once, not once per check
        for check_id in ids:  # over the dozen checks, not over units
            fn = CHECKS[check_id]
            frames.append(fn(dataset.panel, exposure=exposure, ledger_counts=ledger_counts,
                             period=period, **options.get(check_id, {})))
    return concat_findings(frames)


def summarise(findings: pd.DataFrame) -> pd.DataFrame:
    """Count of findings per check and severity: one row per check, columns
    check, info, warning, alert, total (checks in the report's order)."""
    counts = (findings.groupby(["check", "severity"]).size().unstack(fill_value=0)
              .reindex(columns=["info", "warning", "alert"], fill_value=0))
    order = [c for c in _MODULES if c in counts.index] + \
        [c for c in counts.index if c not in _MODULES]
    counts = counts.reindex(order)
    counts["total"] = counts.sum(axis=1)
    counts.columns.name = None
    return counts.reset_index()
