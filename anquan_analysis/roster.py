"""Who should report: the office's roster of units (单位名册), and the reporting
findings it makes possible, in the one findings schema (``findings.py``).

* ``not_reported``: a roster unit with no row in the period (未报送); a warning, an
  alert once it has sent nothing for ``alert_after`` periods in a row.
* ``unlisted_unit``: a unit in the data but not on the roster, with the roster name
  it is probably written for (rapidfuzz, the rule of ``aliases.likely_aliases``); info.
* ``late_report``: a unit whose report carries a 报送日期 after the deadline (迟报).

The roster is an optional file ``单位名册.csv`` (or ``.xlsx``) in the data folder with
columns 单位, 单位类型 and optionally 上级.  Its names pass through the same alias
table as the reports' (the dataset's, ``aliases.dataset_alias_table``), so that both
are compared as ingest wrote them.

Report dates: ingest keeps no 报送日期 of a unit-period report (it reads the column as
a known field and leaves it out of the panel), so ``read_report_dates`` reads it from
the raw report files itself; ``copy_office_files`` keeps it, with the roster and the
settings, beside a dataset that ``anquan assess`` ingests once for all periods.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError
from .findings import empty_findings, make_findings
from .text import normalise_name

ROSTER_FILES = ("单位名册.csv", "单位名册.xlsx")
REPORT_DATES_FILE = "report_dates.csv"
ROSTER_COLUMNS = ["unit", "unit_type", "parent", "source_file", "source_row"]
REPORT_DATE_COLUMNS = ["unit", "period", "reported_date", "text", "file", "sheet", "row"]
UNLISTED_COLUMNS = ["unit", "unit_type", "rows", "likely", "distance"]
_HEADERS = {"unit": ("单位", "单位名称", "填报单位", "报送单位", "unit"),
            "unit_type": ("单位类型", "单位类别", "unit_type"),
            "parent": ("上级", "上级单位", "所属区县", "parent")}
_TOTAL = re.compile(r"^(?:全市|全区|全县|全省)?(?:合计|总计|小计)")
_PERIOD_WORD = {"M": "个月", "Q": "个季度"}


# ------------------------------------------------------------------------ roster
def _aliases(folder) -> dict[str, str]:
    from .aliases import aliases_of

    return aliases_of(Path(folder))


def _aliases_of_files(paths) -> dict[str, str]:
    from .aliases import aliases_of

    return aliases_of([Path(p) for p in paths]) if paths else {}


def read_roster(path, *, aliases: dict[str, str] | None = None) -> pd.DataFrame:
    """The roster in ``path`` (CSV in UTF-8 or GBK, or XLSX; title rows above the
    header are skipped).  Names are normalised (``text.normalise_name``) and mapped
    through ``aliases`` (default: the bundled alias table); 单位类型 is read as a
    catalogue code (县(市、区), 镇街, 部门, 国有公司 or their aliases).

    Returns ROSTER_COLUMNS, one row per unit.  Raises InputError naming the file, row
    and column for a missing 单位 column, an unknown unit type, or a unit listed twice."""
    from .catalogue import resolve_unit_type
    from .tables import find_header_row, read_raw

    aliases = _aliases(Path(path).parent) if aliases is None else aliases
    raw = read_raw(path)[0]
    lookup = {normalise_name(a): role for role, names in _HEADERS.items() for a in names}
    h = find_header_row(raw, lambda v: normalise_name(v) in lookup, min_hits=1)
    if h is None:
        raise InputError(path, "no 单位 column: the roster needs 单位, 单位类型 and optionally 上级")
    cols = {}
    for j, label in enumerate(raw.cells.loc[h]):
        role = lookup.get(normalise_name(label)) if label is not None else None
        if role is not None and role not in cols:
            cols[role] = j
    if "unit" not in cols:
        raise InputError(path, "no 单位 column: the roster needs 单位, 单位类型 and optionally 上级",
                         row=h)
    body = raw.cells.loc[h + 1:]

    def col(role):
        return body[cols[role]] if role in cols else pd.Series(None, index=body.index)

    units = col("unit").map(normalise_name)
    keep = (units != "") & ~units.str.match(_TOTAL)
    units = units[keep].map(lambda u: aliases.get(u, u))
    types_text = col("unit_type")[keep]
    types = types_text.map(lambda t: resolve_unit_type(t) if t else None)
    bad = types_text.notna() & types.isna()
    if bad.any():
        row = int(bad.idxmax())
        raise InputError(path, f"unknown unit type {types_text[row]!r} (expected 县(市、区), 镇街, "
                         "部门 or 国有公司)", row=row, column="单位类型")
    dup = units.duplicated()
    if dup.any():
        row = int(dup.idxmax())
        raise InputError(path, f"{units[row]!r} is listed twice", row=row, column="单位")
    parents = col("parent")[keep].map(lambda p: normalise_name(p) or None)
    return pd.DataFrame({"unit": units.to_numpy(), "unit_type": types.to_numpy(),
                         "parent": parents.to_numpy(), "source_file": str(path),
                         "source_row": units.index.to_numpy(dtype="int64")},
                        columns=ROSTER_COLUMNS).astype({"unit": "str", "unit_type": "str",
                                                        "parent": "str"})


def find_roster(data_dir) -> Path | None:
    """The roster file of a data folder (``ROSTER_FILES``), or None."""
    d = Path(data_dir)
    return next((d / n for n in ROSTER_FILES if (d / n).is_file()), None)


def load_roster(data_dir) -> pd.DataFrame | None:
    """``read_roster`` of the data folder's roster, or None when it has none."""
    path = find_roster(data_dir)
    return None if path is None else read_roster(path)


