"""Whether a strong cell that misses a target of issue 12 misses it by more than chance.

A cell plants each kind a handful of times (four by default), so one unit missed moves
a recall by a quarter: a cell can miss "recall ≥ 0.9" or "≥ 0.95 × the oracle's" with
checks exactly as good as the oracle.  ``shortfalls`` puts an exact test beside every
target of every strong cell, and a Benjamini–Hochberg q over all of them, so that the
benchmark can tell a check that is really weaker than the target from a cell that drew
a hard unit.  ``met`` is ``grid.targets``' verdict.  The tests:

* recall ≥ 0.95 × the oracle's: the checks and the oracle judge the same planted units,
  so the test is McNemar's exact one on the discordant units, b planted units only the
  oracle found and c only the checks found: p = P(X ≥ b), X ~ Bin(b + c, 1/2).  Its
  null is "as good as the oracle", stricter than the target's 0.95;
* recall ≥ 0.9: p = P(X ≤ found), X ~ Bin(planted, 0.9);
* clean units flagged ≤ 3 % and null-twin units flagged ≤ 1 %: p = P(X ≥ flagged),
  X ~ Bin(units, 0.03 or 0.01).  Units of one district share its draws, so this p is
  optimistic when flags cluster by district.
"""

from __future__ import annotations

import pandas as pd
from scipy import stats

from .districts import KINDS
from .grid import ABSOLUTE_KINDS, CellResult, targets

LEVEL = 0.05
COLUMNS = ["cell", "target", "kind", "n", "found", "oracle_found", "oracle_only",
           "checks_only", "met", "p_value", "q_value", "beyond_chance"]


def _paired(d: pd.DataFrame) -> dict:
    """Planted units (rows of ``d``: one kind's detections) found by the checks and
    by the oracle, the discordant ones, and McNemar's exact one-sided p."""
    checks, oracle = d["checks"].astype(bool), d["oracle"].astype(bool)
    b, c = int((oracle & ~checks).sum()), int((checks & ~oracle).sum())
    return dict(n=len(d), found=int(checks.sum()), oracle_found=int(oracle.sum()),
                oracle_only=b, checks_only=c,
                p_value=float(stats.binom.sf(b - 1, b + c, 0.5)) if b else 1.0)


def _cell_rows(result: CellResult) -> list[dict]:
    label = result.cell.label.strip()
    met = {name: ok for name, ok, _ in targets(result)}
    d = result.detections
    rows = []
    for kind in KINDS:
        k = d.loc[d["kind"] == kind]
        if not len(k):
            continue
        pair = _paired(k)
        base = dict(pair, cell=label, kind=kind)
        rows.append(dict(base, target="recall ≥ 0.95 × oracle",
                         met=met[f"{kind} recall ≥ 0.95 × oracle"]))
        if kind in ABSOLUTE_KINDS:
            rows.append(dict(base, target="recall ≥ 0.9", met=met[f"{kind} recall ≥ 0.9"],
                             p_value=float(stats.binom.cdf(pair["found"], pair["n"], 0.9))))
    cnt = result.counts
    for name, units, flagged, limit in (
            ("clean units flagged ≤ 3 %", cnt["clean"], cnt["clean_checks"], 0.03),
            ("null-city units flagged ≤ 1 %", cnt["null"], cnt["null_checks"], 0.01)):
        if units:
            rows.append(dict(cell=label, target=name, kind="", n=units, found=flagged,
                             met=met[name],
                             p_value=float(stats.binom.sf(flagged - 1, units, limit))))
    return rows


