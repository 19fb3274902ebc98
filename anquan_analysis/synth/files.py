"""The demo district's files, as bundled in data/raw/synthetic_city: a clean wide CSV,
a messy workbook typed as an office would, exposure, ledger and truth; byte-identical
for the same city.  ``python -m anquan_analysis.synth --output DIR`` writes them."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from .. import catalogue
from ..io import atomic_path, write_table_atomic
from .city import SynthCity, make_city
from .district import CITY_INDICATORS, DISTRICT, UNIT_TYPE_ZH, sheet_name

_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
_CLEAN_FILES = ("reports_clean.csv", "reports_messy.xlsx", "exposure.csv", "ledger.csv",
                "truth.csv")
_FIXED_TIME = dt.datetime(2024, 1, 1)
_LEDGER_ZH = {
    "source": {"dept": "部门检查", "enterprise": "企业自查"},
    "status": {"rectified": "已整改", "in_progress": "整改中", "open": "未整改"},
}


def _wide_array(city: SynthCity) -> np.ndarray:
    """The panel back as units × months × CITY_INDICATORS (NaN where not reported)."""
    u = pd.Index(city.units["unit"]).get_indexer(city.panel["unit"])
    t = pd.Index(city.periods).get_indexer(city.panel["period"])
    k = pd.Index(CITY_INDICATORS).get_indexer(city.panel["indicator"])
    v = np.full((len(city.units), city.n_months, len(CITY_INDICATORS)), np.nan)
    v[u, t, k] = city.panel["value"].to_numpy()
    return v


def clean_table(v, units, periods) -> pd.DataFrame:
    """The wide table as reports_clean.csv holds it: 单位, 单位类型, 上级, 期间, then one
    column per indicator (Chinese name), rows by period then unit."""
    n, n_months, _ = v.shape
    t_idx, u_idx = np.divmod(np.arange(n * n_months), n)
    head = pd.DataFrame({
        "单位": units["unit"].to_numpy()[u_idx],
        "单位类型": units["unit_type"].map(UNIT_TYPE_ZH).to_numpy()[u_idx],
        "上级": units["parent"].to_numpy()[u_idx],
        "期间": np.asarray(periods)[t_idx],
    })
    body = v[u_idx, t_idx, :]
    cols = {}
    for k, code in enumerate(CITY_INDICATORS):
        col = pd.Series(body[:, k])
        cols[catalogue.indicator_name(code)] = col if code == "fines" else col.astype("Int64")
    return pd.concat([head, pd.DataFrame(cols)], axis=1)


def write_city(city: SynthCity, directory, *, seed: int = 0) -> list[Path]:
    """Writes reports_clean.csv, reports_messy.xlsx, exposure.csv, ledger.csv and
    truth.csv into ``directory``; byte-identical for the same city.  Returns the paths."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    v = _wide_array(city)
    write_table_atomic(clean_table(v, city.units, city.periods), d / "reports_clean.csv")
    _write_bytes(d / "reports_messy.xlsx", messy_workbook(city, v, seed=seed))
    exposure = pd.DataFrame({"单位": city.exposure["unit"], "行业领域": city.exposure["sector"],
                             "监管企业数": city.exposure["enterprises"].astype("int64")})
    write_table_atomic(exposure, d / "exposure.csv")
    led = city.ledger

    def day(col):
        return led[col].dt.strftime("%Y-%m-%d").fillna("")

    ledger = pd.DataFrame({
        "隐患编号": led["hazard_id"], "单位": led["unit"], "行业领域": led["sector"],
        "发现日期": day("found_date"), "报送日期": day("reported_date"),
        "发现方式": led["source"].map(_LEDGER_ZH["source"]),
        "是否符合判定标准": np.where(led["meets_standard"].to_numpy(dtype=bool), "是", "否"),
        "整改状态": led["status"].map(_LEDGER_ZH["status"]),
        "整改完成日期": day("rectified_date"),
    })
    write_table_atomic(ledger, d / "ledger.csv")
    write_table_atomic(city.truth, d / "truth.csv")
    return [d / f for f in _CLEAN_FILES]


