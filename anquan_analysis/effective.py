"""The hazard ledger's *effective* counts (巴南: a hazard counts when it meets the
judgement standard, was reported in time and was found inside the campaign window),
per unit × month × sector.

``effective_counts`` takes a ledger in memory; ``effective_counts_parquet`` streams a
ledger stored as parquet in batches of rows, so that a national three-year ledger
(tens of millions of hazards) is counted in bounded memory: each batch is reduced to
its unit × month × sector keys at once, and only those partial counts are kept.
Both give the same table.
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
    """A text column's values numbered once across batches (first seen, first numbered)."""

    def __init__(self):
        self.where: dict[str, int] = {}

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


@dataclass
class _Partial:
    """Counts of one batch: sorted integer keys (unit, month, sector) and one column
    of counts per flag."""

    keys: np.ndarray
    counts: np.ndarray  # int32 [flags, keys]: each flag's counts contiguous


_MONTH_SPAN = 1 << 12   # months since 1970 fit in 12 bits up to the year 2311
_SECTOR_SPAN = 1 << 8   # sectors fit in 8 bits (the catalogue has 19)
_FLAG_BITS = len(FLAGS)  # a row's flags as one small integer below the key


def _partial(units: np.ndarray, months: np.ndarray, sectors: np.ndarray, flags) -> _Partial:
    """The batch's counts by one sort: each row's key (unit, month, sector; 36 bits)
    with its flags packed below it (11 bits), sorted, so that equal rows are runs
    and the rows of one key are neighbours; a flag's count per key is then the sum
    over the key's runs of run length × flag."""
    packed = (units * _MONTH_SPAN + months) * _SECTOR_SPAN + sectors
    packed <<= _FLAG_BITS
    for j, name in enumerate(FLAGS):
        packed |= flags[name].astype(np.int64) << j
    packed.sort()
    if not len(packed):
        return _Partial(np.zeros(0, np.int64), np.zeros((len(FLAGS), 0), np.int32))
    runs = np.flatnonzero(np.r_[True, packed[1:] != packed[:-1]])
    length = np.diff(np.r_[runs, len(packed)]).astype(np.int32)
    entry = packed[runs]
    key = entry >> _FLAG_BITS
    firsts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    counts = np.empty((len(FLAGS), len(firsts)), dtype=np.int32)
    for j in range(len(FLAGS)):
        counts[j] = np.add.reduceat(length * ((entry >> j) & 1).astype(np.int32), firsts)
    return _Partial(key[firsts], counts)


def _merge(parts: list[_Partial]) -> _Partial:
    """The partial counts of several batches added key by key.  Each part's keys
    are sorted, so the stable sort of their concatenation only merges runs."""
    if len(parts) == 1:
        return parts[0]
    keys = np.concatenate([p.keys for p in parts])
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    total = np.empty((len(FLAGS), len(starts)), dtype=np.int32)
    for j in range(len(FLAGS)):  # one flag at a time: no copy of the whole table
        total[j] = np.add.reduceat(np.concatenate([p.counts[j] for p in parts])[order], starts)
    return _Partial(keys[starts], total)


def _ranks(names: np.ndarray) -> np.ndarray:
    """Each name's position in the sort order of the names."""
    rank = np.empty(len(names), dtype=np.int64)
    rank[np.argsort(names, kind="stable")] = np.arange(len(names))
    return rank


def _text(names, codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """``names[codes]`` as a str array, each distinct name converted once."""
    return pd.array(np.asarray(names, dtype=object), dtype="str").take(codes)


def _table(total: _Partial, units: np.ndarray, sectors: np.ndarray) -> pd.DataFrame:
    """The counts as LEDGER_COUNT_COLUMNS (+ EXTRA), sorted by unit, month, sector names.

    Sorted on one integer key of the names' ranks (not on text); the text columns
    are built from the distinct names by their codes, and the counts form one
    integer block filled a slice of rows at a time, so that a national ledger's
    tens of millions of rows are never held twice."""
    keys = total.keys
    u = keys // (_MONTH_SPAN * _SECTOR_SPAN)
    m = (keys // _SECTOR_SPAN) % _MONTH_SPAN
    s = keys % _SECTOR_SPAN
    u_rank, s_rank = _ranks(units), _ranks(sectors)
    order = np.argsort((u_rank[u] * _MONTH_SPAN + m) * _SECTOR_SPAN + s_rank[s], kind="stable")
    u, m, s = u[order], m[order], s[order]
    month_codes, months = pd.factorize(m, sort=True)
    period = np.asarray(months.astype("datetime64[M]").astype("str"), dtype=object)
    counts = np.empty((len(FLAGS), len(order)), dtype=np.int64)
    for j in range(len(FLAGS)):
        counts[j] = total.counts[j][order]
    # [flags, rows] is the layout of a pandas block: the frame takes it as it is
    out = pd.DataFrame(counts.T, columns=FLAGS, copy=False)
    out.insert(0, "sector", _text(sectors, s))
    out.insert(0, "period", _text(period, month_codes))
    out.insert(0, "unit", _text(units, u))
    return out[LEDGER_COUNT_COLUMNS + EXTRA_COUNT_COLUMNS]


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
    units, sectors = _Names(), _Names()
    months, flags = _row_flags(ledger, deadline_day, start, end)
    part = _partial(units.codes(ledger["unit"]), months, sectors.codes(ledger["sector"]), flags)
    return _table(part, units.names(), sectors.names())


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


def effective_counts_parquet(path, *, deadline_day: int = 24, campaign_start=None,
                             campaign_end=None, batch_rows: int = 4_000_000) -> pd.DataFrame:
    """``effective_counts`` of a ledger stored as parquet (LEDGER_COLUMNS, as
    ``Dataset.save`` writes ``ledger.parquet``), read ``batch_rows`` rows at a time
    and only the columns counting needs.  ``path`` is one file or a list of files
    (one ledger in parts, read in that order).  Memory is bounded by one batch and
    the partial counts (one row per unit × month × sector seen), not by the ledger.
    The same table as ``effective_counts`` of the whole ledger.

    Each batch is reduced to its keys at once; the partial counts are added up
    as they come, a part with the one before it whenever that one is no more than
    twice its size, so that each key is merged a logarithmic number of times
    rather than once per batch."""
    start, end = _day_or_none(campaign_start), _day_or_none(campaign_end)
    units, sectors = _Names(), _Names()
    parts: list[_Partial] = []
    paths = [path] if isinstance(path, (str, bytes)) or not hasattr(path, "__iter__") else path
    for chunk in _batches(paths, NEEDED, batch_rows):
        _check(chunk)
        months, flags = _row_flags(chunk, deadline_day, start, end)
        parts.append(_partial(units.codes(chunk["unit"]), months,
                              sectors.codes(chunk["sector"]), flags))
        del chunk, flags
        while len(parts) > 1 and len(parts[-2].keys) <= 2 * len(parts[-1].keys):
            parts[-2:] = [_merge(parts[-2:])]
    if not parts:
        return effective_counts(pd.DataFrame({c: pd.Series(dtype="object") for c in NEEDED}))
    return _table(_merge(parts), units.names(), sectors.names())
