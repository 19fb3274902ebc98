"""``bulletin.docx``: the 通报 of a period as an office sends it, a Word document in
the layout of GB/T 9704-2012 (``officedoc``), in the order of the seeds:

1. 版头 (发文机关标志, 发文字号, red line; ``Settings.letterhead``), the title
   关于{period}{scope}{campaign}进展情况的通报, 主送 and the opening sentence;
2. 一、工作总体进展情况: each action's figures in sentences, with the change on the
   period before and the total to date, from ``assessment.progress_table`` (the
   report's own table);
3. 二、存在的主要问题: the points of ``draft.draft_items``, each under a short
   楷体 heading;
4. 三、下一步工作要求: the office's text (``Settings.requirements``);
5. 附件说明, 发文机关署名 and 成文日期;
6. 附件 on a new page: every unit ranked on the key indicator (``annex_table``).

``write_bulletin`` takes plain tables and settings (testable without a notebook);
``bulletin_from_assessment`` builds them from an ``assessment.Assessment``.
``anquan bulletin --period P --data DIR --output DIR`` writes DIR/P/bulletin.docx.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

from . import officedoc as od
from .catalogue import indicator_name, indicator_unit, unit_type_name
from .dataset import require_columns
from .draft import NOTHING, month_end
from .periods import period_name_zh
from .settings import KEY_INDICATOR_HELP, Settings

BULLETIN_FILE = "bulletin.docx"
PROGRESS_COLUMNS = ["行动", "指标", "计量单位", "本期", "上期", "增减", "增幅(%)", "累计"]
ANNEX_COLUMNS = ["排名", "单位", "单位类型", "本期", "累计", "测算应约", "每百家监管企业",
                 "与同类单位比较", "问题标注"]
ANNEX_WIDTHS_MM = [10, 31, 17, 13, 13, 11, 13, 17, 31]
ANNEX_HEADERS = {"本期": "本期\n（{unit}）", "累计": "累计\n（{unit}）", "测算应约": "测算\n应约",
                 "每百家监管企业": "每百家\n企业", "与同类单位比较": "与同类\n单位比较"}
ANNEX_ALIGN = ["center", "left", "center", "right", "right", "right", "right", "center", "left"]
_NUMBERS = "一二三四五六七八九十"
# Words a title line may begin with (a break between words, not inside one).
TITLE_WORDS = ("安全生产", "治本攻坚", "三年行动", "重大事故隐患", "专项", "排查整治", "进展情况")
_INLINE_HEADING = re.compile(r"^(（[一二三四五六七八九十]+）[^。]{1,30}。)(.*)$", re.S)


def figure(value: float) -> str:
    """A figure as the text writes it: 412, 78.77 (no thousands separator)."""
    v = float(value)
    return f"{v:.0f}" if v.is_integer() else f"{v:.2f}".rstrip("0").rstrip(".")


# -------------------------------------------------------------------- 一、
def progress_paragraphs(progress: pd.DataFrame, period: str) -> list[tuple[str, str]]:
    """(heading, sentences) per action of ``progress`` (``assessment.progress_table``:
    PROGRESS_COLUMNS), in its order: ``（一）重大事故隐患动态清零行动。`` and
    ``重大事故隐患排查数123项，比上期增加43项，截至9月底累计258项；…``.
    An indicator without a figure in the period says so and gives its total."""
    require_columns(progress, PROGRESS_COLUMNS, "progress_paragraphs")
    since = month_end(period)
    out = []
    for action, g in progress.groupby("行动", sort=False):
        parts = []
        for r in g.itertuples(index=False):
            name, unit, now, before, change, total = r[1], r[2], r[3], r[4], r[5], r[7]
            if pd.isna(now):
                text = f"{name}本期无报送数据"
            else:
                text = f"{name}{figure(now)}{unit}"
                if pd.notna(before):
                    if change == 0:
                        text += "，与上期持平"
                    else:
                        verb = "增加" if change > 0 else "减少"
                        text += f"，比上期{verb}{figure(abs(change))}{unit}"
            if pd.notna(total):
                text += f"，{since}累计{figure(total)}{unit}"
            parts.append(text)
        label = action if action == "事故情况" else f"{action}行动"
        out.append((label, "；".join(parts) + "。"))
    return out


# ---------------------------------------------------------------------- 附件
def _verdict(r) -> str:
    """The funnel's verdict: below, P(X ≤ observed) under 0.1 % 明显偏低 and under
    2.5 % 偏低 (the count's own tail: a 0 against 0.1 expected is no shortfall,
    though it lies under the continuous 99.8 % limit); above, outside the 99.8 % and
    95 % limits 明显偏高 and 偏高; else 相当."""
    if pd.isna(r.expected) or r.expected <= 0:
        return "—"
    if r.p_low < 0.001:
        return "明显偏低"
    if r.p_low < 0.025:
        return "偏低"
    if r.observed > r.upper998:
        return "明显偏高"
    if r.observed > r.upper95:
        return "偏高"
    return "相当"


def annex_table(funnel: pd.DataFrame, panel: pd.DataFrame, period: str, *,
                findings: pd.DataFrame | None = None, roster: pd.DataFrame | None = None,
                indicator: str = "major_hazards_found") -> pd.DataFrame:
    """The annex: every unit with a row in ``period``, in the funnel (campaign to
    date) or on the roster, one row each (ANNEX_COLUMNS, text cells).

    Ranked as the report ranks them (``assessment.ranking_table``: the funnel z-score,
    highest first, so that exposure is accounted for); units without an expectation
    (no enterprises supervised) follow unranked, then roster units without data.
    本期 / 累计: the unit's ``indicator`` in the period / to date; 测算应约: what its
    enterprises supervised predict at its peers' rate (the funnel's expectation);
    每百家监管企业: the total to date per 100 enterprises supervised; 与同类单位比较:
    the funnel's verdict (``_verdict``); 问题标注:
    the Chinese names of the unit's findings at warning or alert, and of every
    reporting finding (a roster name the data probably writes otherwise: 名称待核对);
    a unit that the low_outlier check puts at alert is 明显偏低 here too.  Inputs are
    not modified."""
    from .findings import CHECK_ZH

    require_columns(funnel, ["unit", "unit_type", "observed", "exposure", "expected", "z", "p_low",
                      "upper95", "upper998"], "annex_table funnel")
    require_columns(panel, ["unit", "unit_type", "period", "indicator", "value"], "annex_table panel")
    cur = panel.loc[(panel["period"].astype(str) == period).to_numpy(dtype=bool)]
    now = (cur.loc[(cur["indicator"].astype(str) == indicator).to_numpy(dtype=bool)]
           .assign(unit=lambda d: d["unit"].astype(str)).groupby("unit")["value"].sum())
    f = funnel.assign(unit=funnel["unit"].astype(str)).sort_values(
        ["z", "observed"], ascending=False, kind="stable", na_position="last")
    rank = f["z"].rank(ascending=False, method="min")
    types = dict(zip(f["unit"], f["unit_type"].astype(str)))
    for u, t in zip(cur["unit"].astype(str), cur["unit_type"].astype(str)):
        types.setdefault(u, t)
    flags: dict[str, list[str]] = {}
    strong_low = set()
    if findings is not None and len(findings):
        # warnings and alerts, and every finding on who reported (a name to check is info)
        shown = findings.loc[(findings["severity"].isin(["warning", "alert"])
                              | (findings["family"] == "reporting")) & findings["unit"].notna()]
        for u, c, sev in zip(shown["unit"].astype(str), shown["check"].astype(str),
                             shown["severity"].astype(str)):
            label = "名称待核对" if c == "not_reported" and sev == "info" else CHECK_ZH.get(c, c)
            names = flags.setdefault(u, [])
            if label not in names:
                names.append(label)
        low = findings.loc[(findings["check"] == "low_outlier") & (findings["severity"] == "alert")]
        strong_low = set(low["unit"].dropna().astype(str))
    rows = pd.DataFrame({
        "unit": f["unit"].to_numpy(), "rank": rank.to_numpy(),
        "total": f["observed"].to_numpy(),
        "norm": f["expected"].to_numpy(),
        "rate": (f["observed"] / f["exposure"].where(f["exposure"] > 0) * 100).to_numpy(),
        # the check's alert and the annex say the same: 明显偏低
        "verdict": ["明显偏低" if r.unit in strong_low else _verdict(r) for r in f.itertuples()]})
    extra = sorted(set(cur["unit"].astype(str)) - set(rows["unit"]))
    listed = [] if roster is None else [u for u in roster["unit"].astype(str)
                                        if u not in set(rows["unit"]) | set(extra)]
    if roster is not None:
        types.update({u: t for u, t in zip(roster["unit"].astype(str),
                                           roster["unit_type"].astype(str))
                      if u in listed or types.get(u) in (None, "nan", "<NA>")})
    rows = pd.concat([rows, pd.DataFrame({"unit": extra + listed})], ignore_index=True)

    def fmt(v, digits=0):
        if pd.isna(v):
            return "—"
        return figure(round(v)) if digits == 0 else f"{v:.{digits}f}"

    return pd.DataFrame({
        "排名": [fmt(v) for v in rows["rank"]],
        "单位": rows["unit"],
        "单位类型": [unit_type_name(types.get(u)) or "—" for u in rows["unit"]],
        "本期": [fmt(now.get(u, np.nan)) for u in rows["unit"]],
        "累计": [fmt(v) for v in rows["total"]],
        "测算应约": [fmt(v, 0 if v >= 10 else 1) if pd.notna(v) else "—" for v in rows["norm"]],
        "每百家监管企业": [fmt(v, 1) for v in rows["rate"]],
        "与同类单位比较": rows["verdict"].fillna("—"),
        "问题标注": ["、".join(flags.get(u, [])) for u in rows["unit"]],
    }, columns=ANNEX_COLUMNS)


# ------------------------------------------------------------------- the text
def bulletin_title(period: str, settings: Settings) -> str:
    """关于{period}{scope}{campaign}进展情况的通报."""
    return f"关于{period_name_zh(period)}{settings.scope}{settings.campaign}进展情况的通报"


def title_lines(title: str, width: float = 20.0, *, breaks=(), slack: float = 4.0
                ) -> list[str]:
    """The title broken into balanced lines of at most ``width`` characters (digits
    count half), never inside a number: GB/T 9704 asks for lines of sensible length
    in a trapezoid or diamond, not a long line and a short one.  ``breaks``: the
    positions between words; two lines are broken at the one of them that gives the
    most even lines if they differ by at most ``slack`` characters, else anywhere."""
    n = int(np.ceil(od.text_width(title) / width))
    if n <= 1:
        return [title]
    if n == 2 and breaks:
        fits = [(abs(od.text_width(title[:i]) - od.text_width(title[i:])), i) for i in breaks
                if 0 < i < len(title) and max(od.text_width(title[:i]),
                                              od.text_width(title[i:])) <= width]
        if fits and min(fits)[0] <= slack:
            i = min(fits)[1]
            return [title[:i], title[i:]]
    lines, rest = [], title
    for k in range(n, 1, -1):
        target = od.text_width(rest) / k
        best, best_gap = None, None
        for i in range(1, len(rest)):
            if rest[i - 1].isdigit() and rest[i].isdigit():
                continue
            gap = abs(od.text_width(rest[:i]) - target)
            if od.text_width(rest[:i]) <= width and (best_gap is None or gap < best_gap):
                best, best_gap = i, gap
        if best is None:  # a number longer than a line: break it after all
            best = max(i for i in range(1, len(rest)) if od.text_width(rest[:i]) <= width)
        lines.append(rest[:best])
        rest = rest[best:]
    return lines + [rest]


def _paragraph_with_heading(doc, text: str) -> None:
    """A paragraph of 三、 whose opening （一）…。 is a level-2 heading (楷体)."""
    m = _INLINE_HEADING.match(text)
    if m:
        od.add_text(doc, [(m.group(1), "heading2"), (m.group(2), "body")])
    else:
        od.add_text(doc, text)


def write_bulletin(path, *, period: str, progress: pd.DataFrame, items: pd.DataFrame,
                   annex: pd.DataFrame, settings: Settings | None = None,
                   units_reporting: int | None = None, units_expected: int | None = None,
                   indicator: str = "major_hazards_found", issued: dt.date | None = None,
                   label: str | None = None, exposure: bool = True) -> Path:
    """Write the 通报 of ``period`` to ``path`` (atomically; equal inputs give equal
    bytes).  ``progress``: ``assessment.progress_table``; ``items``:
    ``draft.draft_items`` (columns number, heading, body); ``annex``: ``annex_table``;
    ``units_reporting`` / ``units_expected``: units with data and on the roster (None
    when unknown); ``issued``: 成文日期 (default ``settings.issued``, else today);
    ``label``: the period as the text names it (default 2024年第三季度 …; 2024年1—6月累计
    for figures typed as 累计 that cannot be split); ``exposure``: whether the
    expectations rest on enterprises supervised (the annex's note says which).
    Inputs are not modified."""
    from .io import atomic_path, make_xlsx_deterministic

    settings = settings or Settings()
    require_columns(items, ["heading", "body"], "write_bulletin items")
    require_columns(annex, ANNEX_COLUMNS, "write_bulletin annex")
    issued = issued or settings.issued or dt.date.today()
    when = label or period_name_zh(period)
    doc = od.new_document()

    if settings.letterhead:
        od.add_blank(doc, 1)
        head = od.add_text(doc, [(f"{settings.issuer}文件", ("title", Pt(min(
            36, int(430 / max(od.text_width(settings.issuer) + 2, 1))))))],
            align=WD_ALIGN_PARAGRAPH.CENTER, first_line=0, pitch=Pt(48), grid=False)
        for run in head.runs:
            run.font.color.rgb = od.RED
        od.add_blank(doc, 1)
        number = od.add_text(doc, settings.document_number(issued.year),
                             align=WD_ALIGN_PARAGRAPH.CENTER, first_line=0)
        od.add_red_rule(number)
        od.add_blank(doc, 1)
    title = bulletin_title(period, settings)
    words = {len(f"关于{when}"), len(f"关于{when}{settings.scope}")}
    words |= {m.start() for w in TITLE_WORDS for m in re.finditer(w, title)}
    od.add_title(doc, title_lines(title, breaks=sorted(words)))
    od.add_blank(doc, 1)
    od.add_text(doc, f"{settings.recipients}：", first_line=0)
    od.add_text(doc, settings.fill(settings.opening, period=when))

    od.add_heading(doc, "一、工作总体进展情况")
    if units_reporting is not None:
        counted = (f"应报送调度数据的{units_expected}个单位中，{units_reporting}个单位报送了调度数据"
                   if units_expected else f"共有{units_reporting}个单位报送调度数据")
        od.add_text(doc, f"{when}，{counted}。各项行动进展情况如下：")
    for i, (label, sentences) in enumerate(progress_paragraphs(progress, period)):
        od.add_text(doc, [(f"（{_NUMBERS[i % 10]}）{label}。", "heading2"), (sentences, "body")])

    od.add_heading(doc, "二、存在的主要问题")
    if items.empty:
        od.add_text(doc, NOTHING)
    else:
        od.add_text(doc, "从本期调度数据看，部分单位在工作推进和数据报送等方面还存在一些问题，"
                         "需要引起重视。")
        for i, r in enumerate(items.itertuples()):
            od.add_text(doc, [(f"（{_NUMBERS[i % 10]}）{r.heading}。", "heading2"),
                              (r.body, "body")])

    od.add_heading(doc, "三、下一步工作要求")
    for text in settings.requirements:
        _paragraph_with_heading(doc, settings.fill(text, period=when))

    annex_title = f"{when}各单位{indicator_name(indicator)}情况排名表"
    annex_breaks = (len(when), len(when) + 3, len(annex_title) - 5)
    od.add_blank(doc, 1)
    # 左空二字; a second line aligns with the annex's name, after 附件：
    od.add_text(doc, f"附件：{annex_title}", first_line=0, left=5, hanging=3)
    od.add_blank(doc, 1)  # 不加盖印章: 署名 one line below (7.3.5.2)
    od.add_signature(doc, settings.issuer, f"{issued.year}年{issued.month}月{issued.day}日")
    if settings.public_note:
        od.add_text(doc, settings.public_note)

    od.add_page_break(doc)
    od.add_text(doc, [("附件", "heading1")], first_line=0)
    od.add_blank(doc, 1)
    od.add_title(doc, title_lines(annex_title, breaks=annex_breaks))
    od.add_blank(doc, 1)
    # the note above the table: below it, a long table leaves it alone on a last page
    basis = ("按同类单位平均水平和本单位监管企业数测算的" if exposure
             else "按同类单位平均水平比较（未提供监管企业数），取同类单位中位数的")
    fair = ("，对不同规模的单位同样公平；无监管企业数的单位不参与排名" if exposure
            else "；未提供监管企业数，单位规模未计入")
    note = od.add_text(doc, f"说明：“测算应约”为{basis}{month_end(period)}累计数；排名按累计数与"
                            f"测算数之差（以正常波动折算）排列{fair}。",
                       first_line=2, pitch=Pt(21), grid=False)
    for run in note.runs:
        run.font.size = od.SIZES["小四"]
    unit = indicator_unit(indicator)
    shown = annex.rename(columns={k: v.format(unit=unit) for k, v in ANNEX_HEADERS.items()})
    od.add_table(doc, shown, widths_mm=ANNEX_WIDTHS_MM, align=ANNEX_ALIGN)

    props = doc.core_properties
    props.title = bulletin_title(period, settings)
    props.author = props.last_modified_by = settings.issuer
    props.revision = 1
    path = Path(path)
    with atomic_path(path) as tmp:
        doc.save(tmp)
        make_xlsx_deterministic(tmp)  # any OOXML package: fixed zip dates and core dates
    return path


# ---------------------------------------------------------- from an assessment
def bulletin_from_assessment(a, path, *, settings: Settings | None = None,
                             issued: dt.date | None = None) -> Path:
    """``write_bulletin`` from an ``assessment.Assessment``: the report's progress
    table, the draft of its findings, the annex of its funnel (recomputed when the
    settings name another key indicator), its roster and settings."""
    from .assessment import progress_table
    from .draft import draft_items

    settings = settings or a.settings or Settings()
    named = settings.key_indicator_code()
    code = named or a.key_indicator
    funnel = a.funnel
    if code != a.key_indicator:
        from .checks.outliers import funnel_table

        funnel = funnel_table(a.panel, indicator=code, exposure=a.dataset.exposure,
                              period=a.period)
    if code is None:  # no finding count at all (池州's accidents): the units, unranked
        code = str(a.panel.indicators[0]) if len(a.panel.indicators) else "major_hazards_found"
    # Only the period's rows are read here and by annex_table: the panel is cut to the
    # period before it becomes a frame (a province's whole frame has millions of rows).
    frame = a.panel.take(periods=np.flatnonzero(a.panel.periods == a.period)).to_frame()
    annex = annex_table(funnel, frame, a.period, findings=a.findings, roster=a.roster,
                        indicator=code)
    cur = frame.loc[(frame["period"].astype(str) == a.period).to_numpy(dtype=bool)]
    reported = set(cur["unit"].astype(str))
    expected = None if a.roster is None else len(a.roster)
    on_roster = reported if a.roster is None else reported & set(a.roster["unit"].astype(str))
    return write_bulletin(path, period=a.period, progress=progress_table(a),
                          items=draft_items(a.findings, period=a.period, label=a.period_zh),
                          annex=annex, settings=settings, units_reporting=len(on_roster),
                          units_expected=expected, indicator=code, issued=issued,
                          label=a.period_zh, exposure=a.has_exposure)


# ------------------------------------------------------------------ command line
def configure_parser(p) -> None:
    from . import config

    p.add_argument("--period", action="append", required=True,
                   help="period (2024-09, 2024Q3, 2024年三季度 …); repeatable")
    p.add_argument("--data", default=None,
                   help="data folder: reports, exposure, ledger, and optionally 单位名册.csv "
                        f"and anquan.toml (default: the bundled demonstration data, {config.SYNTH_DIR})")
    p.add_argument("--output", default=None,
                   help="reports folder: writes <output>/<period>/bulletin.docx (default: "
                        "<data>/reports; the bundled data's: the project's reports/)")
    p.add_argument("--key-indicator", default=None,
help=KEY_INDICATOR_HELP)


def run_command(args) -> int:
    from .assessment import run_assessment
    from .periods import parse_period, period_freq
    from .roster import unlisted_units

    from .provenance import default_folders
    from .settings import check_key_indicator

    data, output, notes = default_folders(args.data, args.output)
    for line in notes:
        print(f"anquan bulletin: {line}", file=sys.stderr)
    key = check_key_indicator(args.key_indicator) if args.key_indicator else None
    levels = {"M": "month", "Q": "quarter", "H": "half", "Y": "year"}
    for text in args.period:
        period = parse_period(text)
        if period_freq(period) not in levels:
            print(f"anquan bulletin: {text!r}: only months, quarters, half-years and years",
                  file=sys.stderr)
            return 2
        a = run_assessment(data, period, levels[period_freq(period)], key_indicator=key)
        if a.roster is not None:
            for r in unlisted_units(a.frame, a.roster, period).itertuples():
                hint = f" (likely {r.likely!r} of the roster)" if isinstance(r.likely, str) else ""
                print(f"  unit {r.unit!r} is not on the roster{hint}", file=sys.stderr)
        path = bulletin_from_assessment(a, Path(output) / period / BULLETIN_FILE)
        print(f"wrote {path}")
    return 0
