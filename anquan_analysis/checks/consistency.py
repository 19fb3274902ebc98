"""Arithmetic that cannot be true: the rules of ``catalogue.RULES`` applied to every
unit and period (check id ``rule_violation``).

The rules are data (catalogue.py); this module only knows the four kinds:

========= ==================================================================
le        lhs ≤ rhs (rectified ≤ found, sessions ≤ persons, drill enterprises ≤ drills)
sum       the parts add up to the total (found by departments + by enterprises = found)
requires  lhs > 0 only when rhs > 0 (fines need penalties, deaths need accidents)
monotone  a cumulative (累计) series never decreases
========= ==================================================================

The panel holds in-period values (ingest converts 累计 series), so rectified ≤
found is checked month by month, as the monthly 调度表 reports both for the
period's own hazards.  ``monotone`` needs the figures *as typed*: pass them as
``cumulative_panel`` (same columns as the panel, values cumulative); without it the
rule is not checked.  Cumulative series restart each calendar year unless
``reset_yearly=False``.

The le/sum/requires rules read each named indicator's [unit, period] slice of the
panel's series (``panel.Panel.series``) and report the cells that break them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from .. import catalogue
from ..dataset import require_columns
from ..findings import empty_findings, figure_text, make_findings
from ..panel import Panel, as_panel
from ..periods import period_freq, period_sort_key

CHECK = "rule_violation"
# Units whose figures are measured, not counted: a small mismatch can be rounding.
_MEASURED_UNITS = {"万元", "公里"}
_REQUIRED = ("unit", "period", "indicator", "value")
# Figures equal up to this relative difference are equal (sums of 万元 figures typed to
# two decimals differ from their total only by rounding of the binary fractions).
_EPS = 1e-9


def _name(code: str) -> str:
    return catalogue.indicator_name(code)


def _frame(idx: pd.MultiIndex, rule, indicator: str, observed, expected, lower, upper,
           soft, message) -> pd.DataFrame:
    out = pd.DataFrame({
        "unit": idx.get_level_values("unit"), "period": idx.get_level_values("period"),
        "indicator": indicator, "observed": np.asarray(observed, dtype=float),
        "expected": np.asarray(expected, dtype=float),
        "lower": np.asarray(lower, dtype=float), "upper": np.asarray(upper, dtype=float),
        "severity": np.where(np.asarray(soft, dtype=bool), "warning", "alert"),
        "message": np.asarray(message, dtype=object),
    })
    out["statistic"] = out["observed"] - out["expected"]
    out["rule"] = rule
    return out


def _check_monotone(cumulative: pd.DataFrame, rule, reset_yearly: bool,
                    rel_tol: float) -> pd.DataFrame | None:
    require_columns(cumulative, _REQUIRED, "cumulative_panel")
    cum = cumulative.groupby(["unit", "indicator", "period"], as_index=False)["value"].sum()
    if rule.lhs != ("*",):
        cum = cum[cum["indicator"].isin(rule.lhs)]
    if cum.empty:
        return None
    order = {p: i for i, p in enumerate(sorted(cum["period"].unique(), key=period_sort_key))}
    cum = cum.assign(
        _ord=cum["period"].map(order),
        _freq=cum["period"].map(period_freq),
        _year=cum["period"].str[:4] if reset_yearly else "",
    ).sort_values(["unit", "indicator", "_freq", "_year", "_ord"])
    series = ["unit", "indicator", "_freq", "_year"]
    prev = cum.groupby(series, sort=False)["value"].shift(1)
    prev_period = cum.groupby(series, sort=False)["period"].shift(1)
    bad = prev.notna() & (cum["value"] < prev - 1e-9)
    if not bad.any():
        return None
    hit = cum[bad].assign(_prev=prev[bad], _prev_period=prev_period[bad])
    measured = hit["indicator"].map(catalogue.indicator_unit).isin(_MEASURED_UNITS)
    fractional = (hit["value"] % 1 != 0) | (hit["_prev"] % 1 != 0)
    soft = (measured | fractional) & ((hit["_prev"] - hit["value"]) <= rel_tol * hit["_prev"])
    idx = pd.MultiIndex.from_frame(hit[["unit", "period"]])
    msg = (hit["unit"] + hit["period"] + "累计" + hit["indicator"].map(_name) + "("
           + hit["value"].map(figure_text) + ")比" + hit["_prev_period"] + "("
           + hit["_prev"].map(figure_text) + f")减少：{rule.description_zh}")
    out = _frame(idx, rule.rule, "", hit["value"], hit["_prev"], hit["_prev"], np.nan,
                 soft.to_numpy(), msg.to_numpy())
    out["indicator"] = hit["indicator"].to_numpy()
    return out


def _texts(values: np.ndarray) -> np.ndarray:
    """``figure_text`` of each value, formatted once per distinct value (figures repeat)."""
    if not len(values):
        return np.zeros(0, dtype=object)
    uniq, inverse = np.unique(values, return_inverse=True)
    return np.array([figure_text(v) for v in uniq], dtype=object)[inverse.ravel()]


def _join(*parts) -> np.ndarray:
    """Row-wise concatenation of text arrays and constant strings."""
    out = np.asarray(parts[0], dtype=object)
    for part in parts[1:]:
        out = out + (part if isinstance(part, str) else np.asarray(part, dtype=object))
    return out


class _Cells:
    """The assessed cells: per indicator a [unit, period] slice of the series up to
    ``period`` (``Panel.series``), all its periods or only ``period``."""

    def __init__(self, panel: Panel, period):
        self.cube = cube = panel.series(period)
        if period is None:
            self.cols = slice(None)
            self.col_pos = np.arange(len(cube.periods))
        else:
            t = cube.period_index(period)
            self.cols = slice(0, 0) if t is None else slice(t, t + 1)
            self.col_pos = np.zeros(0, np.int64) if t is None else np.array([t])
        self.where = {c: i for i, c in enumerate(cube.indicators)}
        self._present: dict = {}

    def present(self, code: str) -> bool:
        """A figure of ``code`` was reported in an assessed period."""
        if code not in self._present:
            self._present[code] = code in self.where and bool(
                (~np.isnan(self.cube.values[:, self.where[code], self.cols])).any())
        return self._present[code]

    def get(self, code: str) -> np.ndarray:
        return self.cube.values[:, self.where[code], self.cols]

    def same_months(self, codes, *, within: str | None = None) -> np.ndarray | bool:
        """Where the figures of ``codes`` cover the same months of their period
        (``Panel.months``: a quarter's figures built from different months do not
        compare); with ``within``, where each one's months lie inside ``within``'s.
        True everywhere for figures of one period each (a month level panel)."""
        if self.cube.months is None:
            return True
        m = [self.cube.months[:, self.where[c], self.cols] for c in codes if c in self.where]
        if within is not None:
            outer = self.cube.months[:, self.where[within], self.cols]
            return np.logical_and.reduce([(x & ~outer) == 0 for x in m])
        return np.logical_and.reduce([x == m[0] for x in m[1:]]) if len(m) > 1 else True

    def approx(self, code: str, r: np.ndarray, c: np.ndarray) -> np.ndarray:
        """Typed as approximate, at the cells (r, c)."""
        if self.cube.approx is None or code not in self.where:
            return np.zeros(len(r), dtype=bool)
        return self.cube.approx[:, self.where[code], self.cols][r, c]


def _soft(cells: _Cells, codes, vals, diff, scale, r, c, rel_tol: float) -> np.ndarray:
    """True where a tolerance could explain the mismatch: a figure typed as
    approximate (17万余), or a measured figure (万元, 公里) off by at most rel_tol."""
    typed_approx = np.zeros(len(r), dtype=bool)
    for code in codes:
        typed_approx |= cells.approx(code, r, c)
    measured = any(catalogue.indicator_unit(code) in _MEASURED_UNITS for code in codes)
    fractional = np.zeros(len(r), dtype=bool)
    for v in vals:
        fractional |= np.remainder(np.nan_to_num(v, nan=0.0), 1) != 0
    small = np.abs(diff) <= rel_tol * np.abs(scale)
    return typed_approx | ((measured | fractional) & small)


def _rows(r, c, indicator, observed, expected, lower, upper, soft, msg) -> dict:
    n = len(r)
    full = lambda v: np.broadcast_to(np.asarray(v, dtype=np.float64), (n,))  # noqa: E731
    return {"r": r, "c": c, "indicator": indicator, "observed": full(observed),
            "expected": full(expected), "lower": full(lower), "upper": full(upper),
            "soft": np.broadcast_to(np.asarray(soft, dtype=bool), (n,)), "message": msg}


def _le(cells: _Cells, rule, head, rel_tol) -> dict | None:
    lhs, rhs = rule.lhs[0], rule.rhs
    if not (cells.present(lhs) and cells.present(rhs)):
        return None
    a, b = cells.get(lhs), cells.get(rhs)
    with np.errstate(invalid="ignore"):
        bad = ~np.isnan(a) & ~np.isnan(b) & (a > b + _EPS * np.maximum(1.0, np.abs(b))) \
            & cells.same_months([lhs, rhs])
    r, c = np.nonzero(bad)
    if not len(r):
        return None
    a, b = a[r, c], b[r, c]
    soft = _soft(cells, [lhs, rhs], [a, b], a - b, b, r, c, rel_tol)
    msg = _join(head(r, c), f"{_name(lhs)}(", _texts(a), f")超过{_name(rhs)}(", _texts(b),
                f")：{rule.description_zh}")
    return _rows(r, c, lhs, a, b, np.nan, b, soft, msg)


def _sum(cells: _Cells, rule, head, rel_tol) -> dict | None:
    parts = [p for p in rule.lhs if cells.present(p)]
    if not cells.present(rule.rhs) or not parts:
        return None
    total = cells.get(rule.rhs)
    part_vals = [cells.get(p) for p in parts]
    # the reported parts' sum (NaN when none is), added in the parts' order
    s = np.zeros_like(total)
    for v in part_vals:
        s = s + np.nan_to_num(v, nan=0.0)
    any_part = np.logical_or.reduce([~np.isnan(v) for v in part_vals])
    s[~any_part] = np.nan
    complete = np.logical_and.reduce([~np.isnan(v) for v in part_vals]) \
        & (len(parts) == len(rule.lhs)) & cells.same_months([*parts, rule.rhs])
    tol = _EPS * np.maximum(1.0, np.abs(total))
    # A part missing (or, in a quarter, given for other months than the total): only
    # parts of the total's own months already above it prove an error.
    inside = cells.same_months(parts, within=rule.rhs)
    with np.errstate(invalid="ignore"):
        bad = ~np.isnan(total) & ~np.isnan(s) & (
            (complete & (np.abs(s - total) > tol)) | (~complete & inside & (s > total + tol)))
    r, c = np.nonzero(bad)
    if not len(r):
        return None
    t, s, comp = total[r, c], s[r, c], complete[r, c]
    soft = _soft(cells, [*parts, rule.rhs], [t, *[v[r, c] for v in part_vals]], s - t, t,
                 r, c, rel_tol)
    joined = "与".join(_name(p) for p in rule.lhs)
    lead = np.where(comp, joined + "之和(", "已报的" + joined + "之和(").astype(object)
    verb = np.where(comp, ")不等于", ")超过").astype(object)
    msg = _join(head(r, c), lead, _texts(s), verb, f"{_name(rule.rhs)}(", _texts(t),
                f")：{rule.description_zh}")
    return _rows(r, c, rule.rhs, s, t, np.where(comp, t, np.nan), t, soft, msg)


def _requires(cells: _Cells, rule, head) -> dict | None:
    lhs, rhs = rule.lhs[0], rule.rhs
    if not (cells.present(lhs) and cells.present(rhs)):
        return None
    a, b = cells.get(lhs), cells.get(rhs)
    with np.errstate(invalid="ignore"):
        bad = (a > 0) & (b == 0) & cells.same_months([lhs, rhs])
    r, c = np.nonzero(bad)
    if not len(r):
        return None
    a, b = a[r, c], b[r, c]
    msg = _join(head(r, c), f"报送{_name(lhs)}(", _texts(a), f")但{_name(rhs)}为0：{rule.description_zh}")
    return _rows(r, c, lhs, a, b, np.nan, np.nan, False, msg)


def _cube_findings(panel: Panel, period, rules, rel_tol) -> pd.DataFrame | None:
    """The le, sum and requires rules: the findings' rows (without check, family, p
    and q), sorted by period, unit and rule."""
    cells = _Cells(panel, period)
    cube = cells.cube
    col_pos = cells.col_pos

    def head(r, c):  # unit + period, as the messages start
        return cube.units[r] + cube.periods[col_pos[c]]

    found = []
    for k, rule in enumerate(rules.itertuples(index=False)):  # over the catalogue, not units
        if rule.kind == "le":
            f = _le(cells, rule, head, rel_tol)
        elif rule.kind == "sum":
            f = _sum(cells, rule, head, rel_tol)
        elif rule.kind == "requires":
            f = _requires(cells, rule, head)
        else:
            continue
        if f is not None:
            found.append((k, f))
    if not found:
        return None
    cat = lambda key: np.concatenate([f[key] for _, f in found])  # noqa: E731
    which = np.concatenate([np.full(len(f["r"]), k) for k, f in found])
    r, c = cat("r"), cat("c")
    # sorted by period, unit and rule id as text, then the rule table's order
    rule_text = rules["rule"].astype("str").to_numpy(dtype=object)
    rank = np.empty(len(rule_text), dtype=np.int64)
    rank[np.argsort(rule_text, kind="stable")] = np.arange(len(rule_text))
    order = np.lexsort((which, rank[which], r, col_pos[c]))
    indicator = np.array([""] * len(rule_text), dtype=object)
    for k, f in found:
        indicator[k] = f["indicator"]
    r, c, which = r[order], c[order], which[order]
    observed, expected = cat("observed")[order], cat("expected")[order]
    out = pd.DataFrame({
        "unit": pd.Series(cube.units[r], dtype="str"),
        "period": pd.Series(cube.periods[col_pos[c]], dtype="str"),
        "indicator": pd.Series(indicator[which], dtype="str"),
        "observed": observed, "expected": expected,
        "lower": cat("lower")[order], "upper": cat("upper")[order],
        "severity": np.where(cat("soft")[order], "warning", "alert"),
        "message": pd.Series(cat("message")[order], dtype="str"),
        "statistic": observed - expected, "rule": pd.Series(rule_text[which], dtype="str"),
    })
    types = panel.unit_type[panel.unit_index(cube.units)]
    out["unit_type"] = pd.Series(types[r], dtype="str")
    return out


def rule_violation(panel, *, period=None,
                   cumulative_panel: pd.DataFrame | None = None, rules: pd.DataFrame | None = None,
                   rel_tol: float = 0.01, reset_yearly: bool = True) -> pd.DataFrame:
    """Every breach of the catalogue's arithmetic rules, one row per rule × unit × period.

    Parameters
    ----------
    panel : DataFrame or Panel
        The figures (in-period).  Not modified.
    period : str, optional
        Keep findings of this period only (``monotone`` still reads the period
        before); None: every period.
    cumulative_panel : DataFrame, optional
        The cumulative (累计) figures as typed, for ``monotone``; None skips it.
    rules : DataFrame, optional
        A rule table like ``catalogue.RULES`` (default: the catalogue's).
    rel_tol : float
        Relative tolerance for rounding of measured figures (万元, 公里).
    reset_yearly : bool
        Cumulative series restart every January.

    Returns
    -------
    Findings: observed = the left-hand side (or the sum of the parts, or the
    cumulative figure), expected = the right-hand side (or the total, or the previous
    cumulative figure), upper/lower = the bound broken, statistic = observed −
    expected; p_value and q_value blank.  Severity ``alert`` for arithmetic that
    cannot be true, ``warning`` where a tolerance could explain it (a figure typed
    as approximate, or a 万元/公里 figure off by at most ``rel_tol``).

    Notes
    -----
    Deterministic: no null model.  A ``le`` or ``requires`` rule is tested only where
    both figures were reported (a missing figure is not a zero); a ``sum`` rule where
    the total and all parts were reported, or where the reported parts already
    exceed the total.  In a quarter built from months (``Panel.months``), "reported"
    means reported for the same months: a part given in two of the total's three
    months is not compared with it (``assessment.quality.coverage_table`` shows such
    gaps), unless it already exceeds the total.
    """
    if isinstance(panel, pd.DataFrame):
        require_columns(panel, _REQUIRED, "panel")
    rules = catalogue.RULES if rules is None else rules
    named = {c for r in rules.itertuples(index=False) if r.kind != "monotone"
             for c in (*r.lhs, r.rhs)}
    panel = as_panel(panel, sorted(named))
    # The le/sum/requires rules compare figures of one report: with period=P only
    # P's cells can break them (monotone reads its own cumulative panel).
    out = _cube_findings(panel, period, rules, rel_tol) \
        if rules["kind"].isin(["le", "sum", "requires"]).any() else None
    mono = []
    if cumulative_panel is not None:
        for rule in rules.itertuples(index=False):
            if rule.kind == "monotone":
                f = _check_monotone(cumulative_panel, rule, reset_yearly, rel_tol)
                if f is not None and len(f):
                    mono.append(f if period is None else f[f["period"] == period])
        mono = [f for f in mono if len(f)]
    if mono:  # rare: merge with the cube's rows in the same order as before
        types = pd.Series(panel.unit_type, index=pd.Index(panel.units, dtype=object))
        mono = [f.assign(unit_type=f["unit"].map(types)) for f in mono]
        out = pd.concat(([out] if out is not None else []) + mono, ignore_index=True)
        out = out.sort_values(["period", "unit", "rule"], key=lambda s: s.astype(str),
                              kind="stable")
    if out is None or not len(out):
        return empty_findings()
    return make_findings(out.assign(check=CHECK, p_value=np.nan, q_value=np.nan))
