"""Figures that are multiples of a number: what the heaping tests (``last_digit`` per
indicator, ``round_number``) read of each series, and the chance of a multiple under
the series' own spread.

A *series* is one unit's figures on one count indicator in the periods of the cube
(``panel.Panel.series``).  A figure *counts* when it is a whole number, at least
``min_value`` and not typed as approximate (``17万余``); the mean and variance of
a series are those of all its reported figures."""

from __future__ import annotations

import numpy as np
from scipy import special

# Terms per chunk of rows in the direct lattice sums.
_CHUNK_TERMS = 1 << 18
# At or above this many lattice steps per standard deviation the sum is taken by
# Euler–Maclaurin; below it term by term.
_EM_STEPS = 4.0


# The moduli the heaping checks read by default (last_digit 5; round_number 10, 50,
# 100): counted in the one pass over the cube that both checks then share.
HEAP_MODULI = (5, 10, 50, 100)


def series_stats(cube, min_value: float, moduli) -> dict:
    """Per series of a count indicator with at least one figure that counts.

    The pass over the cube is made once per cube and ``min_value`` (kept in the
    cube's memo, a cube being read-only) for ``moduli`` and ``HEAP_MODULI``
    together, so that ``last_digit`` and ``round_number`` in one ``run_checks``
    read the figures once; each call gets its own copy of the arrays.

    Parameters
    ----------
    cube : panel.Cube
        The figures (``Panel.series``); not modified.
    min_value : float
        Figures below it do not count.
    moduli : sequence of int
        The numbers whose multiples are counted (5 counts the figures ending in 0
        or 5).

    Returns
    -------
    dict of arrays, one entry per series: ``u``, ``i`` (cube axes), ``n`` (figures
    that count), ``k`` (shape series × moduli: those that are multiples of each
    modulus), ``n_reported`` (all reported figures), ``mean`` and ``var`` (ddof 1, NaN
    for a single figure) of the reported figures, ``first`` and ``last`` (period axis
    positions of the first and last reported figure).
    """
    moduli = [int(m) for m in moduli]
    key = ("series_stats", float(min_value))
    held = cube._memo.get(key)
    if held is None or not set(moduli) <= set(held["moduli"]):
        every = sorted(set(moduli) | set(HEAP_MODULI) | set(held["moduli"] if held else ()))
        held = dict(_series_stats(cube, min_value, every), moduli=every)
        cube._memo[key] = held
    col = [held["moduli"].index(m) for m in moduli]
    return {name: (a[:, col] if name == "k" else a).copy()
            for name, a in held.items() if name != "moduli"}


def _series_stats(cube, min_value: float, moduli: list[int]) -> dict:
    """``series_stats`` computed: one compiled pass over the cube."""
    is_count = cube.count_indicators()
    keys = ("u", "i", "n", "k", "n_reported", "mean", "var", "first", "last")
    if not cube.values.size or not is_count.any():
        return {key: np.zeros((0, len(moduli)) if key == "k" else 0) for key in keys}
    from ._series_loops import multiple_stats  # numba loads on first use
    # one remainder by the moduli's least common multiple, then each modulus on
    # small integers (a counted figure is whole, so the remainder is exact)
    lcm = float(np.lcm.reduce(np.asarray(moduli, dtype=np.int64)))
    approx = cube.approx if cube.approx is not None else np.zeros((1, 1, 1), dtype=bool)
    out = multiple_stats(cube.values, is_count.astype(np.bool_), approx,
                         cube.approx is not None, float(min_value), lcm,
                         np.asarray(moduli, dtype=np.int64))
    return dict(zip(keys, out))