# --------------------------------------------------------------- not reported
def _presence(panel: pd.DataFrame, period: str) -> tuple[list[str], pd.DataFrame]:
    """The periods of ``period``'s frequency up to it, and a unit × period table of
    whether the unit has any row there."""
    from .periods import period_freq, period_sort_key, sort_periods

    freq, key = period_freq(period), period_sort_key(period)
    periods = pd.Series(pd.unique(panel["period"].astype("str")), dtype="str").dropna()
    periods = [p for p in sort_periods(periods.tolist())
               if period_freq(p) == freq and period_sort_key(p) <= key]
    rows = panel.loc[panel["period"].astype("str").isin(periods).to_numpy(dtype=bool)]
    seen = pd.crosstab(rows["unit"].astype("str"), rows["period"].astype("str")) > 0
    return periods, seen.reindex(columns=periods, fill_value=False)


def not_reported(panel: pd.DataFrame, roster: pd.DataFrame, period: str, *,
                 alert_after: int = 2) -> pd.DataFrame:
    """未报送: every roster unit with no row in ``period``.

    ``panel`` is at the assessment level (its periods of ``period``'s frequency are
    the ones a unit could have reported in).  A unit absent ``alert_after`` periods in
    a row up to ``period`` (counting only periods with data) is an ``alert``, else a
    ``warning``.  Deterministic: no p-value.  Findings: observed and statistic = the
    periods in a row without a report.  Inputs are not modified."""
    from .dataset import require_columns
    from .periods import period_freq, period_name_zh

    require_columns(panel, ["unit", "period"], "not_reported")
    require_columns(roster, ["unit", "unit_type"], "not_reported roster")
    periods, seen = _presence(panel, period)
    if period not in periods:
        return empty_findings()
    seen = seen.reindex(index=roster["unit"].astype("str"), fill_value=False)
    absent = ~seen.to_numpy(dtype=bool)
    missing = absent[:, -1]
    if not missing.any():
        return empty_findings()
    # the trailing run of absent periods: a product along the reversed columns
    streak = np.cumprod(absent[:, ::-1], axis=1).sum(axis=1)[missing]
    units = roster.loc[missing, ["unit", "unit_type"]].astype("str")
    when, word = period_name_zh(period), _PERIOD_WORD.get(period_freq(period), "期")
    msg = [f"{u}{when}未报送调度数据" + (f"（已连续{k}{word}未报送）" if k >= 2 else "") + "。"
           for u, k in zip(units["unit"], streak)]
    return make_findings(pd.DataFrame({
        "check": "not_reported", "unit": units["unit"].to_numpy(),
        "unit_type": units["unit_type"].to_numpy(), "period": period,
        "observed": streak.astype(float), "statistic": streak.astype(float),
        "severity": np.where(streak >= alert_after, "alert", "warning"), "message": msg}))


