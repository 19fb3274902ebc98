"""The oracle: for each planted kind, the exact test with the true generating
parameters of the district, Benjamini–Hochberg over the kind's tests at the checks'
levels (warning q < 0.05, alert q < 0.01).  It shows what is achievable on a cell of
the grid; the checks are compared with it.

The oracle knows the model and the shape of each kind's alternative (which months a
mild zero run covers, which rounding base heaping uses) but not where an anomaly was
planted: every unit (or pair of units of a type) is tested, as a check would.  Tests:

===================== ========================================================================
kind                  test (null: the district as generated, nothing planted)
===================== ========================================================================
low_reporter          P(Y ≤ y), Y the year's major hazards, negative binomial given the unit
                      effect u, integrated over u's law (the unit effect is not known)
zero_reporter         P(Y_W = 0) over the kind's window, the same mixture
surge                 P(X_t ≥ x) given the unit's year total: Dirichlet-multinomial split
                      over months, so beta-binomial per month (months in the second half)
district_step         P(Σ_i X_iW ≥ x) given each unit's total: the sum of the units'
                      beta-binomials (convolved) for a step at month T−4, T−3 or T−2
low_self_report       P(E ≤ e) given found N: beta-binomial with the self-report Beta(9, 21)
coordinated_group     per pair of units of a type: P(agreements ≥ observed), Poisson-binomial
                      over months with P(agree) = Σ_k f_a(k)·f_b(k) (exact) or within ±1,
                      each unit's own true monthly law (its effect known)
identical_rows        per pair and month with equal rows: Π over five independent indicators
                      of P(equal), an upper bound of P(the whole row equal)
flat_line             P(all months of the window equal) = Σ_k Π_t f_t(k)
last_digit_heaping    Poisson-binomial tail of the months ending in 0 or 5, each month's chance
                      from the persons' law given the sessions held
round_number_heaping  the same for multiples of 50
pinned_rate           P(R ≥ r) given N found in the window: beta-binomial with Beta(40, 10)
rule_break            a broken rule cannot happen in honest data: p = 0
===================== ========================================================================
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special, stats

from ..catalogue import RULES
from ..findings import severity_from_q
from .districts import (DRILL_EXTRA, PRINCIPAL_PERSONS_SHAPE, SECOND_MEETING, STRENGTHS,
                        WORKER_PERSONS_SHAPE, District, DistrictParams)
from .effects import (count_pmf, mixture_cdf, nb_residue_prob, pair_products,
                      poisson_binomial_sf)
from .inject import GROUP_VARIANTS

ORACLE_COLUMNS = ["check", "unit", "indicator", "period", "p_value", "q_value", "severity"]
FLAT_INDICATORS = ("units_inspected", "general_hazards_found")
PERSONS_INDICATORS = ("principal_training_persons", "worker_training_persons")
ROW_INDICATORS = ("major_hazards_found", "general_hazards_found", "units_inspected",
                  "principal_training_sessions", "worker_training_sessions")


def _window(params: DistrictParams, key: str) -> np.ndarray:
    count = STRENGTHS[params.strength][key]
    T = len(params.periods)
    return np.arange(T) if count is None or count >= T else np.arange(T - count, T)


def _shape(params, season):
    return None if params.month_shape is None else params.month_shape * np.asarray(season)


def true_pmf(params: DistrictParams, indicator: str, kmax: int, idx=None) -> np.ndarray:
    """P(value = k) for k = 0..kmax, array [unit, month, k], of an honest figure given
    each unit's own parameters (its effect known)."""
    u = params.units if idx is None else params.units.iloc[idx]
    T = len(params.periods)
    k = np.arange(kmax + 1)

    def shifted_poisson(shift, lam):
        pmf = stats.poisson.pmf(k[None, :] - shift[:, None], lam[:, None])
        return np.repeat(pmf[:, None, :], T, axis=1)

    if indicator in ("major_hazards_found", "general_hazards_found"):
        season = params.major_season if indicator.startswith("major") else params.season
        col = "major_mean" if indicator.startswith("major") else "general_mean"
        mean = u[col].to_numpy()[:, None] * season[None, :]
        shape = _shape(params, season)
        return count_pmf(mean, None if shape is None else np.broadcast_to(shape, mean.shape), kmax)
    if indicator == "worker_training_sessions":
        mean = np.repeat(u["worker_mean"].to_numpy()[:, None], T, axis=1)
        shape = None if params.month_shape is None else np.full(mean.shape, params.month_shape)
        return count_pmf(mean, shape, kmax)
    if indicator == "units_inspected":
        return shifted_poisson(u["quota"].to_numpy(), u["inspect_extra"].to_numpy())
    if indicator == "principal_training_sessions":
        return shifted_poisson(np.ones(len(u)), u["principal_extra"].to_numpy())
    if indicator == "drill_enterprises":
        return shifted_poisson(np.ones(len(u)), u["drill_extra"].to_numpy())
    if indicator == "penalties":
        return shifted_poisson(np.zeros(len(u)), u["penalty_mean"].to_numpy())
    if indicator == "safety_meetings":
        pmf = np.zeros((len(u), T, kmax + 1))
        pmf[..., 1], pmf[..., 2] = 1 - SECOND_MEETING, SECOND_MEETING
        return pmf
    raise KeyError(f"no true law for {indicator!r} in the oracle")


