"""Drafting 二、存在的主要问题 of a bulletin from the findings table alone, in the
bulletins' own register.

What the seeds do, and this module does:

* numbered points (一是…二是…, or （一）… with a short heading in the Word
  document), each opening with the aspect it looks from (从排查数量上看 …), naming
  the units and their figures;
* periods as a bulletin writes them: 2024年第三季度, 9月, 截至9月底 — never the
  canonical 2024Q3 or 2024-09;
* what peers predict as 按监管企业数测算应约17项; no 期望值, no p- or q-value, no
  test statistic (they stay in the findings table);
* only what the data can say: a rate pinned at 100 % "需核实", never "与实际进度不符";
* each unit named once per point: a unit that reported "0" is not listed again among
  the low ones (``unless``);
* the points in order of severity (an alert before a warning), then in the usual
  order of the aspects.

What each check says is kept as data (``DRAFT_TEMPLATES``, ``ASPECTS``); the code only
fills the templates.  Template fields:

==================== ===============================================================
``{who}``            the units: ``区教委`` or ``区教委、区林业局等5个单位``
``{indicator}``      the Chinese name of the findings' (most frequent) indicator
``{period}``         the period as a bulletin writes it (2024年第三季度)
``{when}``           ``截至9月底累计`` when the check looks at the campaign to date, else
                     ``{period}``
``{window}``         zero_report: ``连续3个季度`` (or per unit, ``分别…``)
``{values}``         the named units' figures: ``为26项`` / ``分别为26项、3项``
``{norms}``          what peers predict: ``应约45项`` / ``分别应约45项、12项``
``{peer_rate}``      pinned_rate: ``，同类单位平均约为81%`` (empty without a figure)
``{usual_share}``    last_digit: ``，按其数值范围一般约为22%`` (empty without a figure)
``{figures}``        unit and figure: ``区住房城乡建委69.7%、区交通局54.2%``
``{repeat}``         not_reported: ``，其中区侨办已连续2个季度未报送`` (``，均已连续…``
                     when it is true of every unit named)
``{message}``        the first finding's message, in the register (``plain``)
``{messages}``       the first two messages, in the register, joined by ；
``{basis}``          what the expectation rests on, from the messages: 按监管企业数测算,
                     or without exposure 按同类单位水平测算
``{rectified}``      pinned_rate: what was rectified (重大事故隐患, 一般隐患)
``{every}``          pinned_rate: 各期均 over several periods, 均 for several units of one
                     period, '' for one (never 长期 for one period)
==================== ===============================================================

A finding about a whole group (unit blank: 大通's 20 zero reporters of 22, 亳州's
general hazards at 100% in every unit) is written as its own message.  The period is
written as the report names it (``label``: 2024年1—6月累计 for figures typed as 累计
that cannot be split), and what the data could not support is said at the end
(``unmet``: 突击上报需至少4期数据…，未作判断), never "未发现".
"""

from __future__ import annotations

import re

import pandas as pd

from .catalogue import indicator_name, indicator_unit
from .findings import CHECK_ZH, FINDINGS_COLUMNS
from .periods import period_bounds, period_freq, period_name_zh

ASPECTS = pd.DataFrame(
    [
        ("reporting", 1, "从报送情况上看", "部分单位未按要求报送调度数据"),
        ("quantity", 2, "从排查数量上看", "部分单位排查数量明显偏低"),
        ("credibility", 3, "从数据真实性上看", "部分数据的真实性需核实"),
        ("rhythm", 4, "从报送节奏上看", "个别单位存在集中上报的情况"),
        ("sectors", 5, "从行业领域上看", "行业领域分布不平衡"),
        ("source", 6, "从数据来源上看", "企业自查发现占比偏低"),
        ("quality", 7, "从数据质量上看", "部分报表填报不规范"),
    ],
    columns=["aspect", "order", "opening", "heading"],
)

