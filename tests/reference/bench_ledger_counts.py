"""Benchmark: effective_counts on a synthetic 5-million-row ledger."""
import time
import numpy as np, pandas as pd
from anquan_analysis.ledger import effective_counts
from anquan_analysis.catalogue import SECTORS
rng = np.random.default_rng(0)
n = 5_000_000
units = pd.Categorical.from_codes(rng.integers(0, 500, n), [f"单位{i:03d}" for i in range(500)])
found = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 730, n), unit="D")
rep = found + pd.to_timedelta(rng.integers(0, 40, n), unit="D")
rect = pd.Series(found + pd.to_timedelta(rng.integers(0, 60, n), unit="D")).mask(rng.random(n) < 0.3)
ledger = pd.DataFrame({
    "hazard_id": pd.RangeIndex(n).astype("str"),
    "unit": units,
    "sector": pd.Categorical.from_codes(rng.integers(0, 19, n), list(SECTORS["sector"])),
    "found_date": found.astype("datetime64[ns]"), "reported_date": rep.astype("datetime64[ns]"),
    "source": pd.Categorical.from_codes(rng.integers(0, 2, n), ["dept", "enterprise"]),
    "meets_standard": pd.array(rng.random(n) < 0.9, dtype="boolean"),
    "status": pd.Categorical.from_codes(rng.integers(0, 3, n), ["rectified", "in_progress", "open"]),
    "rectified_date": rect.astype("datetime64[ns]"),
    "source_file": "x", "source_row": np.arange(n)})
for kind in ("categorical", "str"):
    if kind == "str":
        ledger = ledger.astype({"unit": "str", "sector": "str", "source": "str", "status": "str"})
    t = time.perf_counter()
    c = effective_counts(ledger, campaign_start="2023-03-01", campaign_end="2024-10-31")
    print(kind, f"{time.perf_counter() - t:.2f} s", len(c), "rows", int(c["reported"].sum()))
