"""Underdispersion: peer groups, and pairs of neighbours, closer than Poisson noise.

See the package docstring for the conventions every balance check follows.

Computed on the panel's cube (``panel.Panel.series``), one count indicator at a time,
on a periods × units matrix whose units (those with a positive weight) are sorted
by peer group: a group is a run of columns, so every group sum is one
``np.add.reduceat`` along the rows, and a unit's neighbours by level are found by
one sort.  All tests count in the Benjamini–Hochberg adjustment, but p-values are
computed only for the tests that can change a reported q-value (``bh_reported``),
and text is built only for the rows reported."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special, stats

from ... import catalogue
from ...indicators import exposure_by_unit
from ...panel import as_panel
from ...findings import empty_findings
from .common import finish
from .._wording import p_text

_KINDS = np.array(["period", "pool", "pair"], dtype=object)
_PERIOD, _POOL, _PAIR = 0, 1, 2
# p-values within this of 1 count as 1 in the BH step (q moves by < 1e-10 at most).
_P_ONE = 1e-10


# ------------------------------------------------------------------------- layout

def _layout(gid: np.ndarray, member: np.ndarray):
    """The member units sorted by group (stable, so by name within a group: the unit
    axis is in name order).  Returns ``perm`` (unit index per column), ``starts``
    (first column of each non-empty group: the segments ``reduceat`` sums over),
    ``seg`` (the segment of each column) and ``seg_group`` (group id per segment)."""
    units = np.flatnonzero(member)
    perm = units[np.argsort(gid[units], kind="stable")]
    g = gid[perm]
    if not len(g):
        empty = np.zeros(0, dtype=np.intp)
        return perm, empty, empty, empty
    new = np.r_[True, g[1:] != g[:-1]]
    return perm, np.flatnonzero(new), np.cumsum(new) - 1, g[new]


def _segment_columns(starts: np.ndarray, n_cols: int, segs: np.ndarray):
    """For each segment in ``segs`` (repeats allowed), all its columns: returns the
    column indices and, per column, the position in ``segs`` it came from."""
    ends = np.r_[starts[1:], n_cols]
    size = ends[segs] - starts[segs]
    owner = np.repeat(np.arange(len(segs)), size)
    offset = np.arange(int(size.sum())) - np.repeat(np.cumsum(size) - size, size)
    return starts[segs][owner] + offset, owner


class _Work:
    """Work arrays of one call, reused from indicator to indicator.  A fresh array
    of a few megabytes costs more in page faults than the arithmetic done in it
    (measured: ~1 ms per 3 MB here), so the per-indicator matrices live in these."""

    def __init__(self, n_rows: int, n_cols: int):
        self.n_rows, self.n_cols, self._pool = n_rows, n_cols, {}

    def get(self, name: str, cols: int | None = None, dtype=np.float64, rows=None):
        """A C-contiguous (rows × cols) array (default n_rows × n_cols) over the
        buffer ``name``; its content is whatever was left there."""
        rows = self.n_rows if rows is None else rows
        cols = self.n_cols if cols is None else cols
        buf = self._pool.get((name, np.dtype(dtype)))
        if buf is None or buf.size < rows * cols:
            buf = self._pool[(name, np.dtype(dtype))] = np.empty(rows * cols, dtype)
        return buf[:rows * cols].reshape(rows, cols)


def _slice(cube, i, perm, work):
    """Indicator ``i`` as periods × units (units in the order ``perm``): the
    figures S, where none was reported (``miss``) and S with 0 there (S0), in
    ``work``'s buffers (valid until the next call)."""
    # Copied in unit order first: strided but monotone reads, which the hardware
    # prefetches; gathering the cube's rows in ``perm`` order directly is ~10× slower.
    natural = work.get("natural", rows=cube.shape[0], cols=cube.shape[2])
    np.copyto(natural, cube.values[:, i, :])
    rows = work.get("rows", rows=len(perm), cols=cube.shape[2])
    np.take(natural, perm, axis=0, out=rows, mode="clip")  # "raise" buffers
    S = work.get("S")
    np.copyto(S, rows.T)
    miss = np.isnan(S, out=work.get("miss", dtype=bool))
    if not miss.any():  # every unit reported every period (read-only use: no copy)
        return S, miss, S
    S0 = work.get("S0")
    np.copyto(S0, S)
    np.copyto(S0, 0.0, where=miss)
    return S, miss, S0


