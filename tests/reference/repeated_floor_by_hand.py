"""Reference values for tests/test_checks_repeated_floor.py and the flat-line tests of
tests/test_checks_floors_pinned.py: repeated_value's minimum rule (issue 12), worked
out apart from the package with the standard library only.

The rule, as restated here from its docstring (checks/balance/floors.py,
repeats.py):

* floor F of a unit: a constant m (the commonest smallest positive figure, matched
  by ≥ half the units) or, with enterprises e, ⌈c·e⌉ with c the midpoint of the
  ratios that the most units' smallest figures s match (s matches [(s−1)/e, s/e]);
  the proportional one only when it matches strictly more units; ≤ 10% of the
  figures below F;
* a run at F: p = (T − L + 1)·(1 + L·ρw/k)^−k, with ρ, k by moments over the
  group's excesses S = Σ(x − F) (w = e or 1, whichever gives the larger k);
* a run away from F: the count model of x − F, with mean μ − F and variance φ·(μ − F)
  (Poisson at φ = 1, a negative binomial above): p = P(the longest run of equal
  positive values of x − F among T independent draws ≥ L), exact (``run_tail``: a
  recursion over the periods with one state per (last value, its run so far), its
  mass absorbed on reaching L; checked against enumerating every sequence);
* φ: the unit's own variance/mean of x − F outside the run (at least three figures,
  n − 1 degrees of freedom) shrunk towards its peers' φ_peer = 1 + (μ − F)/k, with
  1/k the median over the indicator's units (at least 5; else 0) of
  (s² − m)/m² (s² over all its figures, ddof 1; m its mean less its floor if the
  floor is below it), 0 when negative; weighted as 10 figures:
  φ = (d·φ_own + 10·φ_peer)/(d + 10), d = n − 1 (0 without an own ratio);
* Benjamini–Hochberg over the series tested plus the series with a floor.

MEETINGS: safety_meetings of eight towns, no enterprises: 1 every month in five,
    "1 plus a few" in 镇6 and 镇7, 7 every month in 甲镇 (the panel of
    tests/test_checks_floors_pinned.py).
QUOTA: units_inspected of ten towns with enterprises; a quota of a twelfth of the
    enterprises, ⌈e/12⌉: 镇G (18 enterprises) holds its quota of 2 every month,
    镇H (72) reports 9 every month, three above its quota of 6.
SIZE: drill_enterprises, a floor of 1: five towns of 10 enterprises at 1 with an
    occasional 2 (镇2 at 1 all year), four of 100 well above, 大镇 (100) at 1 all
    year.

    python tests/reference/repeated_floor_by_hand.py
"""

import itertools
import math

MEETINGS = {**{f"镇{u}": [1] * 12 for u in range(1, 6)},
            "镇6": [1, 2, 1, 1, 1, 2, 1, 1, 1, 1, 2, 1],
            "镇7": [1, 1, 2, 1, 3, 1, 1, 2, 1, 1, 1, 1],
            "甲镇": [7] * 12}

QUOTA_E = {"镇A": 24, "镇B": 36, "镇C": 48, "镇D": 60, "镇E": 30, "镇F": 42, "镇G": 18,
           "镇H": 72, "镇I": 54, "镇J": 66}
QUOTA = {"镇A": [2, 3, 2, 2, 4, 2, 3, 2, 2, 2, 3, 2],
         "镇B": [3, 4, 3, 5, 3, 3, 4, 3, 6, 3, 3, 4],
         "镇C": [4, 4, 5, 4, 6, 4, 4, 5, 4, 4, 7, 4],
         "镇D": [5, 6, 5, 5, 7, 5, 8, 5, 5, 6, 5, 5],
         "镇E": [3, 3, 4, 3, 3, 5, 3, 3, 3, 4, 3, 3],
         "镇F": [4, 5, 4, 4, 4, 6, 4, 5, 4, 4, 4, 4],
         "镇G": [2] * 12,
         "镇H": [9] * 12,
         "镇I": [5, 6, 7, 5, 5, 5, 6, 5, 8, 5, 5, 6],
         "镇J": [6, 7, 6, 6, 8, 6, 6, 7, 6, 9, 6, 6]}

SIZE_E = {**{f"镇{u}": 10 for u in range(1, 6)},
          **{f"镇{u}": 100 for u in range(6, 10)}, "大镇": 100}
