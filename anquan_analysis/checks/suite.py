"""One error rate for the whole suite of single-unit checks (``run_checks(suite_level=True)``).

Each check controls its own false discoveries at 5 %: nine checks judge every unit on
its own figures, so a district with nothing wrong still has honest units named (30
units: 0.1–0.5 a period in the benchmark, 0.5–1.8 % of its units by seed range;
``benchmarks/README.md``).  The two-stage
procedure of Benjamini & Bogomolov (2014, "Selective inference on multiple families
of hypotheses", JRSS B 76:297–318) holds the whole suite to the same 5 %: a check's
findings stand only when the check itself stands among the checks, and then at a level
shared out among the checks that stand.  It is the office's choice: on the benchmark's
held-out districts it brings honest units flagged where nothing is wrong from 1.77 % to
0.40 % at 30 units, and finds 5–10 % fewer surges and pinned rates and a third to a half
fewer of the weak low and zero reporters than the checks alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..findings import SEVERITIES, severity_from_q
from ._stats import bh_adjust

# the checks whose findings each name one unit on its own figures; the checks of
# agreement between units (matching_series, identical_values, underdispersion), the
# district's step and the rules keep their own level: they flag no honest unit of a
# district with nothing wrong in the benchmark, and a group's finding carries its
# weakest pair's q, which the shared level would lose
SINGLE_UNIT = ("low_outlier", "zero_report", "surge", "low_self_report", "repeated_value",
               "last_digit", "round_number", "benford", "pinned_rate")
# a message that states its own verdict, and what it says once the suite demotes it
_VERDICTS = {"low_outlier": ("，显著偏低", "，偏低但经多重检验校正后不显著")}


def suite_q(q: np.ndarray, family: np.ndarray, families) -> np.ndarray:
    """Suite-level q of each finding: the smallest level at which the two-stage
    procedure rejects it.

    Parameters
    ----------
    q : array of float
        Each finding's q-value within its family (Benjamini–Hochberg over the
        family's tests); NaN: not a test, left NaN.
    family : array
        Each finding's family (its check id).
    families : sequence
        Every family that was tested, m of them, whether or not it has findings.

    Returns
    -------
    ndarray of float: min over k ≥ rank(f) of max(Q₍ₖ₎, q·m/k), at most 1, where Q
    are the families' BH q-values of their Simes p-values (a family's smallest q;
    1 without findings) and f the finding's family.

    Notes
    -----
    At level α the families with Q ≤ α are selected, R(α) of them, and within a
    selected family a finding stands when q ≤ α·R(α)/m (Benjamini & Bogomolov 2014).
    R(α) is k on [Q₍ₖ₎, Q₍ₖ₊₁₎), so the smallest α is max(Q₍ₖ₎, q·m/k) on the first k
    where that value stays below Q₍ₖ₊₁₎; a k where it does not is beaten by k + 1, so
    the minimum over every k from the family's own rank gives the same value.  The
    smallest q of a family is its Simes p-value (BH's first step); a family with no
    finding below 0.05 has a Simes p of 0.05 or more and is never selected at 0.05
    or below, so 1 stands in for it without changing a decision at those levels.
    """
    q = np.asarray(q, dtype=float)
    family = np.asarray(family, dtype=object)
    families = list(dict.fromkeys(families))
    m = len(families)
    out = np.full(q.shape, np.nan)
    if m == 0:
        return out
    rows = np.flatnonzero(~np.isnan(q) & np.isin(family, families))
    which = pd.Index(families).get_indexer(family[rows])     # each row's family
    simes = np.ones(m)
    np.minimum.at(simes, which, q[rows])
    fam_q = bh_adjust(simes)
    ordered = np.sort(fam_q)
    k = np.arange(1, m + 1)
    # rows × k: max(Q₍ₖ₎, q·m/k), over the k at or after the row's own family
    level = np.maximum(ordered[None, :], q[rows, None] * m / k[None, :])
    level[ordered[None, :] < fam_q[which, None]] = np.inf
    out[rows] = np.minimum(level.min(axis=1), 1.0)
    return out


def suite_level(findings: pd.DataFrame, families, *, alert: float = 0.01,
                warning: float = 0.05) -> pd.DataFrame:
    """The findings with the checks in ``families`` held to one error rate.

    Parameters
    ----------
    findings : DataFrame
        Findings of ``run_checks`` (``findings.FINDINGS_COLUMNS``).  Not modified.
    families : sequence of str
        The check ids held together: those of ``SINGLE_UNIT`` that ran (a check whose
        needs were unmet is no family: it could find nothing).
    alert, warning : float
        The levels of the severities, as the checks use them.

    Returns
    -------
    A copy of ``findings`` in which the rows of ``families`` with a q-value have
    q_value = ``suite_q`` and the severity read from it, never more severe than the
    check's own; a row that falls to ``info`` says so in its message where the
    check wrote its verdict there (low_outlier).  Other rows are unchanged.
    """
    out = findings.copy()
    rows = out["check"].isin(list(families)) & out["q_value"].notna()
    if not rows.any():
        return out
    new_q = suite_q(out["q_value"].to_numpy(dtype=float), out["check"].to_numpy(dtype=object),
                    families)
    # never more severe than the check said: some hold a row back for a reason of
    # their own (benford: close to Benford's law however small its q)
    rank = {name: i for i, name in enumerate(SEVERITIES)}      # info < warning < alert
    from_q = pd.Series(severity_from_q(new_q, alert=alert, warning=warning), index=out.index)
    sev = np.array(SEVERITIES, dtype=object)[
        np.minimum(from_q.map(rank).to_numpy(), out["severity"].map(rank).to_numpy())]
    fell = rows & (sev == "info") & (out["severity"] != "info")
    out.loc[rows, "q_value"] = new_q[rows.to_numpy()]
    out.loc[rows, "severity"] = sev[rows.to_numpy()]
    for check, (said, now) in _VERDICTS.items():
        swap = fell & (out["check"] == check)
        if swap.any():
            out.loc[swap, "message"] = out.loc[swap, "message"].str.replace(said, now,
                                                                            regex=False)
    return out
