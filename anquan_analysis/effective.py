"""The hazard ledger's *effective* counts (巴南: a hazard counts when it meets the
judgement standard, was reported in time and was found inside the campaign window),
per unit × month × sector.

``effective_counts`` takes a ledger in memory; ``effective_counts_parquet`` streams a
ledger stored as parquet in batches of rows, so that a national three-year ledger
(tens of millions of hazards) is counted in bounded memory: each batch's rows are
added into a dense unit × month × sector array of counts at once, and only that
array is kept.  Both give the same table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .dataset import LEDGER_COUNT_COLUMNS
from .dataset import require_columns as _require

# Counts beyond LEDGER_COUNT_COLUMNS: effective and rectified, but with no 整改完成日期.
EXTRA_COUNT_COLUMNS = ["rectified_undated"]
FLAGS = ["reported", "found", "found_dept", "found_enterprise", "rectified", "rectified_dept",
         "rectified_enterprise", "excluded_standard", "excluded_late", "excluded_window",
         "rectified_undated"]
NEEDED = ["unit", "sector", "found_date", "reported_date", "source", "meets_standard", "status",
          "rectified_date"]


def _days(values) -> np.ndarray:
    """datetime64[D] array of a date column (NaT kept)."""
    return pd.to_datetime(values).to_numpy().astype("datetime64[D]")


def _day_or_none(value) -> np.datetime64 | None:
    return None if value is None else np.datetime64(pd.Timestamp(value).date(), "D")


def _deadline_days(found: np.ndarray, deadline_day: int) -> np.ndarray:
    """``report_deadline`` on a datetime64[D] array."""
    month = found.astype("datetime64[M]")
    day = (found - month.astype("datetime64[D]")).astype(np.int64) + 1
    target = month + (day > deadline_day).astype(np.int64)
    month_len = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(np.int64)
    return target.astype("datetime64[D]") + (np.minimum(deadline_day, month_len) - 1)


def report_deadline(found_date: pd.Series, deadline_day: int = 24) -> pd.Series:
    """The last day a hazard found on ``found_date`` may be reported to count as in
    time: day ``deadline_day`` of its month, or of the following month when it was
    found after that day (巴南: "每月24日前报送").  A deadline day past a month's end
    means that month's last day.  Returns datetime64 with ``found_date``'s index."""
    deadline = _deadline_days(_days(found_date), deadline_day)
    return pd.Series(deadline.astype("datetime64[ns]"), index=found_date.index)


def _row_flags(ledger: pd.DataFrame, deadline_day: int, start, end):
    """Per ledger row: its month (months since 1970) and one bool array per count of
    ``FLAGS``."""
    found = _days(ledger["found_date"])
    reported = _days(ledger["reported_date"])
    # Calendar arithmetic (months, deadlines) is slow in numpy; a ledger has a few
    # thousand distinct found dates at most, so it is done once per distinct date.
    day_codes, days = pd.factorize(found.astype(np.int64))
    days = days.astype("datetime64[D]")
    deadline = _deadline_days(days, deadline_day)[day_codes]
    months = days.astype("datetime64[M]").astype(np.int64)[day_codes]
    in_window = np.ones(len(ledger), dtype=bool)
    if start is not None:
        in_window &= found >= start
    if end is not None:
        in_window &= found <= end
    meets = ledger["meets_standard"].astype("boolean").fillna(True).to_numpy(dtype=bool)
    in_time = np.isnat(reported) | (reported <= deadline)
    effective = in_window & meets & in_time
    dept = (ledger["source"] == "dept").to_numpy(dtype=bool, na_value=False)
    enterprise = (ledger["source"] == "enterprise").to_numpy(dtype=bool, na_value=False)
    rectified = effective & (ledger["status"] == "rectified").to_numpy(dtype=bool, na_value=False)
    flags = {
        "reported": np.ones(len(ledger), dtype=bool),
        "found": effective, "found_dept": effective & dept,
        "found_enterprise": effective & enterprise, "rectified": rectified,
        "rectified_dept": rectified & dept, "rectified_enterprise": rectified & enterprise,
        "excluded_standard": in_window & ~meets,
        "excluded_late": in_window & meets & ~in_time,
        "excluded_window": ~in_window,
        "rectified_undated": rectified & np.isnat(_days(ledger["rectified_date"])),
    }
    return months, flags


class _Names:
    """A text column's values numbered once across batches: the ``known`` names
    first, in their order (the names of the whole ledger, sorted, so that codes are
    ranks and the counts come out in name order), then any other name as it is
    first seen.  A missing value is the name ''."""

    def __init__(self, known=()):
        self.where: dict[str, int] = {n: k for k, n in enumerate(known)}

    def codes(self, values: pd.Series) -> np.ndarray:
        codes, uniques = pd.factorize(values, use_na_sentinel=False)
        # a few thousand distinct names per batch: looked up one by one, as text
        names = np.asarray(pd.Index(uniques).astype("object").fillna("").astype("str"),
                           dtype=object).tolist()
        ids = np.array([self.where.setdefault(n, len(self.where)) for n in names], np.int64)
        return ids[codes] if len(ids) else np.zeros(0, np.int64)

    def names(self) -> np.ndarray:
        out = np.empty(len(self.where), dtype=object)
        for n, k in self.where.items():
            out[k] = n
        return out


def _sorted_names(col: pd.Series) -> list[str]:
    """The distinct values of a text column as text, sorted ('' for missing)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        names = set(col.cat.categories.astype("str"))
        if col.isna().any():
            names.add("")
        return sorted(names)
    return sorted(set(pd.unique(col.astype("object").fillna("").astype("str"))))