def _kmax(d: District, indicator: str, idx=None) -> int:
    obs = d.values[indicator] if idx is None else d.values[indicator][idx]
    u = d.params.units if idx is None else d.params.units.iloc[idx]
    top = {"major_hazards_found": u["major_mean"] * d.params.major_season.max(),
           "general_hazards_found": u["general_mean"] * d.params.season.max(),
           "worker_training_sessions": u["worker_mean"],
           "units_inspected": u["quota"] + u["inspect_extra"],
           "principal_training_sessions": 1 + u["principal_extra"],
           "drill_enterprises": 1 + u["drill_extra"], "penalties": u["penalty_mean"],
           "safety_meetings": 2 + 0 * u["quota"]}[indicator].max()
    return int(max(obs.max(), top + 12 * np.sqrt(top + top ** 2 / 5) + 15))


# ------------------------------------------------------------ one unit at a time
def _mixture_cdf(d: District, y, months) -> np.ndarray:
    """P(Y ≤ y) for Y the unit's major hazards over ``months``, integrated over the
    unit effect: Y | u is negative binomial with shape m·Σs_t and mean u·b·Σs_t, b the
    unit's mean at u = 1 (enterprises × type rate)."""
    p = d.params
    s = p.major_season[months].sum()
    base = (p.units["major_mean"] / p.units["u_hazard"]).to_numpy() * s
    return mixture_cdf(y, base, None if p.month_shape is None else p.month_shape * s, p.effect)


def _low_reporter(d):
    T = len(d.params.periods)
    y = d.values["major_hazards_found"].sum(axis=1)
    return _rows(d, np.arange(len(y)), "major_hazards_found", None,
                 _mixture_cdf(d, y, np.arange(T)))


def _zero_reporter(d):
    months = _window(d.params, "zero")
    y = d.values["major_hazards_found"][:, months].sum(axis=1)
    p = np.where(y == 0, _mixture_cdf(d, np.zeros_like(y), months), 1.0)
    return _rows(d, np.arange(len(y)), "major_hazards_found", None, p)


def _split_params(params, season):
    """Dirichlet-multinomial α of a unit's split over months (None: multinomial)."""
    return None if params.month_shape is None else params.month_shape * season