# One row per check: its aspect (checks sharing an aspect are one point), how its
# figures read (a count in the indicator's unit, a share as a percentage, days), the
# check whose units it leaves out within the point, and the sentence.
DRAFT_TEMPLATES = pd.DataFrame(
    [
        ("not_reported", "reporting", "count", "", "{who}{period}未报送调度数据{repeat}"),
        ("late_report", "reporting", "days", "", "{messages}"),
        ("unlisted_unit", "reporting", "count", "", "{who}不在单位名册中，需核对单位名称"),
        ("zero_report", "quantity", "count", "",
         "{who}{indicator}{window}报送为“0”，{basis}{norms}"),
        ("low_outlier", "quantity", "count", "zero_report",
         "{who}{when}{indicator}{values}，{basis}{norms}，明显低于同类单位水平"),
        ("pinned_rate", "credibility", "share", "",
         "{who}{rectified}整改率{every}为100%{peer_rate}，需核实整改是否真实到位"),
        ("identical_values", "credibility", "count", "", "{messages}，需核实是否相互照抄"),
        ("underdispersion", "credibility", "count", "", "{messages}，需核实"),
        ("matching_series", "credibility", "count", "", "{messages}，需核实"),
        ("repeated_value", "credibility", "count", "", "{messages}，需核实是否如实填报"),
        ("last_digit", "credibility", "share", "",
         "{who}填报数据尾数为0或5的占比偏高（{figures}{usual_share}），需核实是否存在估报、凑整"),
        ("round_number", "credibility", "count", "",
         "{who}填报的{indicator}整十、整百的数值明显偏多，需核实是否存在估报、凑数"),
        ("benford", "credibility", "count", "",
         "{who}填报数据的首位数字分布与一般规律偏离较大，需核实数据来源"),
        ("surge", "rhythm", "count", "",
         "{who}{period}{indicator}{values}，按此前各期水平{norms}，增幅明显，需核实是否集中突击上报"),
        ("group_shift", "rhythm", "count", "", "{messages}，需核实"),
        ("sector_concentration", "sectors", "share", "", "{messages}"),
        ("low_self_report", "source", "count", "",
         "{who}{when}企业自查发现重大事故隐患{values}，按同类单位占比测算{norms}，企业自查自报仍有差距"),
        ("rule_violation", "quality", "count", "",
         "{who}填报数据不符合指标间的逻辑关系（如{message}），需核实更正"),
        ("total_mismatch", "quality", "count", "", "{messages}"),
        ("rejected_rows", "quality", "count", "", "{messages}"),
        ("unknown_column", "quality", "count", "", "{messages}"),
        ("likely_alias", "quality", "count", "", "{messages}"),
        ("cumulative_start", "quality", "count", "", "{messages}"),
    ],
    columns=["check", "aspect", "figure", "unless", "template"],
)

# Checks whose sentence names the indicator and its figures: one sentence per indicator.
_PER_INDICATOR = frozenset(DRAFT_TEMPLATES.loc[DRAFT_TEMPLATES["template"].str.contains(
    r"\{(?:indicator|values|norms|rectified)\}"), "check"])

# Rewording of the checks' messages: their statistical words in the bulletins' own.
REPLACEMENTS = (
    ("按监管企业数应约", "按监管企业数测算应约"),
    ("显著偏低", "明显偏低"),
    ("显著偏高", "明显偏高"),
    ("存在整体阶跃", "前后变化明显"),
    ("小于计数的随机波动", "明显小于正常波动"),
)
# A clause or bracket holding one of these is a test's figure, left to the findings table.
_STATISTIC = re.compile(r"[pq]\s*[=＝<≤]|χ|MAD|HHI|自由度|期望|概率|中位线|均值|z\s*=|τ")
_BRACKET = re.compile(r"（[^（）]*）|\([^()]*\)")
_CLAUSE_SEP = re.compile(r"([，；：,;:])")
_CANONICAL = re.compile(r"\d{4}(?:Q[1-4]|H[12]|-\d{2})(?![\d-])")
_SINCE = re.compile(r"截至(\d{4}(?:Q[1-4]|H[12]|-\d{2}))(?![\d-])")
_ZERO_RUN = re.compile(r"(\d{4}(?:Q[1-4]|-\d{2}))(?:至(\d{4}(?:Q[1-4]|-\d{2})))?(?:连续(\d+)期)?"
                       r"[^，。；]*报送为0")
_FINE_PERCENT = re.compile(r"(?<![\d.])(\d+\.\d{2,})%")
# What must never reach the draft; a sentence holding it falls back to a plain one.
FORBIDDEN = re.compile(r"期望值|[pq]\s*[=＝]|\d{4}Q[1-4]|\d{4}-\d{2}|χ|HHI|MAD")

