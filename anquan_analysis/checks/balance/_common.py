"""Helpers shared by the balance checks: preparing the panel, codes, BH, finishing."""

from __future__ import annotations

import numpy as np
import pandas as pd
from ... import catalogue
from ...dataset import as_text, require_columns
from ...findings import bh_adjust, empty_findings, make_findings, severity_from_q
from ...periods import period_bounds, period_freq


_REQUIRED = ("unit", "period", "indicator", "value")
# Measured (not counted) units: no Poisson null, no digit heaping test.
_MEASURED_UNITS = {"万元", "公里"}
_PERIODS_PER_YEAR = {"M": 12, "Q": 4, "H": 2, "Y": 1}
# Benford first-digit probabilities, digits 1..9.
BENFORD_P = np.log10(1.0 + 1.0 / np.arange(1, 10))


# ----------------------------------------------------------------------------- helpers

def _fmt_p(p: float) -> str:
    return f"{p:.2g}" if p >= 1e-3 else f"{p:.1e}"


def _is_count(codes: pd.Series) -> pd.Series:
    """True for indicators counted in whole units (项, 次, 家 …), not 万元 or 公里."""
    measured = [c for c in codes.dropna().unique()
                if catalogue.indicator_unit(c) in _MEASURED_UNITS]
    return ~codes.isin(measured)


def _unique_categorical_keys(df: pd.DataFrame, keys) -> bool:
    """True when every key column is categorical with no missing code and no two rows
    share a key: then a group-by over the keys would return the rows as they are.
    One bincount over the combined codes, far cheaper than the group-by."""
    if not all(isinstance(df[k].dtype, pd.CategoricalDtype) for k in keys):
        return False
    sizes = [len(df[k].cat.categories) for k in keys]
    if not all(sizes) or np.prod(sizes, dtype=np.float64) > 2e9:
        return False
    combined = np.zeros(len(df), dtype=np.int64)
    for k, n in zip(keys, sizes):
        codes = df[k].cat.codes.to_numpy()
        if (codes < 0).any():
            return False
        combined *= n
        combined += codes
    return len(combined) == 0 or int(np.bincount(combined).max()) <= 1


def _prepare(panel: pd.DataFrame, period, *, counts_only: bool,
             codes: bool = False, text: bool = True) -> pd.DataFrame:
    """One value per unit × period × indicator (summed), peers' type filled with '',
    restricted to periods of P's frequency ending no later than P.  Key columns come
    back as str whatever the panel's dtypes (categorical panels are grouped on codes).
    With ``codes``, also ``_<col>_code`` (int64) for unit, unit_type, parent, period
    and indicator: numbered in the text's sort order, for sorting and grouping on
    integers instead of text.  ``text=False`` leaves unit, period and indicator in
    the panel's dtype (categorical stays categorical) and, on a categorical unit,
    gives unit_type and parent as categoricals: for callers that convert to text
    only the rows they report (a text column costs ~20 bytes a row)."""
    require_columns(panel, _REQUIRED, "panel")
    cols = [c for c in ("unit", "unit_type", "parent", "period", "indicator", "value", "approx")
            if c in panel.columns]
    df = panel[cols]
    if period is not None:
        end, freq = period_bounds(period)[1], period_freq(period)
        keep = [p for p in df["period"].dropna().unique()
                if period_freq(p) == freq and period_bounds(p)[1] <= end]
        df = df[df["period"].isin(keep)]
    if counts_only:
        df = df[_is_count(df["indicator"])]
    keys = ["unit", "period", "indicator"]
    if _unique_categorical_keys(df, keys) and not df["value"].isna().any():
        # already one row per key (as ingest and synth write panels): no group-by
        out = df[keys + ["value"] + (["approx"] if "approx" in df.columns else [])]
        out = out.reset_index(drop=True)
    else:
        agg = {"value": "sum"}
        if "approx" in df.columns:
            agg["approx"] = "any"
        out = df.groupby(keys, as_index=False, sort=False, observed=True).agg(agg)
    if "approx" not in out.columns:
        out["approx"] = False
    meta = as_text(df.drop_duplicates("unit"), ["unit", "unit_type", "parent"]).set_index("unit")
    before = out[keys]
    if text:
        out = as_text(out, keys)
    for col in ("unit_type", "parent"):
        src = meta[col] if col in meta.columns else pd.Series("", index=meta.index)
        out[col] = _by_unit(before["unit"], src.fillna("").astype(str), text=text)
    if codes:
        for col in keys:
            out[f"_{col}_code"] = _text_codes(before[col]).astype(np.int32)
        unit_code = out["_unit_code"].to_numpy()
        # unit_type and parent are the unit's: coded once per unit, spread by its code
        first = np.full(int(unit_code.max()) + 1 if len(unit_code) else 0, -1, dtype=np.int64)
        first[unit_code[::-1]] = np.arange(len(unit_code) - 1, -1, -1)
        present = first[first >= 0]
        for col in ("unit_type", "parent"):
            per_unit = np.zeros(len(first), dtype=np.int64)
            per_unit[first >= 0] = pd.factorize(
                out[col].iloc[present].astype("str").to_numpy(), sort=True)[0]
            out[f"_{col}_code"] = per_unit[unit_code].astype(np.int32)
    return out