def shortfalls(results: list[CellResult], *, level: float = LEVEL) -> pd.DataFrame:
    """Every target of every strong cell with its exact test (module docstring).

    Parameters
    ----------
    results : list of CellResult
        Cells of the grid; mild cells have no targets and give no rows.
    level : float
        The q below which a missed target is called beyond chance.

    Returns
    -------
    DataFrame
        One row per cell and target, columns ``COLUMNS``: ``n`` planted units (units of
        the cell for a false-alarm target), ``found`` by the checks (units flagged for a
        false-alarm target), ``oracle_found``, ``oracle_only`` and ``checks_only`` (the
        discordant planted units; NaN for false-alarm targets), ``met``, ``p_value`` (the
        chance of a result at least this far below the target if the checks met it),
        ``q_value`` (Benjamini–Hochberg over every row) and ``beyond_chance`` (missed
        and q < ``level``).

    Notes
    -----
    The null of each test is the target met exactly (the oracle's recall itself for
    the ratio target): a small p says the cell's result would be rare if the checks
    were as good as the target asks.  q is taken over every target of the run, met
    or not, since the missed ones are picked from them.
    """
    rows = [r for res in results if res.cell.strength == "strong" for r in _cell_rows(res)]
    out = pd.DataFrame(rows, columns=COLUMNS)
    if out.empty:
        return out
    out["q_value"] = stats.false_discovery_control(out["p_value"].to_numpy(float), method="bh")
    out["met"] = out["met"].astype(bool)
    out["beyond_chance"] = ~out["met"] & (out["q_value"] < level)
    return out


def pooled(results: list[CellResult]) -> pd.DataFrame:
    """The strong cells pooled by district size: per units and kind, the planted units,
    found by the checks and by the oracle, the discordant units and McNemar's exact p
    (module docstring); and per units, the null-twin units flagged against 1 % (kind
    ``null-city units flagged``).  A gap that each small cell leaves within chance can
    be beyond it once the cells of one size are pooled.  Columns: units, kind, n,
    found, oracle_found, oracle_only, checks_only, ratio (found / oracle_found),
    p_value."""
    rows = []
    strong = [r for r in results if r.cell.strength == "strong"]
    for units in sorted({r.cell.n_units for r in strong}):
        these = [r for r in strong if r.cell.n_units == units]
        d = pd.concat([r.detections for r in these], ignore_index=True)
        for kind in KINDS:
            k = d.loc[d["kind"] == kind]
            if len(k):
                rows.append(dict(_paired(k), units=units, kind=kind))
        n_null = sum(r.counts["null"] for r in these)
        flagged = sum(r.counts["null_checks"] for r in these)
        rows.append(dict(units=units, kind="null-city units flagged", n=n_null, found=flagged,
                         p_value=float(stats.binom.sf(flagged - 1, n_null, 0.01))))
    out = pd.DataFrame(rows, columns=["units", "kind", "n", "found", "oracle_found",
                                      "oracle_only", "checks_only", "ratio", "p_value"])
    out["ratio"] = out["found"] / out["oracle_found"].where(out["oracle_found"] > 0)
    return out


def summary_lines(table: pd.DataFrame, *, level: float = LEVEL) -> list[str]:
    """The missed targets of ``shortfalls``, each with its p and q, and how many are
    beyond chance."""
    if table.empty:
        return ["no strong cell run: no targets"]
    missed = table.loc[~table["met"]]
    out = [f"targets missed: {len(missed)} of {len(table)}; beyond chance (BH q < {level}): "
           f"{int(missed['beyond_chance'].sum())}"]
    for r in missed.itertuples():
        what = (f"{r.found}/{r.n}, oracle {r.oracle_found}, only the oracle "
                f"{r.oracle_only}, only the checks {r.checks_only}" if r.kind
                else f"{r.found}/{r.n} units")
        out.append(f"    {'BEYOND CHANCE' if r.beyond_chance else 'within chance'}  "
                   f"{r.cell}: {r.kind + ' ' if r.kind else ''}{r.target}: {what}; "
                   f"p = {r.p_value:.3g}, q = {r.q_value:.3g}")
    return out


__all__ = ["shortfalls", "pooled", "summary_lines", "COLUMNS", "LEVEL"]
