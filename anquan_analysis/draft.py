"""Drafting the 存在的主要问题 paragraph of a bulletin from the findings table alone.

The paragraph follows the seeds' register: numbered points 一是…二是…三是…, each
opening with the aspect it looks from (从排查数量上看 …), naming the units and their
figures.  What each check says is kept as data (``DRAFT_TEMPLATES``); the code only
fills the templates, so a new check needs a new row, not new code.

Template fields:

=================== =========================================================
``{who}``           the units, e.g. ``区发展改革委、区教委等5个单位``
``{indicator}``     the Chinese name of the findings' (most frequent) indicator
``{figures}``       each named unit's observed figure: ``区教委【0项】、区林业局【1项】``
``{figures_vs_exp}`` the same with the expectation: ``区教委【0项，期望值4.2项】``
``{message}``       the message of the first finding (group-level checks)
=================== =========================================================
"""

from __future__ import annotations

import pandas as pd

from .catalogue import indicator_name, indicator_unit
from .findings import FINDINGS_COLUMNS

# One row per check: the bulletin order, the aspect (checks sharing an aspect are one
# numbered point), how its figures read (count in the indicator's unit, or a share
# as a percentage) and the sentence.
DRAFT_TEMPLATES = pd.DataFrame(
    [
        ("low_outlier", 1, "从排查数量上看", "count",
         "{who}{indicator}显著低于同类单位，其中{figures_vs_exp}"),
        ("zero_report", 2, "从零报送情况上看", "count", "{who}{indicator}为“0”"),
        ("underdispersion", 3, "从数据可信度上看", "count", "{message}"),
        ("matching_series", 3, "从数据可信度上看", "count", "{message}"),
        ("identical_values", 3, "从数据可信度上看", "count",
         "{who}报送的各项指标数据完全相同，存在相互“保持平衡”的嫌疑"),
        ("repeated_value", 3, "从数据可信度上看", "count",
         "{who}{indicator}连续多期填报同一数值，其中{figures}"),
        ("last_digit", 3, "从数据可信度上看", "share",
         "{who}填报数据尾数为0或5的占比明显偏高，其中{figures_vs_exp}"),
        ("benford", 3, "从数据可信度上看", "count", "{who}填报数据首位数字分布偏离正常规律"),
        ("pinned_rate", 3, "从数据可信度上看", "share",
         "{who}整改率长期保持在100%附近，其中{figures}，与隐患整改的实际进度不符"),
        ("surge", 4, "从报送节奏上看", "count",
         "{who}{indicator}本期突增，其中{figures_vs_exp}，存在突击上报的情况"),
        ("group_shift", 4, "从报送节奏上看", "count", "{message}"),
        ("sector_concentration", 5, "从行业领域上看", "share", "{message}"),
        ("low_self_report", 6, "从数据来源上看", "share",
         "{who}企业自查发现重大事故隐患占比偏低，其中{figures}，企业主体责任落实不到位"),
        ("rule_violation", 7, "从数据质量上看", "count",
         "{who}填报数据不符合指标间的逻辑关系（如{message}），数据把关不严"),
    ],
    columns=["check", "order", "aspect", "figure", "template"],
)

_NUMERALS = "一二三四五六七八九十"
_SEVERITY_RANK = {"alert": 0, "warning": 1, "info": 2}


def _fmt(value: float, figure: str, unit: str) -> str:
    if pd.isna(value):
        return "—"
    if figure == "share":
        # Shares may arrive as fractions (0.089) or percentages (8.9).
        pct = value * 100 if abs(value) <= 1 else value
        return f"{pct:.1f}%"
    text = f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
    return text + unit


def _who(units: list[str], n: int, max_units: int) -> str:
    names = "、".join(units[:max_units])
    return names if n == 1 else f"{names}等{n}个单位"


def _sentence(group: pd.DataFrame, template: pd.Series, max_units: int) -> str:
    by_unit = group.dropna(subset=["unit"]).drop_duplicates("unit")
    units = by_unit["unit"].astype(str).tolist()
    shown = by_unit.head(max_units)
    code = group["indicator"].dropna().mode()
    code = str(code.iloc[0]) if len(code) else ""
    name = indicator_name(code) if code else "填报数据"
    figs, figs_exp = [], []
    for row in shown.itertuples():
        unit = indicator_unit(row.indicator) if pd.notna(row.indicator) else ""
        obs = _fmt(row.observed, template.figure, unit)
        figs.append(f"{row.unit}【{obs}】")
        exp = ("" if pd.isna(row.expected)
               else f"，期望值{_fmt(row.expected, template.figure, unit)}")
        figs_exp.append(f"{row.unit}【{obs}{exp}】")
    # A group-level finding (no unit) names every member: its message first.
    whole = group.loc[group["unit"].isna()]
    message = str((whole if len(whole) else group)["message"].iloc[0]).rstrip("。；;. ")
    return template.template.format(
        who=_who(units, len(units), max_units) if units else "", indicator=name,
        figures="、".join(figs), figures_vs_exp="、".join(figs_exp), message=message)


def draft_items(findings: pd.DataFrame, *, min_severity: str = "warning",
                max_units: int = 5) -> pd.DataFrame:
    """The numbered points of 存在的主要问题, one row per aspect with findings at
    ``min_severity`` or worse, in bulletin order.  Within a check, findings are
    ranked by severity then q-value then p-value, and the first ``max_units`` units
    are named.  Columns: number (一是 …), aspect, checks (tuple of check ids), text.
    ``findings`` is not modified."""
    missing = [c for c in FINDINGS_COLUMNS if c not in findings.columns]
    if missing:
        raise ValueError(f"draft_items: missing column {missing[0]!r}")
    limit = _SEVERITY_RANK[min_severity]
    rank = findings["severity"].map(_SEVERITY_RANK)
    templates_pos = DRAFT_TEMPLATES[["check", "order"]].assign(_tpl=range(len(DRAFT_TEMPLATES)))
    kept = (findings.loc[rank <= limit].assign(_rank=rank)
            .merge(templates_pos, on="check", how="inner")
            .sort_values(["order", "_tpl", "_rank", "q_value", "p_value", "observed"],
                         kind="stable", na_position="last"))
    rows = []
    templates = DRAFT_TEMPLATES.set_index("check")
    for order, block in kept.groupby("order", sort=True):
        parts = [_sentence(g, templates.loc[check], max_units)
                 for check, g in block.groupby("check", sort=False)]
        aspect = templates.loc[block["check"].iloc[0], "aspect"]
        rows.append({"aspect": aspect, "checks": tuple(block["check"].unique()),
                     "text": f"{aspect}，" + "；".join(parts) + "。"})
    out = pd.DataFrame(rows, columns=["aspect", "checks", "text"])
    out.insert(0, "number", [f"{_NUMERALS[i]}是" if i < len(_NUMERALS) else f"第{i + 1}点"
                             for i in range(len(out))])
    return out


def draft_problems(findings: pd.DataFrame, *, min_severity: str = "warning",
                   max_units: int = 5) -> str:
    """The 存在的主要问题 paragraph: the points of ``draft_items`` joined as
    ``一是从排查数量上看，…。二是…``; a one-line statement when nothing reaches
    ``min_severity``."""
    items = draft_items(findings, min_severity=min_severity, max_units=max_units)
    if items.empty:
        return "本期调度数据各项检查未发现需要重点关注的问题。"
    return "".join(items["number"] + items["text"])
