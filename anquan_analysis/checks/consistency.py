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
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import catalogue
from ..findings import empty_findings, make_findings
from ..periods import period_freq, period_sort_key
from ..dataset import require_columns

CHECK = "rule_violation"
# Units whose figures are measured, not counted: a small mismatch can be rounding.
_MEASURED_UNITS = {"万元", "公里"}
_REQUIRED = ("unit", "period", "indicator", "value")


def _fmt(x: float) -> str:
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.2f}".rstrip("0").rstrip(".")


def _name(code: str) -> str:
    return catalogue.indicator_name(code)


def _wide(panel: pd.DataFrame):
    """Values and 'typed as approximate' flags, one row per unit × period."""
    keys = ["unit", "period", "indicator"]
    g = panel.groupby(keys, sort=False, observed=True)
    values = _text_index(g["value"].sum().unstack("indicator"))
    if "approx" in panel.columns:
        approx = _text_index(g["approx"].any().unstack("indicator"))
        approx = approx.reindex_like(values).fillna(False).astype(bool)
    else:
        approx = pd.DataFrame(False, index=values.index, columns=values.columns)
    return values, approx


def _text_index(wide: pd.DataFrame) -> pd.DataFrame:
    """Unit and period index levels as str and indicator columns as plain labels
    (a categorical panel gives categorical ones), so messages can be built from them."""
    idx = wide.index
    wide = wide.copy(deep=False)
    wide.index = pd.MultiIndex.from_arrays(
        [idx.get_level_values(n).astype(str) for n in idx.names], names=idx.names)
    wide.columns = pd.Index(wide.columns.astype(str), name=wide.columns.name)
    return wide


def _soft(codes, vals: list[pd.Series], approx: pd.DataFrame, diff: pd.Series,
          scale: pd.Series, rel_tol: float) -> pd.Series:
    """True where a tolerance could explain the mismatch: a figure typed as
    approximate (17万余), or a measured figure (万元, 公里) off by at most rel_tol."""
    typed_approx = np.zeros(len(diff), dtype=bool)
    for c in codes:
        if c in approx.columns:
            typed_approx |= approx[c].reindex(diff.index).fillna(False).to_numpy(dtype=bool)
    measured = any(catalogue.indicator_unit(c) in _MEASURED_UNITS for c in codes)
    fractional = np.zeros(len(diff), dtype=bool)
    for v in vals:
        fractional |= (v.fillna(0) % 1 != 0).to_numpy()
    small = (diff.abs() <= rel_tol * scale.abs()).to_numpy()
    return pd.Series(typed_approx | ((measured | fractional) & small), index=diff.index)


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


def _check_le(values, approx, rule, rel_tol) -> pd.DataFrame | None:
    lhs, rhs = rule.lhs[0], rule.rhs
    if lhs not in values.columns or rhs not in values.columns:
        return None
    a, b = values[lhs], values[rhs]
    bad = a.notna() & b.notna() & (a > b + 1e-9)
    if not bad.any():
        return None
    a, b = a[bad], b[bad]
    soft = _soft([lhs, rhs], [a, b], approx, a - b, b, rel_tol)
    idx = a.index
    msg = (pd.Series(idx.get_level_values("unit") + idx.get_level_values("period"), index=idx)
           + f"{_name(lhs)}(" + a.map(_fmt) + f")超过{_name(rhs)}(" + b.map(_fmt)
           + f")：{rule.description_zh}")
    return _frame(idx, rule.rule, lhs, a, b, np.nan, b, soft, msg)


def _check_sum(values, approx, rule, rel_tol) -> pd.DataFrame | None:
    parts = [p for p in rule.lhs if p in values.columns]
    if rule.rhs not in values.columns or not parts:
        return None
    total = values[rule.rhs]
    part_vals = values[parts]
    s = part_vals.sum(axis=1, min_count=1)
    complete = part_vals.notna().all(axis=1) & (len(parts) == len(rule.lhs))
    # A part missing: only parts already above the total prove an error.
    bad = total.notna() & s.notna() & (
        (complete & ((s - total).abs() > 1e-9)) | (~complete & (s > total + 1e-9)))
    if not bad.any():
        return None
    t, s, comp = total[bad], s[bad], complete[bad]
    soft = _soft([*parts, rule.rhs], [t, *[part_vals[p][bad] for p in parts]], approx,
                 s - t, t, rel_tol)
    idx = t.index
    joined = "与".join(_name(p) for p in rule.lhs)
    head = pd.Series(idx.get_level_values("unit") + idx.get_level_values("period"), index=idx)
    msg = (head + np.where(comp, joined + "之和(", "已报的" + joined + "之和(") + s.map(_fmt)
           + np.where(comp, ")不等于", ")超过") + f"{_name(rule.rhs)}(" + t.map(_fmt)
           + f")：{rule.description_zh}")
    return _frame(idx, rule.rule, rule.rhs, s, t, t.where(comp, np.nan), t, soft, msg)