# -------------------------------------------------------------------- group tests

def _group_cells(S, miss, S0, w, starts, seg, work, *, min_units, min_mean):
    """Per period × group (S: periods × member units sorted by group, ``miss`` where
    not reported, S0 = S with 0 there): number of reporting units n, their total,
    the mean, whether the cell is tested (n ≥ min_units, mean ≥ min_mean) and its
    Pearson X² = Σ (O − E)² / E with E = total × w / Σw over the reporting units
    (units with E ≤ 0 left out; with min_mean > 0 a tested cell has none)."""
    size = np.diff(np.r_[starts, S.shape[1]])
    n = size - np.add.reduceat(miss, starts, axis=1, dtype=np.int64)
    total = np.add.reduceat(S0, starts, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / n
        keep = (n >= min_units) & (mean >= min_mean)
        if not keep.any():
            return n, total, mean, keep, np.zeros(n.shape)
        expected = work.get("E")
        if w is None:  # E = total × 1 / n
            np.take(mean, seg, axis=1, out=expected, mode="clip")
        else:
            y = work.get("Y")
            np.copyto(y, w)
            np.copyto(y, 0.0, where=miss)
            wsum = np.add.reduceat(y, starts, axis=1)
            np.take(total, seg, axis=1, out=expected, mode="clip")
            expected *= w
            expected /= np.take(wsum, seg, axis=1, out=y, mode="clip")
        x2 = np.subtract(S0, expected, out=work.get("X"))
        x2 *= x2
        x2 /= expected
    if (n < size).any():  # some unit did not report: its term is not O − E
        np.copyto(x2, 0.0, where=miss)
    if not min_mean > 0:
        np.copyto(x2, 0.0, where=~(expected > 0))
    return n, total, mean, keep, np.add.reduceat(x2, starts, axis=1)


# --------------------------------------------------------------------- pair tests

def _neighbour_pairs(S, miss, S0, seg, work, *, min_mean, min_periods, neighbours,
                     max_pair_units, last=None):
    """Pairs of units of one group (S: periods × units sorted by group, ``miss``
    where not reported, S0 = S with 0 there) and their Pearson X²
    Σ_t (O_it − O_jt)² / (O_it + O_jt) over the periods both reported with
    O_it + O_jt > 0 (T of them, the df).  Units are ranked within their group by
    mean figure (ties by position, i.e. unit name) and each is paired with the
    next ``neighbours``; groups with more than ``max_pair_units`` reporting units
    are left out.  Kept: T ≥ max(min_periods, 1), pair mean
    Σ (O_it + O_jt) / T / 2 ≥ min_mean and, with ``last``, both reported at period
    ``last`` with a positive sum.  Returns columns a and b, statistic, df, expected.

    Only the pairs that can pass are computed period by period: a pair whose
    largest figures sum below 2 × min_mean cannot, and where one unit reported
    every period a positive figure and the other every period (no negative
    figure anywhere), T and the sum are known from the units' totals."""
    n_t = S.shape[0]
    cnt = n_t - np.add.reduce(miss, axis=0, dtype=np.int64)
    slot = cnt > 0
    if max_pair_units is not None and len(seg):
        size = np.bincount(seg[slot], minlength=int(seg[-1]) + 1)
        slot &= size[seg] <= max_pair_units
    cols = np.flatnonzero(slot)
    none = (np.zeros(0, dtype=np.intp),) * 2 + (np.zeros(0), np.zeros(0, np.int64),
                                                 np.zeros(0))
    if len(cols) < 2 or neighbours < 1:
        return none
    with np.errstate(invalid="ignore"):
        top = np.fmax.reduce(S, axis=0)   # largest figure reported (NaN: none)
    bound = 2 * min_mean * (1 - 1e-12) if min_mean > 0 else -np.inf
    if not np.nanmax(top[cols]) * 2 >= bound:  # no pair can reach min_mean
        return none
    tot = S0.sum(axis=0)
    # Within a group by level (the mean over periods reported); ties by position
    # (lexsort is stable), i.e. by unit name.
    order = cols[np.lexsort((tot[cols] / cnt[cols], seg[cols]))]
    g, R = seg[order], None
    with np.errstate(invalid="ignore"):
        low = np.fmin.reduce(S, axis=0)   # smallest figure reported
    every = cnt == n_t
    shortcut = every & (low > 0), every
    if (low[cols] < 0).any():
        shortcut = np.zeros_like(every), every
    min_t = max(min_periods, 1)
    parts = []
    for d in range(1, min(neighbours, len(order) - 1) + 1):  # one vectorised pass each
        a, b = order[:-d], order[d:]
        cand = ((g[:-d] == g[d:]) & (np.minimum(cnt[a], cnt[b]) >= min_t)
                & ~(top[a] + top[b] < bound))
        if last is not None:
            cand &= S[last, a] + S[last, b] > 0
        j = np.flatnonzero(cand)  # pair j: ranks j and j + d
        a, b = a[j], b[j]
        fast = (shortcut[0][a] & shortcut[1][b]) | (shortcut[0][b] & shortcut[1][a])
        n = np.full(len(a), n_t, dtype=np.int64)
        ssum = tot[a] + tot[b]
        slow = np.flatnonzero(~fast)
        if len(slow):
            s = S[:, a[slow]] + S[:, b[slow]]
            ok = s > 0  # False where either unit did not report (NaN)
            n[slow] = np.add.reduce(ok, axis=0, dtype=np.int64)
            ssum[slow] = np.where(ok, s, 0.0).sum(axis=0)
        mean_s = ssum / np.maximum(n, 1)
        keep = (n >= min_t) & (mean_s / 2 >= min_mean)
        if not keep.any():
            continue
        stat = np.zeros(len(a))
        with np.errstate(invalid="ignore", divide="ignore"):
            k = np.flatnonzero(keep & fast)  # every period counts: no masks
            if len(k) > len(g) // 8:  # many: whole rows of the ranked matrix
                if R is None:
                    R = np.take(S, order, axis=1, out=work.get("R", len(order)), mode="clip")
                x2 = np.subtract(R[:, :-d], R[:, d:], out=work.get("X", len(g) - d))
                x2 *= x2
                x2 /= np.add(R[:, :-d], R[:, d:], out=work.get("Y", len(g) - d))
                stat[k] = x2.sum(axis=0)[j[k]]
            elif len(k):
                A, B = S[:, a[k]], S[:, b[k]]
                x2 = A - B
                x2 *= x2
                x2 /= A + B
                stat[k] = x2.sum(axis=0)
            k = np.flatnonzero(keep & ~fast)
            if len(k):
                A, B = S[:, a[k]], S[:, b[k]]
                s = A + B
                ok = s > 0
                stat[k] = np.where(ok, (A - B) ** 2 / np.where(ok, s, 1.0), 0.0).sum(axis=0)
        parts.append((a[keep], b[keep], stat[keep], n[keep], mean_s[keep] / 2))
    if not parts:
        return none
    return tuple(np.concatenate(c) for c in zip(*parts))


def pair_tests(df, keys, period, *, min_mean, min_periods, neighbours, max_pair_units):
    """The neighbour-pair tests of a long frame (unit, period, indicator, value and
    the ``keys``: group columns and indicator), one row per pair: the keys,
    unit_a < unit_b, statistic, df, expected.  For inspection and tests; the check
    itself runs ``_neighbour_pairs`` on the panel's cube."""
    cube = as_panel(df).series(period)
    gid, gkeys = _unit_groups(cube, [k for k in keys if k != "indicator"])
    perm, starts, seg, seg_group = _layout(gid, np.ones(len(cube.units), dtype=bool))
    last = _last_column(cube, period)
    work = _Work(len(cube.periods), len(perm))
    frames = []
    for i, code in enumerate(cube.indicators if last != -1 else []):
        S, miss, S0 = _slice(cube, i, perm, work)
        ra, rb, stat, dfs, expected = _neighbour_pairs(
            S, miss, S0, seg, work, min_mean=min_mean, min_periods=min_periods,
            neighbours=neighbours, max_pair_units=max_pair_units, last=last)
        ua, ub = perm[ra], perm[rb]
        frames.append(pd.concat([
            gkeys.iloc[seg_group[seg[ra]]].reset_index(drop=True),
            pd.DataFrame({"indicator": code, "unit_a": cube.units[np.minimum(ua, ub)],
                          "unit_b": cube.units[np.maximum(ua, ub)], "statistic": stat,
                          "df": dfs, "expected": expected})], axis=1))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


# ---------------------------------------------------------------------- helpers

def _unit_groups(cube, group_by):
    """Group id per unit and the keys per group (one group when ``group_by`` is empty)."""
    if len(group_by):
        return cube.unit_groups(tuple(group_by))
    return np.zeros(len(cube.units), dtype=np.intp), pd.DataFrame(index=range(1))


def _last_column(cube, period):
    """None without ``period``; else the column of P, the last one (a cube built
    for P holds the periods of P's frequency up to P), or -1 when P has no figure."""
    if period is None:
        return None
    t = cube.period_index(period)
    return -1 if t is None else t


def _weights(cube, exposure, use_exposure):
    """Per unit: None (every weight 1) or the enterprises supervised
    (``indicators.exposure_by_unit``; NaN where the unit has none: such units are
    left out)."""
    if not (use_exposure and exposure is not None and len(exposure)):
        return None
    size = exposure_by_unit(exposure).set_index("unit")["enterprises"]
    return size.reindex(pd.Index(cube.units, dtype=object)).to_numpy(dtype="float64",
                                                                      na_value=np.nan)


def _below(stat, dfs, v):
    """Positions of the tests that may have P(χ²(df) ≤ X²) < v: X² at most the
    v-quantile of χ²(df), with a margin far above the quantile's rounding error."""
    k = dfs.astype(np.int64)
    if len(k) and k.max() <= 1_000_000:  # a table by df, no sort
        present = np.flatnonzero(np.bincount(k))
        table = np.zeros(int(k.max()) + 1)
        table[present] = stats.chi2.ppf(v, present)
        limit = table[k]
    else:
        uniq, inv = np.unique(k, return_inverse=True)
        limit = stats.chi2.ppf(v, uniq)[inv]
    return np.flatnonzero(stat <= limit * (1 + 1e-7) + 1e-300)


def bh_reported(stat, dfs, *, info_p, warning):
    """The tests reported (q < warning or p < info_p) among all tests (statistic
    ``stat``, ``dfs``: tests with df ≤ 0 have no p-value and do not count): their
    positions, p = P(χ²(df) ≤ X²) and the Benjamini–Hochberg q over all tests,
    as ``findings.bh_adjust`` gives them, without a p-value for every test.

    With p sorted, q_(r) = min(1, min_{j ≥ r} p_(j) m / j).  Reported tests have
    p < c = max(warning, info_p), and every other test has p_(j) m / j ≥ p_(j)
    ≥ c: so q < warning needs only the tests with p < c.  A reported test with a
    larger q (p < info_p) needs every test with p below its q (T*), and no other:
    those are found by their X² (below the T*-quantile of χ²(df)) and only they
    get a p-value.  p-values within 1e-10 of 1 count as 1 (q moves by < 1e-10)."""
    valid = (dfs > 0) & ~np.isnan(stat)
    m = int(valid.sum())
    if not m:
        return np.zeros(0, dtype=np.intp), np.zeros(0), np.zeros(0)
    stat, dfs = np.where(valid, stat, np.inf), np.where(valid, dfs, 1.0)

    def partial(v):
        pos = _below(stat, dfs, v)
        pos = pos[valid[pos]]
        p = special.chdtr(dfs[pos], stat[pos])
        pos, p = pos[p < v], p[p < v]
        order = np.argsort(p, kind="stable")
        q = p[order] * (m / np.arange(1, len(p) + 1, dtype=np.float64))
        np.minimum.accumulate(q[::-1], out=q[::-1])
        q_pos = np.empty_like(q)
        q_pos[order] = q
        return pos, p, q_pos

    c = max(warning, info_p)
    pos, p, q = partial(c)
    hit = (q < warning) | (p < info_p)
    top = min(float(q[hit].max()), 1.0) if hit.any() else 0.0
    if top > c:  # an info row whose q the tests with c ≤ p < top may lower
        wide_pos, wide_p, wide_q = partial(max(min(top, 1.0 - _P_ONE), c))
        q = wide_q[np.searchsorted(wide_pos, pos)]
    q = np.clip(q, 0.0, 1.0)
    hit = np.flatnonzero(hit)
    return pos[hit], p[hit], q[hit]


# ------------------------------------------------------------------------- check

def underdispersion(panel, *, exposure=None, period=None,
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
    ``period=P``; pooled tests then use the periods of P's frequency up to P and
    pairs must include P; with ``period=None`` every period of the panel counts,
    months and quarters alike).  ``use_exposure`` is off by default: units that "balance" report alike whatever
    their size, which a size-proportional null would not see.
    """
    cube = as_panel(panel).series(period)
    chosen = cube.count_indicators()
    if indicators is not None:
        chosen &= pd.Index(cube.indicators).isin(list(indicators))
    ind_idx = np.flatnonzero(chosen)
    w = _weights(cube, exposure, use_exposure)
    member = np.ones(len(cube.units), dtype=bool) if w is None else w > 0
    gid, gkeys = _unit_groups(cube, group_by)
    perm, starts, seg, seg_group = _layout(gid, member)
    if not len(ind_idx) or not len(perm) or not len(cube.periods):
        return empty_findings()
    w_cols = None if w is None else w[perm]
    last = _last_column(cube, period)
    n_t = len(cube.periods)
    is_last = np.arange(n_t) == last
    # Every test's statistic and df (for the BH step); the rest only for the tests
    # that may be reported, p < max(warning, info_p) ≤ ½: X² below the median of
    # χ²(df), itself below df (at most a few in ten tests on real figures).
    lean = max(warning, info_p) <= 0.5
    stat_all, df_all, found = [], [], {k: [] for k in (
        "pos", "kind", "ind", "seg", "t", "ra", "rb", "stat", "df", "exp", "n")}
    n_tests = 0

    def add(kind, ii, stat, dfs, exp, segs, t=-1, ra=-1, rb=-1, n=0):
        nonlocal n_tests
        stat = np.asarray(stat, dtype=np.float64)
        dfs = np.asarray(dfs, dtype=np.float64)
        stat_all.append(stat)
        df_all.append(dfs)
        sel = np.flatnonzero(stat < dfs) if lean else np.arange(len(stat))
        m = len(sel)
        found["pos"].append(n_tests + sel)
        found["kind"].append(np.full(m, kind, dtype=np.int8))
        found["ind"].append(np.full(m, ii, dtype=np.intp))
        for key, val in (("seg", segs), ("t", t), ("ra", ra), ("rb", rb), ("n", n)):
            found[key].append(np.broadcast_to(np.asarray(val, dtype=np.intp),
                                              stat.shape)[sel])
        for key, val in (("stat", stat), ("df", dfs), ("exp", exp)):
            found[key].append(np.asarray(val, dtype=np.float64)[sel])
        n_tests += len(stat)

    keep_all = np.zeros((len(ind_idx), n_t, len(starts)), dtype=bool)
    work = _Work(n_t, len(perm))
    for ii, i in enumerate(ind_idx):
        S, miss, S0 = _slice(cube, i, perm, work)  # periods × member units, by group
        if per_period or pooled:
            n, total, mean, keep, x2 = _group_cells(S, miss, S0, w_cols, starts, seg, work,
                                                    min_units=min_units, min_mean=min_mean)
            keep_all[ii] = keep
            if per_period and last != -1:
                t_idx, s_idx = np.nonzero(keep if last is None else keep & is_last[:, None])
                nn = n[t_idx, s_idx]
                add(_PERIOD, ii, x2[t_idx, s_idx], nn - 1, mean[t_idx, s_idx], s_idx,
                    t=t_idx, n=nn)
            if pooled:
                n_periods = keep.sum(axis=0)
                cells = np.where(keep, n, 0).sum(axis=0)
                s_idx = np.flatnonzero(n_periods >= 2)
                # Summed X² over periods: df = Σ_t (n_t − 1).
                add(_POOL, ii, np.where(keep, x2, 0.0).sum(axis=0)[s_idx],
                    (cells - n_periods)[s_idx],
                    np.where(keep, total, 0.0).sum(axis=0)[s_idx] / cells[s_idx], s_idx)
        if pairs and last != -1:
            ra, rb, stat, dfs, expected = _neighbour_pairs(
                S, miss, S0, seg, work, min_mean=min_mean, min_periods=min_periods,
                neighbours=neighbours, max_pair_units=max_pair_units, last=last)
            add(_PAIR, ii, stat, dfs, expected, seg[ra], ra=ra, rb=rb, n=2)
    if not n_tests:
        return empty_findings()
    found = {k: np.concatenate(v) for k, v in found.items()}
    hit, p, q = bh_reported(np.concatenate(stat_all), np.concatenate(df_all),
                             info_p=info_p, warning=warning)
    if not len(hit):
        return empty_findings()
    at = np.searchsorted(found["pos"], hit)
    t = {k: v[at] for k, v in found.items()}
    t["p"], t["q"] = p, q
    t["rank"] = t["ind"]  # tests that tie on q, p, unit and period: by indicator
    rows = _group_rows(t, cube, ind_idx, perm, starts, keep_all, period)
    rows.append(_pair_rows(t, cube, ind_idx, perm, period))
    out = pd.concat([r for r in rows if len(r)], ignore_index=True)
    keys = gkeys.iloc[seg_group[out.pop("_seg").to_numpy()]].reset_index(drop=True)
    return _messages(pd.concat([keys, out], axis=1), info_p=info_p, alert=alert,
                     warning=warning)


def _group_rows(t, cube, ind_idx, perm, starts, keep_all, period):
    """The member rows of the surviving group tests: per group and period, each
    reporting unit with its figure; pooled, each unit reporting in a tested period
    with its mean over those periods (n = the number of such units)."""
    frames = []
    n_rows = len(perm)
    for kind in (_PERIOD, _POOL):
        k = np.flatnonzero(t["kind"] == kind)
        if not len(k):
            continue
        # Tests in the order (indicator, group, period), members in name order.
        k = k[np.lexsort((t["t"][k], t["seg"][k], t["rank"][k]))]
        rows, owner = _segment_columns(starts, n_rows, t["seg"][k])
        test = k[owner]
        units = perm[rows]
        ind = ind_idx[t["ind"][test]]
        if kind == _PERIOD:
            tcol = t["t"][test]
            observed = cube.values[units, ind, tcol]
            got = ~np.isnan(observed)
            n = t["n"][test]
            when = cube.periods[tcol]
        else:
            V = cube.values[units, ind, :]
            r = ~np.isnan(V) & keep_all[t["ind"][test], :, t["seg"][test]]  # (rows, T)
            cnt = r.sum(axis=1)
            got = cnt > 0
            with np.errstate(invalid="ignore", divide="ignore"):
                observed = np.where(r, V, 0.0).sum(axis=1) / cnt
            n = np.bincount(owner[got], minlength=len(k))[owner]
            when = np.full(len(test), period if period is not None else "", dtype=object)
        test, units, observed, n, when = test[got], units[got], observed[got], n[got], when[got]
        frames.append(pd.DataFrame({
            "_seg": t["seg"][test], "indicator": cube.indicators[ind_idx[t["ind"][test]]],
            "period": when, "statistic": t["stat"][test], "_n": n,
            "expected": t["exp"][test], "df": t["df"][test], "_kind": _KINDS[kind],
            "p_value": t["p"][test], "q_value": t["q"][test], "unit": cube.units[units],
            "observed": observed, "partners": ""}))
    return frames


def _pair_rows(t, cube, ind_idx, perm, period):
    """One row per unit of a surviving pair: its strongest pair (smallest p), its
    mean figure over all periods as observed, and every partner, strongest first."""
    k = np.flatnonzero(t["kind"] == _PAIR)
    if not len(k):
        return pd.DataFrame()
    ua, ub = perm[t["ra"][k]], perm[t["rb"][k]]
    lo, hi = np.minimum(ua, ub), np.maximum(ua, ub)
    # Pairs in the order (indicator, group, unit_a, unit_b), each listed twice: once
    # for each unit; sorted by p (stable), a unit's first pair is its strongest.
    k_order = np.lexsort((hi, lo, t["seg"][k], t["rank"][k]))
    k, lo, hi = k[k_order], lo[k_order], hi[k_order]
    unit, partner, test = np.r_[lo, hi], np.r_[hi, lo], np.r_[k, k]
    srt = np.argsort(t["p"][test], kind="stable")
    unit, partner, test = unit[srt], partner[srt], test[srt]
    both = pd.DataFrame({"_seg": t["seg"][test], "_ind": t["ind"][test], "_u": unit,
                         "partner": cube.units[partner]})
    by = both.groupby(["_seg", "_ind", "_u"], sort=False)
    partners = by["partner"].agg("、".join)
    first = ~both.duplicated(["_seg", "_ind", "_u"]).to_numpy()
    test, unit = test[first], unit[first]
    ind = ind_idx[t["ind"][test]]
    with np.errstate(invalid="ignore"):
        observed = np.nanmean(cube.values[unit, ind, :], axis=1)
    key = pd.MultiIndex.from_arrays([t["seg"][test], t["ind"][test], unit])
    return pd.DataFrame({
        "_seg": t["seg"][test], "indicator": cube.indicators[ind], "unit": cube.units[unit],
        "statistic": t["stat"][test], "df": t["df"][test], "expected": t["exp"][test],
        "period": period if period is not None else "", "_kind": "pair", "_n": 2,
        "p_value": t["p"][test], "q_value": t["q"][test], "observed": observed,
        "partners": partners.reindex(key).to_numpy()})


def _messages(out, *, info_p, alert, warning):
    """One row per unit and indicator (its strongest test), with its message."""
    out = out.sort_values("p_value", kind="stable").drop_duplicates(["unit", "indicator"])
    type_zh = (out["unit_type"].map(catalogue.unit_type_name) if "unit_type" in out
               else pd.Series("", index=out.index))
    type_zh = type_zh.where(type_zh.ne(""), "同类单位")
    parent = out["parent"] if "parent" in out.columns else pd.Series("", index=out.index)
    where = parent.where(parent.eq(""), parent + "所属") + type_zh
    pooled_when = np.where(out["period"].eq(""), "各期", out["period"] + "及以前各期")
    when = np.where(out["_kind"].eq("period"), out["period"], pooled_when)
    name = out["indicator"].map(catalogue.indicator_name)
    figures = ("：均值" + out["expected"].map(lambda x: f"{x:.1f}") + "，皮尔逊χ²="
               + out["statistic"].map(lambda x: f"{x:.1f}") + "(自由度"
               + out["df"].astype(int).astype(str) + ")，p=" + out["p_value"].map(p_text)
               + "，疑似相互“保持平衡”")
    group_msg = (out["unit"] + "所在的" + where + "(" + out["_n"].astype(int).astype(str)
                 + "个单位)" + when + name + "离散程度低于计数的随机波动" + figures)
    pair_msg = (out["unit"] + "与" + out["partners"] + "(均为" + where + ")" + when + name
                + "逐期相差小于计数的随机波动" + figures)
    out["message"] = np.where(out["_kind"].eq("pair"), pair_msg, group_msg)
    out["period"] = out["period"].replace("", np.nan)
    out = out.drop(columns=["parent", "_kind", "_n", "partners", "df"], errors="ignore")
    return finish(out, "underdispersion", info_p=info_p, alert=alert, warning=warning)
