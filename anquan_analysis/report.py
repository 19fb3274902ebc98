"""The outputs of an assessment: findings.xlsx, the HTML export of the executed
notebook, and reports/index.html linking every period.

Every file is written under a temporary name in its folder and then renamed, so an
interrupted run never leaves a file that looks complete.  Text from the data (unit
names, messages) reaches HTML only through ``html.escape`` or pandas' escaping
``to_html``, and reaches Excel only through ``io.safe_cell`` (re-exported here).
"""

from __future__ import annotations

import html
import json
import re
import threading
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from .catalogue import indicator_name, unit_type_name
from .findings import (ALL_CHECK_FAMILIES, CHECK_FAMILIES, CHECK_ZH, FAMILY_ZH, FINDINGS_COLUMNS,
                       SEVERITY_ZH)
# One rule against formula injection for every output: a leading apostrophe.
from .io import XML_ILLEGAL, atomic_path, neutralise_formulas, write_text_atomic
from .xlsx_print import PrintSheet, write_workbook

# Chinese headers of the findings table, in FINDINGS_COLUMNS order (family is the sheet).
FINDINGS_HEADERS_ZH = {
    "check": "检查项目", "unit": "单位", "unit_type": "单位类型", "period": "期间",
    "indicator": "指标", "observed": "观测值", "expected": "期望值", "lower": "下限",
    "upper": "上限", "statistic": "统计量", "p_value": "p值", "q_value": "q值",
    "severity": "严重程度", "message": "说明",
}
REJECT_HEADERS_ZH = {"file": "文件", "sheet": "工作表", "row": "行号", "column": "列",
                     "value": "原值", "reason": "原因"}
SUMMARY_SHEET = "汇总"
REJECTS_SHEET = "未读取的数据"
PROVENANCE_SHEET = "数据来源"
PROBLEM_FOLDER = "问题清单"
_MAX_WIDTH = 60
# Checks whose observed, expected and limits are shares (shown as percentages).
SHARE_CHECKS = frozenset({"last_digit", "pinned_rate", "sector_concentration", "round_number"})


# ----------------------------------------------------------------- atomic writing
# ------------------------------------------------------------------- Excel output
def findings_zh(findings: pd.DataFrame) -> pd.DataFrame:
    """The findings table as an analyst reads it: codes shown by their Chinese names
    (check, unit type, indicator, severity) and Chinese headers.  Returns a new frame
    with the ``FINDINGS_HEADERS_ZH`` columns; ``findings`` is not modified."""
    missing = [c for c in FINDINGS_HEADERS_ZH if c not in findings.columns]
    if missing:
        raise ValueError(f"findings_zh: missing column {missing[0]!r}")
    out = findings[list(FINDINGS_HEADERS_ZH)].copy()
    out["check"] = _by_value(out["check"], lambda c: CHECK_ZH.get(c, c))
    out["unit_type"] = _by_value(out["unit_type"], unit_type_name)
    out["indicator"] = _by_value(out["indicator"], indicator_name)
    out["severity"] = _by_value(out["severity"], lambda s: SEVERITY_ZH.get(s, s))
    return out.rename(columns=FINDINGS_HEADERS_ZH)


def _by_value(s: pd.Series, f) -> pd.Series:
    """``s.map(f)`` with ``f`` called once per distinct value (a findings table
    repeats a dozen codes over thousands of rows); missing values stay missing."""
    distinct = s.dropna().unique()
    if not len(distinct):  # nothing to name; as ``map`` leaves an all-missing column
        return s.map(lambda v: v)
    return s.map({v: f(v) for v in distinct})