def _text_codes(s: pd.Series) -> np.ndarray:
    """Integer codes of ``s`` numbered in the sort order of its text (so that sorting
    by the codes sorts by the text); a categorical is recoded via its categories."""
    if isinstance(s.dtype, pd.CategoricalDtype) and (s.cat.codes >= 0).all():
        names = np.asarray(s.cat.categories.astype("str"), dtype=object)
        rank = np.empty(len(names), dtype=np.int64)
        rank[np.argsort(names, kind="stable")] = np.arange(len(names))
        return rank[s.cat.codes.to_numpy()]
    return pd.factorize(s.astype("str"), sort=True)[0].astype(np.int64)


def _by_unit(unit: pd.Series, src: pd.Series, *, text: bool = True) -> pd.Series:
    """``src`` (indexed by unit name) spread to the rows of ``unit``, '' where absent.
    A categorical ``unit`` is spread by its integer codes, not a lookup per row, and
    with ``text=False`` the result is categorical too (a few bytes a row, not tens)."""
    if isinstance(unit.dtype, pd.CategoricalDtype) and (unit.cat.codes >= 0).all():
        per_code = src.reindex(unit.cat.categories.astype("str")).fillna("").to_numpy()
        if not text:
            codes, names = pd.factorize(per_code)
            return pd.Series(pd.Categorical.from_codes(codes[unit.cat.codes.to_numpy()],
                                                       categories=names), index=unit.index)
        return pd.Series(pd.array(per_code, dtype="str").take(unit.cat.codes.to_numpy()),
                         index=unit.index)
    return unit.astype("str").map(src).fillna("")