SIZE = {"镇1": [1, 1, 2, 1, 1, 1, 1, 1, 1, 2, 1, 1],
        "镇2": [1] * 12,
        "镇3": [1, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1],
        "镇4": [1, 2, 1, 1, 1, 1, 1, 3, 1, 1, 1, 1],
        "镇5": [1, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1, 1],
        "镇6": [6, 5, 7, 3, 6, 8, 5, 6, 7, 5, 6, 6],
        "镇7": [5, 7, 6, 6, 5, 5, 7, 8, 6, 5, 6, 5],
        "镇8": [7, 8, 9, 7, 10, 8, 7, 9, 8, 7, 11, 8],
        "镇9": [9, 11, 10, 12, 9, 10, 13, 9, 11, 10, 9, 12],
        "大镇": [1] * 12}


def constant_floor(series):
    """(m, units matched): the commonest smallest figure, the smaller on a tie."""
    mins = [min(v) for v in series.values()]
    counts = {m: mins.count(m) for m in set(mins)}
    m = min(counts, key=lambda x: (-counts[x], x))
    return m, counts[m]


def quota_ratio(series, e):
    """The midpoint of the ratios c matched by the most units (each unit's smallest
    figure s matches the closed interval [(s−1)/e, s/e]): brute force over every
    end point."""
    iv = {u: ((min(v) - 1) / e[u], min(v) / e[u]) for u, v in series.items()}
    ends = sorted({x for pair in iv.values() for x in pair})
    cover = {c: sum(lo <= c <= hi for lo, hi in iv.values()) for c in ends}
    best = max(cover.values())
    c0 = min(c for c in ends if cover[c] == best)
    c1 = min(hi for lo, hi in iv.values() if lo <= c0 <= hi)
    return (c0 + c1) / 2, best


def ceiling(c, e):
    s = math.ceil(c * e)
    while s > 1 and (s - 1) / e >= c:
        s -= 1
    while s / e < c:
        s += 1
    return max(s, 1)


def moments(series, floor, w):
    """ρ, k by moments of S ~ NB(k, ρ·n·w)."""
    s = {u: sum(x - floor[u] for x in v if x >= floor[u]) for u, v in series.items()}
    n = {u: len(v) for u, v in series.items()}
    rho = sum(s.values()) / sum(n[u] * w[u] for u in series)
    big = {u: rho * n[u] * w[u] for u in series}
    inv_k = (sum((s[u] - big[u]) ** 2 - big[u] for u in series)
             / sum(b * b for b in big.values()))
    return rho, (1 / inv_k if inv_k > 1e-12 else 1e12), s


def floor_fit(series, floor, e=None):
    """(ρ, k, w, S): the w (1 or e) with the larger k."""
    fits = [(moments(series, floor, {u: 1.0 for u in series}), {u: 1.0 for u in series})]
    if e is not None:
        fits.append((moments(series, floor, e), e))
    (rho, k, s), w = fits[0]
    for (rho2, k2, s2), w2 in fits[1:]:
        if k2 > k:
            (rho, k, s), w = (rho2, k2, s2), w2
    return rho, k, w, s


def floor_p(rho, k, w, length, starts=1):
    """(T − L + 1)·E[exp(−λL)], λ ~ Gamma(k, mean ρw)."""
    return min(1.0, starts * (1 + length * rho * w / k) ** -k)


def poisson_pmf(mean, top=200):
    """[P(X = 0), …, P(X = top)] for X ~ Poisson(mean), by lgamma."""
    return [math.exp(y * math.log(mean) - mean - math.lgamma(y + 1)) for y in range(top + 1)]


def nb_pmf(mean, phi, top=400):
    """X with mean ``mean`` and variance φ·mean, φ > 1: negative binomial of size
    r = mean/(φ − 1), success chance r/(r + mean)."""
    r = mean / (phi - 1)
    q = mean / (r + mean)
    return [math.exp(math.lgamma(y + r) - math.lgamma(r) - math.lgamma(y + 1)
                     + r * math.log(1 - q) + y * math.log(q)) for y in range(top + 1)]


def run_tail(pmf, length, n):
    """P(some run of ``length`` or more equal positive values among ``n`` independent
    draws), pmf[y] = P(X = y).  The chain's state is (last value, its run so far) or
    'none' (nothing yet, or a 0, or a value beyond the list); the mass reaching a run
    of ``length`` is taken out and summed (positive terms: exact when tiny)."""
    free = 1.0 - sum(pmf[1:])            # 0 and whatever the list leaves out
    state = {None: 1.0}
    hit = 0.0
    for _ in range(n):
        new = {None: 0.0}
        for last_run, mass in state.items():
            new[None] += mass * free
            for y in range(1, len(pmf)):
                run = last_run[1] + 1 if last_run is not None and last_run[0] == y else 1
                if run >= length:
                    hit += mass * pmf[y]
                else:
                    new[(y, run)] = new.get((y, run), 0.0) + mass * pmf[y]
        state = new
    return hit