def _surge(d):
    p = d.params
    y = d.values["major_hazards_found"]
    n = y.sum(axis=1)
    alpha = _split_params(p, p.major_season)
    T = y.shape[1]
    rows = []
    for t in range(T // 2, T):
        if alpha is None:
            pv = stats.binom.sf(y[:, t] - 1, n, p.major_season[t] / p.major_season.sum())
        else:
            pv = stats.betabinom.sf(y[:, t] - 1, n, alpha[t], alpha.sum() - alpha[t])
        rows.append(_rows(d, np.arange(len(n)), "major_hazards_found", p.periods[t],
                          np.where(n > 0, pv, 1.0)))
    return pd.concat(rows, ignore_index=True)


def _district_step(d):
    p = d.params
    y = d.values["major_hazards_found"]
    n = y.sum(axis=1)
    alpha = _split_params(p, p.season)        # the null: no step
    T = y.shape[1]
    out = []
    for t0 in range(T - 5, T - 2):
        dist = np.ones(1)
        for ni in n[n > 0]:
            k = np.arange(ni + 1)
            if alpha is None:
                pmf = stats.binom.pmf(k, ni, p.season[t0:].sum() / p.season.sum())
            else:
                pmf = stats.betabinom.pmf(k, ni, alpha[t0:].sum(), alpha[:t0].sum())
            dist = np.convolve(dist, pmf)
        x = int(y[:, t0:].sum())
        out.append(min(1.0, dist[x:].sum()) if x < len(dist) else 0.0)
    return pd.DataFrame({"unit": pd.NA, "indicator": "major_hazards_found", "period": pd.NA,
                         "p_value": out})


def _low_self_report(d):
    a, b = d.params.self_report_beta
    n = d.values["major_hazards_found"].sum(axis=1)
    e = d.values["major_hazards_found_enterprise"].sum(axis=1)
    pv = np.where(n > 0, stats.betabinom.cdf(e, n, a, b), np.nan)
    return _rows(d, np.arange(len(n)), "major_hazards_found_enterprise", None, pv)


def _pinned_rate(d):
    a, b = d.params.rectify_beta
    months = _window(d.params, "pinned")
    v = d.values
    n = (v["major_hazards_found"][:, months] + v["general_hazards_found"][:, months]).sum(axis=1)
    r = (v["major_hazards_rectified"][:, months]
         + v["general_hazards_rectified"][:, months]).sum(axis=1)
    pv = np.where(n > 0, stats.betabinom.sf(r - 1, n, a, b), np.nan)
    return _rows(d, np.arange(len(n)), "major_hazards_rectified", None, pv)


def _flat_line(d):
    months = _window(d.params, "flat")
    out = []
    for ind in FLAT_INDICATORS:
        y = d.values[ind][:, months]
        flat = np.flatnonzero((y == y[:, :1]).all(axis=1))
        pv = np.ones(len(y))            # a series that is not flat: p = 1
        if len(flat):
            f = true_pmf(d.params, ind, _kmax(d, ind, flat), flat)[:, months, :]
            with np.errstate(divide="ignore"):
                pv[flat] = np.exp(special.logsumexp(np.log(f).sum(axis=1), axis=-1))
        out.append(_rows(d, np.arange(len(y)), ind, None, pv))
    return pd.concat(out, ignore_index=True)


def _heaping(base, kind):
    def test(d):
        p = d.params
        out = []
        for ind in PERSONS_INDICATORS:
            sessions = d.values[ind.replace("persons", "sessions")].astype(float)
            persons = d.values[ind]
            principal = ind.startswith("principal")
            col = "principal_persons" if principal else "worker_persons"
            shape_1 = PRINCIPAL_PERSONS_SHAPE if principal else WORKER_PERSONS_SHAPE
            mean = sessions * (p.units[col].to_numpy()[:, None] - 1)
            shape = np.maximum(shape_1 * sessions, 1e-9)
            pnb = shape / (shape + np.maximum(mean, 1e-12))
            # sessions + X a multiple of base: X ≡ −sessions (mod base)
            chance = np.where(sessions > 0,
                              nb_residue_prob(shape, pnb, (-sessions) % base, base), 1.0)
            count = (persons % base == 0).sum(axis=1)
            out.append(_rows(d, np.arange(len(count)), ind, None,
                             poisson_binomial_sf(chance, count)))
        return pd.concat(out, ignore_index=True)
    test.__name__ = f"_{kind}"
    return test


def _coordinated_group(d):
    """Months in which both units report 0 are left out: the test is conditional on
    which months those are (months are independent, so each remaining month agrees
    with chance (P(agree) − P(both 0)) / (1 − P(both 0)))."""
    out = []
    for idx in _pairs_of_types(d):
        a, b = np.triu_indices(len(idx), 1)
        for ind, mode in GROUP_VARIANTS:
            f = true_pmf(d.params, ind, _kmax(d, ind, idx), idx)
            y = d.values[ind][idx]
            if mode == "near":
                g = f.copy()
                g[..., 1:] += f[..., :-1]
                g[..., :-1] += f[..., 1:]
                agree = np.abs(y[a] - y[b]) <= 1
            else:
                g = f
                agree = y[a] == y[b]
            both0 = (y[a] == 0) & (y[b] == 0)
            p00 = f[a, :, 0] * f[b, :, 0]
            chance = pair_products(f, g)[a, b]
            chance = np.where(both0, 0.0, (chance - p00) / np.maximum(1 - p00, 1e-300))
            pv = poisson_binomial_sf(chance, (agree & ~both0).sum(axis=1))
            out.append(_pair_rows(d, idx[a], idx[b], ind, None, pv))
    return pd.concat(out, ignore_index=True)


def _nb_self_agreement(shape_per_session, persons_mean, smax) -> np.ndarray:
    """g(s) = P(two units holding s sessions report the same persons), s = 0..smax,
    persons = s + NB(shape·s, mean s·(persons_mean − 1)) for both units."""
    g = np.ones(smax + 1)
    for s_ in range(1, smax + 1):
        mean, n = s_ * (persons_mean - 1), shape_per_session * s_
        k = np.arange(int(mean + 15 * np.sqrt(mean + mean ** 2 / n)) + 20)
        g[s_] = (stats.nbinom.pmf(k, n, n / (n + mean)) ** 2).sum()
    return g


def _equal_given_root(f, weight) -> np.ndarray:
    """P[a, b, t] = Σ_r f_a,t(r)·f_b,t(r)·weight(r): a root figure equal and a child
    figure equal given it, with chance weight(r) the same for every pair."""
    return pair_products(f, f * weight)


def _split_agreement(f, share) -> np.ndarray:
    """P[a, b, t] that found and its binomial split (share π_a, π_b) both agree."""
    n, T, K = f.shape
    out = np.zeros((n, n, T))
    for r in range(K):
        if f[..., r].max() < 1e-15:
            continue
        c = np.arange(r + 1)
        bins = stats.binom.pmf(c[None, :], r, share[:, None])       # unit, c
        h = bins @ bins.T                                            # a, b
        out += f[:, None, :, r] * f[None, :, :, r] * h[:, :, None]
    return out


def row_equal_prob(d: District, idx) -> np.ndarray:
    """An upper bound of P(two honest rows of units ``idx`` are equal in a month),
    [a, b, t]: the product over independent blocks of indicators given each unit's
    parameters (major hazards with their source split; general hazards; inspections;
    principal sessions with their persons; worker sessions with their persons; drill
    enterprises with drills; meetings; penalties).  Leaving out the figures not
    modelled here (rectified counts, fines) only makes the bound larger."""
    p = d.params
    u = p.units.iloc[idx]
    major = true_pmf(p, "major_hazards_found", _kmax(d, "major_hazards_found", idx), idx)
    prob = _split_agreement(major, u["self_report"].to_numpy())
    for ind in ("general_hazards_found", "units_inspected", "safety_meetings", "penalties"):
        f = true_pmf(p, ind, _kmax(d, ind, idx), idx)
        prob *= pair_products(f)
    for sessions, persons_col, shape in (
            ("principal_training_sessions", "principal_persons", PRINCIPAL_PERSONS_SHAPE),
            ("worker_training_sessions", "worker_persons", WORKER_PERSONS_SHAPE)):
        k = _kmax(d, sessions, idx)
        g = _nb_self_agreement(shape, float(u[persons_col].iloc[0]), k)
        prob *= _equal_given_root(true_pmf(p, sessions, k, idx), g)
    k = _kmax(d, "drill_enterprises", idx)
    g = np.array([(stats.poisson.pmf(np.arange(8 * e + 30), DRILL_EXTRA * e) ** 2).sum()
                  for e in range(k + 1)])
    prob *= _equal_given_root(true_pmf(p, "drill_enterprises", k, idx), g)
    return prob


def _pairs_of_types(d):
    # units of one type share their persons-per-session law (row_equal_prob needs it)
    types = d.params.units["unit_type"].to_numpy()
    for t in pd.unique(types):
        idx = np.flatnonzero(types == t)
        if len(idx) >= 2:
            yield idx


def _identical_rows(d):
    out = []
    T = len(d.params.periods)
    for idx in _pairs_of_types(d):
        a, b = np.triu_indices(len(idx), 1)
        equal = np.ones((len(a), T), bool)
        for arr in d.values.values():
            equal &= arr[idx[a]] == arr[idx[b]]
        prob = np.ones((len(a), T))     # rows that differ: p = 1
        for pair in np.flatnonzero(equal.any(axis=1)):
            two = idx[[a[pair], b[pair]]]
            prob[pair] = np.where(equal[pair], row_equal_prob(d, two)[0, 1], 1.0)
        for t in range(T):
            out.append(_pair_rows(d, idx[a], idx[b], pd.NA, d.params.periods[t], prob[:, t]))
    return pd.concat(out, ignore_index=True)


def _rule_break(d):
    v = d.values
    n, T = v["major_hazards_found"].shape
    broken = np.zeros((n, T), bool)
    for rule in RULES.itertuples():
        lhs = [c for c in rule.lhs if c in v]
        if rule.kind == "monotone" or len(lhs) != len(rule.lhs) or rule.rhs not in v:
            continue
        left = sum(v[c].astype(float) for c in lhs)
        if rule.kind == "le":
            broken |= left > v[rule.rhs]
        elif rule.kind == "sum":
            broken |= ~np.isclose(left, v[rule.rhs])
        elif rule.kind == "requires":
            broken |= (left > 0) & (v[rule.rhs] <= 0)
    return _rows(d, np.arange(n), pd.NA, None, np.where(broken.any(axis=1), 0.0, 1.0))


def _rows(d, idx, indicator, period, p) -> pd.DataFrame:
    return pd.DataFrame({"unit": d.params.units["unit"].to_numpy()[idx], "indicator": indicator,
                         "period": period if period is not None else pd.NA,
                         "p_value": np.asarray(p, float)})


def _pair_rows(d, ia, ib, indicator, period, p) -> pd.DataFrame:
    """One row per pair test: unit and partner (``oracle_findings`` gives each member
    its own row after BH has counted the test once)."""
    names = d.params.units["unit"].to_numpy()
    return pd.DataFrame({"unit": names[ia], "partner": names[ib], "indicator": indicator,
                         "period": period if period is not None else pd.NA,
                         "p_value": np.asarray(p, float)})


ORACLE_TESTS = {
    "low_reporter": _low_reporter, "zero_reporter": _zero_reporter, "surge": _surge,
    "district_step": _district_step, "low_self_report": _low_self_report,
    "coordinated_group": _coordinated_group, "identical_rows": _identical_rows,
    "flat_line": _flat_line, "last_digit_heaping": _heaping(5, "last_digit_heaping"),
    "round_number_heaping": _heaping(50, "round_number_heaping"),
    "pinned_rate": _pinned_rate, "rule_break": _rule_break,
}


def bh_adjust(p_values) -> np.ndarray:
    """Benjamini–Hochberg q-values (scipy's ``false_discovery_control``); NaN p-values
    stay NaN and are not counted as tests.  The oracle's own copy: it leans on nothing
    inside ``checks/``."""
    p = np.asarray(p_values, dtype="float64")
    q = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        q[ok] = stats.false_discovery_control(np.clip(p[ok], 0.0, 1.0), method="bh")
    return q


def oracle_check(kind: str) -> str:
    """The check id the oracle's findings of ``kind`` carry."""
    return f"oracle:{kind}"


def oracle_findings(d: District, *, kinds=None, alert: float = 0.01,
                    warning: float = 0.05) -> pd.DataFrame:
    """The oracle's findings on a district (its twin: call it on ``d.null``).

    Parameters
    ----------
    d : District
    kinds : list of str, optional
        Kinds to test; default every kind of ``ORACLE_TESTS``.
    alert, warning : float
        BH levels for the severities, as the checks use.

    Returns
    -------
    DataFrame
        ORACLE_COLUMNS plus partner (the other unit of a pair test): one row per test
        and unit, check ``oracle:<kind>``; q-values by Benjamini–Hochberg over the
        kind's tests (a pair test counted once).  ``d`` is not modified.
    """
    frames = []
    for kind in kinds or ORACLE_TESTS:
        t = ORACLE_TESTS[kind](d)
        t = t.assign(q_value=bh_adjust(t["p_value"].to_numpy()))
        if "partner" in t.columns:        # a pair test: one row for each member
            swapped = t.rename(columns={"unit": "partner", "partner": "unit"})
            t = pd.concat([t, swapped[t.columns]], ignore_index=True)
        else:
            t = t.assign(partner=pd.NA)
        frames.append(t.assign(check=oracle_check(kind)))
    out = pd.concat(frames, ignore_index=True)
    out["severity"] = severity_from_q(out["q_value"].to_numpy(), alert=alert, warning=warning)
    return out[ORACLE_COLUMNS + ["partner"]]