def _write_bytes(path: Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def _typed(rng, values: np.ndarray, code: str, in_yuan: bool) -> list:
    """Figures of one column as an office types them: mostly numbers, some text with
    full-width digits, thousands separators or a trailing unit word, blanks as — or
    empty.  Fines in a 元 sheet are typed as 2100元 (header still says 万元)."""
    n = len(values)
    u = rng.random(n)
    unit = catalogue.indicator_unit(code)
    out: list = []
    for x, r in zip(values, u):
        if np.isnan(x):
            out.append("—" if r < 0.5 else None)
        elif code == "fines":
            out.append(f"{round(x * 10000)}元" if in_yuan else float(x))
        elif x >= 1000 and r < 0.5:
            out.append(f"{int(x):,}")
        elif r < 0.04:
            out.append(str(int(x)).translate(_FULLWIDTH))
        elif r < 0.08:
            out.append(f"{int(x)}{unit}")
        elif r < 0.11:
            out.append(str(int(x)))
        else:
            out.append(int(x))
    return out


def _messy_name(rng, name: str) -> str:
    """A unit name with the stray spaces offices leave (half- and full-width)."""
    r = rng.random()
    if r < 0.06:
        return name[:1] + " " + name[1:]
    if r < 0.10:
        return name + "　"
    if r < 0.13:
        return " " + name
    return name


def _messy_type(unit: str, unit_type: str) -> str:
    if unit_type == "town":
        return "街道" if unit.endswith("街道") else "镇"
    return {"department": "部门", "soe": "区属国有公司"}.get(unit_type, unit_type)


def messy_workbook(city: SynthCity, v: np.ndarray, *, seed: int = 0) -> bytes:
    """reports_messy.xlsx as bytes: the same figures as reports_clean.csv, typed as an
    office would (see the folder's README.md), with a 合计 row per sheet."""
    import openpyxl
    rng = np.random.default_rng([seed, 1])
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    headers = ["序号", "单位名称", "单位类型", "上级单位", "月份"]
    for code in CITY_INDICATORS:
        aliases = [a for a in catalogue.indicator(code)["aliases"]
                   if catalogue.resolve_indicator(a) == code and len(a) <= 12]
        label = str(rng.choice(aliases)) if aliases and rng.random() < 0.7 else catalogue.indicator_name(code)
        headers.append(f"{label}（{catalogue.indicator_unit(code)}）")
    mismatch = city.truth.loc[city.truth["kind"] == "total_mismatch", ["period", "indicator"]]
    yuan_month = int(rng.integers(0, city.n_months))
    units = city.units
    for t, period in enumerate(city.periods):
        ws = wb.create_sheet(sheet_name(period))
        title = f"{DISTRICT}重大事故隐患专项排查整治调度表（{sheet_name(period)}）"
        ws.append([title])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
        ws.append([])
        ws.append(headers)
        cols = [_typed(rng, v[:, t, k], code, t == yuan_month) for k, code in enumerate(CITY_INDICATORS)]
        for i, row in units.iterrows():
            ws.append([i + 1, _messy_name(rng, row["unit"]), _messy_type(row["unit"], row["unit_type"]),
                       row["parent"], sheet_name(period)] + [c[i] for c in cols])
        totals = []
        for k, code in enumerate(CITY_INDICATORS):
            col = v[:, t, k]
            if np.isnan(col).all():
                totals.append(None)
                continue
            total = float(np.nansum(col))
            hit = (mismatch["period"] == period) & (mismatch["indicator"] == code)
            total += 1.0 if hit.any() else 0.0
            if code == "fines":
                totals.append(f"{round(total * 10000)}元" if t == yuan_month else round(total, 2))
            else:
                totals.append(int(round(total)))
        ws.append([None, "合计", None, None, None] + totals)
    wb.properties.creator = "示范区安委办"
    wb.properties.created = _FIXED_TIME
    buf = __import__("io").BytesIO()
    wb.save(buf)
    return _fixed_zip(buf.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    """An XLSX with its modification time and zip member times fixed, so that the same
    workbook always has the same bytes (openpyxl stamps the time of saving)."""
    import io
    import re
    import zipfile
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    stamp = _FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                              rb"\g<1>" + stamp.encode() + rb"\g<2>", body)
            member = zipfile.ZipInfo(info.filename, date_time=_FIXED_TIME.timetuple()[:6])
            member.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(member, body)
    return out.getvalue()


def main(argv=None) -> int:
    """``python -m anquan_analysis.synth --output DIR [--seed N]``: writes the bundled files."""
    parser = argparse.ArgumentParser(prog="python -m anquan_analysis.synth",
                                     description="write the synthetic city's files")
    parser.add_argument("--output", required=True, help="folder to write into")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--units", type=int, default=50)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--start", default="2024-01")
    args = parser.parse_args(argv)
    city = make_city(seed=args.seed, n_units=args.units, n_months=args.months, start=args.start)
    for path in write_city(city, args.output, seed=args.seed):
        print(path)
    return 0
