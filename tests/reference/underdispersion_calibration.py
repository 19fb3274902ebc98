"""Calibration and power of underdispersion on simulated groups (the figures in
its docstring): honest groups of 5–40 towns over 12 and 36 months, Poisson,
gamma-Poisson, floors and quotas, a ×2.5 push and a 60 % dip in the last months;
the share of tests with p below 0.05, 0.01 and 0.001 (a calibrated test gives
those shares, a conservative one less).  Then the power against groups whose
figures are drawn to within ±1 of their median in the last 3 months.

Run: .venv/bin/python tests/reference/underdispersion_calibration.py [repetitions]
"""
import numpy as np, pandas as pd, sys
from anquan_analysis.checks.balance import underdispersion

def panel_of(X, code="units_inspected"):
    n, T = X.shape
    periods = [str(p) for p in pd.period_range("2024-01", periods=T, freq="M")]
    u, t = np.meshgrid(np.arange(n), np.arange(T), indexing="ij")
    return pd.DataFrame({"unit": [f"U{i:02d}" for i in u.ravel()], "unit_type": "town", "parent": "区",
                         "period": np.array(periods)[t.ravel()], "indicator": code,
                         "value": X.ravel().astype(float), "approx": False})

def honest(rng, n, T, kind):
    if kind == "pois": return rng.poisson(rng.gamma(2, 5, n)[:, None], (n, T))
    if kind == "pois_small": return rng.poisson(rng.gamma(2, 1, n)[:, None], (n, T))
    if kind == "nb": return rng.poisson(rng.gamma(2, 8, n)[:, None] * rng.gamma(2, .5, (n, T)))
    if kind == "drills": return rng.integers(1, 10, n)[:, None] + rng.poisson(2, (n, T))
    if kind == "sessions": return 1 + rng.poisson(0.5, (n, T))
    if kind == "push":
        f = np.linspace(.9, 1.1, T) * np.where(np.arange(T) >= T - 4, 2.5, 1)
        return rng.poisson(rng.gamma(2, 1.5, n)[:, None] * f)
    if kind == "dip":
        f = np.where(np.arange(T) >= T - 2, 0.4, 1)
        return rng.poisson(rng.gamma(2, 3, n)[:, None] * f)

def converge(rng, n, T, scale):
    X = rng.poisson(rng.gamma(2, scale, n)[:, None], (n, T))
    agreed = np.round(np.median(X[:, -3:], axis=0))
    X[:, -3:] = np.maximum(agreed[None, :] + rng.integers(-1, 2, (n, 3)), 0)
    return X

if __name__ == "__main__":
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    for T in (12, 36):
        for kind in ("pois", "pois_small", "nb", "drills", "sessions", "push", "dip"):
            ps = []
            for s in range(reps):
                rng = np.random.default_rng(s)
                X = honest(rng, int(rng.integers(5, 40)), T, kind)
                f = underdispersion(panel_of(X), period=f"{2024 + (T - 1) // 12}-{(T - 1) % 12 + 1:02d}",
                                    info_p=1.0, warning=1.0)
                ps += list(f.p_value) if len(f) else [1.0]
            ps = np.array(ps)
            print(f"T={T} {kind:10s} tests {len(ps)}  p<.05 {np.mean(ps < .05):.4f}  p<.01 {np.mean(ps < .01):.4f}  p<1e-3 {np.mean(ps < 1e-3):.4f}")
    for scale in (1, 3, 10):
        for n in (6, 15, 30):
            ps = []
            for s in range(min(reps, 100)):
                rng = np.random.default_rng(s)
                f = underdispersion(panel_of(converge(rng, n, 12, scale)), period="2024-12", info_p=1.0, warning=1.0)
                ps.append(f.p_value.min() if len(f) else 1.0)
            ps = np.array(ps)
            print(f"converge mean≈{2*scale} n={n}: power p<1e-3 {np.mean(ps < 1e-3):.2f}  p<.01 {np.mean(ps < .01):.2f}")
