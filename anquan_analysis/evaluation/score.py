"""The one scorer of detection: findings (of the checks, or of the oracle) against the
ground truth of what was planted.  Used by ``benchmarks/detection.py``, the methods
notebook (``score_checks``) and the README's figures.

A planted anomaly is one (kind, unit) of the truth; a district-wide kind has no unit.
It is **detected** when a finding at ``min_severity`` or worse

* comes from one of the check ids that count for its kind (``DETECTORS``; a check id
  absent from the findings simply detects nothing),
* names the unit (for a district-wide kind: any unit, or none),
* and, with ``strict=True``, is about one of the truth's indicators (or about no
  indicator, or the truth row names none) and a period overlapping the truth's periods
  (or no period: a finding pooled over the window overlaps every month).

A **clean unit** is a unit with no truth row.  It is **falsely flagged** when any check
raises a finding at ``min_severity`` or worse about it, except a finding that a
district-wide anomaly explains (``EXPLAINED``: a unit's surge in the months of a
district-wide step is the step).
"""

from __future__ import annotations

import pandas as pd

from ..dataset import require_columns
from ..findings import CHECK_FAMILIES, CHECK_ZH
from ..periods import months_in

_RANK = {"alert": 0, "warning": 1, "info": 2}

# kind -> check ids whose findings count as detecting it (issue 12, item 5)
DETECTORS = {
    "low_reporter": ("low_outlier", "zero_report"),
    "zero_reporter": ("zero_report", "low_outlier"),
    "surge": ("surge",),
    "district_step": ("group_shift",),
    "low_self_report": ("low_self_report",),
    "coordinated_group": ("matching_series", "underdispersion", "identical_values"),
    "identical_rows": ("identical_values", "matching_series"),
    "flat_line": ("repeated_value",),
    "last_digit_heaping": ("last_digit", "round_number"),
    "round_number_heaping": ("round_number", "last_digit"),
    "pinned_rate": ("pinned_rate",),
    "rule_break": ("rule_violation",),
}
# district-wide kind -> checks whose findings on a clean unit in its periods it explains
EXPLAINED = {"district_step": ("group_shift", "surge")}


def _blank(s: pd.Series) -> pd.Series:
    return s.isna() | (s.astype("str").str.strip() == "")


def _flagged(findings: pd.DataFrame, min_severity: str) -> pd.DataFrame:
    require_columns(findings, ["check", "unit", "severity"], "score: findings")
    if min_severity not in _RANK:
        raise ValueError(f"min_severity must be one of {list(_RANK)}, got {min_severity!r}")
    keep = findings["severity"].map(_RANK) <= _RANK[min_severity]
    out = findings.loc[keep].copy()
    for col in ("indicator", "period"):
        if col not in out.columns:
            out[col] = pd.NA
    return out[["check", "unit", "indicator", "period"]].reset_index(drop=True)


def _months(period) -> frozenset | None:
    """The months a finding's period covers; None for a blank or unreadable period
    (a pooled finding: overlaps every month)."""
    if period is None or pd.isna(period) or not str(period).strip():
        return None
    try:
        return frozenset(months_in(str(period)))
    except (ValueError, KeyError):
        return None


def _compatible(pairs: pd.DataFrame) -> pd.Series:
    """Row-wise: the finding's indicator and period fit the truth row's."""
    ind_ok = (_blank(pairs["indicator_f"]) | _blank(pairs["indicator_t"])
              | (pairs["indicator_f"].astype("str") == pairs["indicator_t"].astype("str")))
    months = pairs["period_f"].map(_months)
    per_ok = [m is None or (pd.isna(p) or str(p) in m)
              for m, p in zip(months, pairs["period_t"])]
    return ind_ok & pd.Series(per_ok, index=pairs.index, dtype=bool)


def _truth_table(truth: pd.DataFrame) -> pd.DataFrame:
    require_columns(truth, ["kind", "unit"], "score: truth")
    t = truth.copy()
    for col in ("indicator", "period", "group"):
        if col not in t.columns:
            t[col] = pd.NA
    t["unit"] = t["unit"].where(~_blank(t["unit"]), pd.NA)
    return t[["kind", "unit", "group", "indicator", "period"]]


