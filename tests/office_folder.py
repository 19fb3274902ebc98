"""A data folder built the way an office keeps one (issue 18), from the bundled city's
July–September figures:

* three monthly workbooks ``2024年7月调度表.xlsx`` … with a title row, a 填报单位（盖章）
  row, 序号, headers as offices type them (``其中：部门检查发现（项）``,
  ``主要负责人培训（人次）``, ``应急演练企业（家）``), figures typed ``０`` (full
  width), ``70项``, ``1次``, a 合计 row and a 填报人 row below;
* the source split of rectifications (部门/企业 整改数) is not in the office's form at
  all, and August's form has no 企业自查 column (a column missing in one month);
* an exposure workbook, a contact list ``各单位联络员通讯录.xlsx``, a notice .docx, a
  PDF, a note ``说明.txt``, an Excel lock file ``~$2024年9月调度表.xlsx``;
* ``2024年9月调度表（区应急局修正版）.xlsx``: 区应急局's September row again, with
  other figures (the correction).

``make_office_folder(dest)`` writes it and returns the figures by construction.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd

from anquan_analysis import config

MONTHS = ("2024-07", "2024-08", "2024-09")
CORRECTED_UNIT = "区应急局"
CORRECTION_FILE = "2024年9月调度表（区应急局修正版）.xlsx"
# bundled column -> the header the office types
OFFICE_HEADERS = {
    "单位": "单位名称",
    "单位类型": "单位类型",
    "重大事故隐患排查数": "排查重大事故隐患（项）",
    "部门检查发现重大事故隐患": "其中：部门检查发现（项）",
    "企业自查发现重大事故隐患": "其中：企业自查发现（项）",
    "重大事故隐患整改数": "已整改重大隐患（项）",
    "一般隐患排查数": "一般隐患（项）",
    "一般隐患整改数": "一般隐患已整改（项）",
    "部门检查生产经营单位": "检查生产经营单位（家次）",
    "主要负责人安全教育培训场次": "主要负责人培训（场）",
    "主要负责人安全教育培训人次": "主要负责人培训（人次）",
    "重大事故隐患判定标准宣贯场次": "判定标准宣贯（场）",
    "重大事故隐患判定标准宣贯人次": "判定标准宣贯（人次）",
    "从业人员安全技能培训场次": "从业人员培训（场）",
    "从业人员安全技能培训人次": "从业人员培训（人次）",
    "开展应急逃生演练企业": "应急演练企业（家）",
    "应急逃生演练次数": "开展应急演练（次）",
    "帮扶指导高危行业领域生产经营单位次数": "帮扶指导（次）",
    "帮扶企业": "帮扶企业（家）",
    "行政处罚": "行政处罚（次）",
    "罚款": "罚款（万元）",
    "安全生产警示函": "警示函（份）",
    "生产安全事故": "生产安全事故（起）",
    "死亡人数": "死亡（人）",
}
# headers that need the analyst's mapping (列名对照.csv) before they are read
NEEDS_MAPPING = {"应急演练企业（家）": "drill_enterprises"}
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def bundled_months() -> pd.DataFrame:
    """The bundled city's reports of July–September (text, as in the CSV)."""
    df = pd.read_csv(config.SYNTH_DIR / "reports_clean.csv", dtype=str, encoding="utf-8-sig")
    return df[df["期间"].isin(MONTHS)].reset_index(drop=True)


def _typed(value: str, column: str, i: int) -> str | int | float:
    """A figure as an office types it: some full-width, some with their unit."""
    if value is None or pd.isna(value):
        return None
    if column == "罚款":
        return float(value)
    if value == "0" and i % 5 == 0:
        return "０"
    if column == "重大事故隐患排查数" and i % 7 == 3:
        return f"{value}项"
    if column == "应急逃生演练次数" and i % 6 == 1:
        return f"{value}次"
    if i % 11 == 4:
        return value.translate(FULLWIDTH)
    return int(value)


