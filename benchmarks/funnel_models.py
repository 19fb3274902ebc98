"""The funnel's models on simulated districts: how well the gamma model's robust fit
recovers the shape k, and recall and false alarms of ``low_outlier`` and
``zero_report`` under the gamma model (the default), the sqrt-normal model used
before issue 12, and an oracle that knows the true rate, exposure and effect
distribution (exact tails, Benjamini–Hochberg at the same level).

The generator is written here, apart from ``synth.py``, and the anomalies are
injected independently of how the checks work:

* units 30, 50 or 150 of one type, enterprises supervised x ~ round(exp(N(log 120,
  0.7))) ≥ 10, 12 months, hazards per enterprise per month r = 0.007 (a median unit
  expects about 10 a year; 巴南's 50 units found 156 in six months);
* each unit's effect θ, shared by its months: gamma with mean 1 and shape 2, 4 or 10,
  or lognormal with σ = 0.5 and mean 1 (moment-matched shape 3.5);
* 10% or 20% of the units anomalous, half low reporters and half zero reporters:
  strong, reporting 20% of their hazards (binomial thinning) or 0 in all 12 months;
  mild, reporting 50%, or 0 in the last 6 months;
* each city has a null twin, drawn the same way with nothing injected.

Run: .venv/bin/python benchmarks/funnel_models.py [--reps 20] [--seed 0]
Prints tables; asserts nothing (a figure is measured, not promised).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from anquan_analysis.checks._stats import bh_adjust  # noqa: E402
from anquan_analysis.checks.outliers import funnel_table, low_outlier, zero_report  # noqa: E402

MONTHS = [f"2024-{m:02d}" for m in range(1, 13)]
RATE = 0.007
SIGMA = 0.5
EFFECTS = (2.0, 4.0, 10.0, "lognormal")
LEVEL = 0.05
GH_X, GH_W = np.polynomial.hermite_e.hermegauss(64)
GH_W = GH_W / GH_W.sum()


def true_shape(effect) -> float:
    """k, or for the lognormal the gamma shape with the same variance 1/(e^{σ²} − 1)."""
    return 1.0 / np.expm1(SIGMA ** 2) if effect == "lognormal" else float(effect)


def draw_effect(rng, effect, n) -> np.ndarray:
    if effect == "lognormal":
        return rng.lognormal(-SIGMA ** 2 / 2, SIGMA, n)
    return rng.gamma(effect, 1.0 / effect, n)


def make_city(rng, n, effect, share, strength):
    """(panel, exposure, truth): truth has unit, kind ('low', 'zero' or ''), x, theta."""
    x = np.maximum(10, np.round(np.exp(rng.normal(np.log(120), 0.7, n))))
    theta = draw_effect(rng, effect, n)
    counts = rng.poisson((RATE * x * theta)[:, None], (n, len(MONTHS))).astype(float)
    kind = np.full(n, "", dtype=object)
    m = int(round(share * n))
    bad = rng.choice(n, m, replace=False)
    low, zero = bad[: m // 2], bad[m // 2:]
    kind[low], kind[zero] = "low", "zero"
    keep = 0.2 if strength == "strong" else 0.5
    counts[low] = rng.binomial(counts[low].astype(int), keep)
    if strength == "strong":
        counts[zero] = 0.0
    else:
        counts[zero, 6:] = 0.0
    units = [f"U{i:03d}" for i in range(n)]
    panel = pd.DataFrame({
        "unit": np.repeat(units, len(MONTHS)), "unit_type": "town", "parent": None,
        "period": np.tile(MONTHS, n), "indicator": "major_hazards_found",
        "value": counts.ravel()})
    exposure = pd.DataFrame({"unit": units, "sector": "", "enterprises": x})
    truth = pd.DataFrame({"unit": units, "kind": kind, "x": x, "theta": theta})
    return panel, exposure, truth, counts


# ------------------------------------------------------------------------ oracle
def true_cdf(o, mean, effect) -> np.ndarray:
    """P(X ≤ O), X Poisson(mean·θ) with θ the true effect distribution."""
    if effect == "lognormal":
        theta = np.exp(-SIGMA ** 2 / 2 + SIGMA * GH_X)
        return (stats.poisson.cdf(o[:, None], mean[:, None] * theta) * GH_W).sum(axis=1)
    k = float(effect)
    return stats.nbinom.cdf(o, k, k / (k + mean))


def true_zero(mean, effect) -> np.ndarray:
    """P(X = 0) for the run's total mean under the true effect."""
    if effect == "lognormal":
        theta = np.exp(-SIGMA ** 2 / 2 + SIGMA * GH_X)
        return (np.exp(-mean[:, None] * theta) * GH_W).sum(axis=1)
    k = float(effect)
    return (1 + mean / k) ** -k