_NUMERALS = "一二三四五六七八九十"
_SEVERITY_RANK = {"alert": 0, "warning": 1, "info": 2}
_PERIOD_WORD = {"M": "个月", "Q": "个季度"}


# ----------------------------------------------------------------- periods
def month_end(period: str) -> str:
    """``截至9月底``: the end of ``period`` as the bulletins write the campaign to date."""
    return f"截至{period_bounds(period)[1].month}月底"


def period_text(period: str, reference: str | None = None) -> str:
    """A canonical period as a bulletin writes it: 2024年第三季度, 2024年上半年;
    a month as ``9月`` within ``reference``'s year, ``2023年12月`` outside it."""
    if period_freq(period) == "M" and reference is not None and period[:4] == reference[:4]:
        return f"{int(period[5:7])}月"
    return period_name_zh(period)


def plain(text: str, reference: str, label: str | None = None) -> str:
    """A check's message in the bulletins' register: canonical periods written out
    (``截至2024Q3累计`` → ``截至9月底累计``; the assessed period ``reference`` itself as
    ``label`` when given), brackets and clauses holding a test's figures (p=, χ², 期望,
    概率 …) left out, statistical words reworded (``REPLACEMENTS``), percentages to one
    decimal (88.37% → 88.4%, as the bulletins write them).  No final full stop."""
    t = str(text).strip().rstrip("。；;. ")
    t = _BRACKET.sub(lambda m: "" if _STATISTIC.search(m.group(0)) else m.group(0), t)
    parts = _CLAUSE_SEP.split(t)
    clauses, seps = parts[0::2], parts[1::2] + [""]
    kept = [(c, s) for c, s in zip(clauses, seps) if c and not _STATISTIC.search(c)]
    dropped = len(kept) < len([c for c in clauses if c])
    t = "".join(c + s for c, s in kept).rstrip("，；：,;:")
    if dropped:  # a colon that introduced the test's figures now introduces nothing
        t = t.replace("：", "，").replace(":", "，")
    for old, new in REPLACEMENTS:
        t = t.replace(old, new)
    # a percentage to one decimal, as the bulletins write it (88.37% → 88.4%)
    t = _FINE_PERCENT.sub(lambda m: f"{float(m.group(1)):.1f}%", t)
    t = _SINCE.sub(lambda m: month_end(m.group(1)), t)
    return _CANONICAL.sub(lambda m: label if label and m.group(0) == reference
                          else period_text(m.group(0), reference), t)


# ----------------------------------------------------------------- figures
def _number(value: float, unit: str = "") -> str:
    if pd.isna(value):
        return "—"
    v = float(value)
    text = f"{v:.0f}" if v.is_integer() or abs(v) >= 10 else f"{v:.1f}"
    return text + unit


def _share(value: float, digits: int = 1) -> str:
    if pd.isna(value):
        return "—"
    pct = value * 100 if abs(value) <= 1 else value  # a fraction (0.089) or a percentage
    return f"{pct:.{digits}f}%".replace(".0%", "%")


def _listed(prefix: str, items: list[str]) -> str:
    """``为26项`` for one, ``分别为26项、3项`` for several, one figure when all agree."""
    if not items:
        return ""
    if len(set(items)) == 1:
        return f"{prefix}{items[0]}" if len(items) == 1 else f"均{prefix}{items[0]}"
    return f"分别{prefix}" + "、".join(items)


def _who(units: list[str], max_units: int) -> str:
    names = "、".join(units[:max_units])
    return names if len(units) <= max_units else f"{names}等{len(units)}个单位"


def _zero_window(message: str, statistic: float, period: str, label: str | None = None) -> str:
    """Where a unit's run of zeros lies, from the zero_report message (its first and
    last period) and statistic (its length); one period ending at ``period`` is
    ``label`` (the period as the report names it)."""
    m = _ZERO_RUN.search(str(message))
    k = (int(statistic) if pd.notna(statistic) and abs(float(statistic)) < 1e6
         else (int(m.group(3)) if m and m.group(3) else 1))
    last = (m.group(2) or m.group(1)) if m else period
    if last == period or m is None:
        word = _PERIOD_WORD.get(period_freq(period), "期")
        return f"连续{k}{word}" if k >= 2 else (label or period_text(period))
    first = m.group(1)
    span = period_text(first, period) + ("" if first == last else "至" + period_text(last, period))
    return span


