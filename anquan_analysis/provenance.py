"""Where an output came from: the data folder, each file with its SHA-256 and row
counts, the package version and the time (the provenance block of summary.json, the
HTML report and findings.xlsx).

Two offices' reports must never be mistaken for one another, and a report of the
bundled demonstration data (示范数据: a made-up district) must never be taken for an
office's: ``is_bundled`` says which it is, and every output of the bundled data says
so.

Times honour ``SOURCE_DATE_EPOCH`` (the reproducible-builds convention that
``io.fixed_timestamp`` follows): with it set, two runs over the same files write the
same bytes; without it, the time is the clock's, and only the time differs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import os
from pathlib import Path

import pandas as pd

PROVENANCE_FILE = "provenance.json"
BUNDLED_ZH = "示范数据"
BUNDLED_NOTE = ("本报告由软件自带的示范数据（虚构的“示范区”）生成，不是任何单位的真实数据；"
                "评估本单位数据请用 anquan assess --data 指定数据文件夹。")
PROVENANCE_HEADERS = {"file": "文件", "sha256": "SHA-256", "bytes": "字节数", "kind": "类型",
                      "rows_read": "读入行数", "rows_clean": "采用行数",
                      "rows_rejected": "未采用行数", "note": "说明"}
_KIND_ZH = {"reports": "调度表", "long": "调度表（长表）", "exposure": "监管企业数",
            "ledger": "隐患台账", "": "未读取"}


def run_time() -> str:
    """Now, as ISO 8601 with the offset (``SOURCE_DATE_EPOCH`` when set, in UTC)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.timezone.utc).isoformat(
            timespec="seconds")
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def package_version() -> str:
    """The installed package's version."""
    from . import __version__

    return __version__


def is_bundled(data_dir) -> bool:
    """True when ``data_dir`` is the bundled demonstration data (``config.SYNTH_DIR``)."""
    from . import config
    from .assessment.folder import resolve_path

    try:
        return resolve_path(data_dir).resolve() == Path(config.SYNTH_DIR).resolve()
    except OSError:
        return False