def findings_summary(findings: pd.DataFrame) -> pd.DataFrame:
    """One row per check that exists in the catalogue of checks: its family, its
    Chinese name and the number of findings at each severity (0 where none).
    Columns: 类别, 检查项目, 预警, 关注, 提示, 合计."""
    counts = (findings.groupby(["check", "severity"]).size().unstack(fill_value=0)
              .reindex(index=list(CHECK_FAMILIES), columns=["alert", "warning", "info"],
                       fill_value=0))
    extra = sorted(set(findings["check"].dropna()) - set(CHECK_FAMILIES))
    if extra:
        more = (findings.loc[findings["check"].isin(extra)].groupby(["check", "severity"])
                .size().unstack(fill_value=0).reindex(columns=["alert", "warning", "info"],
                                                      fill_value=0))
        counts = pd.concat([counts, more])
    counts = counts.fillna(0).astype("int64")
    out = pd.DataFrame({
        "类别": [FAMILY_ZH.get(ALL_CHECK_FAMILIES.get(c, ""), "其他") for c in counts.index],
        "检查项目": [CHECK_ZH.get(c, c) for c in counts.index],
        "预警": counts["alert"].to_numpy(), "关注": counts["warning"].to_numpy(),
        "提示": counts["info"].to_numpy(),
    })
    out["合计"] = out[["预警", "关注", "提示"]].sum(axis=1)
    return out