# ------------------------------------------------------------------- unlisted
def unlisted_units(panel: pd.DataFrame, roster: pd.DataFrame, period: str | None = None
                   ) -> pd.DataFrame:
    """Units with rows in ``period`` (all periods when None) that the roster does not
    list, each with the roster name it probably is (``aliases.likely_aliases``: one
    edit apart, or one name inside the other), or missing.  Columns UNLISTED_COLUMNS
    (rows = the unit's panel rows).  Inputs are not modified."""
    from .aliases import likely_aliases

    rows = panel if period is None else panel.loc[(panel["period"].astype("str") == period)
                                                  .to_numpy(dtype=bool)]
    names = rows["unit"].astype("str")
    listed = set(roster["unit"].astype("str"))
    extra = names.loc[~names.isin(listed).to_numpy(dtype=bool)]
    if extra.empty:
        return pd.DataFrame(columns=UNLISTED_COLUMNS)
    counts = extra.value_counts().sort_index()
    types = (rows.loc[extra.index, ["unit", "unit_type"]].astype("str")
             .drop_duplicates("unit").set_index("unit")["unit_type"])
    pairs = likely_aliases(list(counts.index) + sorted(listed))
    # a pair of one unlisted name and one roster name, either way round
    a, b = pairs["name"].astype(str), pairs["unit"].astype(str)
    fwd = pairs.loc[a.isin(counts.index) & b.isin(listed)].assign(u=a, r=b)
    rev = pairs.loc[b.isin(counts.index) & a.isin(listed)].assign(u=b, r=a)
    best = (pd.concat([fwd, rev]).sort_values(["u", "distance", "r"])
            .drop_duplicates("u").set_index("u"))
    return pd.DataFrame({"unit": counts.index, "unit_type": types.reindex(counts.index).to_numpy(),
                         "rows": counts.to_numpy(dtype="int64"),
                         "likely": best["r"].reindex(counts.index).to_numpy(),
                         "distance": best["distance"].reindex(counts.index).to_numpy()},
                        columns=UNLISTED_COLUMNS)


def unlisted_findings(panel: pd.DataFrame, roster: pd.DataFrame, period: str) -> pd.DataFrame:
    """``unlisted_units`` of ``period`` as ``info`` findings (check ``unlisted_unit``)."""
    t = unlisted_units(panel, roster, period)
    if t.empty:
        return empty_findings()
    hint = [f"（名册中有“{r}”，疑为同一单位）" if isinstance(r, str) else "" for r in t["likely"]]
    msg = [f"“{u}”不在单位名册中{h}，请核对单位名称或补入名册。" for u, h in zip(t["unit"], hint)]
    return make_findings(pd.DataFrame({
        "check": "unlisted_unit", "unit": t["unit"], "unit_type": t["unit_type"],
        "period": period, "observed": t["rows"].astype(float),
        "statistic": t["distance"].astype(float), "severity": "info", "message": msg}))


