"""The one findings table that every check returns (design.md), and the shared
machinery for it: severity from adjusted p-values (Benjamini–Hochberg is in
``checks._stats``).

Columns, in order:

========== ===========================================================
check      stable id of the check (``low_outlier``, ``zero_report`` …)
family     the check's family (outliers, balance, trends, consistency, sectors,
           reporting)
unit       the reporting unit; missing when the finding is about a group
unit_type  the unit's type (county, town, department, soe); may be missing
period     canonical period (``2024-04``, ``2024Q2``); missing if pooled
indicator  indicator code; missing if not about one indicator
observed   the figure observed
expected   what peers or the unit's history predict
lower      lower limit of the acceptable range (NaN if none)
upper      upper limit of the acceptable range (NaN if none)
statistic  the test statistic (z, χ², ratio …), NaN if none
p_value    the raw p-value, NaN for deterministic checks
q_value    Benjamini–Hochberg adjusted p-value across the check's tests
severity   ``info``, ``warning`` or ``alert``
message    one Chinese sentence with the figures in it
========== ===========================================================
"""

from __future__ import annotations

import numpy as np
import pandas as pd

FINDINGS_COLUMNS = [
    "check", "family", "unit", "unit_type", "period", "indicator",
    "observed", "expected", "lower", "upper", "statistic", "p_value", "q_value",
    "severity", "message",
]
_FLOAT_COLUMNS = ["observed", "expected", "lower", "upper", "statistic", "p_value", "q_value"]
_STR_COLUMNS = ["check", "family", "unit", "unit_type", "period", "indicator", "severity", "message"]

SEVERITIES = ("info", "warning", "alert")
SEVERITY_ZH = {"info": "提示", "warning": "关注", "alert": "预警"}

# check id -> family; the family is also the module of checks/ that holds the check,
# and this order is the report's order.
CHECK_FAMILIES = {
    "low_outlier": "outliers",
    "zero_report": "outliers",
    "surge": "trends",
    "group_shift": "trends",
    "low_self_report": "sectors",
    "sector_concentration": "sectors",
    "underdispersion": "balance",
    "matching_series": "balance",
    "identical_values": "balance",
    "repeated_value": "balance",
    "last_digit": "balance",
    "round_number": "balance",
    "benford": "balance",
    "pinned_rate": "balance",
    "rule_violation": "consistency",
}
# Checks of the reporting itself against the office's roster of units (roster.py):
# who sent nothing, who sent late, which names are not on the roster.  They need the
# roster or the reports' dates, not the panel alone, so ``checks.run_checks`` does not
# run them: ``assessment.assess_dataset`` appends them when the data folder has them.
REPORTING_CHECKS = {
    "not_reported": "reporting",
    "late_report": "reporting",
    "unlisted_unit": "reporting",
}
# What ingest found (ingest_findings.py): totals rows against their units, rows not
# read, columns not understood, likely aliases, first 累计 figures.  They need
# ingest's side tables, so ``checks.run_checks`` does not run them either:
# ``assessment.assess_dataset`` appends them.  Family consistency: the report's
# 数据质量 section, with the rules between indicators.
INGEST_CHECKS = {
    "total_mismatch": "consistency",
    "rejected_rows": "consistency",
    "unknown_column": "consistency",
    "likely_alias": "consistency",
    "cumulative_start": "consistency",
}
ALL_CHECK_FAMILIES = {**CHECK_FAMILIES, **REPORTING_CHECKS, **INGEST_CHECKS}
FAMILY_ZH = {
    "outliers": "末位与零报送",
    "balance": "数据可信度",
    "trends": "突击上报",
    "consistency": "数据质量",
    "sectors": "行业与来源",
    "reporting": "报送情况",
}
CHECK_ZH = {
    "low_outlier": "排查数显著偏低",
    "zero_report": "零报送",
    "underdispersion": "数据过于均衡",
    "matching_series": "数据相互一致",
    "identical_values": "数据雷同",
    "repeated_value": "逐月数据不变",
    "last_digit": "尾数偏好",
    "round_number": "整数凑数",
    "benford": "首位数字异常",
    "pinned_rate": "整改率均为100%",
    "surge": "突击上报",
    "group_shift": "整体阶跃",
    "rule_violation": "逻辑关系错误",
    "low_self_report": "企业自查占比偏低",
    "sector_concentration": "行业领域分布集中",
    "not_reported": "未报送",
    "late_report": "迟报",
    "unlisted_unit": "不在单位名册",
    "total_mismatch": "合计与所列单位之和不符",
    "rejected_rows": "未读入的数据",
    "unknown_column": "未识别的列",
    "likely_alias": "单位名称疑似重复",
    "cumulative_start": "累计口径首期",
}


def empty_findings() -> pd.DataFrame:
    """A findings table with no rows and the right columns and dtypes."""
    return make_findings(pd.DataFrame(columns=FINDINGS_COLUMNS))


def make_findings(df: pd.DataFrame) -> pd.DataFrame:
    """Coerce a check's output to the findings schema: missing columns added,
    ``family`` filled from ``check``, columns ordered, dtypes fixed.  Returns a new
    frame; ``df`` is not modified.  Raises ValueError on an unknown severity.
    Text columns that are already str are kept as they are (a national run reports
    hundreds of thousands of rows: no round trip through Python objects)."""
    src = df.reset_index(drop=True)
    n = len(src)
    data = {}
    for col in FINDINGS_COLUMNS:
        if col not in src.columns:
            data[col] = np.full(n, np.nan) if col in _FLOAT_COLUMNS else \
                pd.array([None] * n, dtype="str")
        elif col in _FLOAT_COLUMNS:
            data[col] = pd.to_numeric(src[col], errors="coerce").astype("float64").to_numpy()
        else:
            data[col] = src[col].astype("str").array
    out = pd.DataFrame(data)
    family = out["family"]
    if family.isna().any():
        out["family"] = family.where(family.notna(), out["check"].map(ALL_CHECK_FAMILIES)).astype("str")
    bad = set(out["severity"].dropna().unique()) - set(SEVERITIES)
    if bad:
        raise ValueError(f"unknown severity {sorted(bad)}; expected one of {SEVERITIES}")
    return out[FINDINGS_COLUMNS]


def severity_from_q(q_values, *, alert: float = 0.01, warning: float = 0.05) -> np.ndarray:
    """Severity from adjusted p-values: ``alert`` below ``alert``, ``warning`` below
    ``warning``, otherwise ``info``; NaN gives ``info``."""
    q = np.asarray(q_values, dtype="float64")
    return np.where(q < alert, "alert", np.where(q < warning, "warning", "info")).astype(object)


def figure_text(x: float) -> str:
    """A figure as a finding's message prints it: an integer plainly, anything else
    to at most two decimals without trailing zeros (0.5, 2.25, 3.1)."""
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.2f}".rstrip("0").rstrip(".")


def concat_findings(frames) -> pd.DataFrame:
    """Stack several findings tables into one, sorted by severity then check."""
    frames = [make_findings(f) for f in frames if f is not None and len(f)]
    if not frames:
        return empty_findings()
    out = pd.concat(frames, ignore_index=True)
    rank = out["severity"].map({"alert": 0, "warning": 1, "info": 2})
    out = out.assign(_r=rank).sort_values(["_r", "check", "unit", "period", "indicator"],
                                          kind="stable", na_position="last")
    return out.drop(columns="_r").reset_index(drop=True)