def _basis(messages) -> str:
    """What the peers' expectation rests on, as the checks' messages say it."""
    text = "".join(str(m) for m in messages)
    if "按监管企业数" in text:
        return "按监管企业数测算"
    if "按同类" in text:  # no exposure: the peers' level
        return "按同类单位水平测算"
    if "按全部单位水平" in text:
        return "按全部单位水平测算"
    return "按监管企业数测算"


def _every(group: pd.DataFrame, n_units: int) -> str:
    """pinned_rate: 各期均 when a unit's run covers several periods; for one unit
    whose latest periods only were at 100% (its run), 自2024年7月起连续6个月均 as its
    message dates it; else 均 for several units, '' for one."""
    messages = group["message"].astype(str)
    if messages.str.contains("各期").any():
        return "各期均"
    run = messages.str.extract(r"(自\S+?起)至\S+?(连续\d+(?:个月|期))整改率均为100%").dropna()
    if n_units == 1 and len(run):
        return f"{run.iloc[0, 0]}{run.iloc[0, 1]}均"
    return "均" if n_units > 1 else ""


def _fields(group: pd.DataFrame, figure: str, period: str, max_units: int,
            label: str | None = None) -> dict:
    by_unit = group.dropna(subset=["unit"]).drop_duplicates("unit")
    units = by_unit["unit"].astype(str).tolist()
    shown = by_unit.head(max_units)
    code = group["indicator"].dropna().mode()
    code = str(code.iloc[0]) if len(code) else ""
    unit = indicator_unit(code) if code else ""
    if figure == "share":
        values = [_share(v) for v in shown["observed"]]
        norms = [_share(v) for v in shown["expected"]]
    elif figure == "days":
        values = [f"迟报{_number(v)}天" for v in shown["observed"]]
        norms = []
    else:
        values = [_number(v, unit) for v in shown["observed"]]
        norms = [_number(v, unit) for v in shown["expected"]]
    # one message per set of units it names: A与B完全相同 and B与A完全相同 are one
    named_units = set(group["unit"].dropna().astype(str))
    messages = {}
    for m in group["message"].dropna().astype(str):
        m = plain(m, period, label)
        if m:
            messages.setdefault(frozenset(u for u in named_units if u in m) or m, m)
    messages = list(messages.values())
    more = f"；另有{len(messages) - 2}处类似情况" if len(messages) > 2 else ""
    windows = [_zero_window(m, s, period, label)
               for m, s in zip(shown["message"], shown["statistic"])]
    word = _PERIOD_WORD.get(period_freq(period), "期")
    streaks = [(u, int(s)) for u, s in zip(shown["unit"], shown["statistic"])
               if pd.notna(s) and 2 <= s < 1e6]
    repeat = ""
    if streaks:
        if len({k for _, k in streaks}) == 1 and len(streaks) == len(units):
            repeat = f"，{'均' if len(units) > 1 else ''}已连续{streaks[0][1]}{word}未报送"
        elif len({k for _, k in streaks}) == 1:
            repeat = f"，其中{'、'.join(u for u, _ in streaks)}已连续{streaks[0][1]}{word}未报送"
        else:
            repeat = "，其中" + "、".join(f"{u}已连续{k}{word}" for u, k in streaks) + "未报送"
    since = "截至" in str(group["message"].iloc[0]) if len(group) else False
    first = shown["expected"].dropna()
    first = _share(first.iloc[0], digits=0) if figure == "share" and len(first) else ""
    rectified = indicator_name(code) if code else "隐患"
    for end in ("整改数", "整改"):
        rectified = rectified[:-len(end)] if rectified.endswith(end) else rectified
    # a quarter's finding that one of its months found (assessment.inner_findings) is
    # dated by that month: 石门镇7月…17项, not 2024年第三季度…17项
    found_in = group["period"].dropna().astype(str).unique()
    inner = (len(found_in) == 1 and found_in[0] != period
             and period_bounds(found_in[0])[0] >= period_bounds(period)[0]
             and period_bounds(found_in[0])[1] <= period_bounds(period)[1])
    return {
        "who": _who(units, max_units), "indicator": indicator_name(code) if code else "填报数据",
        "period": (period_text(found_in[0], period) if inner else label or period_text(period)),
        "when": month_end(period) + "累计" if since
        else (label or period_text(period)),
        "basis": _basis(group["message"].dropna()), "rectified": rectified,
        "every": _every(group, len(units)),
        "window": windows[0] if len(set(windows)) == 1 else "分别" + "、".join(windows),
        "values": _listed("为", values), "norms": "" if all(n == "—" for n in norms) else _listed("应约", norms),
        "peer_rate": f"，同类单位平均约为{first}" if first else "",
        "usual_share": f"，按其数值范围一般约为{first}" if first else "",
        "figures": "、".join(f"{u}{v}" for u, v in zip(shown["unit"].astype(str), values)),
        "repeat": repeat, "message": messages[0] if messages else "",
        "messages": "；".join(messages[:2]) + more,
    }


