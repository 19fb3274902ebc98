"""Reference values for issue 12's heaping and flat-line tests (tests/test_checks_heaping.py,
tests/test_checks_floors_pinned.py), computed with the standard library only: direct
sums over the integers, exact binomial tails by math.comb, Benjamini–Hochberg by hand.

ROUNDED (区应急局, 2024-01 … 2024-12):
    worker_training_persons  350 400 400 450 350 400 500 400 450 350 400 450
        (the true 337 412 389 455 362 398 487 411 446 353 402 441 rounded to 50)
    units_inspected           61  73  58  65  71  64  69  57  63  72  68  60
SMALL (乙镇): drills 10 11 10 13 12 10 9 10 14 11 10 12 and
    principal_training_sessions 8 10 20 12 30 15 10 22 9 18 26 14
FLAT: safety_meetings of eight towns, 1 every month in five, "1 plus a few" in two,
    7 every month in 甲镇.

    python tests/reference/heaping_by_hand.py
"""

import math

PERSONS = [350, 400, 400, 450, 350, 400, 500, 400, 450, 350, 400, 450]
PERSONS_TRUE = [337, 412, 389, 455, 362, 398, 487, 411, 446, 353, 402, 441]
INSPECTED = [61, 73, 58, 65, 71, 64, 69, 57, 63, 72, 68, 60]
SMALL_A = [10, 11, 10, 13, 12, 10, 9, 10, 14, 11, 10, 12]
SMALL_B = [8, 10, 20, 12, 30, 15, 10, 22, 9, 18, 26, 14]


def mean_var(x):
    m = sum(x) / len(x)
    return m, sum((v - m) ** 2 for v in x) / (len(x) - 1)


def chance(x, modulus, cut=10):
    """The discretised normal's chance that a figure ≥ cut is a multiple of
    ``modulus``: weights exp(−½((v − μ)/σ)²), σ² = max(var, mean), summed term by
    term from the cut to μ + 60σ."""
    m, var = mean_var(x)
    s = max(math.sqrt(max(var, m)), 0.5)
    num = den = 0.0
    for v in range(cut, int(m + 60 * s) + 10 * modulus):
        w = math.exp(-0.5 * ((v - m) / s) ** 2)
        den += w
        num += w if v % modulus == 0 else 0.0
    return num / den


def binom_sf(k, n, p):
    """P(K ≥ k), K binomial(n, p)."""
    return sum(math.comb(n, j) * p ** j * (1 - p) ** (n - j) for j in range(k, n + 1))


def bh(p):
    order = sorted(range(len(p)), key=lambda i: p[i])
    q, running = [0.0] * len(p), 1.0
    for rank in range(len(p), 0, -1):
        i = order[rank - 1]
        running = min(running, p[i] * len(p) / rank)
        q[i] = running
    return q


def poisson_run(mean, length):
    """Σ_{k≥1} Poisson(k; mean)^length."""
    return sum(math.exp(length * (k * math.log(mean) - mean - math.lgamma(k + 1)))
               for k in range(1, 200))


if __name__ == "__main__":
    # last_digit: persons (sd 47 > 25: flat, chance 0.2), inspected (sd 5.3: narrow)
    e_insp = max(chance(INSPECTED, 5), 0.2)
    ends = lambda x: sum(v % 5 == 0 for v in x)  # noqa: E731
    p_persons = binom_sf(ends(PERSONS), 12, 0.2)
    p_insp = binom_sf(ends(INSPECTED), 12, e_insp)
    e_pool = (12 * 0.2 + 12 * e_insp) / 24
    k_pool = ends(PERSONS) + ends(INSPECTED)
    p_pool = binom_sf(k_pool, 24, e_pool)
    q = bh([p_pool, p_persons, p_insp])
    print("ROUNDED, last_digit")
    print(f"  inspected chance {e_insp!r}, ends in 0/5: {ends(INSPECTED)}")
    print(f"  persons  k=12/12 p={p_persons!r} q={q[1]!r}")
    print(f"  inspected p={p_insp!r} q={q[2]!r}")
    print(f"  pooled k={k_pool}/24 expected={e_pool!r} p={p_pool!r} q={q[0]!r}")
    print(f"  unrounded persons: {ends(PERSONS_TRUE)} of 12 end in 0/5, "
          f"p={binom_sf(ends(PERSONS_TRUE), 12, 0.2)!r}")
    # round_number: the three moduli of persons and of inspected
    print("ROUNDED, round_number")
    p_series = []
    for name, x in (("persons", PERSONS), ("inspected", INSPECTED)):
        best = None
        for m in (10, 50, 100):
            e = max(chance(x, m), 1 / m)
            k = sum(v % m == 0 for v in x)
            p = binom_sf(k, 12, e)
            print(f"  {name} M={m}: {k}/12, chance {e!r}, p {p!r}")
            best = min(best or (2, 0, 0, 0), (p, m, k, e))
        p_series.append(min(1.0, 3 * best[0]))
        print(f"  {name}: M={best[1]}, p = 3 × {best[0]!r} = {p_series[-1]!r}")
    print(f"  q persons = {bh(p_series)[0]!r}")
    print("SMALL, round_number")
    for name, x in (("drills", SMALL_A), ("sessions", SMALL_B)):
        figs = [v for v in x if v >= 10]
        for m in (10, 50, 100):
            e = max(chance(x, m), 1 / m)
            k = sum(v % m == 0 for v in figs)
            print(f"  {name} M={m}: {k}/{len(figs)}, chance {e!r}, p {binom_sf(k, len(figs), e)!r}"
                  f"  (with chance 1/{m}: {binom_sf(k, len(figs), 1 / m)!r})")
    print("FLAT")
    print(f"  7 every month: p = {poisson_run(7.0, 12)!r}, q (8 series) = "
          f"{8 * poisson_run(7.0, 12)!r}")
    print(f"  1 every month (no floor): p = {poisson_run(1.0, 12)!r}")