def longest_zero_run(counts) -> np.ndarray:
    run = np.zeros(counts.shape)
    for j in range(counts.shape[1]):
        run[:, j] = np.where(counts[:, j] == 0, (run[:, j - 1] if j else 0) + 1, 0)
    return run.max(axis=1).astype(int)


def oracle(counts, truth, effect) -> tuple[set, set]:
    """Units the oracle flags as low (exact tail of the window total, units with
    E ≥ 3) and as zero reporters (longest zero run ≥ 2 with E ≥ 1, union bound over
    the windows of that length, as ``zero_report``), BH at LEVEL each."""
    n_m = counts.shape[1]
    per_month = RATE * truth["x"].to_numpy()
    mean = per_month * n_m
    o = counts.sum(axis=1)
    tested = mean >= 3
    p = np.where(tested, true_cdf(o, mean, effect), np.nan)
    low = set(truth["unit"][bh_adjust(p) < LEVEL])
    k = longest_zero_run(counts)
    tested = (k >= 2) & (mean >= 1)
    pz = np.minimum(1.0, (n_m - k + 1) * true_zero(k * per_month, effect))
    zero = set(truth["unit"][bh_adjust(np.where(tested, pz, np.nan)) < LEVEL])
    return low, zero


def flagged(findings) -> set:
    return set(findings.loc[findings["severity"].isin(["warning", "alert"]), "unit"])


MODELS = {"old": {"model": "sqrt-normal"}, "new": {"model": "gamma"}}


def run_city(rng, n, effect, share, strength) -> dict:
    panel, exposure, truth, counts = make_city(rng, n, effect, share, strength)
    out = {}
    for name, kw in MODELS.items():
        low = flagged(low_outlier(panel, exposure=exposure, **kw))
        zero = flagged(zero_report(panel, exposure=exposure, **kw))
        out[name] = (low, zero)
    out["oracle"] = oracle(counts, truth, effect)
    ft = funnel_table(panel, exposure=exposure)
    out["shape"] = (float(ft["shape_hat"].iloc[0]), float(ft["shape"].iloc[0]))
    out["truth"] = truth
    return out


def tally(rows, res, cell):
    truth = res["truth"]
    units = truth["unit"]
    kinds = dict(zip(units, truth["kind"]))
    clean = [u for u in units if kinds[u] == ""]
    for who in [*MODELS, "oracle"]:
        low, zero = res[who]
        rows.append({**cell, "who": who,
                     "low_found": sum(kinds[u] == "low" for u in low),
                     "low_n": sum(k == "low" for k in kinds.values()),
                     "zero_found": sum(kinds[u] == "zero" for u in zero),
                     "zero_n": sum(k == "zero" for k in kinds.values()),
                     "clean_flagged": len([u for u in clean if u in (low | zero)]),
                     "clean_n": len(clean)})


