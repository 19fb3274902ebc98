"""The compiled beta-binomial upper tail behind surge (checks/_bb_tail.py) against
exact tails in rational arithmetic (tests/reference/betabinom_tail.py), including far
tails where scipy's sf (1 − cdf) gives 5e-14 for 1.1e-27."""

from __future__ import annotations

import numpy as np
import pytest

from anquan_analysis.checks._bb_tail import betabinom_sf

# (k, n, a, b, P(X ≥ k)) printed by tests/reference/betabinom_tail.py
EXACT = [
    (40, 40, 0.5, 1.5, 0.0021689726530221276),
    (30, 40, 2.0, 20.0, 7.766742116841886e-08),
    (5, 50, 2.0, 20.0, 0.42162464771870106),
    (30, 200, 3.0, 7.0, 0.8566233837547642),
    (1, 10, 0.3, 5.0, 0.29093127192131796),
    (400, 1000, 1.75, 2.25, 0.5405422013424834),
    (900, 1000, 1.75, 2.25, 0.01407468044057682),
    (60, 300, 12.5, 250.0, 8.311637036378749e-09),
    (50, 100, 2.0, 200.0, 1.109238731488868e-27),
    (25, 30, 1.5, 60.0, 5.75786212361405e-17),
    (0, 12, 1.0, 1.0, 1.0),
    (13, 12, 1.0, 1.0, 0.0),
]


def test_upper_tail_matches_exact_fractions():
    k, n, a, b, want = (np.array(c, dtype=float) for c in zip(*EXACT))
    got = betabinom_sf(k, n, a, b)
    assert got == pytest.approx(want, rel=1e-10, abs=0)


def test_invalid_parameters_give_nan_as_scipy_does():
    got = betabinom_sf(np.array([1.0, 1.0, 1.0, np.nan]), np.array([2.5, -1.0, 4.0, 4.0]),
                       np.array([1.0, 1.0, 0.0, 1.0]), np.array([1.0, 1.0, 1.0, 1.0]))
    assert np.isnan(got).all()
