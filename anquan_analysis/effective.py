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
        names = pd.Index(uniques).astype("object").fillna("").astype("str")
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
    counts: np.ndarray  # int32 [keys, flags]


_MONTH_SPAN = 1 << 12   # months since 1970 fit in 12 bits up to the year 2311
_SECTOR_SPAN = 1 << 8   # sectors fit in 8 bits (the catalogue has 19)


def _partial(units: np.ndarray, months: np.ndarray, sectors: np.ndarray, flags) -> _Partial:
    key = (units * _MONTH_SPAN + months) * _SECTOR_SPAN + sectors
    group, keys = pd.factorize(key, sort=True)
    counts = np.empty((len(keys), len(FLAGS)), dtype=np.int32)
    for j, name in enumerate(FLAGS):
        counts[:, j] = np.bincount(group, weights=flags[name], minlength=len(keys))
    return _Partial(keys, counts)


def _merge(parts: list[_Partial]) -> _Partial:
    """The partial counts of several batches added key by key."""
    if len(parts) == 1:
        return parts[0]
    keys = np.concatenate([p.keys for p in parts])
    counts = np.concatenate([p.counts for p in parts])
    order = np.argsort(keys, kind="stable")
    keys, counts = keys[order], counts[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    return _Partial(keys[starts], np.add.reduceat(counts, starts, axis=0))


def _table(total: _Partial, units: np.ndarray, sectors: np.ndarray) -> pd.DataFrame:
    """The counts as LEDGER_COUNT_COLUMNS (+ EXTRA), sorted by unit, month, sector names."""
    u = total.keys // (_MONTH_SPAN * _SECTOR_SPAN)
    m = (total.keys // _SECTOR_SPAN) % _MONTH_SPAN
    s = total.keys % _SECTOR_SPAN
    unit = units[u]
    sector = sectors[s]
    period = np.asarray(m.astype("datetime64[M]").astype("str"), dtype=object)
    order = np.lexsort((sector, m, unit))
    out = {"unit": pd.array(unit[order], dtype="str"),
           "period": pd.array(period[order], dtype="str"),
           "sector": pd.array(sector[order], dtype="str")}
    for j, name in enumerate(FLAGS):
        out[name] = total.counts[order, j].astype(np.int64)
    return pd.DataFrame(out)[LEDGER_COUNT_COLUMNS + EXTRA_COUNT_COLUMNS]


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


def effective_counts_parquet(path, *, deadline_day: int = 24, campaign_start=None,
                             campaign_end=None, batch_rows: int = 4_000_000) -> pd.DataFrame:
    """``effective_counts`` of a ledger stored as parquet (LEDGER_COLUMNS, as
    ``Dataset.save`` writes ``ledger.parquet``), read ``batch_rows`` rows at a time
    and only the columns counting needs.  Memory is bounded by one batch and the
    partial counts (one row per unit × month × sector seen), not by the ledger.
    The same table as ``effective_counts`` of the whole ledger."""
    import pyarrow.parquet as pq

    start, end = _day_or_none(campaign_start), _day_or_none(campaign_end)
    units, sectors = _Names(), _Names()
    parts: list[_Partial] = []
    source = pq.ParquetFile(path)
    for batch in source.iter_batches(batch_size=batch_rows, columns=NEEDED):
        chunk = batch.to_pandas()
        _check(chunk)
        months, flags = _row_flags(chunk, deadline_day, start, end)
        parts.append(_partial(units.codes(chunk["unit"]), months,
                              sectors.codes(chunk["sector"]), flags))
        del chunk, flags
        if len(parts) >= 4:  # keep the partials few: add them up as they come
            parts = [_merge(parts)]
    if not parts:
        return effective_counts(pd.DataFrame({c: pd.Series(dtype="object") for c in NEEDED}))
    return _table(_merge(parts), units.names(), sectors.names())
