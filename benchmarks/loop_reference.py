"""Straightforward per-unit loop implementations of two checks, for the scale benchmark.

They are what an analyst would write first: iterate over the units (and, for
``repeated_value``, over each unit's indicators and periods) in Python, with scalar
scipy calls.  They exist only to measure what the vectorised library saves, so they
must compute the *same* results as ``checks.outliers.low_outlier`` (its
``model="sqrt-normal"``: the gamma model's fit is per group, not per unit) and
``checks.balance.repeated_value``; ``benchmarks/scale.py`` and
``tests/test_benchmarks_smoke.py`` assert that the flagged units (and their
p-values) agree.  Not part of the package; never imported by it.

Each function returns a DataFrame with columns unit, indicator, p_value, q_value,
severity, one row per flagged unit (and indicator), sorted by unit and indicator.
Inputs are not modified.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import special, stats

from anquan_analysis import catalogue
from anquan_analysis.periods import period_bounds, period_freq

RESULT_COLUMNS = ["unit", "indicator", "p_value", "q_value", "severity"]
_MEASURED_UNITS = {"万元", "公里"}
_PER_YEAR = {"M": 12, "Q": 4, "H": 2, "Y": 1}


def _severity(q: float, alert: float, warning: float) -> str:
    if q < alert:
        return "alert"
    if q < warning:
        return "warning"
    return "info"


def _bh(p: list[float], n_tests: int | None = None) -> list[float]:
    """Benjamini–Hochberg q-values of ``p`` among ``n_tests`` tests (the others p = 1)."""
    n_tests = len(p) if n_tests is None else n_tests
    order = sorted(range(len(p)), key=lambda i: p[i])
    q = [0.0] * len(p)
    running = 1.0
    for rank in range(len(p), 0, -1):
        i = order[rank - 1]
        running = min(running, p[i] * n_tests / rank)
        q[i] = min(1.0, running)
    return q


def _result(rows: list[dict]) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    return out.sort_values(["unit", "indicator"], kind="stable").reset_index(drop=True)


# ------------------------------------------------------------------ low_outlier
_GH_X, _GH_W = np.polynomial.hermite_e.hermegauss(48)
_GH_W = _GH_W / _GH_W.sum()


def _exact_z(o: float, e: float) -> float:
    """Normal score of the Poisson mid-p value P(X < O) + ½P(X = O)."""
    return float(stats.norm.ppf(stats.poisson.cdf(o - 1, e) + 0.5 * stats.poisson.pmf(o, e)))


def _p_low(o: float, e: float, tau2: float) -> float:
    """P(X ≤ O), X Poisson(E·θ), √θ ~ N(1, τ²), by Gauss–Hermite quadrature."""
    theta = np.clip(1.0 + math.sqrt(tau2) * _GH_X, 0.0, None) ** 2
    p = float((stats.poisson.cdf(math.floor(o), e * theta) * _GH_W).sum())
    return min(max(p, 0.0), 1.0)


def low_outlier_loop(panel: pd.DataFrame, exposure: pd.DataFrame, *, period=None,
                     indicator: str = "major_hazards_found", min_peers: int = 5,
                     winsor: float = 0.2, min_expected: float = 3.0, alert: float = 0.01,
                     warning: float = 0.05, info_p: float = 0.05) -> pd.DataFrame:
    """``low_outlier(model="sqrt-normal")`` with that model's defaults (pooled peer
    rate leaving the unit out, exposure = enterprises supervised, cumulative window up
    to ``period``, exact z-scores) computed one unit at a time."""
    end = period_bounds(period)[1] if period is not None else None
    # period arithmetic once per distinct period, as anyone would cache it
    ends = {p: period_bounds(p)[1] for p in panel["period"].unique()}
    enterprises: dict[str, float] = {}
    by_sector: dict[str, float] = {}
    for row in exposure.itertuples(index=False):
        sector = "" if pd.isna(row.sector) else str(row.sector)
        target = enterprises if sector == "" else by_sector
        if not pd.isna(row.enterprises):
            target[row.unit] = target.get(row.unit, 0.0) + float(row.enterprises)
    units = []  # unit, type, observed, exposure
    for unit, rows in panel.groupby("unit", sort=True, observed=True):
        types = rows["unit_type"].dropna()
        unit_type = types.iloc[0] if len(types) else None
        total, seen = 0.0, False
        for p, ind, v in zip(rows["period"], rows["indicator"], rows["value"]):
            if ind != indicator or (end is not None and ends[p] > end):
                continue
            total += float(v)
            seen = True
        if not seen:
            continue
        x = enterprises.get(unit, by_sector.get(unit, math.nan))
        units.append({"unit": unit, "type": "" if unit_type is None else str(unit_type),
                      "o": total, "x": x if x > 0 else math.nan})
    tested_per_type: dict[str, int] = {}
    for u in units:
        if not math.isnan(u["x"]):
            tested_per_type[u["type"]] = tested_per_type.get(u["type"], 0) + 1
    for u in units:
        u["peer"] = u["type"] if tested_per_type.get(u["type"], 0) >= min_peers else "all"
    # pooled rate per peer group (and over all tested units), then each unit left out
    sums: dict[str, list[float]] = {"all": [0.0, 0.0]}
    for u in units:
        s = sums.setdefault(u["peer"], [0.0, 0.0])
        if not math.isnan(u["x"]):
            s[0] += u["o"]
            s[1] += u["x"]
            if u["peer"] != "all":
                sums["all"][0] += u["o"]
                sums["all"][1] += u["x"]
    groups: dict[str, tuple[list, list]] = {"all": ([], [])}
    for u in units:
        u["e"] = math.nan
        if math.isnan(u["x"]):
            continue
        o_sum, x_sum = sums[u["peer"]][0] - u["o"], sums[u["peer"]][1] - u["x"]
        e = o_sum / x_sum * u["x"] if x_sum > 0 else math.nan
        if e > 0:
            u["e"] = e
            z = _exact_z(u["o"], e)
            s = 1 / (2 * math.sqrt(e))
            for key in {u["peer"], "all"}:
                groups.setdefault(key, ([], []))
                if math.isfinite(z):
                    groups[key][0].append(z)
                    groups[key][1].append(s)
    tau2 = {}
    for key, (z, s) in groups.items():
        if len(z) < 2:
            tau2[key] = 0.0
            continue
        lo, hi = np.quantile(z, [winsor, 1 - winsor])
        phi = sum(min(max(v, lo), hi) ** 2 for v in z) / len(z)
        w = [1 / v ** 2 for v in s]
        denom = sum(w) - sum(v ** 2 for v in w) / sum(w)
        tau2[key] = max(0.0, (len(z) * phi - (len(z) - 1)) / denom) if denom > 0 else 0.0
    tested = [u for u in units if not math.isnan(u["e"]) and u["e"] >= min_expected]
    for u in tested:
        u["p"] = _p_low(u["o"], u["e"], tau2.get(u["peer"], 0.0))
    q_values = _bh([u["p"] for u in tested])
    rows = []
    for u, q in zip(tested, q_values):
        if q < warning or u["p"] < info_p:
            rows.append({"unit": u["unit"], "indicator": indicator, "p_value": u["p"],
                         "q_value": q, "severity": _severity(q, alert, warning)})
    return _result(rows)


# --------------------------------------------------------------- repeated_value
def _count_pmf(mean: float, ratio: float) -> list[float]:
    """[P(X = 0), …] for X with mean ``mean`` and variance ratio·mean: Poisson at
    ratio 1 (or a negative binomial so near it that it is one), a negative binomial
    above, a normal discretised to the integers ≥ 0 below; up to mean + 12 sd + 10,
    the mass beyond left to values that never repeat."""
    sd = math.sqrt(ratio * mean)
    k = np.arange(0, int(math.ceil(mean + 12 * sd)) + 11, dtype="float64")
    if ratio > 1.0:
        size = mean / (ratio - 1.0)
        if size > 1e8:
            return list(stats.poisson.pmf(k, mean))
        return list(stats.nbinom.pmf(k, size, size / (size + mean)))
    if ratio == 1.0:
        return list(stats.poisson.pmf(k, mean))
    dens = -0.5 * ((k - mean) / sd) ** 2
    return list(np.exp(dens - special.logsumexp(dens)))


def _run_tail(pmf: list[float], length: int, n: int) -> float:
    """P(some run of ``length`` ≥ 2 equal positive values among ``n`` independent
    draws from ``pmf``): a chain over the draws whose state is (last value, its run
    so far) or none (a 0 or nothing yet); the mass reaching ``length`` is summed."""
    top = len(pmf) - 1
    free = 1.0 - sum(pmf[1:])
    runs = [[0.0] * length for _ in range(top + 1)]  # runs[y][j]: last y, run j
    none, hit = 1.0, 0.0
    for _ in range(n):
        ends = [sum(r) for r in runs]
        # the mass whose last value is not y, from sums of positive terms only
        before = [0.0] * (top + 2)
        for y in range(1, top + 1):
            before[y + 1] = before[y] + ends[y]
        after = [0.0] * (top + 2)
        for y in range(top, 0, -1):
            after[y - 1] = after[y] + ends[y]
        new = [[0.0] * length for _ in range(top + 1)]
        for y in range(1, top + 1):
            p = pmf[y]
            hit += runs[y][length - 1] * p
            new[y][1] = p * (none + before[y] + after[y])
            for j in range(1, length - 1):
                new[y][j + 1] = runs[y][j] * p
        none = free * (none + before[top + 1])
        runs = new
    return min(hit, 1.0)


def _log_run_p(mean: float, ratio: float, length: int, n: int,
               exact_sd: float = 30.0) -> float:
    """log P(the longest run of equal positive values among ``n`` draws ≥ ``length``)
    (``_count_pmf``'s law); above ``exact_sd`` the normal union bound
    (n − L + 1)·(2πσ²)^(−(L−1)/2)/√L."""
    sd = math.sqrt(ratio * mean)
    if sd > exact_sd:
        return (math.log(n - length + 1) - (length - 1) / 2 * math.log(2 * math.pi * sd ** 2)
                - 0.5 * math.log(length))
    tail = _run_tail(_count_pmf(mean, ratio), length, n)
    return math.log(tail) if tail > 0 else -math.inf


def _peer_spreads(every: dict, floors: dict, min_run: int, min_units: int = 5) -> dict:
    """(indicator, frequency) -> the median over its units of (s² − m)/m² (s² the
    series' variance, m its mean less its floor where that is below it), from the
    series of at least max(4, min_run) figures with m > 0; absent under
    ``min_units`` of them."""
    spreads: dict[tuple, list] = {}
    for (unit, ind, f), points in every.items():
        values = [v for _, v in points]
        n = len(values)
        if n < max(min_run, 1) or n < 4:
            continue
        mean = sum(values) / n
        floor = floors.get((unit, ind, f), (None,))[0]
        m = mean - (floor if floor is not None and floor < mean else 0.0)
        if m > 0:
            var = sum((v - mean) ** 2 for v in values) / (n - 1)
            spreads.setdefault((ind, f), []).append((var - m) / m ** 2)
    return {key: float(np.median(v)) for key, v in spreads.items() if len(v) >= min_units}


def _position(p: str) -> tuple[str, int]:
    f = period_freq(p)
    within = {"M": lambda s: int(s[5:7]) - 1, "Q": lambda s: int(s[-1]) - 1,
              "H": lambda s: int(s[-1]) - 1, "Y": lambda s: 0}[f](p)
    return f, int(p[:4]) * _PER_YEAR[f] + within


def _group_floor(series: list[list[float]], min_units: int, unit_share: float, below: float):
    """The mandated minimum of one group's series (each a unit's whole figures), or
    None: the constant minimum of ``checks.balance.floors.mandated_minimum`` (the
    loop has no exposure, so no quota per enterprise)."""
    smallest = [min(v for v in values if v > 0) for values in series
                if any(v > 0 for v in values)]
    if len(smallest) < min_units:
        return None
    counts: dict[float, int] = {}
    for v in smallest:
        counts[v] = counts.get(v, 0) + 1
    m = min(counts, key=lambda v: (-counts[v], v))
    if counts[m] < unit_share * len(smallest):
        return None
    whole = [v for values in series for v in values if v >= 0]
    if sum(v < m for v in whole) > below * len(whole):
        return None
    return m


def _spread(series: list[list[float]], floor: float) -> tuple[float, float]:
    """(ρ, k) of the excess over ``floor`` by moments, w = 1 (``floors.floor_model``)."""
    s = [sum(max(v - floor, 0.0) for v in values if v >= 0) for values in series]
    n = [sum(1 for v in values if v >= 0) for values in series]
    rho = sum(s) / sum(n) if sum(n) > 0 else 0.0
    big = [rho * x for x in n]
    den = sum(b * b for b in big)
    inv_k = sum((a - b) ** 2 - b for a, b in zip(s, big)) / den if den > 0 else 0.0
    return rho, (1.0 / inv_k if inv_k > 1e-12 else 1e12)


def _floors(figures: dict, unit_type: dict, min_units: int = 5, unit_share: float = 0.5,
            below: float = 0.1) -> dict:
    """(unit, indicator, frequency) -> (mandated minimum, ρ, k), for the series that
    have one: the floor of the unit's type when at least ``min_units`` of its units
    have a positive figure, its excess fitted over the type; else that of all units,
    fitted over all units."""
    groups: dict[tuple, list] = {}
    for (unit, ind, f), values in figures.items():
        groups.setdefault((unit_type[unit], ind, f), []).append(values)
        groups.setdefault(("*", ind, f), []).append(values)
    fits: dict[tuple, tuple | None] = {}
    out = {}
    for (unit, ind, f), values in figures.items():
        key = (unit_type[unit], ind, f)
        if sum(any(v > 0 for v in vs) for vs in groups[key]) < min_units:
            key = ("*", ind, f)
        if key not in fits:
            floor = _group_floor(groups[key], min_units, unit_share, below)
            fits[key] = None if floor is None else (floor, *_spread(groups[key], floor))
        if fits[key] is not None:
            out[(unit, ind, f)] = fits[key]
    return out


def _longest(points, names, f, period, keep) -> tuple | None:
    """(length, start index, end index) of the longest run of equal figures whose
    value ``keep`` accepts (the latest on a tie; with ``period`` the run ending there)."""
    best, i = None, 0
    while i < len(points):
        j = i
        while (j + 1 < len(points) and points[j + 1][1] == points[i][1]
               and points[j + 1][0] == points[j][0] + 1):
            j += 1
        last = names[(f, points[j][0])]
        if points[i][1] > 0 and keep(points[i][1]) and (period is None or last == period):
            if best is None or j - i + 1 >= best[0]:
                best = (j - i + 1, i, j)
        i = j + 1
    return best


def repeated_value_loop(panel: pd.DataFrame, *, period=None, min_run: int = 3,
                        min_ratio: float = 0.1, peer_weight: float = 10.0,
                        info_p: float = 1e-3, alert: float = 0.01,
                        warning: float = 0.05) -> pd.DataFrame:
    """``repeated_value`` (without exposure) computed one unit, indicator and period
    at a time."""
    end = freq_p = None
    if period is not None:
        end, freq_p = period_bounds(period)[1], period_freq(period)
    ends = {p: period_bounds(p)[1] for p in panel["period"].unique()}
    freqs = {p: _position(p) for p in panel["period"].unique()}
    measured = {i: catalogue.indicator_unit(i) in _MEASURED_UNITS
                for i in panel["indicator"].unique()}
    every = {}  # (unit, indicator, frequency) -> the series' points
    names: dict[tuple[str, int], str] = {}
    unit_type = {}
    for unit, rows in panel.groupby("unit", sort=True, observed=True):
        types = rows["unit_type"].dropna()
        unit_type[unit] = str(types.iloc[0]) if len(types) else ""
        figures: dict[tuple[str, str], dict[int, float]] = {}
        for p, ind, v in zip(rows["period"], rows["indicator"], rows["value"]):
            if measured[ind]:
                continue
            f, pos = freqs[p]
            if period is not None and (f != freq_p or ends[p] > end):
                continue
            series = figures.setdefault((ind, f), {})
            series[pos] = series.get(pos, 0.0) + v
            names[(f, pos)] = p
        for (ind, f), series in figures.items():
            every[(unit, ind, f)] = [(pos, v) for pos, v in sorted(series.items()) if v % 1 == 0]
    floors = _floors({k: [v for _, v in pts] for k, pts in every.items()}, unit_type)
    peers = _peer_spreads(every, floors, min_run)
    candidates = []  # per series: its longest run away from the floor, and at it
    n_tested = 0
    for (unit, ind, f), points in every.items():
        if len(points) < min_run or not points:
            continue
        values = [v for _, v in points]
        n_tested += 1
        floor, rho, k = floors.get((unit, ind, f), (None, 0.0, 1.0))
        away = _longest(points, names, f, period, lambda v: v != floor)
        if away is not None:
            candidates.append((unit, ind, values, away, floor, None, peers.get((ind, f))))
        if floor is not None:
            n_tested += 1
            at = _longest(points, names, f, period, lambda v: v == floor)
            if at is not None:
                candidates.append((unit, ind, values, at, floor, (rho, k), None))
    p_values, keep = [], []
    for unit, ind, values, (length, i, j), floor, spread, inv_k in candidates:
        n = len(values)
        if length < 2:
            p = 1.0
        elif spread is not None:
            # at the floor: (1 + L·ρ/k)^−k, the chance for a unit drawn from its peers
            rho, k = spread
            log_p = math.log(n - length + 1) + (-k * math.log1p(length * rho / k)
                                                if rho > 0 else 0.0)
            p = math.exp(min(log_p, 0.0))
        else:
            mean = sum(values) / n
            shift = floor if floor is not None and floor < mean else 0.0
            run_value = values[i]
            rest = values[:i] + values[j + 1:]
            # the peers' ratio at this unit's mean, 1 + (μ − F)/k (1/k below 0: Poisson)
            peer = 1.0 + (mean - shift) * max(inv_k if inv_k is not None else 0.0, 0.0)
            own, d = 0.0, 0.0  # the unit's variance/mean outside the run
            if len(rest) >= 3:
                # From the series' moments less the run's, as the library does.
                s1, s2 = sum(values), sum(v * v for v in values)
                m = (s1 - length * run_value) / len(rest)
                var = (s2 - length * run_value ** 2 - len(rest) * m ** 2) / (len(rest) - 1)
                if m - shift > 0:
                    own, d = var / (m - shift), len(rest) - 1.0
            if peer_weight > 0:
                ratio = (d * own + peer_weight * peer) / (d + peer_weight)
            else:
                ratio = own if d > 0 else peer
            ratio = max(ratio, min_ratio)
            log_p = _log_run_p(mean - shift, ratio, length, n)
            p = math.exp(min(log_p, 0.0))
        p_values.append(p)
        keep.append((unit, ind, length))
    q_values = _bh(p_values, n_tested)
    rows = []
    for (unit, ind, length), p, q in zip(keep, p_values, q_values):
        if length < min_run:
            continue
        severity = _severity(q, alert, warning)
        if severity != "info" or p < info_p:
            rows.append({"unit": unit, "indicator": ind, "p_value": p, "q_value": q,
                         "severity": severity})
    return _result(rows)


def library_flags(findings: pd.DataFrame) -> pd.DataFrame:
    """A library findings table in this module's result form, for comparison."""
    out = findings[["unit", "indicator", "p_value", "q_value", "severity"]]
    return out.sort_values(["unit", "indicator"], kind="stable").reset_index(drop=True)


def assert_same(loop: pd.DataFrame, library: pd.DataFrame, what: str, *,
                rtol: float = 1e-6) -> None:
    """Raise AssertionError unless both flag the same (unit, indicator) pairs with the
    same severities and p-values equal to ``rtol``."""
    lib = library_flags(library)
    a = list(zip(loop["unit"], loop["indicator"], loop["severity"]))
    b = list(zip(lib["unit"], lib["indicator"], lib["severity"]))
    if a != b:
        only_loop = sorted(set(a) - set(b))[:5]
        only_lib = sorted(set(b) - set(a))[:5]
        raise AssertionError(f"{what}: loop and library disagree; loop only {only_loop}, "
                             f"library only {only_lib}")
    if len(a) and not np.allclose(loop["p_value"], lib["p_value"], rtol=rtol, atol=1e-300):
        raise AssertionError(f"{what}: p-values differ beyond rtol={rtol}")