def _sheet_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Every text cell and header neutralised (``io.safe_cell``), figures rounded to
    4 decimals (p- and q-values keep their precision: 1e-13 is not 0)."""
    rounded = {c: frame[c].round(4) for c in frame.columns
               if pd.api.types.is_float_dtype(frame[c]) and c not in ("p值", "q值")}
    return neutralise_formulas(frame.assign(**rounded))


def workbook_titles(what: str, *, period: str | None = None, provenance: dict | None = None,
                    count: int | None = None, detail: bool = True) -> list[str]:
    """The title and subtitle of a printed sheet: "{期间}调度数据评估 {what}" (with
    （示范数据） for the bundled data), then the period, the count and the source."""
    from .periods import period_name_zh
    from .provenance import BUNDLED_ZH

    zh = period_name_zh(period) if period else ""
    demo = bool(provenance and provenance.get("bundled"))
    title = f"{zh}调度数据评估 {what}" + (f"（{BUNDLED_ZH}）" if demo else "")
    source = (f"数据来源：{Path(provenance['data_folder']).name}（"
              f"{len([f for f in provenance.get('files', []) if not f.get('note')])}个文件"
              + (f"，详见“{PROVENANCE_SHEET}”）" if detail else "）") if provenance
              else "数据来源：未记录")
    parts = [f"期间：{zh}" if zh else "期间：全部", *([f"共{count}条"] if count is not None else []),
             source, f"程序版本 anquan-analysis {provenance.get('package_version', '')}"
             if provenance else ""]
    return [title.strip(), "　　".join(p for p in parts if p)]


def _findings_sheet(name: str, frame: pd.DataFrame, checks: pd.Series, titles) -> PrintSheet:
    """A findings sheet (``findings_zh`` frame): shares shown as percentages on the
    rows of checks whose figures are shares; the message column wide and wrapped."""
    share = checks.isin(SHARE_CHECKS).to_numpy(dtype=bool)
    return PrintSheet(name, _sheet_frame(frame), titles, share_rows=share,
                      p_columns=("p值", "q值"), widths={"说明": _MAX_WIDTH - 2, "指标": 18})


def write_findings_xlsx(findings: pd.DataFrame, path, *, rejects: pd.DataFrame | None = None,
                        period: str | None = None, provenance: dict | None = None) -> Path:
    """Write ``findings`` to ``path`` as an Excel workbook that prints: a 汇总 sheet
    (counts per check and severity), one sheet per check family (``FAMILY_ZH``
    names, every family present even if empty), the ingest rejects when given, and
    the 数据来源 sheet (``provenance``: the data folder, each file with its SHA-256 and
    row counts, the package version and the times).  Each sheet has a title with the
    period and the source above its header (``xlsx_print``: A4 landscape, one page
    wide, header repeated, autofilter, number formats, wrapped text), Chinese
    headers, every text cell passed through ``safe_cell``.  Written atomically, with
    fixed time stamps (``io.fixed_timestamp``: equal findings and provenance give
    equal bytes); ``findings`` is not modified.  ``anquan check --output x.xlsx``
    and ``anquan assess`` both write it."""
    from .provenance import provenance_lines, provenance_table

    missing = [c for c in FINDINGS_COLUMNS if c not in findings.columns]
    if missing:
        raise ValueError(f"write_findings_xlsx: missing column {missing[0]!r}")
    summary = findings_summary(findings)
    sheets = [PrintSheet(SUMMARY_SHEET, _sheet_frame(summary),
                         workbook_titles("检查结果汇总", period=period, provenance=provenance,
                                         count=len(findings)))]
    for family, name in FAMILY_ZH.items():
        part = findings.loc[findings["family"] == family]
        sheets.append(_findings_sheet(name, findings_zh(part), part["check"],
                                      workbook_titles(name, period=period, provenance=provenance,
                                                      count=len(part))))
    if rejects is not None:
        rej = rejects[[c for c in REJECT_HEADERS_ZH if c in rejects.columns]].rename(
            columns=REJECT_HEADERS_ZH)
        if "文件" in rej.columns:
            rej = rej.assign(文件=rej["文件"].map(lambda f: Path(str(f)).name, na_action="ignore"))
        sheets.append(PrintSheet(REJECTS_SHEET, _sheet_frame(rej),
                                 workbook_titles("读入时未采用的数据", period=period,
                                                 provenance=provenance, count=len(rej)),
                                 widths={"原因": _MAX_WIDTH - 2, "原值": 30}))
    if provenance is not None:
        sheets.append(PrintSheet(PROVENANCE_SHEET, _sheet_frame(provenance_table(provenance)),
                                 ["数据来源", *provenance_lines(provenance)],
                                 widths={"SHA-256": 66, "说明": 40}, autofilter=False))
    path = Path(path)
    footer = "　".join(workbook_titles("", period=period, provenance=provenance)[1]
                      .split("　　")[:2])
    with atomic_path(path) as tmp:
        write_workbook(sheets, tmp, footer=footer)
    return path


def unit_file_name(unit: str) -> str:
    """A file name for a unit's workbook: its name without characters a file system
    refuses or a shell misreads (path separators, control characters, a leading
    dot), at most 60 characters, never empty."""
    name = XML_ILLEGAL.sub("", unicodedata.normalize("NFKC", str(unit)))
    name = re.sub(r'[\\/:*?"<>|\x00-\x1f\x7f]+', "_", name).strip(" .")
    return (name[:60] or "单位") + ".xlsx"


def write_unit_workbooks(findings: pd.DataFrame, folder, *, period: str,
                         issuer: str = "", provenance: dict | None = None,
                         min_severity: str = "warning", parallel: bool = True) -> list[Path]:
    """One workbook per unit with a finding of ``min_severity`` or above in
    ``period`` (预警 and 关注 by default; 提示 rows are left out), written into
    ``folder`` (created): the unit's problems, one row each (序号, 检查项目, 指标,
    期间, 严重程度, 问题说明) and an empty 核实反馈 column for the unit to fill in,
    under a title with the unit, the period and the source: the list the office
    sends back to the unit.  Returns the files, in unit order.  ``findings`` is not
    modified; unit names become file names through ``unit_file_name`` (two units
    whose names clean to one file name get a number).  ``parallel``: a province's
    hundreds of workbooks are shared with a forked process (``forked.share_jobs``;
    the same files)."""
    return start_unit_workbooks(findings, folder, period=period, issuer=issuer,
                                provenance=provenance, min_severity=min_severity,
                                parallel=parallel)()


def start_unit_workbooks(findings: pd.DataFrame, folder, *, period: str,
                         issuer: str = "", provenance: dict | None = None,
                         min_severity: str = "warning", parallel: bool = True):
    """``write_unit_workbooks`` started: the workbooks are being written by a forked
    process (when ``parallel`` and there are many: ``forked.share_jobs``) while the
    caller does other work; call the result to write the rest and get the files
    (``write_unit_workbooks``' result) once all are written."""
    from .forked import share_jobs
    from .periods import period_name_zh

    order = {"alert": 0, "warning": 1, "info": 2}
    keep = findings["unit"].notna() & (findings["severity"].map(order).fillna(3)
                                       <= order[min_severity])
    f = (findings.loc[keep].assign(_rank=findings.loc[keep, "severity"].map(order))
         .sort_values(["unit", "_rank", "check"], kind="stable"))
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written, used = [], set()
    zh = period_name_zh(period)
    ask = (f"请对下列问题逐项核实，在“核实反馈”栏填写核实情况（数据有误的请注明正确数据），"
           f"随下期调度数据一并报送{issuer or '安委办'}。")
    source = workbook_titles("", period=period, provenance=provenance, detail=False)[1:]
    # Every unit's rows are named and neutralised in one pass over all of them, then
    # cut per unit (unit by unit, pandas' per-call cost was most of the time).
    units = f["unit"].to_numpy(dtype=object)
    starts = np.flatnonzero(np.r_[True, units[1:] != units[:-1]]) if len(f) else np.array([], int)
    zh_rows = findings_zh(f)
    number = np.arange(1, len(f) + 1) - np.repeat(starts, np.diff(np.r_[starts, len(f)]))
    table = _sheet_frame(pd.DataFrame({
        "序号": number, "检查项目": zh_rows["检查项目"].to_numpy(),
        "指标": zh_rows["指标"].to_numpy(), "期间": zh_rows["期间"].to_numpy(),
        "严重程度": zh_rows["严重程度"].to_numpy(), "问题说明": zh_rows["说明"].to_numpy(),
        "核实反馈": ""}))
    spans = list(zip(starts, np.r_[starts[1:], len(f)]))
    for start, _ in spans:  # the names first, in unit order: a later name depends on them
        name = unit_file_name(units[start])
        stem, k = name[:-5], 2
        while name.lower() in used:
            name, k = f"{stem}_{k}.xlsx", k + 1
        used.add(name.lower())
        written.append(folder / name)

    def write(i: int) -> None:
        start, stop = spans[i]
        unit = units[start]
        titles = [f"{unit} {zh}调度数据核实清单", ask, *source]
        sheet = PrintSheet("核实清单", table.iloc[start:stop], titles,
                           widths={"问题说明": 50, "核实反馈": 36, "指标": 16, "检查项目": 14},
                           autofilter=False, min_lines=3)
        with atomic_path(written[i]) as tmp:
            write_workbook([sheet], tmp, footer=f"{unit} {zh}")

    jobs = share_jobs(len(spans), write, parallel=parallel)

    def finish() -> list[Path]:
        jobs.finish()
        return written

    return finish


# -------------------------------------------------------------------- HTML export
# The lab template with the two scripts it loads from a CDN (require.js, MathJax)
# left out: the report has no widgets or formulas, and must open offline.
# Chinese fonts that Windows, macOS and Linux desktops have, first: the lab template's
# system-ui stack alone falls back to a font without CJK glyphs on some machines.
CJK_FONT_STACK = ('"Microsoft YaHei", "PingFang SC", "Hiragino Sans GB", "Noto Sans CJK SC", '
                  '"Source Han Sans SC", "WenQuanYi Micro Hei", SimHei, sans-serif')
_HTML_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block extra_css -%}
<style>
:root { --jp-content-font-family: FONTS; --jp-ui-font-family: FONTS; }
body { font-family: FONTS; max-width: 1200px; margin: 0 auto; }
</style>
{%- endblock extra_css -%}
""".replace("FONTS", CJK_FONT_STACK)


_EXPORTER: list = []
_EXPORTER_LOCK = threading.Lock()


def html_exporter():
    """nbconvert's HTMLExporter as ``notebook_to_html`` uses it (lab template, code and
    prompts hidden, images embedded), built once per process with its template
    compiled: building it takes about a second, so ``anquan assess`` calls this in a
    background thread while the notebook runs and the export itself only renders."""
    with _EXPORTER_LOCK:
        if not _EXPORTER:
            import jinja2
            from nbconvert import HTMLExporter

            exporter = HTMLExporter(
                template_name="lab", exclude_input=True, exclude_input_prompt=True,
                exclude_output_prompt=True, embed_images=True,
                extra_loaders=[jinja2.DictLoader({"assessment.html.j2": _HTML_TEMPLATE})],
                template_file="assessment.html.j2", language_code="zh")
            # One export of a small notebook also loads the templates the main one
            # includes and compiles the selectors of nbconvert's pass over the result
            # (1.2 s of a province report's export when left to the first real one).
            exporter.from_notebook_node(_sample_notebook(), resources={"metadata": {"name": "-"}})
            _EXPORTER.append(exporter)
        return _EXPORTER[0]


def _sample_notebook():
    """A notebook with the kinds of output an assessment has (markdown, an HTML
    table, a PNG image, a text stream), for warming the exporter."""
    import nbformat

    v4 = nbformat.v4
    png = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
    cell = v4.new_code_cell("", outputs=[
        v4.new_output("display_data", data={"text/html": "<table><tr><td>1</td></tr></table>"}),
        v4.new_output("display_data", data={"image/png": png, "text/plain": "<Figure>"}),
        v4.new_output("stream", name="stdout", text="-\n")])
    return v4.new_notebook(cells=[v4.new_markdown_cell("# -"), cell])


def notebook_to_html(notebook_path, html_path, *, title: str | None = None,
                     provenance: dict | None = None, generated: str | None = None) -> Path:
    """Export an executed notebook to one self-contained HTML file: code cells and
    prompts hidden, images embedded as base64 (as the notebook stores them),
    CSS inlined, no script fetched from the network.  With ``provenance``
    (``provenance.build_provenance``) the page ends with the 数据来源 block (folder,
    files with SHA-256 and rows, version, when read, ``generated``), and a report of
    the bundled demonstration data opens with a banner saying so and carries a
    示范数据 watermark on every screen.  Written atomically."""
    import nbformat

    from .provenance import BUNDLED_ZH, bundled_banner_html, provenance_html

    nb = nbformat.read(str(notebook_path), as_version=4)
    demo = bool(provenance and provenance.get("bundled"))
    name = title or Path(notebook_path).stem
    resources = {"metadata": {"name": f"{name}（{BUNDLED_ZH}）" if demo else name}}
    body, _ = html_exporter().from_notebook_node(nb, resources=resources)
    if provenance is not None:
        body = _insert_after_body(body, bundled_banner_html() if demo else "")
        at = body.rfind("</body>")
        block = provenance_html(provenance, generated=generated)
        body = body[:at] + block + body[at:] if at >= 0 else body + block
    return write_text_atomic(body, html_path)


def _insert_after_body(page: str, html_text: str) -> str:
    """``page`` with ``html_text`` right after its opening <body …> tag."""
    if not html_text:
        return page
    m = re.search(r"<body[^>]*>", page)
    return page[:m.end()] + html_text + page[m.end():] if m else html_text + page


# ----------------------------------------------------------------------- index
# Under the index: why two alert counts may not compare.
LOOKBACK_NOTE = ("预警数按各期回看期（默认12个月，anquan.toml的lookback_months）内的数据判断；"
                 "回看期数据未满的期间据以判断的数据较少，预警数不宜与回看期已满的期间直接比较。"
                 "季度、半年、年度报告的预警包含其各月报告发现的问题。")


def _judged_cell(judged: dict) -> str:
    """The span an alert count was judged on, under the count in the index:
    ``1—9月，9个月（未满12个月）``; '' for a summary without it."""
    if not judged or not judged.get("first"):
        return ""
    first, last = judged["first"], judged["last"]
    span = (f"{int(first[5:])}—{int(last[5:])}月" if first[:4] == last[:4]
            else f"{first[:4]}年{int(first[5:])}月—{last[:4]}年{int(last[5:])}月")
    lookback = judged.get("lookback")
    if lookback is None:
        tail = "，累计"
    elif judged.get("full"):
        tail = ""
    else:
        tail = f"（未满{lookback}个月）"
    return f"<br><small>{html.escape(span)}，{judged['months']}个月{tail}</small>"


def write_index(reports_dir, *, title: str = "安全生产治本攻坚 调度数据评估报告") -> Path:
    """Write ``reports_dir/index.html``: one row per period folder (a canonical period
    name, holding an assessment.html or a status.json), in time order, with links to
    the report, the notebook and findings.xlsx and the key figures from its
    summary.json where present.  A period whose last run failed is marked: 失败
    (failed) when it has no report, 过期 (stale) when the report shown is an older
    one (``run_folders``: status.json).  Hidden folders (a run's staging) are never
    listed."""
    from .periods import period_bounds, sort_periods
    from .run_folders import FAILED_NOTEBOOK, canonical_period, read_status

    root = Path(reports_dir)
    periods = []
    for d in root.iterdir() if root.exists() else []:
        if d.is_dir() and not d.name.startswith(".") and (
                (d / "assessment.html").exists() or (d / "status.json").exists()):
            try:
                periods.append(canonical_period(d.name))
            except ValueError:
                continue
    # A quarter right after its last month: by end date, the shorter period first.
    periods = sorted(sort_periods(periods),
                     key=lambda p: (period_bounds(p)[1], -period_bounds(p)[0].value))
    rows = []
    e = html.escape
    for p in periods:
        folder = root / p
        status = read_status(folder)
        has_report = (folder / "assessment.html").exists()
        summary = {}
        sfile = folder / "summary.json"
        if has_report and sfile.exists():
            try:
                summary = json.loads(sfile.read_text(encoding="utf-8"))
            except ValueError:
                summary = {}
        links = [f'<a href="{e(p)}/assessment.html">评估报告</a>'] if has_report else []
        for name, label in (("findings.xlsx", "问题清单"), ("assessment.ipynb", "笔记本")):
            if has_report and (folder / name).exists():
                links.append(f'<a href="{e(p)}/{e(name)}">{label}</a>')
        mark = ""
        if status.get("status") == "failed":
            when = e(str(status.get("finished", "")))
            error = e(str(status.get("error", "")))
            if (folder / FAILED_NOTEBOOK).exists():
                links.append(f'<a href="{e(p)}/{FAILED_NOTEBOOK}">失败的笔记本</a>')
            mark = (f'<span class="stale">过期：{when} 重新评估失败（{error}），此为此前的报告</span>'
                    if has_report else
                    f'<span class="failed">失败：{when} 评估未完成（{error}），没有报告</span>')
        hazards = summary.get("hazards_found")
        alerts = summary.get("alerts_total")
        judged = summary.get("judged") or {}
        prov = summary.get("provenance") or {}
        source = (("示范数据" if prov.get("bundled") else Path(prov["data_folder"]).name)
                  if prov.get("data_folder") else "")
        rows.append(
            f'<tr class="{"failed" if mark and not has_report else "stale" if mark else "ok"}">'
            f"<td>{e(str(summary.get('period_zh', p)))}{'<br>' + mark if mark else ''}</td>"
            f"<td>{'' if hazards is None else e(f'{hazards:g}')}</td>"
            f"<td>{'' if alerts is None else e(str(alerts))}{_judged_cell(judged)}</td>"
            f"<td title=\"{e(str(prov.get('data_folder', '')))}\">{e(source)}</td>"
            f"<td>{' · '.join(links)}</td></tr>")
    page = f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif;
       margin: 2em auto; max-width: 60em; color: #222; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border-bottom: 1px solid #ddd; padding: .4em .8em; text-align: left; }}
th {{ background: #f3f3f3; }}
.failed, .stale {{ color: #b00; font-weight: bold; }}
tr.stale td, tr.failed td {{ background: #fff4f4; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<table><thead><tr><th>期间</th><th>重大事故隐患排查数（项）</th><th>预警数（判断依据）</th><th>数据</th><th>文件</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table>
<p class="note">{LOOKBACK_NOTE}</p>
</body></html>
"""
    return write_text_atomic(page, root / "index.html")