def main(argv=None) -> None:
    global RATE
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=20, help="cities per cell")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--units", type=int, nargs="+", default=[30, 50, 150])
    ap.add_argument("--rate", type=float, default=RATE,
                    help="hazards per enterprise per month (0.002: a median unit expects "
                         "about 3 a year, where a year of counts says little about k)")
    ap.add_argument("--shape-levels", type=float, nargs="+", default=[],
                    help="also run the gamma model with k at these profile levels")
    args = ap.parse_args(argv)
    RATE = args.rate
    for level in args.shape_levels:
        MODELS[f"gamma@{level:g}"] = {"model": "gamma", "shape_level": level}
    rng = np.random.default_rng(args.seed)
    rows, nulls, shapes = [], [], []
    t0 = time.perf_counter()
    for n in args.units:
        for effect in EFFECTS:
            for strength in ("strong", "mild"):
                for share in (0.1, 0.2):
                    cell = {"units": n, "effect": str(effect), "strength": strength,
                            "share": share}
                    for _ in range(args.reps):
                        res = run_city(rng, n, effect, share, strength)
                        tally(rows, res, cell)
                        shapes.append({**cell, "k_true": true_shape(effect),
                                       "k_hat": res["shape"][0], "k_test": res["shape"][1]})
                        twin = run_city(rng, n, effect, 0.0, strength)
                        tally(nulls, twin, cell)
                        shapes.append({**cell, "share": 0.0, "k_true": true_shape(effect),
                                       "k_hat": twin["shape"][0], "k_test": twin["shape"][1]})
            print(f"  done units={n} effect={effect} ({time.perf_counter() - t0:.0f} s)",
                  flush=True)
    report(pd.DataFrame(rows), pd.DataFrame(nulls), pd.DataFrame(shapes))


def report(rows, nulls, shapes) -> None:
    pd.set_option("display.width", 200)
    print("\nShape k of the gamma model's fit (medians over cities; lognormal: the "
          "moment-matched k)")
    k = shapes.groupby(["effect", "share", "units"]).agg(
        k_true=("k_true", "first"), k_hat=("k_hat", "median"),
        k_hat_q10=("k_hat", lambda v: v.quantile(0.1)),
        k_hat_q90=("k_hat", lambda v: v.quantile(0.9)), k_test=("k_test", "median"))
    print(k.round(2).to_string())
    for strength in ("strong", "mild"):
        r = rows[rows["strength"] == strength]
        z = nulls[nulls["strength"] == strength]
        g = r.groupby(["units", "effect", "who"])[
            ["low_found", "low_n", "zero_found", "zero_n", "clean_flagged", "clean_n"]].sum()
        gz = z.groupby(["units", "effect", "who"])[["clean_flagged", "clean_n"]].sum()
        table = pd.DataFrame({
            "low_recall": g["low_found"] / g["low_n"],
            "zero_recall": g["zero_found"] / g["zero_n"],
            "clean_flagged_%": 100 * g["clean_flagged"] / g["clean_n"],
            "null_city_flagged_%": 100 * gz["clean_flagged"] / gz["clean_n"]}).unstack("who")
        table = table.reindex(columns=[*MODELS, "oracle"], level=1)
        print(f"\n{strength.upper()} anomalies (10% and 20% anomalous pooled): recall and "
              f"false alarms, old = sqrt-normal, new = gamma")
        print(table.round(3).to_string())
        tot = r.groupby("who")[["low_found", "low_n", "zero_found", "zero_n",
                                 "clean_flagged", "clean_n"]].sum()
        tz = z.groupby("who")[["clean_flagged", "clean_n"]].sum()
        print(pd.DataFrame({
            "low_recall": tot["low_found"] / tot["low_n"],
            "zero_recall": tot["zero_found"] / tot["zero_n"],
            "clean_flagged_%": 100 * tot["clean_flagged"] / tot["clean_n"],
            "null_city_flagged_%": 100 * tz["clean_flagged"] / tz["clean_n"],
        }).reindex([*MODELS, "oracle"]).round(3).to_string())


if __name__ == "__main__":
    main()