def _check_requires(values, approx, rule) -> pd.DataFrame | None:
    lhs, rhs = rule.lhs[0], rule.rhs
    if lhs not in values.columns or rhs not in values.columns:
        return None
    a, b = values[lhs], values[rhs]
    bad = (a > 0) & (b == 0)
    if not bad.any():
        return None
    a, b = a[bad], b[bad]
    idx = a.index
    msg = (pd.Series(idx.get_level_values("unit") + idx.get_level_values("period"), index=idx)
           + f"报送{_name(lhs)}(" + a.map(_fmt) + f")但{_name(rhs)}为0：{rule.description_zh}")
    return _frame(idx, rule.rule, lhs, a, b, np.nan, np.nan, np.zeros(len(a), bool), msg)


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
           + hit["value"].map(_fmt) + ")比" + hit["_prev_period"] + "("
           + hit["_prev"].map(_fmt) + f")减少：{rule.description_zh}")
    out = _frame(idx, rule.rule, "", hit["value"], hit["_prev"], hit["_prev"], np.nan,
                 soft.to_numpy(), msg.to_numpy())
    out["indicator"] = hit["indicator"].to_numpy()
    return out


def rule_violation(panel: pd.DataFrame, *, exposure=None, ledger_counts=None, period=None,
                   cumulative_panel: pd.DataFrame | None = None, rules: pd.DataFrame | None = None,
                   rel_tol: float = 0.01, reset_yearly: bool = True) -> pd.DataFrame:
    """Every breach of the catalogue's arithmetic rules, one row per rule × unit × period.

    Deterministic: no null model, ``p_value`` is NaN.  Severity ``alert`` for
    arithmetic that cannot be true; ``warning`` where a tolerance could explain it
    (a figure typed as approximate, or a 万元/公里 figure off by at most ``rel_tol``).
    A ``le`` or ``requires`` rule is tested only where both figures were reported
    (a missing figure is not a zero); a ``sum`` rule where the total and all parts
    were reported, or where the reported parts already exceed the total.

    panel             long panel (unit, period, indicator, value; approx, unit_type optional)
    period            keep findings of this period only (the previous period is still
                      used by ``monotone``); None = all periods
    cumulative_panel  the cumulative (累计) figures as typed, for ``monotone``; None skips it
    rules             rule table like ``catalogue.RULES`` (default: the catalogue's)
    rel_tol           relative tolerance for rounding of measured figures (default 1%)
    reset_yearly      cumulative series restart every January (default True)

    Returns the findings schema: observed = lhs (or the sum of parts, or the
    cumulative figure), expected = rhs (or the total, or the previous cumulative
    figure), upper/lower = the bound broken, statistic = observed − expected.
    ``exposure`` and ``ledger_counts`` are accepted for the common signature and
    not used.  Inputs are not modified.
    """
    require_columns(panel, _REQUIRED, "panel")
    rules = catalogue.RULES if rules is None else rules
    # The le/sum/requires rules compare figures of one report: with period=P only
    # P's rows can break them (monotone reads its own cumulative panel).
    values, approx = _wide(panel if period is None else panel[panel["period"] == period])
    frames = []
    for rule in rules.itertuples(index=False):  # a loop over the rule catalogue, not units
        if rule.kind == "le":
            frames.append(_check_le(values, approx, rule, rel_tol))
        elif rule.kind == "sum":
            frames.append(_check_sum(values, approx, rule, rel_tol))
        elif rule.kind == "requires":
            frames.append(_check_requires(values, approx, rule))
        elif rule.kind == "monotone" and cumulative_panel is not None:
            frames.append(_check_monotone(cumulative_panel, rule, reset_yearly, rel_tol))
    frames = [f for f in frames if f is not None and len(f)]
    if not frames:
        return empty_findings()
    out = pd.concat(frames, ignore_index=True)
    if period is not None:
        out = out[out["period"] == period]
    if "unit_type" in panel.columns:
        types = panel.drop_duplicates("unit").set_index("unit")["unit_type"]
        out = out.assign(unit_type=out["unit"].map(types))
    out = out.assign(check=CHECK, p_value=np.nan, q_value=np.nan)
    out = out.sort_values(["period", "unit", "rule"], key=lambda s: s.astype(str), kind="stable")
    return make_findings(out)