def run_tail_enumerated(pmf, length, n):
    """``run_tail`` by enumerating every sequence of values 0 … len(pmf) − 1."""
    total = 0.0
    for seq in itertools.product(range(len(pmf)), repeat=n):
        best = run = 0
        for t, y in enumerate(seq):
            run = run + 1 if t and y == seq[t - 1] and y > 0 else (1 if y > 0 else 0)
            best = max(best, run)
        if best >= length:
            total += math.prod(pmf[y] for y in seq)
    return total


def check_run_tail():
    """The recursion against enumeration, on a law with 4 values and 7 draws."""
    pmf = [0.1, 0.4, 0.3, 0.2]
    for length in (2, 3, 5, 7):
        a, b = run_tail(pmf, length, 7), run_tail_enumerated(pmf, length, 7)
        assert abs(a - b) <= 1e-12 * b, (length, a, b)
    # the union bound (T − L + 1)·Σ p^L is above the exact tail
    assert run_tail(pmf, 3, 7) < 5 * sum(p ** 3 for p in pmf[1:])


def variance(v):
    m = sum(v) / len(v)
    return sum((x - m) ** 2 for x in v) / (len(v) - 1)


def peer_inv_k(series, floor, min_units=5):
    """1/k of the peers: the median of (s² − m)/m² over the units with at least four
    figures and m > 0, 0 if fewer than ``min_units`` or negative."""
    vals = []
    for u, v in series.items():
        mean = sum(v) / len(v)
        f = floor.get(u)
        m = mean - (f if f is not None and f < mean else 0.0)
        if len(v) >= 4 and m > 0:
            vals.append((variance(v) - m) / m ** 2)
    if len(vals) < min_units:
        return 0.0
    vals.sort()
    h = len(vals) // 2
    med = vals[h] if len(vals) % 2 else (vals[h - 1] + vals[h]) / 2
    return max(med, 0.0)


def phi(values, start, length, shift, inv_k, weight=10.0, min_ratio=0.1):
    """φ of the run values[start:start + length] (see the docstring)."""
    mean = sum(values) / len(values)
    rest = values[:start] + values[start + length:]
    peer = 1 + (mean - shift) * inv_k
    d, own = 0, 0.0
    if len(rest) >= 3 and sum(rest) / len(rest) > shift:
        d, own = len(rest) - 1, variance(rest) / (sum(rest) / len(rest) - shift)
    return max((d * own + weight * peer) / (d + weight), min_ratio)


def count_run_p(mean, ratio, length, n):
    """p of a run under the count model: Poisson at φ = 1, else the negative
    binomial (the cases the tests meet)."""
    pmf = poisson_pmf(mean) if ratio == 1.0 else nb_pmf(mean, ratio)
    return min(1.0, run_tail(pmf, length, n))


def poisson_run_p(mean, length, starts=1):
    """(T − L + 1)·Σ_{y≥1} Poisson(y; mean)^L: the exact tail when L = T."""
    return min(1.0, starts * sum(p ** length for p in poisson_pmf(mean)[1:]))


def meetings():
    m, matched = constant_floor(MEETINGS)
    assert (m, matched) == (1, 7)
    rho, k, _, s = floor_fit(MEETINGS, {u: 1 for u in MEETINGS})
    p_flat_one = floor_p(rho, k, 1.0, 12)
    ones = {u: 1 for u in MEETINGS}
    inv_k = peer_inv_k(MEETINGS, ones)
    phi_seven = phi(MEETINGS["甲镇"], 0, 12, 1, inv_k)   # nothing outside the run
    assert phi_seven == 1.0                     # the peers' median 1/k is below 0
    p_seven = count_run_p(7 - 1, phi_seven, 12, 12)   # x − 1 ~ Poisson(6)
    assert abs(p_seven / poisson_run_p(6, 12) - 1) < 1e-12   # L = T: one start
    tests = 8 + 8                               # series, plus those with a floor
    print("MEETINGS  floor 1 (7 of 8 towns); rho", rho, "k", k, "peers' 1/k", inv_k)
    print("  镇1 at 1 for 12 months: p", p_flat_one)
    print("  甲镇 at 7 for 12 months: p", p_seven, "q", p_seven * tests)
    # 甲镇 at 1 for 7 months, then 9 for 5 (tests/test_checks_floors_pinned.py)
    series = dict(MEETINGS, 甲镇=[1] * 7 + [9] * 5)
    rho2, k2, _, s2 = floor_fit(series, {u: 1 for u in series})
    mean = sum(series["甲镇"]) / 12
    inv_k2 = peer_inv_k(series, {u: 1 for u in series})
    # outside the run at 9: seven 1s, at the floor (mean − F = 0): no own ratio
    phi_nine = phi(series["甲镇"], 7, 5, 1, inv_k2)
    p_nine = count_run_p(mean - 1, phi_nine, 5, 12)
    print("  甲镇 1×7 then 9×5: rho", rho2, "k", k2, "S", s2["甲镇"],
          "run at 1: p", floor_p(rho2, k2, 1.0, 7, starts=6),
          "\n  run at 9 (x − 1, mean", mean - 1, "; peers' 1/k", inv_k2, ", φ", phi_nine,
          "): p", p_nine, "(union bound", poisson_run_p(mean - 1, 5, starts=8), ")")
    return p_flat_one, p_seven, p_nine