def _ordinal(periods: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Each period's position on its frequency's time line, and the frequency."""
    uniq = periods.unique()
    freq = {p: period_freq(p) for p in uniq}
    pos = {}
    for p in uniq:  # unique periods, not units
        f = freq[p]
        within = {"M": lambda s: int(s[5:7]) - 1, "Q": lambda s: int(s[-1]) - 1,
                  "H": lambda s: int(s[-1]) - 1, "Y": lambda s: 0}[f](p)
        pos[p] = int(p[:4]) * _PERIODS_PER_YEAR[f] + within
    codes, labels = pd.factorize(periods)
    if (codes < 0).any():
        return periods.map(pos), periods.map(freq)
    # spread by integer codes: a dict lookup per row is slow on a long panel
    pos_of = np.array([pos[p] for p in labels], dtype=np.int64)
    freq_of = pd.array([freq[p] for p in labels], dtype="str")
    return (pd.Series(pos_of[codes], index=periods.index),
            pd.Series(freq_of.take(codes), index=periods.index))


def _bh_of(p: np.ndarray, n_tests: int) -> np.ndarray:
    """Benjamini–Hochberg q-values of ``p`` when they are the smallest of ``n_tests``
    tests whose other p-values are 1 (tests with nothing to report).  Equal to
    ``findings.bh_adjust`` on the padded vector, without building it."""
    p = np.asarray(p, dtype="float64")
    if p.size == 0:
        return p
    order = np.argsort(p)
    ranked = p[order] * n_tests / np.arange(1, p.size + 1)
    q_sorted = np.minimum(1.0, np.minimum.accumulate(ranked[::-1])[::-1])
    q = np.empty_like(q_sorted)
    q[order] = q_sorted
    return q


def _tarone_bh(p: np.ndarray, p_min: np.ndarray, alpha: float = 0.05) -> np.ndarray:
    """BH q-values for discrete tests, over Tarone's family only: with K the smallest
    integer such that at most K tests can reach p ≤ alpha/K (their smallest
    achievable p-value ``p_min``), tests that cannot are left out of the count
    (Tarone 1990; Gilbert 2005) and get q = 1.  A unit with three hazards cannot
    show 100% rectification to be improbable, so it should not dilute the others."""
    p, p_min = np.asarray(p, float), np.asarray(p_min, float)
    q = np.ones(p.shape)
    if p.size == 0:
        return q
    srt = np.sort(p_min)
    ks = np.arange(1, p.size + 1)
    m_k = np.searchsorted(srt, alpha / ks, side="right")
    k = int(ks[np.argmax(m_k <= ks)]) if (m_k <= ks).any() else p.size
    family = p_min <= alpha / k
    if family.any():
        q[family] = bh_adjust(p[family])
    return q


def _finish(out: pd.DataFrame, check: str, *, info_p: float, alert: float,
            warning: float) -> pd.DataFrame:
    """Severity from q, keep the noteworthy rows, coerce to the findings schema."""
    out = out.assign(check=check, severity=severity_from_q(out["q_value"], alert=alert,
                                                           warning=warning))
    out = out[(out["severity"] != "info") | (out["p_value"] < info_p)]
    if out.empty:
        return empty_findings()
    out = out.sort_values(["q_value", "p_value", "unit", "period"], kind="stable")
    return make_findings(out)


# ------------------------------------------------------------------ underdispersion

def _ids(df: pd.DataFrame, cols) -> np.ndarray:
    """One integer per distinct combination of ``cols``, numbered in order of first
    appearance (as ``groupby(cols, sort=False)`` orders its groups).  Grouping on it
    is much faster than on several text columns."""
    combined = np.zeros(len(df), dtype=np.int64)
    for c in cols:
        if f"_{c}_code" in df.columns:  # from _prepare(codes=True): no text hashing
            codes = df[f"_{c}_code"].to_numpy()
            n = int(codes.max()) + 1 if len(codes) else 0
        else:
            codes, uniq = pd.factorize(df[c])
            n = len(uniq)
        combined = combined * (n + 1) + codes
    return pd.factorize(combined)[0]


def _coded(df: pd.DataFrame, col: str) -> tuple[np.ndarray, np.ndarray]:
    """Codes of ``col`` in the order of its text and the text of each code: from
    ``_<col>_code`` when ``_prepare`` made it (codes without a row here are left
    as empty names), else by factorising the text."""
    if f"_{col}_code" not in df.columns:
        codes, names = pd.factorize(df[col], sort=True)
        return codes, np.asarray(names, dtype=object)
    codes = df[f"_{col}_code"].to_numpy()
    first = np.full(int(codes.max()) + 1 if len(codes) else 0, -1, dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)  # each code's first row
    names = np.full(len(first), "", dtype=object)
    names[first >= 0] = df[col].iloc[first[first >= 0]].to_numpy(dtype=object)
    return codes, names


def _per_group(df: pd.DataFrame, ids: np.ndarray, cols, **agg) -> pd.DataFrame:
    """``df.groupby(cols, as_index=False, sort=False).agg(**agg)`` computed on the
    integer ``ids`` of ``cols`` (from ``_ids``), the key columns taken from each
    group's first row (as text)."""
    out = df.groupby(ids, sort=True).agg(**agg).reset_index(drop=True)
    first = np.unique(ids, return_index=True)[1]
    return pd.concat([as_text(df[list(cols)].iloc[first]).reset_index(drop=True), out], axis=1)


def _series_moments(df: pd.DataFrame) -> pd.DataFrame:
    """Mean and variance (ddof 1) of each unit's series per indicator."""
    return (df.groupby(["unit", "indicator"], as_index=False, sort=False)["value"]
            .agg(_mean="mean", _var="var"))