def sha256(path) -> str:
    """The SHA-256 of a file, read in 1 MB blocks; "" when it cannot be read."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    except OSError:
        return ""
    return h.hexdigest()


def build_provenance(data_dir, summary: pd.DataFrame, *, skipped=(),
                     read_at: str | None = None) -> dict:
    """The provenance of the data read from ``data_dir``.

    Parameters
    ----------
    data_dir : path
        The data folder as given (resolved here).
    summary : DataFrame
        ``Dataset.summary``: one record per sheet read or file skipped (file,
        kind, rows_read, rows_clean, rows_rejected, note).  Not modified.
    skipped : iterable of (path, why)
        Files of the folder left out before reading (``assessment.skipped_files``:
        lock files, notices, PDFs …), listed with their note.
    read_at : str, optional
        When the files were read (default ``run_time()``; "" for none: ``anquan
        ingest --output`` keeps its outputs free of the clock).

    Returns
    -------
    dict with ``data_folder`` (absolute), ``bundled`` (``is_bundled``),
    ``package_version``, ``read_at`` and ``files``: one record per file, in the
    summary's order, with file (the name), sha256 ("" for a file no longer there),
    bytes, kind (its sheets' kinds, 、-joined), rows_read, rows_clean, rows_rejected
    (summed over its sheets) and note (why it was skipped, "" for a file read).
    """
    from .assessment.folder import resolve_path

    folder = resolve_path(data_dir).resolve()
    files = []
    if summary is not None and len(summary):
        s = summary.assign(file=summary["file"].astype("str"),
                           kind=summary["kind"].astype("str").fillna(""),
                           note=summary["note"].astype("str").fillna(""))
        for name, g in s.groupby("file", sort=False):
            path = Path(name)
            read = g[g["kind"] != ""]
            files.append({
                "file": path.name if path.parent.resolve() == folder else str(path),
                "sha256": sha256(path) if path.is_file() else "",
                "bytes": path.stat().st_size if path.is_file() else 0,
                "kind": "、".join(dict.fromkeys(read["kind"])) if len(read) else "",
                "rows_read": int(read["rows_read"].sum()) if len(read) else 0,
                "rows_clean": int(read["rows_clean"].sum()) if len(read) else 0,
                "rows_rejected": int(read["rows_rejected"].sum()) if len(read) else 0,
                "note": "" if len(read) else "；".join(dict.fromkeys(g["note"])),
            })
    for path, why in skipped:
        path = Path(path)
        files.append({"file": path.name, "sha256": "", "bytes": 0, "kind": "",
                      "rows_read": 0, "rows_clean": 0, "rows_rejected": 0, "note": str(why)})
    return {"data_folder": str(folder), "bundled": is_bundled(folder),
            "package_version": package_version(),
            "read_at": run_time() if read_at is None else read_at,
            "files": files}


def write_provenance(prov: dict, folder) -> Path:
    """``prov`` as ``folder/provenance.json`` (UTF-8, written atomically)."""
    from .io import write_text_atomic

    return write_text_atomic(json.dumps(prov, ensure_ascii=False, indent=2),
                             Path(folder) / PROVENANCE_FILE)


def load_provenance(folder) -> dict | None:
    """The provenance kept in ``folder`` (``write_provenance``), or None."""
    path = Path(folder) / PROVENANCE_FILE
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return None


def provenance_table(prov: dict | None) -> pd.DataFrame:
    """One row per file with Chinese headers (``PROVENANCE_HEADERS``)."""
    files = pd.DataFrame((prov or {}).get("files", []), columns=list(PROVENANCE_HEADERS))
    files["kind"] = files["kind"].map(lambda k: "、".join(_KIND_ZH.get(x, x) for x in
                                                        str(k).split("、")))
    return files.rename(columns=PROVENANCE_HEADERS)


def provenance_lines(prov: dict | None, *, generated: str | None = None) -> list[str]:
    """The block's lines above the file table: 数据来源 (the folder, and 示范数据 when
    bundled), 文件, 程序版本, 读取时间 and 生成时间."""
    if not prov:
        return ["数据来源：未记录"]
    files = prov.get("files", [])
    used = [f for f in files if not f.get("note")]
    lines = [f"数据来源：{prov.get('data_folder', '')}"
             + (f"（{BUNDLED_ZH}：虚构的示范区）" if prov.get("bundled") else ""),
             f"数据文件：读取{len(used)}个，跳过{len(files) - len(used)}个；"
             f"读入{sum(f.get('rows_read', 0) for f in used)}行，"
             f"采用{sum(f.get('rows_clean', 0) for f in used)}行",
             f"程序版本：anquan-analysis {prov.get('package_version', '')}",
             f"读取数据时间：{prov.get('read_at', '')}"]
    if generated:
        lines.append(f"生成时间：{generated}")
    return lines


def provenance_html(prov: dict | None, *, generated: str | None = None) -> str:
    """The provenance block as an HTML section (every text escaped)."""
    e = html.escape
    head = "".join(f"<p>{e(line)}</p>" for line in provenance_lines(prov, generated=generated))
    table = provenance_table(prov).to_html(index=False, escape=True, border=0,
                                           classes="provenance")
    return (f'<section id="provenance" style="margin:2em auto;max-width:1200px;'
            f'font-size:0.85em;color:#444"><h2>数据来源</h2>{head}{table}</section>')


def bundled_banner_html() -> str:
    """The banner and the watermark of a report of the bundled demonstration data."""
    e = html.escape
    return (
        '<div id="demo-banner" style="position:sticky;top:0;z-index:10;background:#fff3cd;'
        'border:2px solid #c00;color:#900;padding:.6em 1em;font-weight:bold;'
        f'text-align:center">{e(BUNDLED_ZH)}：{e(BUNDLED_NOTE)}</div>'
        '<div id="demo-watermark" aria-hidden="true" style="position:fixed;inset:0;'
        'pointer-events:none;z-index:5;display:flex;align-items:center;'
        'justify-content:center;font-size:12vw;color:rgba(200,0,0,0.08);'
        f'transform:rotate(-30deg);white-space:nowrap">{e(BUNDLED_ZH)}</div>')


def default_folders(data, output) -> tuple[Path, Path, list[str]]:
    """The data folder and the reports folder of a command given ``--data`` and
    ``--output`` (None where left out), and the lines that say what was chosen.

    Without ``--data``: the bundled demonstration data, said in a line (its reports
    carry the 示范数据 mark).  Without ``--output``: beside the data,
    ``<data>/reports/``, so that two offices' reports never share a folder; the
    bundled data's go to the project's ``reports/`` (where ``make assess`` puts
    them), never into the data folder of the package."""
    from . import config

    notes = []
    if data is None:
        data_dir = Path(config.SYNTH_DIR)
        notes.append(f"未指定 --data：运行软件自带的{BUNDLED_ZH}（虚构的示范区，{data_dir}），"
                     "报告标有“示范数据”；评估本单位数据请用 --data 指定数据文件夹 "
                     "(no --data: running the bundled demonstration data)")
    else:
        data_dir = Path(data)
    if output is None:
        from .assessment.folder import resolve_path

        output_dir = (Path(config.REPORTS) if is_bundled(data_dir)
                      else resolve_path(data_dir) / "reports")
        notes.append(f"未指定 --output：报告写入 {output_dir} (reports beside the data)")
    else:
        output_dir = Path(output)
    return data_dir, output_dir, notes


def other_data_folders(reports_dir, data_folder) -> list[str]:
    """The data folders, other than ``data_folder``, that the reports already in
    ``reports_dir`` were built from (their summary.json provenance), sorted."""
    root, mine = Path(reports_dir), str(Path(data_folder).resolve())
    seen = set()
    for f in root.glob("*/summary.json") if root.is_dir() else ():
        try:
            prov = json.loads(f.read_text(encoding="utf-8")).get("provenance") or {}
        except (OSError, ValueError):
            continue
        folder = prov.get("data_folder")
        if folder and folder != mine:
            seen.add(folder)
    return sorted(seen)
