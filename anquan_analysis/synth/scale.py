"""Large panels and ledgers for benchmarks (province and national scale), fast and
seeded; unlike the demo city they carry no injected anomalies except rule breaks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import catalogue
from ..dataset import LEDGER_COLUMNS
from .district import SOURCE_FILE


def _panel_rules(codes: list[str]) -> tuple[list[tuple[int, int]], list[tuple[tuple[int, ...], int]]]:
    """The catalogue's ``le`` rules as (lhs, rhs) and ``sum`` rules as (parts, total),
    in positions of ``codes``, keeping only rules whose indicators are all there."""
    ix = {c: k for k, c in enumerate(codes)}
    le, sums = [], []
    for r in catalogue.RULES.itertuples():
        if r.kind not in ("le", "sum") or not all(c in ix for c in (*r.lhs, r.rhs)):
            continue
        if r.kind == "le":
            le.append((ix[r.lhs[0]], ix[r.rhs]))
        else:
            sums.append((tuple(ix[c] for c in r.lhs), ix[r.rhs]))
    return le, sums


def _order_rates(rng, rate: np.ndarray, le) -> None:
    """In place: every ``le`` rule's left rate becomes q × its right rate, q drawn
    uniform on 0.3–0.8 per rule (the smallest such product where a figure is on the
    left of several rules), so that rectified sits below found and sessions below
    persons, and clipping in ``_respect_rules`` touches a minority of cells."""
    q = rng.uniform(0.3, 0.8, len(le))
    for _ in range(len(le) + 1):            # chains (a ≤ b ≤ c) settle within len(le) passes
        new = rate.copy()
        for lhs in {a for a, _ in le}:
            new[lhs] = min(qk * new[rhs] for qk, (a, rhs) in zip(q, le) if a == lhs)
        if np.array_equal(new, rate):
            return
        rate[:] = new
    raise AssertionError("le rules form a cycle")  # pragma: no cover


def _respect_rules(cells: np.ndarray, le, sums) -> None:
    """In place on ``cells[unit, month, indicator]``: first every ``sum`` rule's total
    is split into its parts in the proportions drawn for them (the total keeps its own
    distribution); then lhs = min(lhs, rhs) for every ``le`` rule and total = Σ parts,
    repeated until nothing changes (a clipped part lowers its total)."""
    for parts, total in sums:
        drawn = np.stack([cells[:, :, k] for k in parts])
        weight = drawn.sum(axis=0)
        share = np.divide(drawn, weight, out=np.zeros_like(drawn), where=weight > 0)
        share[0][weight == 0] = 1.0
        rest = cells[:, :, total].copy()
        for k, sh in zip(parts[:-1], share[:-1]):
            cells[:, :, k] = np.minimum(np.floor(cells[:, :, total] * sh), rest)
            rest -= cells[:, :, k]
        cells[:, :, parts[-1]] = rest
    for _ in range(len(le) + len(sums) + 1):
        changed = False
        for lhs, rhs in le:
            over = cells[:, :, lhs] > cells[:, :, rhs]
            if over.any():
                np.minimum(cells[:, :, lhs], cells[:, :, rhs], out=cells[:, :, lhs])
                changed = True
        for parts, total in sums:
            s = sum(cells[:, :, k] for k in parts)
            if not np.array_equal(s, cells[:, :, total]):
                cells[:, :, total] = s
                changed = True
        if not changed:
            return
    raise AssertionError("catalogue rules did not settle")  # pragma: no cover


def _break_rules(rng, cells: np.ndarray, le, sums, share: float) -> None:
    """In place: in a share of unit-months, break one ``le`` rule, lhs = rhs + 1 +
    ⌊rhs/10⌋.  Only rules whose left figure is in no ``sum`` rule and on the left of
    no other rule are used, so that each break is exactly one finding."""
    in_sums = {k for parts, total in sums for k in (*parts, total)}
    lefts = [a for a, _ in le]
    usable = [(a, b) for a, b in le if a not in in_sums and lefts.count(a) == 1]
    n_units, n_months = cells.shape[:2]
    n = int(round(share * n_units * n_months))
    if not usable or n == 0:
        return
    flat = rng.choice(n_units * n_months, size=n, replace=False)
    which = rng.integers(0, len(usable), size=n)
    lhs = np.array([usable[w][0] for w in which])
    rhs = np.array([usable[w][1] for w in which])
    u, t = np.divmod(flat, n_months)
    cells[u, t, lhs] = cells[u, t, rhs] + 1 + np.floor(cells[u, t, rhs] / 10)


def make_panel(n_units: int, n_months: int, n_indicators: int = 40, seed: int = 0,
               start: str = "2024-01", value_dtype: str = "float32",
               rule_breaks: float = 0.002) -> pd.DataFrame:
    """A large long panel for benchmarks: every unit × month × indicator, unit-major.

    Columns are PANEL_COLUMNS in compact dtypes: ``unit``, ``unit_type``, ``parent``
    (a county per 50 units), ``period``, ``indicator``, ``source_file`` and
    ``source_sheet`` are **categorical**; ``value`` is **float32** by default
    (``value_dtype="float64"`` for the contract's dtype, 0.3 GB more at national
    scale); ``approx`` bool; ``source_row`` **int32**.  50,000 × 36 × 40 = 72 million
    rows take about 1 GB.

    Values are round(λ × exp(0.35 Z − 0.06)) with λ = enterprises_u × rate_k × effort_u
    (lognormal enterprises, Gamma(4) effort, rates log-uniform 0.001–0.5, except that
    a rule's left-hand rate is 0.3–0.8 of its right-hand one, ``_order_rates``): a
    log-normal stand-in for Poisson noise, because 72 million Poisson draws take too
    long.

    The catalogue's ``le`` and ``sum`` rules hold, as they do in nearly every real
    report (see ``_respect_rules``), except in a share ``rule_breaks`` of unit-months
    (default 1 in 500): in each, one ``le`` rule is broken once, by setting its
    left-hand figure to rhs + 1 + ⌊rhs/10⌋.  ``checks.rule_violation`` finds exactly
    those cells (one alert each); ``rule_breaks=0`` gives a panel without any.
    """
    codes = list(catalogue.INDICATORS["code"])
    if not 1 <= n_indicators <= len(codes):
        raise ValueError(f"n_indicators must be 1..{len(codes)}, got {n_indicators}")
    rng = np.random.default_rng(seed)
    n_cells = n_months * n_indicators            # rows per unit
    n = n_units * n_cells
    dtype = np.dtype(value_dtype)
    scale = np.exp(4.0 + rng.standard_normal(n_units)) * rng.gamma(4.0, 0.25, n_units)
    rate = np.exp(rng.uniform(np.log(0.001), np.log(0.5), n_indicators))
    le, sums = _panel_rules(codes[:n_indicators])
    _order_rates(rng, rate, le)
    # In place on one buffer: 72 million values, no temporaries of that size.
    value = rng.standard_normal(n, dtype=dtype)
    value *= dtype.type(0.35)
    value -= dtype.type(0.06)
    np.exp(value, out=value)
    value.reshape(n_units, n_months, n_indicators)[...] *= (
        scale[:, None, None] * rate[None, None, :]).astype(dtype)
    np.rint(value, out=value)
    cells = value.reshape(n_units, n_months, n_indicators)
    _respect_rules(cells, le, sums)
    _break_rules(rng, cells, le, sums, rule_breaks)

    unit_ids = np.arange(n_units, dtype=np.int32)
    types = ["town", "department", "soe"]
    type_of_unit = np.array([0, 0, 0, 0, 1, 1, 1, 1, 2, 2], dtype=np.int8)[unit_ids % 10]
    small = np.int8 if max(n_months, n_indicators) < 128 else np.int16
    periods = [str(p) for p in pd.period_range(start, periods=n_months, freq="M")]

    def per_unit(a):
        return np.repeat(a, n_cells)

    return pd.DataFrame(copy=False, data={
        "unit": pd.Categorical.from_codes(per_unit(unit_ids), categories=[f"U{u:06d}" for u in range(n_units)]),
        "unit_type": pd.Categorical.from_codes(per_unit(type_of_unit), categories=types),
        "parent": pd.Categorical.from_codes(per_unit(unit_ids // 50),
                                            categories=[f"县{c:05d}" for c in range((n_units + 49) // 50)]),
        "period": pd.Categorical.from_codes(np.tile(np.repeat(np.arange(n_months, dtype=small), n_indicators), n_units),
                                            categories=periods),
        "indicator": pd.Categorical.from_codes(np.tile(np.arange(n_indicators, dtype=small), n_units * n_months),
                                               categories=codes[:n_indicators]),
        "value": value,
        "approx": np.zeros(n, dtype=bool),
        "source_file": pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[SOURCE_FILE]),
        "source_sheet": pd.Categorical.from_codes(np.full(n, -1, dtype=np.int8), categories=["-"]),
        # the row of a wide CSV holding this unit and month (header = row 1)
        "source_row": np.repeat(np.arange(2, n_units * n_months + 2, dtype=np.int32), n_indicators),
    })


def make_ledger(n_hazards: int, n_units: int, n_months: int, seed: int = 0,
                start: str = "2024-01", first_row: int = 0) -> pd.DataFrame:
    """A large clean hazard ledger for benchmarks (LEDGER_COLUMNS, ledger.py's forms).

    Units (``U000000`` …) are drawn with lognormal weights, found dates uniform over
    the months; 5 % fail the standard, 4 % are reported after the 24th deadline, 35 %
    are enterprise self-reports, 80 % rectified.  ``unit``, ``sector``, ``source``,
    ``status`` and ``source_file`` are categorical, dates datetime64[ns],
    ``meets_standard`` boolean, ``hazard_id`` str.

    ``first_row`` > 0 makes a later part of one ledger too large to draw at once:
    the same units with the same weights, hazards numbered from ``first_row`` + 1,
    the rest drawn from a stream of their own (seed, first_row).
    """
    rng = np.random.default_rng(seed)
    n = n_hazards
    w = np.exp(rng.standard_normal(n_units))
    if first_row:
        rng = np.random.default_rng([seed, first_row])
    unit_codes = rng.choice(n_units, size=n, p=w / w.sum()).astype(np.int32)
    month0 = pd.Timestamp(start).to_datetime64().astype("datetime64[M]")
    month = rng.integers(0, n_months, size=n)
    found = (month0 + month).astype("datetime64[D]") + rng.integers(0, 20, size=n)
    reported = found + rng.integers(0, 4, size=n)
    late = rng.random(n) < 0.04
    reported[late] = (month0 + month[late] + 1).astype("datetime64[D]") + 25
    rectified = rng.random(n) < 0.8
    rect_date = np.where(rectified, found + rng.integers(1, 40, size=n), np.datetime64("NaT"))
    sectors = pd.Index(list(catalogue.SECTORS["sector"]))
    status = np.where(rectified, 0, np.where(rng.random(n) < 0.8, 1, 2)).astype(np.int8)
    return pd.DataFrame({
        "hazard_id": "YH" + pd.Series(np.arange(first_row + 1, first_row + n + 1)).astype("str").str.zfill(9),
        "unit": pd.Categorical.from_codes(unit_codes, categories=[f"U{u:06d}" for u in range(n_units)]),
        "sector": pd.Categorical.from_codes(rng.integers(0, len(sectors), size=n).astype(np.int8),
                                            categories=sectors),
        "found_date": found.astype("datetime64[ns]"),
        "reported_date": reported.astype("datetime64[ns]"),
        "source": pd.Categorical.from_codes((rng.random(n) < 0.35).astype(np.int8),
                                            categories=["dept", "enterprise"]),
        "meets_standard": pd.array(rng.random(n) >= 0.05, dtype="boolean"),
        "status": pd.Categorical.from_codes(status, categories=["rectified", "in_progress", "open"]),
        "rectified_date": rect_date.astype("datetime64[ns]"),
        "source_file": pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[SOURCE_FILE]),
        "source_row": np.arange(first_row + 2, first_row + n + 2, dtype=np.int64),
    })[LEDGER_COLUMNS]

