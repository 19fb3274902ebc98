"""Surges after pressure: one unit jumping far above its own history (``surge``).

巴南 2023: "9月单月增加重大事故隐患43个，是5-8月3个月累计排查重大事故隐患个数（69个）的
62.3%", right after the district head's meeting.  A unit that jumps while its peers
do not is ``surge``; a step of the whole group is ``steps.group_shift``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..catalogue import indicator_name, indicator_unit
from ..dataset import require_columns
from ..findings import empty_findings, make_findings, severity_from_q
from ..panel import as_panel
from ..periods import window
from ._stats import bh_adjust, nb_limits
from ._wording import fmt

# Indicators counted as events (hazards, accidents): Poisson limits; others use XmR.
_EVENT_UNITS = {"项", "处", "起"}
# XmR: 3-sigma limits with sigma = mean moving range / d2 (d2 = 1.128 for n = 2).
_D2 = 1.128
_D2_MEDIAN = 0.954  # median moving range ÷ this estimates sigma (Wheeler)


def _unit_period_matrix(panel, indicator: str, period):
    """Units × periods of ``indicator`` over the window up to ``period`` (of any
    frequency, nested as ``periods.nested``; NaN where not reported), for the units
    and periods with a figure of it: the matrix, the units' positions on the panel's
    unit axis, and the periods (time order)."""
    figs, periods = panel.figures([indicator], period, cumulative=True)
    x = figs[:, 0, :]
    has = ~np.isnan(x)
    u = np.flatnonzero(has.any(axis=1))
    t = np.flatnonzero(has.any(axis=0))
    return x[u][:, t], u, [str(p) for p in periods[t]]


def _test_columns(months, period, min_history: int) -> np.ndarray:
    """Which periods are tested: all when ``period`` is None, else those inside
    ``period`` with at least ``min_history`` periods before them."""
    idx = np.arange(len(months))
    ok = idx >= (min_history if period is not None else 0)
    return ok & window(months, period, cumulative=False)


def month_spread(x: np.ndarray, g: np.ndarray, *, peer_noise: float = 1.0,
                 quantile: float = 0.25, min_mean: float = 2.0, min_units: int = 10,
                 kappa_max: float = 2.0) -> np.ndarray:
    """κ, the month-to-month spread of a unit's counts beyond Poisson around its
    peers' shape, estimated from the *other* units: one value per unit.

    Model (``_poisson_surge``): given its total N_i over T_i months, unit i's months
    are Dirichlet-multinomial with α_t = g_t/(ν + κ·ḡ_i) (g the peers' totals, ḡ_i
    their mean over the unit's months, ν = ``peer_noise``: 1 for the Poisson noise
    of the peers' own totals, 0 for a known shape).  The Pearson statistic X²_i of
    its months against N_i·g_t/Σg then has mean (T_i − 1)·φ_i(κ),
    φ_i = 1 + (N_i − 1)/(1 + A_i), A_i = Σα = T_i/(ν/ḡ_i + κ).

    Each unit with at least ``min_mean`` counts a month on average (fewer carry no
    information on κ) gives f_i(κ) = X²_i / (χ²_{T_i−1} quantile × φ_i(κ)),
    decreasing in κ; κ is where the ``quantile`` of the others' f_j is 1 (0 where
    it is ≤ 1 at κ = 0).  A low quantile of the others, not a mean: the anomalous
    units of a district (a surge, a run of zeros) all widen their own spread, so a
    median would still be pulled up by a fifth of them; a surging unit is never one
    of its own "others".  Of a unit left out of the estimate every unit is another;
    of one in it, the others' h-th smallest (h = ⌈q·(n − 1)⌉) is the h-th of all
    where its own f is above that, else the (h + 1)-th.  Fewer than ``min_units``
    such units: κ = 0.  κ on a grid (ratio 1.05 from 10⁻³ to ``kappa_max``)."""
    obs = ~np.isnan(x)
    xs = np.where(obs, x, 0.0)
    gw = np.where(obs, g, 0.0)
    n_obs = obs.sum(axis=1)
    total = xs.sum(axis=1)
    out = np.zeros(len(x))
    use = (n_obs >= 3) & (total >= min_mean * n_obs)
    n = int(use.sum())
    if n < max(min_units, 2):
        return out
    with np.errstate(divide="ignore", invalid="ignore"):
        e = total[:, None] * gw / gw.sum(axis=1, keepdims=True)
        x2 = np.where(obs & (e > 0), (xs - e) ** 2 / e, 0.0).sum(axis=1)
    df = n_obs[use] - 1
    d = x2[use] / stats.chi2.ppf(quantile, df)
    grid = np.r_[0.0, np.geomspace(1e-3, kappa_max, int(np.log(kappa_max / 1e-3)
                                                          / np.log(1.05)) + 1)]
    with np.errstate(divide="ignore"):
        g_bar = gw[use].sum(axis=1) / n_obs[use]
        conc = n_obs[use][None, :] / (peer_noise / g_bar[None, :] + grid[:, None])
        phi = 1 + (total[use] - 1)[None, :] / (1 + conc)
    f = d[None, :] / phi
    ranked = np.sort(f, axis=1)
    h = max(1, int(np.ceil(quantile * (n - 1))))        # 1-based

    def solve(rank):
        below = ranked[:, rank - 1] <= 1
        return int(np.argmax(below)) if below.any() else len(grid) - 1

    i_h, i_h1 = solve(h), solve(h + 1)
    everyone = grid[solve(max(1, int(np.ceil(quantile * n))))]
    out[:] = everyone
    out[np.flatnonzero(use)] = np.where(f[i_h] > 1, grid[i_h], grid[i_h1])
    return out


def _poisson_surge(x: np.ndarray, peer_tot: np.ndarray, baseline: str, *, both_sides: bool,
                   test: np.ndarray | None = None, spread: np.ndarray | float = 0.0,
                   peer_noise: float = 0.0):
    """Conditional test of each value against the unit's other periods, for every
    unit × period at once.  Under H0 the unit's count in period m is Poisson with
    mean c·θ_m·G_m (G_m: its peers' total without it, ``baseline='group'``; or 1,
    ``'own'``), θ_m its month effect, Gamma with mean 1 and shape G_m/(ν + Ḡκ)
    (κ = ``spread``, per unit; Ḡ the mean of G over its periods; ν =
    ``peer_noise`` with ``'group'``: the peers' G_m is itself a count, known to
    relative variance about 1/G_m).  Given the total N of the reference periods
    plus the tested one, the tested count is beta-binomial BB(N, G_t/(ν + Ḡκ),
    ΣG_ref/(ν + Ḡκ)); Binomial(N, G_t/(ΣG_ref + G_t)) where ν = κ = 0.
    Reference: the earlier periods, or with ``both_sides`` every other period.
    Returns expected, p (upper tail; NaN where not testable, and outside ``test``
    when given: the tail is the costly part, so it is computed only where it will be
    used) and the tested period's shape G_t/(ν + Ḡκ) (inf for the binomial)."""
    obs = ~np.isnan(x)
    g = peer_tot if baseline == "group" else np.ones_like(x)
    if baseline not in ("group", "own"):
        raise ValueError(f"baseline must be 'group' or 'own', got {baseline!r}")
    # a period where the peers found nothing still gets a little weight
    g = np.where(obs, g + 0.5, 0.0)
    xs = np.where(obs, x, 0.0)
    if both_sides:
        s_hist = xs.sum(axis=1, keepdims=True) - xs
        g_hist = g.sum(axis=1, keepdims=True) - g
    else:
        s_hist = np.cumsum(xs, axis=1) - xs
        g_hist = np.cumsum(g, axis=1) - g
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = s_hist * g / g_hist
        g_bar = g.sum(axis=1, keepdims=True) / obs.sum(axis=1, keepdims=True)
        # α per unit of G: 1/(ν + Ḡκ), inf (the binomial) where both are 0
        kappa = np.broadcast_to(np.asarray(spread, float), (len(x),))[:, None]
        nu = peer_noise if baseline == "group" else 0.0
        a_per_g = 1.0 / (nu + g_bar * kappa)
    shape = g * a_per_g
    ok = obs & (g_hist > 0)
    if test is not None:
        ok &= test
    p = np.full(x.shape, np.nan)
    n_ok = s_hist + xs
    binom = ok & np.isinf(shape)
    p[binom] = stats.binom.sf(xs[binom] - 1, n_ok[binom], g[binom] / (g_hist[binom] + g[binom]))
    bb = ok & ~np.isinf(shape)
    a_hist = g_hist * a_per_g
    # compiled and exact in the far tail, where scipy's sf (1 − cdf) stops at about
    # 1e-12 (tests/reference/betabinom_tail.py); P(X > ⌊x − 1⌋) as scipy reads x
    from ._bb_tail import betabinom_sf  # numba loads on first use
    p[bb] = betabinom_sf(np.floor(xs[bb] - 1) + 1, n_ok[bb], shape[bb], a_hist[bb])
    return expected, p, shape