def detections(findings: pd.DataFrame, truth: pd.DataFrame, *, detectors=None,
               min_severity: str = "warning", strict: bool = True) -> pd.DataFrame:
    """Whether each planted anomaly was detected (see the module docstring).

    Parameters
    ----------
    findings : DataFrame
        check, unit, severity and, if present, indicator and period.
    truth : DataFrame
        kind, unit (blank for a district-wide kind) and optionally group, indicator and
        period (blank: any).
    detectors : dict, optional
        kind -> check ids; default ``DETECTORS``; a kind missing from it is detected by
        the check of the same id.
    min_severity, strict : str, bool

    Returns
    -------
    DataFrame
        One row per (kind, unit) in the truth's order: kind, unit (missing for a
        district-wide kind), group, detected (bool), by (the check ids that detected
        it, '、'-joined).  Neither input is modified.
    """
    det = DETECTORS if detectors is None else detectors
    flagged = _flagged(findings, min_severity)
    t = _truth_table(truth)
    keys = t[["kind", "unit", "group"]].drop_duplicates(["kind", "unit"]).reset_index(drop=True)
    if t.empty:
        return keys.assign(detected=pd.Series(dtype=bool), by=pd.Series(dtype="str"))
    kind_checks = pd.DataFrame([(k, c) for k in t["kind"].unique() for c in det.get(k, (k,))],
                               columns=["kind", "check"])
    tf = t.merge(kind_checks, on="kind")
    unit_rows = tf.loc[tf["unit"].notna()]
    pairs = unit_rows.merge(flagged.loc[flagged["unit"].notna()], on=["check", "unit"],
                            suffixes=("_t", "_f"))
    district = tf.loc[tf["unit"].isna()].drop(columns="unit")
    pairs_d = district.merge(flagged.drop(columns="unit"), on="check", suffixes=("_t", "_f"))
    pairs_d["unit"] = pd.NA
    pairs = pd.concat([pairs, pairs_d], ignore_index=True)
    if strict and len(pairs):
        pairs = pairs.loc[_compatible(pairs)]
    pairs = pairs.assign(unit_key=pairs["unit"].astype("str").fillna(""))
    hit = pairs.groupby(["kind", "unit_key"])["check"].agg(
        lambda s: "、".join(dict.fromkeys(s)))
    key = list(zip(keys["kind"], keys["unit"].astype("str").fillna("")))
    by = pd.Series([hit.get(k, "") for k in key], dtype="str")
    return keys.assign(detected=(by != "").to_numpy(), by=by.to_numpy())


def flagged_clean(findings: pd.DataFrame, truth: pd.DataFrame, units, *,
                  min_severity: str = "warning", explained=None) -> pd.DataFrame:
    """The clean units (``units`` without a truth row) that a finding at
    ``min_severity`` or worse names, one row per (check, unit), unless a district-wide
    kind of the truth explains it (``EXPLAINED``: check in the list, period inside the
    kind's periods).  Columns: check, unit."""
    flagged = _flagged(findings, min_severity)
    t = _truth_table(truth)
    clean = set(units) - set(t["unit"].dropna())
    f = flagged.loc[flagged["unit"].isin(clean)]
    expl = EXPLAINED if explained is None else explained
    for kind, checks in expl.items():
        periods = set(t.loc[(t["kind"] == kind) & t["unit"].isna(), "period"].dropna())
        if not periods:
            continue
        months = f["period"].map(_months)
        inside = [m is not None and bool(m & periods) for m in months]
        f = f.loc[~(f["check"].isin(checks) & pd.Series(inside, index=f.index, dtype=bool))]
    return f[["check", "unit"]].drop_duplicates().reset_index(drop=True)


def score_checks(findings: pd.DataFrame, truth: pd.DataFrame, units, *,
                 min_severity: str = "warning") -> pd.DataFrame:
    """Detection and false-alarm rates per check on a ``synth.make_city`` city, whose
    truth names each anomaly by the check id that should find it (methods notebook).
    ``units`` lists every unit of the city.  Matching is by check and unit only
    (``strict=False``): synth's truth periods mark where an anomaly starts.

    Returns
    -------
    DataFrame
        One row per check of ``CHECK_FAMILIES``: check, 检查项目, injected (units, or 1
        for a district-wide kind), detected, detection_rate, clean_units, false_alarms
        (clean units the check flags), false_alarm_rate, missed (names, '、'-joined).
    """
    t = _truth_table(truth)
    unit_kinds = set(t.loc[t["unit"].notna(), "kind"])
    # a kind planted on units as well as district-wide is scored on its units
    t = t.loc[t["unit"].notna() | ~t["kind"].isin(unit_kinds)]
    det = detections(findings, t, detectors={}, min_severity=min_severity, strict=False)
    per = det.groupby("kind").agg(injected=("detected", "size"), detected=("detected", "sum"))
    per["missed"] = (det.loc[~det["detected"] & det["unit"].notna()]
                     .groupby("kind")["unit"].agg("、".join))
    clean = set(units) - set(t["unit"].dropna())
    false = flagged_clean(findings, t, units, min_severity=min_severity,
                          explained={}).groupby("check").size()
    out = pd.DataFrame(index=list(CHECK_FAMILIES))
    out = out.join(per).join(false.rename("false_alarms"))
    cols = ["injected", "detected", "false_alarms"]
    out[cols] = out[cols].fillna(0).astype("int64")
    out["detection_rate"] = out["detected"] / out["injected"].where(out["injected"] > 0)
    out["clean_units"] = len(clean)
    out["false_alarm_rate"] = out["false_alarms"] / max(len(clean), 1)
    out["missed"] = out["missed"].fillna("").astype("str")
    out = out.rename_axis("check").reset_index()
    out.insert(1, "检查项目", out["check"].map(CHECK_ZH))
    return out[["check", "检查项目", "injected", "detected", "detection_rate", "clean_units",
                "false_alarms", "false_alarm_rate", "missed"]]
