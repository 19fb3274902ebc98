"""Every figure of a drafted 存在的主要问题, traced back to the findings it was written
from (issue 18: 区应急局【11.0%】 where the finding says 11 of 42 = 26.19 %; one unit in
一 with 1项 and in 二 as "为0").

Written apart from ``draft.py``: the draft's text is read as a reader reads it, and
each figure is recomputed from the findings table by this module's own rules:

* a sentence names units (``A、B、C`` or ``A、B等N个单位``) and then lists their figures
  in the same order (``分别为0项、0项、11项``, ``分别应约5.1项、3.9项、19项``), one figure
  for all (``均为0项``) or the one unit's (``为26项``); each such figure must be that
  unit's finding's observed (after 为) or expected (after 应约) count, in the
  indicator's unit, rounded as written;
* a figure with % after a unit's name (``区住房城乡建委69.7%``) or ``整改率…为100%`` is
  that unit's observed share; ``同类单位平均约为81%`` / ``一般约为22%`` an expected share;
* ``报送为“0”`` means an observed 0 for every unit named;
* any other figure must appear in the message of a finding of a unit the sentence
  names (or of a finding about no unit), as the message writes it (a percentage
  may be the message's rounded to fewer decimals: 88.37% written 88.4%).

``untraceable(draft, findings)`` returns one line per figure that fails, [] when every
figure traces.
"""

from __future__ import annotations

import re

import pandas as pd

from anquan_analysis.catalogue import indicator_unit

POINT = re.compile(r"(?:^|(?<=。))[一二三四五六七八九十]是")
FIGURE = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)(%|项|个|家|人次|场|次|天|万元|起|人|份)?")
# a number that is a period, a count of periods or of units, not a figure of a finding
NOT_A_FIGURE = re.compile(r"^(?:月|年|季度|个季度|个月|期|个单位|个镇街|个部门|个行业|处|条|位|日|月底)")
AFTER_WORD = re.compile(r"(?:连续|第|共|等|近|仅|至少)$")
SHARE_CHECKS = {"pinned_rate", "last_digit", "sector_concentration"}


def _rounds_to(written: str, value: float) -> bool:
    """Whether ``value`` written with as many decimals as ``written`` gives it."""
    if pd.isna(value):
        return False
    digits = len(written.split(".")[1]) if "." in written else 0
    return abs(round(float(value), digits) - float(written)) < 1e-9 or \
        abs(float(value) - float(written)) <= 0.5 * 10 ** -digits + 1e-9


def _as_percent(value: float) -> float:
    return value * 100 if abs(value) <= 1 else value


def _units_in(text: str, units: list[str]) -> list[str]:
    """The units named in ``text``, in order of appearance (a longer name first)."""
    found, taken = [], [False] * len(text)
    for u in sorted(units, key=len, reverse=True):
        for m in re.finditer(re.escape(u), text):
            if not any(taken[m.start():m.end()]):
                found.append((m.start(), u))
                for k in range(m.start(), m.end()):
                    taken[k] = True
    return [u for _, u in sorted(found)]


def _list_after(text: str, word: str):
    """The figures of ``分别为a、b`` / ``均为a`` / ``为a`` after ``word`` (为 or 应约):
    ([(number, unit word) …], "分别" / "均" / ""), or [] when there are none."""
    m = re.search(rf"(分别|均)?{word}((?:\d+(?:\.\d+)?(?:%|项|个|家|人次|场|次|天|万元|起|人|份)?、?)+)",
                  text)
    if not m:
        return []
    return [(g[0], g[1]) for g in FIGURE.findall(m.group(2))], m.group(1) or ""


def untraceable(draft: str, findings: pd.DataFrame) -> list[str]:
    """One line per figure of ``draft`` that the findings do not give (see the
    module's docstring); [] when every figure traces to a finding."""
    f = findings.loc[findings["severity"].isin(["alert", "warning"])]
    units = sorted(set(f["unit"].dropna().astype(str)))
    by_unit = {u: g for u, g in f.groupby(f["unit"].astype(str))}
    whole = f.loc[f["unit"].isna()]
    problems = []
    points = [p for p in POINT.split(draft) if p]
    for point in points:
        for sentence in re.split(r"[；。]", point):
            named = _units_in(sentence, units)
            problems += _check_sentence(sentence, named, by_unit, whole)
    return problems