# "，按监管企业数测算" with nothing after it: no unit named had a peer figure
_EMPTY_NORM = re.compile(r"，按[^，；（）]*?(?:测算|水平)(?=[，；]|$)")


def _sentence(group: pd.DataFrame, template: pd.Series, period: str, max_units: int,
              label: str | None = None) -> str:
    if "{who}" not in template.template:  # a template of the messages themselves
        return _unit_sentence(group, template, period, max_units, label)
    whole = group.loc[group["unit"].isna()]
    named = group.loc[group["unit"].notna()]
    parts = []
    if len(named):
        parts.append(_unit_sentence(named, template, period, max_units, label))
    # a finding about the whole group speaks for itself (no unit to fill {who} with)
    for m in whole["message"].dropna().astype(str):
        text = plain(m, period, label)
        if text and not FORBIDDEN.search(text):
            parts.append(text)
    return "；".join(p for p in parts if p)


def _unit_sentence(group: pd.DataFrame, template: pd.Series, period: str, max_units: int,
                   label: str | None = None) -> str:
    text = template.template.format(**_fields(group, template.figure, period, max_units, label))
    text = _EMPTY_NORM.sub("", text)
    if FORBIDDEN.search(text) or not text.strip("，；"):
        # a message the rewording could not bring into the register: say only what it is
        units = group["unit"].dropna().astype(str).drop_duplicates().tolist()
        who = _who(units, max_units) if units else "部分单位"
        text = f"{who}存在“{CHECK_ZH.get(template.name, template.name)}”的情况，需核实"
    return text


# ----------------------------------------------------------------- the draft
def draft_items(findings: pd.DataFrame, *, period: str | None = None,
                min_severity: str = "warning", max_units: int = 8,
                label: str | None = None) -> pd.DataFrame:
    """The numbered points of 存在的主要问题, one row per aspect with findings at
    ``min_severity`` or worse, the most severe point first (then the order of
    ``ASPECTS``).  Within a check, findings are ranked by severity, q-value, p-value;
    the first ``max_units`` units are named and the rest counted.  ``period``: the
    period assessed (default: the findings' most frequent period); ``label``: the
    period as the report names it (``Assessment.period_zh``; default 2024年第三季度 …).

    Columns: number (一是 …), aspect, heading (the point in a few words), severity
    (the point's most severe), checks (tuple of check ids), units (tuple, every unit
    the point names or counts), body (the sentences), text (opening + body, as
    ``draft_problems`` joins them).  ``findings`` is not modified."""
    missing = [c for c in FINDINGS_COLUMNS if c not in findings.columns]
    if missing:
        raise ValueError(f"draft_items: missing column {missing[0]!r}")
    columns = ["number", "aspect", "heading", "severity", "checks", "units", "body", "text"]
    if period is None:
        mode = findings["period"].dropna().mode()
        period = str(mode.iloc[0]) if len(mode) else None
    rank = findings["severity"].map(_SEVERITY_RANK)
    tpl = DRAFT_TEMPLATES.assign(_tpl=range(len(DRAFT_TEMPLATES)))
    kept = (findings.loc[rank <= _SEVERITY_RANK[min_severity]].assign(_rank=rank)
            .merge(tpl[["check", "aspect", "_tpl"]], on="check", how="inner")
            .sort_values(["_tpl", "_rank", "q_value", "p_value", "observed"],
                         kind="stable", na_position="last"))
    if kept.empty or period is None:
        return pd.DataFrame(columns=columns)
    templates = DRAFT_TEMPLATES.set_index("check")
    aspects = ASPECTS.set_index("aspect")
    rows = []
    for aspect, block in kept.groupby("aspect", sort=False):
        parts, named = [], {}
        # one sentence per check and indicator where the sentence names the count and
        # its figures (a check judging several finding counts), else one per check
        by = block["indicator"].where(block["check"].isin(_PER_INDICATOR), "")
        for (check, code), g in block.groupby([block["check"], by], sort=False, dropna=False):
            unless = templates.loc[check, "unless"]
            if unless:  # units another check of this point already names (same count)
                same = by.isna() if pd.isna(code) else by == code
                other = set(block.loc[(block["check"] == unless) & same, "unit"].dropna())
                g = g.loc[~g["unit"].isin(other)]
                if g.empty:
                    continue
            text = _sentence(g, templates.loc[check], period, max_units, label)
            if text:
                parts.append(text)
            named.update(dict.fromkeys(g["unit"].dropna().astype(str)))
        if not parts:
            continue
        severity = int(block["_rank"].min())
        opening = aspects.loc[aspect, "opening"]
        body = "；".join(parts) + "。"
        rows.append({"aspect": aspect, "heading": aspects.loc[aspect, "heading"],
                     "severity": {v: k for k, v in _SEVERITY_RANK.items()}[severity],
                     "checks": tuple(block["check"].unique()), "units": tuple(named),
                     "body": body, "text": f"{opening}，{body}",
                     "_order": (severity, aspects.loc[aspect, "order"])})
    out = pd.DataFrame(rows)
    out = out.sort_values("_order", kind="stable").drop(columns="_order").reset_index(drop=True)
    out.insert(0, "number", [f"{_NUMERALS[i]}是" if i < len(_NUMERALS) else f"第{i + 1}点"
                             for i in range(len(out))])
    return out[columns]