def _reference_total(x: np.ndarray, period) -> np.ndarray:
    """Each unit-period's total of the tested and reference periods (every period
    without ``period``, else the period and those before it)."""
    xs = np.nan_to_num(x)
    if period is None:
        return np.broadcast_to(xs.sum(axis=1, keepdims=True), xs.shape)
    return np.cumsum(xs, axis=1)


def _xmr_surge(x: np.ndarray, test: np.ndarray | None = None):
    """XmR (individuals) chart on the unit's own history: centre the mean of the
    earlier values, sigma the mean moving range of consecutive earlier values ÷ 1.128;
    statistic (x − centre)/sigma, p its normal upper tail (only where ``test`` when
    given).  Returns expected, upper, statistic, p."""
    obs = ~np.isnan(x)
    xs = np.where(obs, x, 0.0)
    n_hist = np.cumsum(obs, axis=1) - obs
    mean = (np.cumsum(xs, axis=1) - xs) / np.where(n_hist > 0, n_hist, np.nan)
    mr = np.abs(np.diff(x, axis=1))
    mr_ok = ~np.isnan(mr)
    mr0 = np.where(mr_ok, mr, 0.0)
    # moving ranges strictly before the tested period t: those ending at t-1 or earlier,
    # i.e. mr[:, j] with j <= t-2 (mr[:, j] compares periods j and j+1)
    pad = np.zeros((len(x), 2))
    mr_sum = np.concatenate([pad, np.cumsum(mr0, axis=1)], axis=1)[:, :x.shape[1]]
    mr_n = np.concatenate([pad, np.cumsum(mr_ok, axis=1)], axis=1)[:, :x.shape[1]]
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma = (mr_sum / mr_n) / _D2
        stat = (x - mean) / sigma
        ok = obs & (sigma > 0)
    if test is not None:
        ok &= test
    p = np.full(x.shape, np.nan)
    p[ok] = stats.norm.sf(stat[ok])
    return mean, mean + 3 * sigma, stat, p