def multiple_chance(mean, var, min_value: float, modulus: int) -> np.ndarray:
    """Chance that a figure of at least ``min_value`` is a multiple of ``modulus``
    when the series is normal with this mean and variance (the variance floored at
    the mean, as counts vary at least as much as Poisson; the standard deviation at
    0.5), discretised to the integers and cut at ``min_value``.

    Parameters
    ----------
    mean, var : array_like
        Each series' mean and variance (NaN variance: the mean is used).
    min_value : float
        The cut: integers below ``ceil(min_value)`` are not figures that count.
    modulus : int

    Returns
    -------
    ndarray: Σ_{v ≥ cut, M | v} w(v) / Σ_{v ≥ cut} w(v), w(v) = exp(−½((v − μ)/σ)²).

    Notes
    -----
    Near a small mean the cut makes the first multiple common (a series about 12
    has 10 as one of its likeliest figures ≥ 10: a chance near 0.14, not 0.1);
    far from a multiple relative to the spread the chance is small (37 ± 6 is
    rarely 50).  Both sums are lattice sums Σ_j w(a + jh) (h = 1 for every integer,
    h = M for the multiples), taken term by term over μ ± 9σ where σ < 4h, else by
    Euler–Maclaurin on the midpoint rule,
    (1/h)∫_{a−h/2}^∞ w + (h/24)w′(a − h/2) − (7h³/5760)w‴(a − h/2), whose next term
    is below 1e-6 of the sum at σ ≥ 4h (3.3e-7 at worst against a direct sum over
    3,000 random series; the periodic Poisson-summation terms, e^{−2π²σ²/h²}, are
    below e^{−300}).
    """
    mean = np.asarray(mean, dtype="float64")
    var = np.broadcast_to(np.asarray(var, dtype="float64"), mean.shape)
    s = np.maximum(np.sqrt(np.maximum(np.nan_to_num(var, nan=0.0), mean)), 0.5)
    cut = float(np.ceil(min_value))
    first = float(np.ceil(cut / modulus) * modulus)
    total = lattice_sum(mean, s, cut, 1.0)
    hits = lattice_sum(mean, s, first, float(modulus))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, hits / total, 1.0 / modulus)


def lattice_sum(mu, s, a: float, h: float) -> np.ndarray:
    """Σ_{j ≥ 0} exp(−½((a + jh − μ)/s)²) per row of ``mu`` and ``s`` (see
    ``multiple_chance``)."""
    mu, s = np.broadcast_arrays(np.asarray(mu, dtype="float64"),
                                np.asarray(s, dtype="float64"))
    out = np.zeros(mu.shape)
    em = s >= _EM_STEPS * h
    if em.any():
        m, sd = mu[em], s[em]
        z = (a - h / 2 - m) / sd
        w = np.exp(-0.5 * z * z)
        d1 = -z / sd * w                           # w′
        d3 = -(z ** 3 - 3 * z) / sd ** 3 * w       # w‴
        integral = sd * np.sqrt(2 * np.pi) * special.ndtr(-z) / h
        out[em] = integral + h / 24 * d1 - 7 * h ** 3 / 5760 * d3
    direct = np.flatnonzero(~em)
    if len(direct):
        m, sd = mu[direct], s[direct]
        # lattice points from the first one within μ − 9σ (or a) to beyond μ + 9σ
        j0 = np.maximum(np.ceil((m - 9 * sd - a) / h), 0.0)
        width = np.ceil(18 * sd / h).astype(np.int64) + 2
        res = np.empty(len(direct))
        for w_pow in np.unique(1 << np.ceil(np.log2(width)).astype(np.int64)):
            rows = np.flatnonzero((1 << np.ceil(np.log2(width)).astype(np.int64)) == w_pow)
            j = np.arange(w_pow, dtype="float64")
            step = max(1, _CHUNK_TERMS // int(w_pow))
            for r0 in range(0, len(rows), step):
                r = rows[r0:r0 + step]
                x = a + (j0[r, None] + j) * h
                res[r] = np.exp(-0.5 * ((x - m[r, None]) / sd[r, None]) ** 2).sum(axis=1)
        out[direct] = res
    return out