def quota():
    c, matched = quota_ratio(QUOTA, QUOTA_E)
    m, m_matched = constant_floor(QUOTA)
    assert matched > m_matched
    floor = {u: ceiling(c, QUOTA_E[u]) for u in QUOTA}
    assert floor == {u: math.ceil(QUOTA_E[u] / 12) for u in QUOTA}
    rho, k, w, s = floor_fit(QUOTA, floor, QUOTA_E)
    p_g = floor_p(rho, k, w["镇G"], 12)
    inv_k = peer_inv_k(QUOTA, floor)
    phi_h = phi(QUOTA["镇H"], 0, 12, floor["镇H"], inv_k)   # the peers' alone
    p_h = count_run_p(9 - floor["镇H"], phi_h, 12, 12)
    tests = 10 + 10
    print("QUOTA  c", c, "matched", matched, "(constant", m, m_matched, ")")
    print("  floors", floor)
    print("  rho", rho, "k", k, "w = enterprises" if w is QUOTA_E else "w = 1")
    print("  镇G at its quota 2 for 12 months: p", p_g)
    print("  peers' 1/k", inv_k, "(median of (s² − m)/m², m above the quota)")
    print("  镇H at 9 for 12 months (x − 6, mean 3, φ = 1 + 3/k =", phi_h, "): p", p_h,
          "q", p_h * tests, "(Poisson:", poisson_run_p(3, 12), ")")
    # without enterprises: no floor (2 of 10 towns share a smallest figure), 镇G is
    # judged by the count model of its figures (mean 2)
    inv_k0 = peer_inv_k(QUOTA, {})
    phi_g = phi(QUOTA["镇G"], 0, 12, 0, inv_k0)
    assert phi_g == 1.0                         # peers' median 1/k below 0: Poisson
    p_g_no_e = count_run_p(2, phi_g, 12, 12)
    print("  without enterprises, 镇G at 2: p", p_g_no_e, "q", p_g_no_e * 10)
    return p_g, p_h, p_g_no_e


def size():
    m, matched = constant_floor(SIZE)
    c, p_matched = quota_ratio(SIZE, SIZE_E)
    assert (m, matched) == (1, 6) and p_matched == 6   # the constant floor is kept
    rho, k, w, s = floor_fit(SIZE, {u: 1 for u in SIZE}, SIZE_E)
    print("SIZE  floor 1 (6 of 10 towns), proportional matches", p_matched)
    print("  rho", rho, "k", k, "w = enterprises" if w is SIZE_E else "w = 1")
    p_big = floor_p(rho, k, w["大镇"], 12)
    p_small = floor_p(rho, k, w["镇2"], 12)
    tests = 10 + 10
    print("  大镇 (100 enterprises) at 1 for 12 months: p", p_big, "q", p_big * tests)
    print("  镇2 (10 enterprises) at 1 for 12 months: p", p_small)
    rho1, k1, _ = moments(SIZE, {u: 1 for u in SIZE}, {u: 1.0 for u in SIZE})
    print("  with w = 1 (size ignored): rho", rho1, "k", k1, "大镇 p",
          floor_p(rho1, k1, 1.0, 12))
    return p_big, p_small


def gap():
    """tests/test_checks_balance.py: 7, 7, 7, (gap), 7.5, 1, 15, 3 of one department:
    T = 6 figures (7.5 is not one), the run of three 7s; no floor, no peers (one
    unit: 1/k = 0, φ_peer = 1); outside the run 1, 15, 3."""
    values = [7, 7, 7, 1, 15, 3]
    ph = phi(values, 0, 3, 0, 0.0)
    own = variance([1, 15, 3]) / (19 / 3)
    assert abs(ph - (2 * own + 10) / 12) < 1e-15
    p = count_run_p(40 / 6, ph, 3, 6)
    print("GAP  own φ", own, "shrunk φ", ph, ": p", p,
          "(Poisson union bound", poisson_run_p(40 / 6, 3, starts=4), ")")
    return p


if __name__ == "__main__":
    check_run_tail()
    gap()
    meetings()
    quota()
    size()