def _count_ok(written, unit_word, rows, column) -> bool:
    for r in rows.itertuples():
        code = r.indicator if isinstance(r.indicator, str) else ""
        if r.check in SHARE_CHECKS:
            continue
        if unit_word and code and indicator_unit(code) != unit_word:
            continue
        if _rounds_to(written, getattr(r, column)):
            return True
    return False


def _share_ok(written, rows, column) -> bool:
    return any(r.check in SHARE_CHECKS and pd.notna(getattr(r, column))
               and _rounds_to(written, _as_percent(getattr(r, column))) for r in rows.itertuples())


def _in_messages(token: str, rows) -> bool:
    """``token`` as a message writes it; a percentage also as the draft rounds a
    message's own (88.37% written 88.4%)."""
    if any(token in str(m) for m in rows["message"]):
        return True
    if not token.endswith("%"):
        return False
    written = token[:-1]
    return any(_rounds_to(written, float(p)) and len(p.split(".")[-1]) > len(written.split(".")[-1])
               for m in rows["message"] for p in re.findall(r"(\d+\.\d+)%", str(m)))


def _check_sentence(sentence, named, by_unit, whole) -> list[str]:
    problems, explained = [], set()
    rows_of = {u: by_unit[u] for u in named}
    named_rows = pd.concat(list(rows_of.values()) + [whole]) if named else whole
    # the units listed at the head of the sentence, then their figures in order
    head = named
    for word, column in (("为", "observed"), ("应约", "expected")):
        got = _list_after(sentence, word)
        if not got:
            continue
        figures, how = got
        if not figures or not head:
            continue
        if how == "分别":
            pairs = list(zip(head, figures))
        else:
            pairs = [(u, figures[0]) for u in head[: (len(head) if how == "均" else 1)]]
        for u, (number, unit_word) in pairs:
            rows = rows_of[u]
            ok = (_share_ok(number, rows, column) if unit_word == "%"
                  else _count_ok(number, unit_word, rows, column)) \
                or _in_messages(number + unit_word, rows)
            if not ok:
                problems.append(f"{u}: {word}{number}{unit_word} is no {column} of its findings "
                                f"({sentence})")
            explained.add(number + unit_word)
    if "报送为“0”" in sentence:
        for u in head:
            if not any(r.check == "zero_report" and r.observed == 0
                       for r in rows_of[u].itertuples()):
                problems.append(f"{u}: 报送为“0” but no zero_report finding of 0 ({sentence})")
        explained.add("0")
    # figures written right after a unit's name: 区住房城乡建委69.7%
    for u in named:
        for hit in re.finditer(re.escape(u) + r"(\d+(?:\.\d+)?)%", sentence):
            if not _share_ok(hit.group(1), rows_of[u], "observed"):
                problems.append(f"{u}: {hit.group(1)}% is no observed share of its findings")
            explained.add(hit.group(1) + "%")
    for hit in re.finditer(r"(?:平均约为|一般约为)(\d+(?:\.\d+)?)%", sentence):
        if not _share_ok(hit.group(1), named_rows, "expected"):
            problems.append(f"{hit.group(1)}% is no expected share ({sentence})")
        explained.add(hit.group(1) + "%")
    # every other figure: written in a message of the units named (or of no unit)
    for hit in FIGURE.finditer(sentence):
        token = hit.group(1) + (hit.group(2) or "")
        rest, before = sentence[hit.end():], sentence[:hit.start()]
        if token in explained or NOT_A_FIGURE.match(rest) or AFTER_WORD.search(before):
            continue
        if re.search(r"\d{4}年$", before + hit.group(1)) or before.endswith("年"):
            continue  # 2024年
        if hit.group(2) is None and not rest.startswith(("”",)):
            continue  # a bare number: a period (9月 read above), a name's digit
        if not _in_messages(token, named_rows):
            problems.append(f"{token} is in no finding's message of {named or 'the district'} "
                            f"({sentence})")
    return problems