# ----------------------------------------------------------------- late reports
def read_report_dates(paths) -> pd.DataFrame:
    """The 报送日期 of every unit-period report row in ``paths`` (sheets with a unit, a
    报送日期 column and a period column or a period in the title, sheet or file name;
    hazard ledgers and exposure tables are skipped).  Dates as ``ledger.parse_dates``
    reads them; a date that cannot be read is kept with ``reported_date`` NaT and its
    text, so that it is reported, not dropped.  Returns REPORT_DATE_COLUMNS."""
    from .ingest import column_role, sheet_period
    from .ledger import parse_dates
    from .periods import parse_period
    from .tables import find_header_row, read_raw

    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    aliases, frames = _aliases_of_files(paths), []
    for path in paths:
        for raw in read_raw(path):
            h = find_header_row(raw, lambda v: column_role(v) is not None)
            if h is None:
                continue
            roles = {}
            for j, label in enumerate(raw.cells.loc[h]):
                hit = column_role(label)
                if hit is not None:
                    roles.setdefault(hit[0] if hit[0] != "ledger" else f"ledger:{hit[1]}", j)
            if ("unit" not in roles or "ledger:reported_date" not in roles
                    or "ledger:hazard_id" in roles or "enterprises" in roles):
                continue
            body = raw.cells.loc[h + 1:]
            units = body[roles["unit"]].map(normalise_name)
            text = body[roles["ledger:reported_date"]]
            keep = (units != "") & ~units.str.match(_TOTAL) & text.notna()
            fallback = sheet_period(raw, h)
            ptext = body[roles["period"]][keep] if "period" in roles else \
                pd.Series(fallback, index=units[keep].index, dtype=object)

            def parse(t):
                try:
                    return parse_period(t)
                except ValueError:
                    return None
            frames.append(pd.DataFrame({
                "unit": units[keep].map(lambda u: aliases.get(u, u)),
                "period": ptext.map(lambda t: parse(t) if t is not None else fallback),
                "reported_date": parse_dates(text[keep]), "text": text[keep],
                "file": str(raw.file), "sheet": raw.sheet,
                "row": units[keep].index.to_numpy(dtype="int64")}))
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c == "reported_date" else
                                          "int64" if c == "row" else "str")
                             for c in REPORT_DATE_COLUMNS})
    out = pd.concat(frames, ignore_index=True)
    return out.loc[out["period"].notna(), REPORT_DATE_COLUMNS].reset_index(drop=True)


def load_report_dates(data_dir) -> pd.DataFrame:
    """The report dates of a data folder: ``report_dates.csv`` when it holds one (as
    ``copy_office_files`` writes beside an ingested dataset), none for an ingested
    dataset without it, else ``read_report_dates`` over its input files."""
    from .assessment import data_files, resolve_path

    d = resolve_path(data_dir)
    path = d / REPORT_DATES_FILE
    if path.is_file():
        from .io import restore_formulas

        t = restore_formulas(pd.read_csv(path, dtype={"unit": "str", "period": "str",
                                                      "text": "str", "sheet": "str"}))
        return t.assign(reported_date=pd.to_datetime(t["reported_date"]))
    if (d / "panel.parquet").is_file():
        return read_report_dates([])
    return read_report_dates(data_files(d))


def report_deadline(period: str, *, day: int = 24, months_after: int = 0) -> pd.Timestamp:
    """The day a report of ``period`` is due: day ``day`` (or the month's last day) of
    the month ``months_after`` months after the period's last month."""
    from .periods import period_bounds

    month = (period_bounds(period)[1].to_period("M") + months_after)
    return month.to_timestamp() + pd.Timedelta(days=min(day, month.days_in_month) - 1)


def late_reports(report_dates: pd.DataFrame, period: str, *, deadline_day: int = 24,
                 months_after: int = 0) -> pd.DataFrame:
    """迟报: units whose report of ``period`` (or of a month in it) is dated after its
    deadline (``report_deadline``); the unit's latest date counts.  A ``warning`` per
    unit, observed = days late.  A date that could not be read is an ``info`` finding
    naming file and row.  Deterministic: no p-value.  ``report_dates`` (see
    ``read_report_dates``) is not modified."""
    from .dataset import require_columns
    from .periods import months_in, period_name_zh

    require_columns(report_dates, REPORT_DATE_COLUMNS, "late_reports")
    inside = {period, *months_in(period)}
    d = report_dates.loc[report_dates["period"].astype("str").isin(inside)]
    if d.empty:
        return empty_findings()
    unread = d.loc[d["reported_date"].isna()]
    d = d.loc[d["reported_date"].notna()]
    due = d["period"].map(lambda p: report_deadline(p, day=deadline_day,
                                                    months_after=months_after))
    days = (d["reported_date"] - due).dt.days
    late = d.assign(days=days, due=due).loc[days > 0]
    late = late.sort_values(["unit", "days"], ascending=[True, False]).drop_duplicates(
        ["unit", "period"])
    frames = []
    if len(late):
        def day(ts):
            return f"{ts.month}月{ts.day}日"
        per_unit = late.groupby("unit", sort=True)
        rows = []
        for unit, g in per_unit:  # over late units (a handful), to list their periods
            g = g.sort_values("period")
            what = "、".join(f"{period_name_zh(p)}调度数据于{day(r)}报送（规定时限为{day(t)}前）"
                            for p, r, t in zip(g["period"], g["reported_date"], g["due"]))
            rows.append({"unit": unit, "observed": float(g["days"].max()),
                         "message": f"{unit}{what}，迟报{int(g['days'].max())}天。"})
        frames.append(pd.DataFrame(rows).assign(check="late_report", period=period,
                                                 severity="warning"))
    if len(unread):
        frames.append(pd.DataFrame({
            "check": "late_report", "unit": unread["unit"], "period": period,
            "severity": "info",
            "message": [f"{u}的报送日期“{t}”无法识别（{Path(str(f)).name} 第{r}行），未能判断是否迟报。"
                        for u, t, f, r in zip(unread["unit"], unread["text"], unread["file"],
                                              unread["row"])]}))
    return make_findings(pd.concat(frames, ignore_index=True)) if frames else empty_findings()