NOTHING = "本期调度数据各项检查未发现需要重点关注的问题。"
# what is said when some checks could not be run: only those that ran found nothing
NOTHING_RUN = "本期调度数据已开展的各项检查未发现需要重点关注的问题。"


def not_judged(unmet: pd.DataFrame | None) -> str:
    """What the data could not support, as one sentence for the end of the draft:
    ``突击上报、整体阶跃需至少4期数据（截至本期仅1期），未作判断。`` (the checks
    needing history; ``checks.unmet_needs``); '' when every check could run.  Checks
    that lack an indicator the office does not report are not listed: the report's
    sections say so."""
    from .checks import unmet_text

    if unmet is None or len(unmet) == 0:
        return ""
    history = unmet.loc[unmet["need"] == "periods"]
    return unmet_text(history) + "，未作判断。" if len(history) else ""


def draft_problems(findings: pd.DataFrame, *, period: str | None = None,
                   min_severity: str = "warning", max_units: int = 8,
                   label: str | None = None, unmet: pd.DataFrame | None = None) -> str:
    """The 存在的主要问题 paragraph: the points of ``draft_items`` joined as
    ``一是从排查数量上看，…。二是…`` (桂林's form); ``NOTHING`` when nothing reaches
    ``min_severity``.  ``label``: the period as the report names it; ``unmet``: the
    checks the data could not feed (``Assessment.unmet``): what needed more periods is
    said at the end (``not_judged``), and "nothing found" then says it of the checks
    that ran."""
    items = draft_items(findings, period=period, min_severity=min_severity,
                        max_units=max_units, label=label)
    tail = not_judged(unmet)
    if items.empty:
        return (NOTHING_RUN + tail) if tail else NOTHING
    return "".join(items["number"] + items["text"]) + tail


def key_problems(findings: pd.DataFrame, *, period: str | None = None,
                 min_severity: str = "warning", max_units: int = 3,
                 unmet: pd.DataFrame | None = None) -> str:
    """One sentence for the top of a report: the points' headings and whom they name,
    most severe first: ``本期需重点关注：一是部分单位排查数量明显偏低（区市场监管局、
    白鹤镇等5个单位）；二是…。``; with ``unmet`` holding checks that needed more
    periods, "nothing found" is said of the checks that ran (``NOTHING_RUN``)."""
    items = draft_items(findings, period=period, min_severity=min_severity, max_units=max_units)
    if items.empty:
        return NOTHING_RUN if not_judged(unmet) else NOTHING
    parts = []
    for r in items.itertuples():
        who = f"（{_who(list(r.units), max_units)}）" if r.units else ""
        parts.append(f"{r.number}{r.heading}{who}")
    return "本期需重点关注：" + "；".join(parts) + "。"