class _Counts:
    """Counts per flag × unit × month × sector, added up batch by batch in a dense
    int32 array [flag, unit, month, sector] that grows as units, months and sectors
    are seen (a national three-year ledger: 11 counts × 50,000 units × 36 months ×
    19 sectors, 1.5 GB, however many hazards).  Adding a batch is one
    ``np.add.at`` per flag into that flag's own block: no sort, no merge of
    partial tables."""

    def __init__(self):
        self.a = np.zeros((len(FLAGS), 0, 0, 0), dtype=np.int32)
        self.m0 = 0  # the month (since 1970) of position 0 on the month axis

    def _grow(self, n_u: int, lo: int, hi: int, n_s: int) -> None:
        _, u0, mn0, s0 = self.a.shape
        m_lo, m_hi = (lo, hi) if not mn0 else (min(lo, self.m0), max(hi, self.m0 + mn0 - 1))
        if n_u <= u0 and n_s <= s0 and m_hi - m_lo + 1 == mn0:
            return
        # a quarter to spare on units: a ledger in unit order grows often
        new_u = u0 if n_u <= u0 else (n_u if not u0 else max(n_u, u0 + u0 // 4))
        bigger = np.zeros((len(FLAGS), new_u, m_hi - m_lo + 1, max(n_s, s0)), dtype=np.int32)
        off = self.m0 - m_lo
        bigger[:, :u0, off:off + mn0, :s0] = self.a
        self.a, self.m0 = bigger, m_lo

    def reserve(self, n_u: int, lo: int, hi: int, n_s: int) -> None:
        """Lay out room for ``n_u`` units, months ``lo``…``hi`` and ``n_s`` sectors."""
        self._grow(n_u, lo, hi, n_s)

    def add(self, units: np.ndarray, months: np.ndarray, sectors: np.ndarray, flags) -> None:
        if not len(units):
            return
        self._grow(int(units.max()) + 1, int(months.min()), int(months.max()),
                   int(sectors.max()) + 1)
        _, _, n_m, n_s = self.a.shape
        cell = (units * n_m + (months - self.m0)) * n_s + sectors
        for j, name in enumerate(FLAGS):
            # an array of increments (not a scalar): np.add.at's fast path
            np.add.at(self.a[j].reshape(-1), cell, flags[name].astype(np.int32))

    def table(self, units: np.ndarray, sectors: np.ndarray) -> pd.DataFrame:
        """The counts as LEDGER_COUNT_COLUMNS (+ EXTRA): a row per unit × month ×
        sector with at least one hazard, sorted by unit name, month, sector name.

        The cells are found in that order on the ``reported`` counts with the unit
        and sector axes permuted into name order (one int32 copy of one flag's
        block), so no sort runs over the rows; the text columns are built from the
        distinct names by their codes, and the counts form one integer block."""
        n_u, n_s = len(units), len(sectors)
        a = self.a[:, :n_u, :, :n_s]
        u_order = np.argsort(np.asarray(units, dtype=object), kind="stable")
        s_order = np.argsort(np.asarray(sectors, dtype=object), kind="stable")
        first = a[0]
        if not (u_order == np.arange(n_u)).all():
            first = first[u_order]
        if not (s_order == np.arange(n_s)).all():
            first = first[:, :, s_order]
        ui, m, si = np.nonzero(first)
        del first
        u, s = u_order[ui], s_order[si]
        del ui, si
        cell = (u * a.shape[2] + m) * a.shape[3] + s
        counts = np.empty((len(FLAGS), len(cell)), dtype=np.int64)  # [flags, rows]: a pandas block
        for j in range(len(FLAGS)):
            counts[j] = a[j].reshape(-1)[cell]
        del cell, a
        self.a = np.zeros((len(FLAGS), 0, 0, 0), dtype=np.int32)  # done with it
        month_codes, months = pd.factorize(m + self.m0, sort=True)
        period = np.asarray(months.astype("datetime64[M]").astype("str"), dtype=object)
        out = pd.DataFrame(counts.T, columns=FLAGS, copy=False)
        out.insert(0, "sector", _text(sectors, s))
        out.insert(0, "period", _text(period, month_codes))
        out.insert(0, "unit", _text(units, u))
        return out[LEDGER_COUNT_COLUMNS + EXTRA_COUNT_COLUMNS]


def _text(names, codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """``names[codes]`` as a str array, each distinct name converted once."""
    return pd.array(np.asarray(names, dtype=object), dtype="str").take(codes)


def _check(ledger: pd.DataFrame) -> None:
    _require(ledger, NEEDED, "ledger")
    if ledger["unit"].isna().any() or ledger["found_date"].isna().any():
        raise ValueError("ledger has rows with no unit or no found_date; parse it with "
                         "parse_ledger_sheet, which rejects them")


def effective_counts(ledger: pd.DataFrame, *, deadline_day: int = 24, campaign_start=None,
                     campaign_end=None) -> pd.DataFrame:
    """Counts per unit × month (``YYYY-MM`` of the found date) × sector of the hazards
    that are *effective* in 巴南's sense: found inside the campaign window
    [campaign_start, campaign_end] (inclusive; either end optional), meeting the
    judgement standard, and reported in time.  Does not modify ``ledger``.

    In time: reported on or before the ``deadline_day`` of the month the hazard was
    found; a hazard found after that day may be reported up to the ``deadline_day``
    of the following month (see ``report_deadline``).  Missing values are not held
    against a hazard: no reported date is not judged late, no 判定标准 answer is not
    judged failing (blank cells are kept by ``parse_ledger_sheet``).

    Returns
    -------
    DataFrame, one row per unit × period × sector present in the ledger, sorted by
    them, with integer columns: reported (every ledger row); found (effective
    hazards); found_dept / found_enterprise (by 发现方式, a blank source in neither);
    rectified (_dept / _enterprise): effective and 已整改; excluded_standard /
    excluded_late / excluded_window: hazards not effective, each counted once under
    the first reason in the order window, standard, late (so reported = found + the
    three exclusions); rectified_undated: effective, 已整改, with no 整改完成日期.
    """
    _check(ledger)
    start, end = _day_or_none(campaign_start), _day_or_none(campaign_end)
    units = _Names(_sorted_names(ledger["unit"]))
    sectors = _Names(_sorted_names(ledger["sector"]))
    months, flags = _row_flags(ledger, deadline_day, start, end)
    counts = _Counts()
    counts.add(units.codes(ledger["unit"]), months, sectors.codes(ledger["sector"]), flags)
    return counts.table(units.names(), sectors.names())


def _batches(paths, columns, batch_rows: int):
    """The rows of parquet files ``paths`` in order, as pandas frames of about
    ``batch_rows`` rows (parquet hands out record batches no longer than a row
    group: they are gathered up to ``batch_rows``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    held, n = [], 0
    for path in paths:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_rows, columns=columns):
            held.append(batch)
            n += batch.num_rows
            if n >= batch_rows:
                yield pa.Table.from_batches(held).to_pandas()
                held, n = [], 0
    if held:
        yield pa.Table.from_batches(held).to_pandas()


def _ledger_extent(paths):
    """Over parquet ledger files: the sorted unit and sector names (dictionary
    columns give them from their dictionaries; '' stands for a missing sector) and
    the first and last month of ``found_date`` (months since 1970; from the
    files' statistics where every row group has them, else read), or (None, None)
    when there are no rows."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    names = {"unit": set(), "sector": set()}
    lo = hi = None
    for path in paths:
        f = pq.ParquetFile(path)
        span = _date_range(f, "found_date")
        cols = ["unit", "sector"] + ([] if span else ["found_date"])
        for batch in f.iter_batches(batch_size=1 << 22, columns=cols):
            for c in ("unit", "sector"):
                col = batch.column(batch.schema.get_field_index(c))
                values = col.dictionary if pa.types.is_dictionary(col.type) else pc.unique(col)
                names[c].update(v for v in values.to_pylist() if v is not None)
                if col.null_count:
                    names[c].add("")
            if not span:  # no statistics: the dates themselves
                days = pc.min_max(batch.column(batch.schema.get_field_index("found_date")))
                if days["min"].as_py() is not None:
                    a, b = _month(days["min"].as_py()), _month(days["max"].as_py())
                    lo, hi = (a, b) if lo is None else (min(lo, a), max(hi, b))
        if span:
            lo, hi = span if lo is None else (min(lo, span[0]), max(hi, span[1]))
    return sorted(names["unit"]), sorted(names["sector"]), (lo, hi)


def _month(value) -> int:
    """Months since 1970 of a date or timestamp."""
    return int(np.datetime64(pd.Timestamp(value).to_datetime64(), "M").astype(np.int64))


def _date_range(f, column: str):
    """(first, last) month of ``column`` from a parquet file's row-group statistics,
    or None where a row group has none (or there are no row groups)."""
    md = f.metadata
    where = f.schema_arrow.get_field_index(column)
    if where < 0 or not md.num_row_groups:
        return None
    lo = hi = None
    for g in range(md.num_row_groups):
        st = md.row_group(g).column(where).statistics
        if st is None or not st.has_min_max or st.null_count == md.row_group(g).num_rows:
            return None
        a, b = _month(st.min), _month(st.max)
        lo, hi = (a, b) if lo is None else (min(lo, a), max(hi, b))
    return lo, hi


def effective_counts_parquet(path, *, deadline_day: int = 24, campaign_start=None,
                             campaign_end=None, batch_rows: int = 4_000_000) -> pd.DataFrame:
    """``effective_counts`` of a ledger stored as parquet (LEDGER_COLUMNS, as
    ``Dataset.save`` writes ``ledger.parquet``), read ``batch_rows`` rows at a time
    and only the columns counting needs.  ``path`` is one file or a list of files
    (one ledger in parts, read in that order).  Memory is bounded by one batch, the
    counts (a dense unit × month × sector × count array, ``_Counts``) and the
    table returned, not by the ledger.  The same table as ``effective_counts`` of
    the whole ledger.

    Measured (benchmarks/ledger.py, benchmarks/README.md): 50 million hazards of
    50,000 units over 36 months in about a minute of one core at about 5 GB peak,
    of which the returned table (20 million rows) is half."""
    start, end = _day_or_none(campaign_start), _day_or_none(campaign_end)
    paths = [path] if isinstance(path, (str, bytes)) or not hasattr(path, "__iter__") else path
    # A first pass over the small columns: every unit and sector name and the span of
    # months, so that the counts are laid out once, in name order, and never grow.
    unit_names, sector_names, (lo, hi) = _ledger_extent(paths)
    units, sectors = _Names(unit_names), _Names(sector_names)
    counts = _Counts()
    if lo is not None:
        counts.reserve(len(unit_names), lo, hi, len(sector_names))
    for chunk in _batches(paths, NEEDED, batch_rows):
        _check(chunk)
        months, flags = _row_flags(chunk, deadline_day, start, end)
        counts.add(units.codes(chunk["unit"]), months, sectors.codes(chunk["sector"]), flags)
        del chunk, flags
    return counts.table(units.names(), sectors.names())