def _workbook(path: Path, title: str, month_zh: str, frame: pd.DataFrame, columns: list[str],
              *, total: bool = True) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "调度表"
    ws.append([title])
    ws.append([f"填报单位（盖章）：示范区安委办　　　　统计期间：{month_zh}"])
    ws.append(["序号", *[OFFICE_HEADERS[c] for c in columns]])
    for i, r in enumerate(frame.itertuples(index=False), start=1):
        row = r._asdict()
        ws.append([i, *[row[c] if c in ("单位", "单位类型") else _typed(row[c], c, i)
                        for c in columns]])
    if total:
        sums = [None, None] + [
            float(pd.to_numeric(frame[c]).sum()) if c == "罚款" else int(pd.to_numeric(frame[c]).sum())
            for c in columns[2:]]
        ws.append(["合计", *sums])
    ws.append(["填报人：张三　　审核人：李四　　联系电话：0000-1234567"])
    wb.save(path)


def make_office_folder(dest) -> dict:
    """Write the folder into ``dest``; returns what was written by construction:
    ``months`` (the figures per month as the bundled CSV holds them), ``corrected``
    (区应急局's corrected September row), ``skipped`` (file names that must be skipped)."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    data = bundled_months()
    drop = ["上级", "期间", "部门检查发现重大事故隐患整改数", "企业自查发现重大事故隐患整改数"]
    months = {}
    for m in MONTHS:
        frame = data[data["期间"] == m].drop(columns=drop).reset_index(drop=True)
        columns = list(frame.columns)
        if m == "2024-08":  # August's form has no 企业自查 column
            columns.remove("企业自查发现重大事故隐患")
        month_zh = f"{int(m[:4])}年{int(m[5:])}月"
        _workbook(dest / f"{month_zh}调度表.xlsx",
                  f"{month_zh}安全生产治本攻坚三年行动调度表", month_zh, frame, columns)
        months[m] = frame[columns]
    sept = months["2024-09"]
    corrected = sept[sept["单位"] == CORRECTED_UNIT].copy()
    corrected["重大事故隐患排查数"] = str(int(corrected["重大事故隐患排查数"].iloc[0]) + 5)
    corrected["部门检查发现重大事故隐患"] = str(int(corrected["部门检查发现重大事故隐患"].iloc[0]) + 5)
    _workbook(dest / CORRECTION_FILE, "2024年9月安全生产治本攻坚三年行动调度表（修正）",
              "2024年9月", corrected.reset_index(drop=True), list(sept.columns), total=False)

    exp = pd.read_csv(config.SYNTH_DIR / "exposure.csv", dtype=str, encoding="utf-8-sig")
    exp = exp[exp["行业领域"].isna()]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["各单位监管企业数（2024年）"])
    ws.append(["序号", "单位", "监管企业数（家）"])
    for i, r in enumerate(exp.itertuples(index=False), start=1):
        ws.append([i, r.单位, int(r.监管企业数)])
    wb.save(dest / "监管企业数.xlsx")

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["各单位安全生产调度联络员通讯录"])
    ws.append(["序号", "单位", "联络员", "职务", "办公电话", "手机"])
    for i, u in enumerate(data["单位"].drop_duplicates().head(12), start=1):
        ws.append([i, u, f"联络员{i}", "科员", "0000-1234567", "13800000000"])
    wb.save(dest / "各单位联络员通讯录.xlsx")

    import docx
    doc = docx.Document()
    doc.add_paragraph("关于报送2024年第三季度安全生产治本攻坚三年行动调度数据的通知")
    doc.add_paragraph("各镇人民政府、街道办事处，区安委会各成员单位：请于每月24日前报送调度表。")
    doc.save(dest / "关于报送三季度调度数据的通知.docx")
    (dest / "2024年三季度调度数据汇总.pdf").write_bytes(
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
    (dest / "说明.txt").write_text("9月区应急局数据有误，已要求重报。\n", encoding="utf-8")
    # what Excel leaves while 2024年9月调度表.xlsx is open: the owner's name, padded
    (dest / "~$2024年9月调度表.xlsx").write_bytes(b"\x05zhang" + b"\x20" * 48 + b"\x00" * 110)
    return {"months": months, "corrected": corrected,
            "skipped": ["~$2024年9月调度表.xlsx", "关于报送三季度调度数据的通知.docx",
                        "2024年三季度调度数据汇总.pdf", "说明.txt", "各单位联络员通讯录.xlsx"]}