def _read(panel, indicator, what):
    if isinstance(panel, pd.DataFrame):
        require_columns(panel, ["unit", "unit_type", "period", "indicator", "value"], what)
    return as_panel(panel, [indicator])


def surge(panel, *, period=None,
          indicator: str = "major_hazards_found", method: str = "auto", baseline: str = "group",
          min_history: int = 3, min_total: float = 8, min_count: float = 3,
          min_ratio: float = 2.0, overdispersed: bool = True,
          alert: float = 0.01, warning: float = 0.05) -> pd.DataFrame:
    """A unit's figure in a period far above its own history (突击上报).

    Parameters
    ----------
    panel : DataFrame or Panel
        The figures.  Not modified.
    period : str, optional
        Test the periods inside ``period`` against the earlier ones; None: every
        period against every other (a retrospective review).
    indicator : str
        The indicator followed (default 重大事故隐患排查数).
    method : {"auto", "poisson", "xmr"}
        ``poisson`` for event counts (项/处/起; what ``auto`` picks for them), ``xmr``
        (an individuals chart) for other indicators.
    baseline : {"group", "own"}
        Poisson only: the unit's share of all other units' total (a step of the
        whole group is then not a unit's surge, see ``group_shift``), or a constant
        mean of its own.
    min_history : int
        A tested period needs at least this many earlier periods.
    min_total : float
        Poisson only: test units with at least this many counts over the tested and
        reference periods (8: a unit finding nothing all year and 8 in one month is
        tested).
    min_count, min_ratio : float
        Poisson only: report a period only when its figure is at least ``min_count``
        and ``min_ratio`` × expected (an increase worth an analyst's time).
    overdispersed : bool
        Poisson only: allow for the month-to-month spread of honest units beyond
        Poisson (estimated from the other units, ``month_spread``) and for the noise
        of the peers' totals; False: the plain binomial test.
    alert, warning : float
        Severity from the Benjamini–Hochberg q-value over every tested unit-period;
        a row is returned when q < ``warning``.

    Returns
    -------
    Findings, one row per unit and period: observed = the figure, expected = what
    the unit's history predicts, upper = the 99.9 % limit (poisson: of a negative
    binomial with mean expected and the month's gamma shape, Poisson's without
    ``overdispersed``) or the 3σ limit (xmr), statistic = observed/expected
    (poisson) or the chart's z (xmr).

    Notes
    -----
    ``poisson``: the unit's counts are Poisson with a share of the total G of all
    other units (or a constant mean) that varies from month to month as a gamma
    (squared coefficient of variation κ·Ḡ/G_t), and G_t is known to its own
    Poisson noise; given the total N of the reference periods plus the tested one,
    the tested count is beta-binomial, BB(N, G_t/(1 + Ḡκ), ΣG_ref/(1 + Ḡκ)).  κ
    is one district-wide spread, read from the other units' months around their
    peers' shape (``month_spread``: a low quantile of their Pearson dispersions, so
    that neither the tested unit nor the other anomalous units widen the null).
    Honest units' months vary more than Poisson (a busy month, a campaign); the
    binomial test of Binomial(N, G_t/(ΣG_ref + G_t)) (``overdispersed=False``)
    called that variation a surge in large units.  ``xmr``: the
    statistic (x − mean)/σ̂ of the earlier values, σ̂ = mean moving range ÷ 1.128,
    against the normal upper tail.
    """
    pv = _read(panel, indicator, "surge")
    x, u, months = _unit_period_matrix(pv, indicator, period)
    if len(months) <= min_history:
        return empty_findings()
    if method == "auto":
        method = "poisson" if indicator_unit(indicator) in _EVENT_UNITS else "xmr"
    if method not in ("poisson", "xmr"):
        raise ValueError(f"method must be 'auto', 'poisson' or 'xmr', got {method!r}")
    test = np.broadcast_to(_test_columns(months, period, min_history)[None, :], x.shape)
    if method == "poisson":
        # units with few hazards in all (reference + tested) cannot show a surge; the
        # conditional test is given that total, so leaving them out keeps it valid
        test = test & (_reference_total(x, period) >= min_total)
        # the district's other units: a unit type's own total is too small and noisy
        # a month-to-month yardstick (a few departments finding 0–2 hazards a month)
        x0 = np.nan_to_num(x)
        peer_tot = x0.sum(axis=0, keepdims=True) - x0
        # the month-to-month spread beyond Poisson, from the other units' months
        # around the same shape (the tested unit's own months do not widen its null)
        shape_g = peer_tot if baseline == "group" else np.ones_like(x)
        # the peers' totals are counts too: their Poisson noise (ν = 1) widens the
        # null with the spread κ; without ``overdispersed`` neither (the binomial)
        nu = 1.0 if overdispersed and baseline == "group" else 0.0
        spread = month_spread(x, np.where(np.isnan(x), 0.0, shape_g + 0.5),
                              peer_noise=nu) if overdispersed else 0.0
        expected, p, month_shape = _poisson_surge(x, peer_tot, baseline,
                                                  both_sides=period is None, test=test,
                                                  spread=spread, peer_noise=nu)
        upper = stat = None  # only on the reported cells, below
    else:
        expected, upper, stat, p = _xmr_surge(x, test=test)
    tested = ~np.isnan(p)
    q = np.full(p.shape, np.nan)
    q[tested] = bh_adjust(p[tested])
    with np.errstate(invalid="ignore"):
        keep = tested & (q < warning)
        if method == "poisson":
            keep &= (x >= min_count) & ((x >= min_ratio * expected) | (expected == 0))
    r, c = np.nonzero(keep)
    if not len(r):
        return empty_findings()
    obs_rc, exp_rc = x[r, c], expected[r, c]
    if method == "poisson":
        shape_rc = month_shape[r, c]
        with np.errstate(divide="ignore", invalid="ignore"):
            upper_rc = np.where(np.isinf(shape_rc),
                                stats.chi2.ppf(0.999, 2 * (exp_rc + 1)) / 2,
                                nb_limits(exp_rc, np.where(np.isinf(shape_rc), 1.0, shape_rc),
                                          level=0.998)[1])
            stat_rc = obs_rc / exp_rc
    else:
        upper_rc, stat_rc = upper[r, c], stat[r, c]
    name, unit = indicator_name(indicator), indicator_unit(indicator)
    f = pd.DataFrame({
        "check": "surge", "unit": pv.units[u[r]], "unit_type": pv.unit_type[u[r]],
        "period": np.array(months, dtype=object)[c],
        "indicator": indicator, "observed": obs_rc, "expected": exp_rc,
        "lower": np.nan, "upper": upper_rc, "statistic": stat_rc, "p_value": p[r, c],
        "q_value": q[r, c], "severity": severity_from_q(q[r, c], alert=alert, warning=warning),
    })
    basis = "按此前各期水平及同类单位走势" if method == "poisson" and baseline == "group" \
        else "按此前各期水平"
    f["message"] = (f["unit"] + "，" + f["period"] + name + fmt(f["observed"]) + unit
                    + f"，{basis}应约" + fmt(f["expected"], ".1f") + unit
                    + "，突增明显（p=" + fmt(f["p_value"], "p") + "），需核实是否集中突击上报。")
    return make_findings(f)