def _written_otherwise(missing: pd.DataFrame, unlisted: pd.DataFrame, period: str
                       ) -> pd.DataFrame:
    """not_reported findings of roster units whose name the data probably writes
    otherwise (an unlisted unit's likely alias) become ``info``, with the other name:
    the unit may well have reported, so the bulletin must not say it did not."""
    from .periods import period_name_zh

    alias = unlisted.dropna(subset=["likely"]).drop_duplicates("likely")
    other = dict(zip(alias["likely"].astype(str), alias["unit"].astype(str)))
    hit = missing["unit"].isin(list(other)).to_numpy(dtype=bool)
    if not hit.any():
        return missing
    out = missing.copy()
    out.loc[hit, "severity"] = "info"
    out.loc[hit, "message"] = [
        f"{u}{period_name_zh(period)}未见调度数据；数据中的“{other[u]}”疑为同一单位，请核对单位名称。"
        for u in out.loc[hit, "unit"]]
    return out


# ---------------------------------------------------------------------- together
REPORTING_OPTIONS = ("not_reported", "late_report", "unlisted_unit")


def reporting_findings(panel: pd.DataFrame, period: str, *, roster: pd.DataFrame | None = None,
                       report_dates: pd.DataFrame | None = None, options: dict | None = None
                       ) -> pd.DataFrame:
    """Every reporting finding of ``period``: not_reported and unlisted_unit when there
    is a roster, late_report when there are report dates.  ``options`` maps a check id
    to its keyword arguments (``{"not_reported": {"alert_after": 3}, "late_report":
    {"deadline_day": 25, "months_after": 1}}``).  Inputs are not modified."""
    from .findings import concat_findings

    options = options or {}
    frames = []
    if roster is not None:
        missing = not_reported(panel, roster, period, **options.get("not_reported", {}))
        frames.append(_written_otherwise(missing, unlisted_units(panel, roster, period), period))
        frames.append(unlisted_findings(panel, roster, period))
    if report_dates is not None and len(report_dates):
        frames.append(late_reports(report_dates, period, **options.get("late_report", {})))
    return concat_findings(frames)


def copy_office_files(src, dst) -> list[Path]:
    """Keep the office's own files beside a dataset ingested from ``src`` into ``dst``:
    the roster, ``anquan.toml``, the reports' dates (``report_dates.csv``, when the
    reports carry any) and the dataset's alias table (as ``aliases.ALIAS_COPY``, so
    that the roster read there passes through the same aliases).  Returns the files
    written."""
    from .aliases import ALIAS_COPY, dataset_alias_table
    from .assessment import data_files, resolve_path
    from .io import write_table_atomic
    from .settings import SETTINGS_FILE

    src, dst = resolve_path(src), Path(dst)
    written = []
    for name in (*ROSTER_FILES, SETTINGS_FILE, REPORT_DATES_FILE):
        if (src / name).is_file():
            written.append(Path(shutil.copy2(src / name, dst / name)))
    table = dataset_alias_table(src)
    if table is not None:
        written.append(Path(shutil.copy2(table, dst / ALIAS_COPY)))
    if not (src / "panel.parquet").is_file() and not (src / REPORT_DATES_FILE).is_file():
        dates = read_report_dates(data_files(src))
        if len(dates):
            write_table_atomic(dates, dst / REPORT_DATES_FILE)
            written.append(dst / REPORT_DATES_FILE)
    return written
