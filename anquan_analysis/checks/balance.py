"""Data credibility ("balance") checks: figures that look arranged rather than counted.

巴南's bulletin notes towns asking one another what they reported in order to
"保持平衡", and units that "报小不报大、报少不报多".  Each check here looks for one
signature of figures that were written down rather than counted:

================= ===============================================================
underdispersion   a peer group's figures closer together than Poisson noise allows
identical_values  two units reporting the same vector of figures in one period
repeated_value    one unit reporting the same figure period after period
last_digit        heaping on final digits 0 and 5
benford           first digits far from Benford's law on figures spanning magnitudes
pinned_rate       hazards rectified at 100%, more often than the peers' rate allows
================= ===============================================================

Common conventions (docs/CONTRACTS.md): every check takes the long panel and
keyword thresholds, returns ``findings.make_findings``; ``period=P`` reports on P
using the history up to P; p-values are Benjamini–Hochberg adjusted within the
check before severity (alert q < 0.01, warning q < 0.05).  Only noteworthy rows are
returned: warnings, alerts, and ``info`` rows whose raw p-value is below ``info_p``.
Peers are units of the same ``unit_type``.  Inputs are never modified.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special, stats

from .. import catalogue
from ..dataset import as_text
from ..findings import bh_adjust, empty_findings, make_findings, severity_from_q
from ..periods import period_bounds, period_freq
from ..dataset import require_columns

_REQUIRED = ("unit", "period", "indicator", "value")
# Measured (not counted) units: no Poisson null, no digit heaping test.
_MEASURED_UNITS = {"万元", "公里"}
_PERIODS_PER_YEAR = {"M": 12, "Q": 4, "H": 2, "Y": 1}
# Benford first-digit probabilities, digits 1..9.
BENFORD_P = np.log10(1.0 + 1.0 / np.arange(1, 10))


# ----------------------------------------------------------------------------- helpers

def _fmt(x: float) -> str:
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.2f}".rstrip("0").rstrip(".")


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


def _group_tests(df, keys, period, *, min_units, min_mean, per_period, pooled):
    """Pearson X² of each group per period and pooled over periods.  Returns the
    tests (keys as text, ``_kind`` and ``_id``, the group's integer id) and, per kind,
    the members: ``_id``, unit and value (the unit's mean when pooled)."""
    cell = _ids(df, [*keys, "period"])
    g = df.groupby(cell, sort=False)
    n = g["value"].transform("size")
    total, wsum = g["value"].transform("sum"), g["_w"].transform("sum")
    expected = total * df["_w"] / wsum
    keep = ((n >= min_units) & (total / n >= min_mean)).to_numpy()
    cols = [c for c in df.columns
            if c in (*keys, "period", "unit", "value", "_unit_code", "_period_code")
            or c in [f"_{k}_code" for k in keys]]
    df = df.loc[keep, cols].assign(
        _n=n[keep], _mean=(total / n)[keep], _id=cell[keep],
        _x2=((df["value"] - expected) ** 2 / expected.where(expected > 0))[keep])
    tests, members = [], {}
    if df.empty:
        return tests, members
    if per_period:
        per = _per_group(df, df["_id"].to_numpy(), [*keys, "period"], _id=("_id", "first"),
                         statistic=("_x2", "sum"), _n=("_n", "first"),
                         expected=("_mean", "first"))
        per["df"] = per["_n"] - 1
        if period is not None:
            per = per[per["period"] == period]
        tests.append(per.assign(_kind="period"))
        members["period"] = df[["_id", "unit", "value"]]
    if pooled:
        group = _ids(df, keys)
        df = df.assign(_id=group, _u=_coded(df, "unit")[0], _t=_coded(df, "period")[0])
        pool = _per_group(df, group, keys, _id=("_id", "first"),
                          statistic=("_x2", "sum"), _n=("_u", "nunique"),
                          expected=("value", "mean"), _periods=("_t", "nunique"),
                          _cells=("_x2", "size"))
        # Summed X² over periods: df = Σ_t (n_t − 1).
        pool["df"] = pool["_cells"] - pool["_periods"]
        pool = pool[pool["_periods"] >= 2].drop(columns=["_periods", "_cells"])
        tests.append(pool.assign(period=period if period is not None else "", _kind="pool"))
        member = pd.factorize(group.astype(np.int64) * (int(df["_u"].max()) + 1)
                              + df["_u"].to_numpy())[0]
        members["pool"] = _per_group(df, member, ["_id", "unit"], value=("value", "mean"))
    return tests, members


def _pair_tests(df, keys, period, *, min_mean, min_periods, neighbours, max_pair_units):
    """Pairs of units of one group whose figures stay closer than Poisson noise allows:
    Σ_t (O_it − O_jt)² / (O_it + O_jt), the Pearson X² of the pair, against χ²(T).
    Only neighbours are paired: the units of a group are ranked by their mean figure
    and each is paired with the next ``neighbours`` units up the ranking, n·k pairs
    instead of n²/2.  Units that agree their figures have nearly the same mean, so
    they are neighbours; two units whose levels differ cannot pass the test anyway."""
    if max_pair_units is not None:
        size = df.groupby(keys, observed=True)["unit"].transform("nunique")
        df = df[size <= max_pair_units]
    if df.empty:
        return pd.DataFrame()
    # One row per group × unit ("slot"), one column per period: a dense matrix on
    # integer codes, so that pairing is row arithmetic rather than a self-merge.
    group_code = _ids(df, keys)
    groups = as_text(df[keys].iloc[np.unique(group_code, return_index=True)[1]])
    groups = groups.reset_index(drop=True)
    # Units coded in name order, so that code_a < code_b is unit_a < unit_b.
    unit_code, units = _coded(df, "unit")
    period_code, periods = _coded(df, "period")
    n_units = len(units)
    slot_code, slot_keys = pd.factorize(group_code.astype(np.int64) * n_units + unit_code)
    mat = np.full((len(slot_keys), len(periods)), np.nan)
    mat[slot_code, period_code] = df["value"].to_numpy(dtype="float64")
    slot_group, slot_unit = slot_keys // n_units, slot_keys % n_units
    level = np.nanmean(mat, axis=1)
    # Within a group by level; ties by unit name, so the ranking is deterministic.
    order = np.lexsort((slot_unit, level, slot_group))
    t_idx = np.arange(len(periods))
    frames = []
    for d in range(1, neighbours + 1):  # k offsets, each one vectorised pass
        a, b = order[:-d], order[d:]
        same = slot_group[a] == slot_group[b]
        a, b = a[same], b[same]
        for lo in range(0, len(a), 200_000):  # bounded temporaries at national scale
            aa, bb = a[lo:lo + 200_000], b[lo:lo + 200_000]
            va, vb = mat[aa], mat[bb]
            s = va + vb
            ok = s > 0  # False where either unit did not report (NaN)
            with np.errstate(invalid="ignore", divide="ignore"):
                x2 = np.where(ok, (va - vb) ** 2 / np.where(ok, s, 1.0), 0.0)
            n = ok.sum(axis=1)
            ua, ub = slot_unit[aa], slot_unit[bb]
            frames.append(pd.DataFrame({
                "g": slot_group[aa], "u_a": np.minimum(ua, ub), "u_b": np.maximum(ua, ub),
                "statistic": x2.sum(axis=1), "df": n,
                "_s": np.where(ok, s, 0.0).sum(axis=1) / np.maximum(n, 1),
                "_t": np.where(ok, t_idx, -1).max(axis=1)}))
    if not frames:
        return pd.DataFrame()
    coded = pd.concat(frames, ignore_index=True)
    coded = coded[(coded["df"] >= max(min_periods, 1)) & (coded["_s"] / 2 >= min_mean)]
    if period is not None:
        coded = coded[np.asarray(periods)[coded["_t"].to_numpy()] == period]
    coded = coded.sort_values(["g", "u_a", "u_b"], kind="stable")
    group_keys = groups.iloc[coded["g"].to_numpy()].reset_index(drop=True)
    return pd.concat([group_keys, pd.DataFrame({
        "unit_a": np.asarray(units)[coded["u_a"].to_numpy()],
        "unit_b": np.asarray(units)[coded["u_b"].to_numpy()],
        "statistic": coded["statistic"].to_numpy(), "df": coded["df"].to_numpy(),
        "expected": coded["_s"].to_numpy() / 2,
        "period": period if period is not None else "", "_kind": "pair", "_n": 2})], axis=1)


def underdispersion(panel: pd.DataFrame, *, exposure=None, ledger_counts=None, period=None,
                    group_by=("unit_type", "parent"), indicators=None, min_units: int = 5,
                    min_mean: float = 5.0, min_periods: int = 6, per_period: bool = True,
                    pooled: bool = True, pairs: bool = True, neighbours: int = 5,
                    max_pair_units: int | None = None,
                    use_exposure: bool = False, info_p: float = 1e-4, alert: float = 0.01,
                    warning: float = 0.05) -> pd.DataFrame:
    """Peer groups whose figures are closer together than counting noise allows.

    Null model: within a group (units of one ``group_by`` value, one count
    indicator, one period) the counts are independent Poisson with a common mean
    (or, with ``use_exposure``, means proportional to enterprises supervised).
    Pearson X² = Σ (O − Ē)² / Ē is then χ²(n − 1); the test is the *left* tail
    p = P(χ²(n−1) ≤ X²).  Overdispersion and differences in size both inflate X²,
    so the test is conservative (checked by simulation: at Poisson means 3–40 the
    χ² left tail is never anti-conservative).  Three families of tests, BH together:

    * per group and period (n ≥ ``min_units``, Ē ≥ ``min_mean``);
    * per group pooled over periods: Σ X² against χ²(Σ (n_t − 1)), since
      "保持平衡" persists;
    * per *pair* of units of a group pooled over periods, Σ_t (O_it − O_jt)²/(O_it + O_jt)
      against χ²(T) (the pair's Pearson X², T ≥ ``min_periods``, pair mean ≥
      ``min_mean``): a few units that agree their figures inside a larger, honest
      group leave the group's X² unremarkable but not their pairs'.  Only neighbours
      are paired: units ranked by their mean within the group, each with the next
      ``neighbours`` up the ranking (n·k pairs, linear in units; units that agree
      their figures share a level, so they are neighbours).  Groups larger than
      ``max_pair_units`` (None: no limit) are not paired.

    One row per unit and indicator, from its strongest test: observed = the unit's
    figure (its mean when pooled), expected = the group (or pair) mean,
    statistic = X², lower = nothing.  ``period`` is blank for pooled tests (P when
    ``period=P``; pooled tests then use periods up to P and pairs must include P).
    ``use_exposure`` is off by default: units that "balance" report alike whatever
    their size, which a size-proportional null would not see.
    """
    # Keys stay categorical where the panel's are (text costs gigabytes at national
    # scale); the tests and the rows reported are converted to text.
    df = _prepare(panel, period, counts_only=True, codes=True, text=False)
    if indicators is not None:
        df = df[df["indicator"].isin(list(indicators))]
    if df.empty:
        return empty_findings()
    keys = [*group_by, "indicator"]
    if use_exposure and exposure is not None and len(exposure):
        sector = (exposure["sector"] if "sector" in exposure.columns
                  else pd.Series("", index=exposure.index))
        size = exposure[sector.fillna("").astype(str).eq("")].groupby("unit")["enterprises"].sum()
        df = df.assign(_w=as_text(df[["unit"]])["unit"].map(size).to_numpy())
        df = df[df["_w"] > 0]
    else:
        df = df.assign(_w=1.0)
    tests, members = _group_tests(df, keys, period, min_units=min_units, min_mean=min_mean,
                                  per_period=per_period, pooled=pooled)
    if pairs:
        tests.append(_pair_tests(df, keys, period, min_mean=min_mean, min_periods=min_periods,
                                 neighbours=neighbours, max_pair_units=max_pair_units))
    tests = [t for t in tests if len(t)]
    if not tests:
        return empty_findings()
    tests = pd.concat(tests, ignore_index=True)
    tests["p_value"] = stats.chi2.cdf(tests["statistic"], tests["df"])
    tests["q_value"] = bh_adjust(tests["p_value"])
    tests = tests[(tests["q_value"] < warning) | (tests["p_value"] < info_p)]
    if tests.empty:
        return empty_findings()
    rows = []
    for kind, mem in members.items():
        grp = tests[tests["_kind"] == kind]
        if len(grp):
            found = mem[mem["_id"].isin(grp["_id"])].rename(columns={"value": "observed"})
            rows.append(grp.merge(as_text(found), on="_id").assign(partners=""))
    pr = tests[tests["_kind"] == "pair"]
    if len(pr):
        unit_mean = _per_group(df, _ids(df, [*keys, "unit"]), [*keys, "unit"],
                               observed=("value", "mean"))
        both = pd.concat([pr.rename(columns={"unit_a": "unit", "unit_b": "partner"}),
                          pr.rename(columns={"unit_b": "unit", "unit_a": "partner"})],
                         ignore_index=True).sort_values("p_value", kind="stable")
        partners = both.groupby([*keys, "unit"])["partner"].agg(lambda s: "、".join(s))
        best = both.drop_duplicates([*keys, "unit"]).merge(unit_mean, on=[*keys, "unit"])
        best["partners"] = best.set_index([*keys, "unit"]).index.map(partners)
        rows.append(best.drop(columns="partner"))
    out = pd.concat(rows, ignore_index=True)
    if out.empty:
        return empty_findings()
    # One row per unit and indicator: its strongest test.
    out = out.sort_values("p_value", kind="stable").drop_duplicates(["unit", "indicator"])
    type_zh = out["unit_type"].map(catalogue.unit_type_name) if "unit_type" in out else ""
    type_zh = type_zh.where(type_zh.ne(""), "同类单位")
    parent = out["parent"] if "parent" in out.columns else pd.Series("", index=out.index)
    where = parent.where(parent.eq(""), parent + "所属") + type_zh
    pooled_when = np.where(out["period"].eq(""), "各期", out["period"] + "及以前各期")
    when = np.where(out["_kind"].eq("period"), out["period"], pooled_when)
    name = out["indicator"].map(catalogue.indicator_name)
    figures = ("：均值" + out["expected"].map(lambda x: f"{x:.1f}") + "，皮尔逊χ²="
               + out["statistic"].map(lambda x: f"{x:.1f}") + "(自由度"
               + out["df"].astype(int).astype(str) + ")，p=" + out["p_value"].map(_fmt_p)
               + "，疑似相互“保持平衡”")
    group_msg = (out["unit"] + "所在的" + where + "(" + out["_n"].astype(int).astype(str)
                 + "个单位)" + when + name + "离散程度低于计数的随机波动" + figures)
    pair_msg = (out["unit"] + "与" + out["partners"] + "(均为" + where + ")" + when + name
                + "逐期相差小于计数的随机波动" + figures)
    out["message"] = np.where(out["_kind"].eq("pair"), pair_msg, group_msg)
    out["period"] = out["period"].replace("", np.nan)
    out = out.drop(columns=["parent", "_kind", "_n", "partners", "df", "_id"], errors="ignore")
    return _finish(out, "underdispersion", info_p=info_p, alert=alert, warning=warning)


# ----------------------------------------------------------------- identical_values

def _series_moments(df: pd.DataFrame) -> pd.DataFrame:
    """Mean and variance (ddof 1) of each unit's series per indicator."""
    return (df.groupby(["unit", "indicator"], as_index=False, sort=False)["value"]
            .agg(_mean="mean", _var="var"))


def _tie_chance(ma, va, mb, vb, count) -> np.ndarray:
    """Chance that two independent figures with these means and variances are equal.
    Counts: the larger of the Poisson value Σ_k Pois(k;a)Pois(k;b) =
    exp(−(√a−√b)²)·I0e(2√ab) and a normal one, P(|X_a − X_b| < ½) with variances
    floored at the mean (so a steady unit is not treated as a noisy one).  Measured
    figures (万元 …, two decimals): the normal one with resolution 0.005; an unknown
    variance counts as CV 1."""
    ma, mb = np.asarray(ma, float), np.asarray(mb, float)
    count = np.asarray(count, bool)
    va = np.where(np.isnan(va), np.where(count, ma, ma ** 2), va)
    vb = np.where(np.isnan(vb), np.where(count, mb, mb ** 2), vb)
    va, vb = np.where(count, np.maximum(va, ma), va), np.where(count, np.maximum(vb, mb), vb)
    pois = np.exp(-(np.sqrt(ma) - np.sqrt(mb)) ** 2) * special.ive(0, 2 * np.sqrt(ma * mb))
    r = np.where(count, 0.5, 0.005)
    d = np.abs(ma - mb)
    s = np.sqrt(va + vb)
    with np.errstate(divide="ignore", invalid="ignore"):
        norm = np.where(s > 0, stats.norm.cdf((d + r) / s) - stats.norm.cdf((d - r) / s),
                        (d < r).astype(float))
    return np.where(count, np.maximum(pois, norm), norm)


def _rule_components() -> dict[str, str]:
    """Indicator → a representative of its group of indicators linked by the
    catalogue's rules (found, rectified and their parts; sessions and persons;
    drills and drill enterprises; penalties and fines …).  Ties inside a group are
    not independent evidence."""
    parent: dict[str, str] = {}

    def root(x):
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for rule in catalogue.RULES.itertuples(index=False):  # the rule catalogue, not units
        if rule.kind == "monotone":
            continue
        for code in rule.lhs:
            parent[root(code)] = root(rule.rhs)
    return {code: root(code) for code in parent}


def identical_values(panel: pd.DataFrame, *, exposure=None, ledger_counts=None, period=None,
                     min_indicators: int = 5, min_nonzero: int = 5, info_p: float = 1e-4,
                     alert: float = 0.01, warning: float = 0.05) -> pd.DataFrame:
    """Units that report exactly the same figures as another unit in the same period.

    Two units tie when they report the same set of indicators (at least
    ``min_indicators``, at least ``min_nonzero`` of them above 0) with equal values
    on every one.  Ties are found by hashing each unit's row of figures.  Null
    model: each unit's figure on an indicator is an independent draw around that
    unit's own mean over the periods (up to P), Poisson or normal with the unit's
    own variance (see ``_tie_chance``), so a pair ties with probability Π_j c_j
    over the indicators tied at a value above 0 (shared zeros are not evidence:
    idle small units share them, and a zero total forces zero parts).  Indicators
    linked by a catalogue rule (found and rectified, sessions and persons …) are
    not independent: each such group contributes only its smallest c_j.
    Using each unit's own level matters: two small units tie on small figures far
    more often than the spread of all peers suggests.  BH runs over *all* pairs of
    eligible units in the period(s), tied or not.

    One row per tied unit and period: observed = number of indicators tied,
    statistic = −log10 of the pair's chance, p = that chance (the smallest over
    the unit's partners), q its BH value.
    """
    hist = _prepare(panel, period, counts_only=False)
    df = hist[hist["period"] == period] if period is not None else hist
    if df.empty:
        return empty_findings()
    values = df.pivot_table(index=["period", "unit"], columns="indicator", values="value",
                            aggfunc="sum", observed=True)
    reported = values.notna().sum(axis=1)
    nonzero = (values > 0).sum(axis=1)
    values = values[(reported >= min_indicators) & (nonzero >= min_nonzero)]
    if values.empty:
        return empty_findings()
    # Values are never negative, so −1 marks "not reported" in the row hash.
    key = pd.util.hash_pandas_object(values.fillna(-1.0), index=False)
    rows = pd.DataFrame({"period": values.index.get_level_values("period"),
                         "unit": values.index.get_level_values("unit"),
                         "_key": key.to_numpy(), "_k": reported.loc[values.index].to_numpy()})
    n_elig = rows.groupby("period").size()
    n_tests = int((n_elig * (n_elig - 1) // 2).sum())
    tied = rows[rows.duplicated(["period", "_key"], keep=False)]
    if tied.empty:
        return empty_findings()
    types = df.drop_duplicates("unit").set_index("unit")["unit_type"]
    pairs = tied.merge(tied, on=["period", "_key", "_k"], suffixes=("_a", "_b"))
    pairs = pairs[pairs["unit_a"] < pairs["unit_b"]]
    # The indicators of the tied vector (the same for both units), each with its chance.
    long = df.merge(tied[["period", "unit"]], on=["period", "unit"])
    # Shared zeros carry no evidence: small units are idle on most indicators, and
    # a zero total forces zero parts (rectified, by source, persons), so zeros
    # would be counted many times over.
    long = long[long["value"] > 0][["period", "unit", "indicator"]]
    mom = _series_moments(hist)
    per_ind = (pairs.merge(long.rename(columns={"unit": "unit_a"}), on=["period", "unit_a"])
               .merge(mom.rename(columns={"unit": "unit_a"}), on=["unit_a", "indicator"])
               .merge(mom.rename(columns={"unit": "unit_b"}), on=["unit_b", "indicator"],
                      suffixes=("_a", "_b")))
    chance = _tie_chance(per_ind["_mean_a"], per_ind["_var_a"], per_ind["_mean_b"],
                         per_ind["_var_b"], _is_count(per_ind["indicator"]))
    groups = _rule_components()
    per_ind = per_ind.assign(_lp=np.log(np.clip(chance, 1e-300, 1.0)),
                             _grp=per_ind["indicator"].map(groups).fillna(per_ind["indicator"]))
    # Within a group of rule-linked indicators only the strongest tie counts (a valid
    # bound: tying on all of them is no likelier than tying on one); groups multiply.
    logp = (per_ind.groupby(["period", "unit_a", "unit_b", "_grp"], as_index=False)["_lp"].min()
            .groupby(["period", "unit_a", "unit_b"], as_index=False)["_lp"].sum())
    pairs = pairs.merge(logp, on=["period", "unit_a", "unit_b"])
    pairs["p_value"] = np.exp(pairs["_lp"])
    pairs["q_value"] = _bh_of(pairs["p_value"].to_numpy(), n_tests)
    # Each unit of a pair gets a row naming its partners.
    both = pd.concat([pairs.rename(columns={"unit_a": "unit", "unit_b": "partner"}),
                      pairs.rename(columns={"unit_b": "unit", "unit_a": "partner"})],
                     ignore_index=True)
    out = both.groupby(["period", "unit"], as_index=False).agg(
        observed=("_k", "first"), p_value=("p_value", "min"), q_value=("q_value", "min"),
        partners=("partner", lambda s: "、".join(sorted(s))))
    out["unit_type"] = out["unit"].map(types)
    out["statistic"] = -np.log10(out["p_value"].clip(lower=1e-300))
    out["message"] = (out["unit"] + out["period"] + "报送的" + out["observed"].astype(int).astype(str)
                      + "项指标数据与" + out["partners"] + "完全相同，按两单位各自的常态随机雷同的概率约为"
                      + out["p_value"].map(_fmt_p))
    return _finish(out.drop(columns="partners"), "identical_values", info_p=info_p,
                   alert=alert, warning=warning)


# ------------------------------------------------------------------- repeated_value

def _log_run_chance(mean, var_ratio, length, exact_sd: float = 30.0) -> np.ndarray:
    """log Σ_{k≥1} P(X = k)^L: the log chance that L given consecutive draws are
    equal and positive, for X Poisson(mean) when ``var_ratio`` ≥ 1 and a normal
    with variance var_ratio·mean discretised to the integers ≥ 0 when it is below 1.
    Exact on a grid where the standard deviation is at most ``exact_sd``; above,
    the normal approximation (2πσ²)^(−(L−1)/2)/√L."""
    mean, ratio, length = (np.asarray(a, dtype="float64") for a in (mean, var_ratio, length))
    ratio = np.minimum(ratio, 1.0)
    sd = np.sqrt(ratio * mean)
    out = np.empty(mean.shape)
    big = sd > exact_sd
    out[big] = -(length[big] - 1) / 2 * np.log(2 * np.pi * sd[big] ** 2) - 0.5 * np.log(length[big])
    small = np.flatnonzero(~big)
    # Rows in blocks of similar mean, each on a grid reaching its own largest mean
    # (+12 sd): one grid sized by the largest mean of all rows cost gigabytes and
    # tens of seconds at province scale; the terms it adds beyond are below e^-70.
    small = small[np.argsort(mean[small], kind="stable")]
    for block in np.array_split(small, max(1, -(-len(small) // 2048))):
        if not len(block):
            continue
        m, r, lv, s = mean[block, None], ratio[block, None], length[block, None], sd[block, None]
        k_max = int(np.ceil((mean[block] + 12 * np.sqrt(mean[block])).max())) + 10
        k = np.arange(0, k_max + 1, dtype="float64")[None, :]
        pois = stats.poisson.logpmf(k, m)
        with np.errstate(divide="ignore", invalid="ignore"):
            dens = -0.5 * ((k - m) / s) ** 2
        dens = dens - special.logsumexp(dens, axis=1, keepdims=True)
        logpmf = np.where(r >= 1.0, pois, dens)[:, 1:]
        out[block] = special.logsumexp(lv * logpmf, axis=1)
    return out


def _runs(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Runs of equal figures in consecutive periods of each series (unit × indicator
    × frequency), found on integer codes in one sorted pass, and each series' moments.
    Runs: _series, _run (numbered in series and time order), observed (the figure),
    statistic (its length), _first and _last (positions in ``df`` of the run's first
    and last rows) and _last_period (the code of the last row's period, see
    ``_coded``).  Moments: _series, T, expected (mean), s1 (sum), s2 (sum of
    squares)."""
    period_code, names = _coded(df, "period")
    present = names != ""
    pos_of = np.zeros(len(names), dtype=np.int64)
    freq_of = np.zeros(len(names), dtype=np.int64)
    if present.any():
        pos, freq = _ordinal(pd.Series(names[present].astype(str)))
        # frequencies coded in the order of their letters, as a sort on the text
        pos_of[present], freq_of[present] = pos.to_numpy(), pd.factorize(freq, sort=True)[0]
    pos, freq = pos_of[period_code], freq_of[period_code]
    unit = df["_unit_code"].to_numpy().astype(np.int64)
    ind = df["_indicator_code"].to_numpy().astype(np.int64)
    # one int64 key in the order (unit, indicator, frequency, position): a single
    # argsort is several times faster than a lexsort over four keys
    span = [int(a.max()) - int(a.min()) + 1 if len(a) else 1 for a in (ind, freq, pos)]
    key = ((unit * span[0] + ind - ind.min(initial=0)) * span[1]
           + freq - freq.min(initial=0)) * span[2] + pos - pos.min(initial=0)
    order = np.argsort(key, kind="stable")
    unit, ind, freq, pos = unit[order], ind[order], freq[order], pos[order]
    value = df["value"].to_numpy()[order]
    new_series = np.ones(len(order), dtype=bool)
    new_series[1:] = (unit[1:] != unit[:-1]) | (ind[1:] != ind[:-1]) | (freq[1:] != freq[:-1])
    new_run = new_series.copy()
    new_run[1:] |= (value[1:] != value[:-1]) | (pos[1:] != pos[:-1] + 1)
    series = np.cumsum(new_series) - 1
    starts = np.flatnonzero(new_run)
    length = np.diff(np.append(starts, len(order)))
    ends = starts + length - 1
    runs = pd.DataFrame({
        "_series": series[starts], "_run": np.arange(len(starts)),
        "observed": value[starts], "statistic": length.astype(np.int64),
        "_first": order[starts], "_last": order[ends],
        "_last_period": period_code[order[ends]]})
    v = pd.Series(value)
    g = pd.DataFrame({"v": v, "sq": v ** 2}).groupby(series, sort=True)
    moments = pd.DataFrame({"T": g["v"].size(), "expected": g["v"].mean(),
                            "s1": g["v"].sum(), "s2": g["sq"].sum()})
    return runs, moments.rename_axis("_series").reset_index()


def repeated_value(panel: pd.DataFrame, *, exposure=None, ledger_counts=None, period=None,
                   min_run: int = 3, min_ratio: float = 0.1, info_p: float = 1e-3,
                   alert: float = 0.01, warning: float = 0.05) -> pd.DataFrame:
    """One unit reporting the same positive figure in consecutive periods.

    For each unit and count indicator, the longest run of equal positive values
    in consecutive periods (with ``period=P``: the run ending at P), length L in a
    series of T periods.  Null model: the unit's figures are independent draws with
    the series mean μ; Poisson, unless the unit's own figures *outside* the run (at
    least three of them) vary less than Poisson, variance/mean = φ < 1, when a
    normal with variance max(φ, ``min_ratio``)·μ is used.  Taking the steadier of
    the two keeps the test conservative: overdispersion only makes equal values
    rarer.  p = min(1, (T − L + 1)·Σ_{k≥1} P(X=k)^L), a union bound over start
    positions.  One test per series; BH across series; runs shorter than
    ``min_run`` are tested but not reported.

    Rows: period = the run's last period, observed = the repeated value,
    expected = μ, statistic = L.
    """
    df = _prepare(panel, period, counts_only=True, codes=True, text=False)
    df = df[df["value"] % 1 == 0]
    if df.empty:
        return empty_findings()
    runs, moments = _runs(df)
    if period is not None:
        runs = runs[_coded(df, "period")[1][runs["_last_period"].to_numpy()] == period]
    runs = runs[runs["observed"] > 0]
    # The longest run per series (the latest when equal).
    runs = runs.sort_values(["statistic", "_run"]).drop_duplicates("_series", keep="last")
    runs = runs.merge(moments, on="_series")
    # text only for the runs kept, one per series
    first = as_text(df.iloc[runs["_first"].to_numpy()],
                    ["unit", "unit_type", "indicator", "period"])
    last = as_text(df.iloc[runs["_last"].to_numpy()], ["period"])
    runs = runs.assign(unit=first["unit"].to_numpy(), unit_type=first["unit_type"].to_numpy(),
                       indicator=first["indicator"].to_numpy(),
                       start=first["period"].to_numpy(), period=last["period"].to_numpy())
    n_tests = int((moments["T"] >= min_run).sum())
    runs = runs[runs["T"] >= min_run]
    if runs.empty:
        return empty_findings()
    # The unit's variability outside the run.
    out_n = runs["T"] - runs["statistic"]
    out_mean = (runs["s1"] - runs["statistic"] * runs["observed"]) / out_n.where(out_n > 0)
    out_ss = runs["s2"] - runs["statistic"] * runs["observed"] ** 2
    out_var = (out_ss - out_n * out_mean ** 2) / (out_n - 1).where(out_n > 1)
    ratio = (out_var / out_mean.where(out_mean > 0)).where(out_n >= 3).fillna(1.0)
    ratio = ratio.clip(lower=min_ratio, upper=1.0)
    log_p = (np.log(runs["T"] - runs["statistic"] + 1)
             + _log_run_chance(runs["expected"], ratio, runs["statistic"]))
    runs["p_value"] = np.where(runs["statistic"] >= 2, np.exp(np.minimum(log_p, 0.0)), 1.0)
    runs["q_value"] = _bh_of(runs["p_value"].to_numpy(), n_tests)
    runs = runs[runs["statistic"] >= min_run]
    if runs.empty:
        return empty_findings()
    unit_word = runs["indicator"].map(catalogue.indicator_unit)
    runs["message"] = (runs["unit"] + runs["indicator"].map(catalogue.indicator_name)
                       + runs["start"] + "至" + runs["period"] + "连续"
                       + runs["statistic"].astype(int).astype(str) + "期均为"
                       + runs["observed"].map(_fmt) + unit_word + "，该单位均值"
                       + runs["expected"].map(lambda x: f"{x:.1f}")
                       + "，按其自身波动随机出现的概率约为" + runs["p_value"].map(_fmt_p))
    keep = ["unit", "unit_type", "period", "indicator", "observed", "expected", "statistic",
            "p_value", "q_value", "message"]
    return _finish(runs[keep], "repeated_value", info_p=info_p, alert=alert, warning=warning)


# ----------------------------------------------------------------------- last_digit

def _heap_share(mean, var, min_value: float, flat_sd: float = 25.0) -> np.ndarray:
    """Chance that a figure ≥ ``min_value`` ends in 0 or 5 when the series is normal
    with this mean and variance (floored at the mean), discretised to integers and
    cut at ``min_value``: near a small mean the cut makes 10 itself common.  0.2
    where the standard deviation exceeds ``flat_sd`` (the digits are then flat)."""
    mean = np.asarray(mean, float)
    sd = np.sqrt(np.maximum(np.nan_to_num(np.asarray(var, float), nan=0.0), mean))
    out = np.full(mean.shape, 0.2)
    narrow = np.flatnonzero(sd <= flat_sd)
    # Series in blocks of similar mean, each on a grid reaching its own largest
    # mean + 10 sd: one grid for all, sized by the largest, cost gigabytes.
    narrow = narrow[np.argsort(mean[narrow], kind="stable")]
    for block in np.array_split(narrow, max(1, -(-len(narrow) // 2048))):
        if not len(block):
            continue
        m, s = mean[block, None], np.maximum(sd[block, None], 0.5)
        top = int(np.ceil((mean[block] + 10 * sd[block]).max())) + 10
        v = np.arange(int(np.ceil(min_value)), max(top, int(min_value) + 10) + 1)[None, :]
        w = np.exp(-0.5 * ((v - m) / s) ** 2)
        total = w.sum(axis=1)
        heap = (w * (v % 5 == 0)).sum(axis=1)
        out[block] = np.where(total > 0, heap / np.where(total > 0, total, 1.0), 0.2)
    return out


def last_digit(panel: pd.DataFrame, *, exposure=None, ledger_counts=None, period=None,
               min_value: float = 10, min_n: int = 10, share: float = 0.2,
               info_p: float = 1e-3, alert: float = 0.01, warning: float = 0.05) -> pd.DataFrame:
    """Heaping on final digits 0 and 5, per unit.

    A unit's integer figures ≥ ``min_value`` on count indicators, pooled over all
    indicators and the periods up to P (figures typed as approximate excluded; a
    figure equal to another of the same report counted once).
    Null model: final digits uniform, so a figure ends in 0 or 5 with probability
    ``share`` = 0.2 (the reference of election forensics) — except on series too
    narrow for the digits to be flat (sd ≤ 25), where cutting at ``min_value`` makes
    small round numbers (10, 15) more likely: there the figure's chance is taken
    from a normal with the series' own mean and variance (``_heap_share``), never
    below 0.2.  Exact one-sided binomial tail P(K ≥ k | n, mean chance), which is
    conservative for the Poisson-binomial.  Units with fewer than ``min_n``
    figures are not tested.

    One row per flagged unit: period = P (blank when pooled over all periods),
    observed = the share ending in 0/5, expected = the share expected,
    upper = its 95% binomial upper bound, statistic = the count k.
    """
    df = _prepare(panel, period, counts_only=True, text=False)  # text only per unit
    mom = _series_moments(df)
    df = df[(df["value"] >= min_value) & (df["value"] % 1 == 0) & ~df["approx"].astype(bool)]
    # A figure repeated within one report counts once: rectified = found at 100%,
    # drills = drill enterprises, parts = total copy the same final digit.
    df = df.drop_duplicates(["unit", "period", "value"])
    if df.empty:
        return empty_findings()
    # The chance depends on the series only: computed once per series, not per figure.
    mom = mom.assign(_e=np.maximum(_heap_share(mom["_mean"], mom["_var"], min_value), share))
    df = df.merge(mom[["unit", "indicator", "_e"]], on=["unit", "indicator"])
    df = df.assign(_heap=(df["value"] % 5 == 0))
    units = df.groupby("unit", as_index=False).agg(
        unit_type=("unit_type", "first"), n=("_heap", "size"), statistic=("_heap", "sum"),
        expected=("_e", "mean"))
    units = as_text(units[units["n"] >= min_n])
    if units.empty:
        return empty_findings()
    units["p_value"] = stats.binom.sf(units["statistic"] - 1, units["n"], units["expected"])
    units["q_value"] = bh_adjust(units["p_value"])
    units["observed"] = units["statistic"] / units["n"]
    units["upper"] = stats.binom.isf(0.05, units["n"], units["expected"]) / units["n"]
    units["period"] = period if period is not None else np.nan
    units["message"] = (units["unit"] + "报送的" + units["n"].astype(str) + "个不小于"
                        + _fmt(min_value) + "的数值中，尾数为0或5的有"
                        + units["statistic"].astype(int).astype(str) + "个，占"
                        + (units["observed"] * 100).map(lambda x: f"{x:.1f}")
                        + "%，按其数值范围应约为" + (units["expected"] * 100).map(lambda x: f"{x:.0f}")
                        + "%，p=" + units["p_value"].map(_fmt_p))
    return _finish(units.drop(columns="n"), "last_digit", info_p=info_p, alert=alert,
                   warning=warning)


# -------------------------------------------------------------------------- benford

def first_digit(values) -> np.ndarray:
    """The first significant digit (1–9) of positive numbers."""
    v = np.asarray(values, dtype="float64")
    exp = np.floor(np.log10(v))
    d = np.floor(v / 10.0 ** exp + 1e-9).astype(int)
    return np.clip(d, 1, 9)


def _scale_digit_expectation(all_pos, tested, units, min_value, *, mix) -> np.ndarray:
    """Expected first-digit counts per unit (rows ``units``) when each series is
    lognormal with its own log10 mean and sd (sd floored at 0.05), conditioned on
    figures ≥ min_value, mixed with Benford at weight ``mix``."""
    logs = all_pos.assign(_l=np.log10(all_pos["value"]))
    fit = logs.groupby(["unit", "indicator"])["_l"].agg(["mean", "std"])
    fit["std"] = fit["std"].fillna(0.0).clip(lower=0.05)
    n = tested.groupby(["unit", "indicator"]).size().rename("n")
    fit = fit.join(n, how="inner")
    mu, sd = fit["mean"].to_numpy()[:, None, None], fit["std"].to_numpy()[:, None, None]
    k = np.arange(0, 10)[None, :, None]
    d = np.arange(1, 10)[None, None, :]
    # Integer figures with first digit d and k+1 digits: [d·10^k − ½, (d+1)·10^k − ½).
    lo = np.maximum(d * 10.0 ** k - 0.5, min_value - 0.5)
    hi = np.maximum((d + 1) * 10.0 ** k - 0.5, lo)
    mass = (stats.norm.cdf((np.log10(hi) - mu) / sd) - stats.norm.cdf((np.log10(lo) - mu) / sd))
    prob = mass.sum(axis=1)
    total = prob.sum(axis=1, keepdims=True)
    prob = np.where(total > 0, prob / np.where(total > 0, total, 1.0), BENFORD_P)
    prob = (1 - mix) * prob + mix * BENFORD_P
    per_series = pd.DataFrame(prob * fit["n"].to_numpy()[:, None], index=fit.index)
    return per_series.groupby(level="unit").sum().reindex(units).to_numpy()


def benford(panel: pd.DataFrame, *, exposure=None, ledger_counts=None, period=None,
            min_value: float = 10, min_n: int = 50, min_span: float = 100.0,
            mad_threshold: float = 0.015, scale_check: bool = True, mix: float = 0.1,
            info_p: float = 1e-3,
            alert: float = 0.01, warning: float = 0.05) -> pd.DataFrame:
    """First digits far from Benford's law, per unit.

    A unit's figures ≥ ``min_value`` on all indicators, pooled over the periods up
    to P (approximate figures excluded), tested only when there are at least
    ``min_n`` and they span at least ``min_span`` (two orders of magnitude), where
    Benford is a sensible null.  Null model: first digits d with P(d) = log10(1+1/d);
    Pearson χ² with 8 df.  Large n rejects on trivial departures, so a warning or
    alert also needs Nigrini's mean absolute deviation above ``mad_threshold``
    (first digits: ≤0.006 close, ≤0.012 acceptable, ≤0.015 marginal, above:
    nonconformity; Nigrini 2012).

    Campaign figures are a mixture of indicators of different sizes, each series
    narrow (a town inspecting 60–90 enterprises a month writes 6, 7, 8 first), so
    honest units need not follow Benford.  With ``scale_check`` (default) the unit
    must also depart from what its own series' scales predict: each series (unit ×
    indicator) is taken as lognormal with the mean and sd of its log10 figures,
    which gives first-digit probabilities for its figures ≥ ``min_value``
    (mixed with Benford at weight ``mix`` so that no digit is impossible); their
    sum over the unit's series is compared by χ² with 8 df.  Fabricated series
    whose figures jump across magnitudes with evenly spread first digits fail
    both.  The reported p is the larger of the two (an intersection–union test:
    significant only if both are).

    One row per flagged unit: observed = MAD, upper = ``mad_threshold``,
    statistic = χ² against Benford, expected = number of figures tested.
    """
    df = _prepare(panel, period, counts_only=False, text=False)  # text only per unit
    all_pos = df[(df["value"] > 0) & ~df["approx"].astype(bool)]
    df = all_pos[all_pos["value"] >= min_value]
    if df.empty:
        return empty_findings()
    df = df.assign(_d=first_digit(df["value"]))
    g = df.groupby("unit", observed=True)["value"]
    span = g.max() / g.min()
    counts = (df.groupby(["unit", "_d"], observed=True).size().unstack(fill_value=0)
              .reindex(columns=range(1, 10), fill_value=0))
    n = counts.sum(axis=1)
    ok = (n >= min_n) & (span.reindex(counts.index) >= min_span)
    counts, n = counts[ok], n[ok]
    if counts.empty:
        return empty_findings()
    obs = counts.to_numpy(dtype="float64")
    expected = np.outer(n, BENFORD_P)
    chi2 = ((obs - expected) ** 2 / expected).sum(axis=1)
    p_benford = stats.chi2.sf(chi2, 8)
    mad = np.abs(obs / n.to_numpy()[:, None] - BENFORD_P).mean(axis=1)
    if scale_check:
        exp_scale = _scale_digit_expectation(all_pos, df, counts.index, min_value, mix=mix)
        scale_chi2 = ((obs - exp_scale) ** 2 / exp_scale).sum(axis=1)
        p_value = np.maximum(p_benford, stats.chi2.sf(scale_chi2, 8))
    else:
        p_value = p_benford
    types = as_text(df.drop_duplicates("unit")).set_index("unit")["unit_type"]
    names = pd.Index(counts.index).astype("str")
    out = pd.DataFrame({"unit": names, "unit_type": names.map(types),
                        "observed": mad, "expected": n.to_numpy(), "upper": mad_threshold,
                        "statistic": chi2, "p_value": p_value})
    out["q_value"] = bh_adjust(out["p_value"])
    # Significant but close to Benford is not a warning: q stays for the record,
    # severity only where MAD shows nonconformity.
    sev_q = out["q_value"].where(out["observed"] > mad_threshold, 1.0)
    top = obs.argmax(axis=1) + 1
    out["period"] = period if period is not None else np.nan
    out["message"] = (out["unit"] + "报送的" + out["expected"].astype(int).astype(str)
                      + "个不小于" + _fmt(min_value) + "的数值首位数字分布偏离本福特定律"
                      + ("且与其各项数据自身量级所应有的分布不符" if scale_check else "")
                      + "：平均绝对偏差MAD=" + out["observed"].map(lambda x: f"{x:.3f}")
                      + f"(>{mad_threshold}为不符合)，χ²=" + out["statistic"].map(lambda x: f"{x:.1f}")
                      + "，p=" + out["p_value"].map(_fmt_p) + "；首位为"
                      + pd.Series(top).astype(str).to_numpy() + "的最多")
    out = out.assign(check="benford", severity=severity_from_q(sev_q, alert=alert, warning=warning))
    out = out[(out["severity"] != "info") | ((out["p_value"] < info_p)
                                              & (out["observed"] > mad_threshold))]
    if out.empty:
        return empty_findings()
    return make_findings(out.sort_values(["q_value", "unit"], kind="stable"))


# ---------------------------------------------------------------------- pinned_rate

# Major hazards only by default: general hazards are routinely rectified at 98–99%
# (桂林: 518 of 526), so 100% there is weak evidence; pass both pairs to test them.
RECTIFICATION_PAIRS = (("major_hazards_found", "major_hazards_rectified"),)
ALL_RECTIFICATION_PAIRS = (("major_hazards_found", "major_hazards_rectified"),
                           ("general_hazards_found", "general_hazards_rectified"))


def pinned_rate(panel: pd.DataFrame, *, exposure=None, ledger_counts=None, period=None,
                pairs=RECTIFICATION_PAIRS, min_found: int = 1, min_peer_found: int = 50,
                between_units: bool = False,
                info_p: float = 1e-3,
                alert: float = 0.01, warning: float = 0.05) -> pd.DataFrame:
    """Hazards rectified at 100% in every period, more often than peers make plausible.

    Per unit and (found, rectified) pair, pooled over the periods up to P where both
    were reported: n = Σ found, r = Σ min(rectified, found).  r = n means every
    period was at 100%.  Null model: each of the unit's hazards is rectified
    independently with its peers' pooled rate ρ (same unit type, the unit itself
    excluded; all other units when the type's peers found fewer than
    ``min_peer_found`` without counting the largest of them, so that no single
    peer sets the norm), so P(all n rectified) = ρⁿ.  With ``between_units`` the
    units' own rates may differ (the spread of the rates of units with at least
    10 hazards beyond binomial noise): a Beta-binomial with mean ρ and that spread,
    P = B(a+n, b)/B(a, b) ≥ ρⁿ — safer where some units honestly rectify 99%, but
    on the synthetic city it leaves 40-of-40 undetectable, so it is off by default.
    Units below 100% have p = 1.  The test
    is discrete, so BH runs over Tarone's family (``_tarone_bh``): units whose
    smallest achievable p, ρⁿ, could never be significant (few hazards) are not
    counted.  All pairs are adjusted together.  With ``period=P`` a unit is
    reported only if P itself was at 100%.

    Rows: indicator = the rectified indicator, observed = r/n (1.0), expected = ρ,
    statistic = n.
    """
    df = _prepare(panel, period, counts_only=True)
    frames, at_ps = [], []
    for found, rect in pairs:  # a loop over the catalogue's indicator pairs
        w = df[df["indicator"].isin([found, rect])].pivot_table(
            index=["unit", "unit_type", "period"], columns="indicator", values="value",
            aggfunc="sum", observed=True)
        if found not in w.columns or rect not in w.columns:
            continue
        w = w.dropna(subset=[found, rect]).reset_index()
        w = w.assign(_n=w[found], _r=np.minimum(w[rect], w[found]))
        u = w.groupby(["unit", "unit_type"], as_index=False).agg(
            n=("_n", "sum"), r=("_r", "sum"), start=("period", "min"), end=("period", "max"))
        u = u[u["n"] >= min_found]
        if u.empty:
            continue
        type_n = u.groupby("unit_type")["n"].transform("sum") - u["n"]
        type_r = u.groupby("unit_type")["r"].transform("sum") - u["r"]
        all_rate = (u["r"].sum() - u["r"]) / (u["n"].sum() - u["n"]).where(lambda s: s > 0)
        # The largest other unit of the type: without it the peers must still have
        # found min_peer_found, or the "peer rate" is one unit's own rate (two large
        # departments both at 100% would set each other's norm at 96%).
        rank = u["n"].groupby(u["unit_type"]).rank(method="first", ascending=False)
        first = u["n"].where(rank == 1).groupby(u["unit_type"]).transform("max")
        second = (u["n"].where(rank == 2).groupby(u["unit_type"]).transform("max")
                  .fillna(0.0))
        largest_other = np.where(rank == 1, second, first)
        # Too few peer hazards make a type's rate meaningless (2 found, 0 rectified
        # gives 0%): then all other units' rate is used.
        enough = (type_n - largest_other) >= min_peer_found
        rho = (type_r / type_n.where(enough)).fillna(all_rate).fillna(1.0)
        # Units differ in how thoroughly they rectify: the rates' spread between
        # units (beyond binomial noise, among units with ≥ 10 hazards) gives a Beta
        # with mean ρ, and P(all n) = B(a + n, b) / B(a, b) ≥ ρⁿ.
        big = u["n"] >= 10
        rates = u.loc[big, "r"] / u.loc[big, "n"]
        pooled = u["r"].sum() / u["n"].sum()
        between = (rates.var() - (pooled * (1 - pooled) / u.loc[big, "n"]).mean()
                   if big.sum() > 2 else 0.0)
        between = float(np.nan_to_num(between, nan=0.0))
        conc = (rho * (1 - rho) / between - 1).clip(lower=1.0) if between > 1e-9 else None
        if conc is None or not between_units:
            p_all = rho ** u["n"]
        else:
            a, b = rho * conc, (1 - rho) * conc
            p_all = np.where(rho >= 1, 1.0, np.exp(special.betaln(a + u["n"], b.clip(lower=1e-12))
                                                     - special.betaln(a, b.clip(lower=1e-12))))
        pinned = u["r"] >= u["n"]
        u = u.assign(indicator=rect, expected=rho, observed=u["r"] / u["n"], statistic=u["n"],
                     p_value=np.where(pinned, p_all, 1.0))
        frames.append(u.assign(_pinned=pinned, _p_min=p_all, _found=found))
        at_ps.append(w.loc[(w["period"] == period) & (w["_r"] >= w["_n"]), ["unit"]]
                     .assign(indicator=rect))
    if not frames:
        return empty_findings()
    out = pd.concat(frames, ignore_index=True)
    out["q_value"] = _tarone_bh(out["p_value"], out["_p_min"], alpha=warning)
    out = out[out["_pinned"]]
    if period is not None:
        at_p = pd.concat(at_ps, ignore_index=True)
        out = out[out.set_index(["unit", "indicator"]).index.isin(
            at_p.set_index(["unit", "indicator"]).index)]
    if out.empty:
        return empty_findings()
    out["message"] = (out["unit"] + out["start"] + "至" + out["end"]
                      + out["_found"].map(catalogue.indicator_name) + out["n"].map(_fmt)
                      + "项、整改" + out["r"].map(_fmt) + "项，各期整改率均为100%；按同类单位整改率"
                      + (out["expected"] * 100).map(lambda x: f"{x:.1f}")
                      + "%计，全部整改的概率为" + out["p_value"].map(_fmt_p))
    out["period"] = period if period is not None else np.nan
    return _finish(out.drop(columns=["n", "r", "start", "end", "_pinned", "_p_min", "_found"]),
                   "pinned_rate", info_p=info_p, alert=alert, warning=warning)
