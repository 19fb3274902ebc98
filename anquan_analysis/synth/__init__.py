"""A seeded synthetic district, calibrated to the seed bulletins, with injected anomalies
and their ground truth; plus fast generators of national-scale panels and ledgers.

``make_city`` builds a 巴南-like district (about 50 reporting units: 镇街, district
departments, state-owned companies) reporting about 24 indicators monthly, the
hazard ledger behind its major-hazard figures, the enterprises each unit supervises,
and a ``truth`` table naming every injected anomaly by the check id that should find
it.  The clean model, per unit i and month t:

    enterprises_i           lognormal around a size typical of the unit (区应急局 largest)
    effort_i                Gamma(shape 6, mean 1), clipped to [0.35, 2.2] (overdispersion)
    major hazards found     Poisson(enterprises_i × rate × effort_i × month_t × Gamma(8)/8)
    enterprise share        Beta(14, 26) per unit (mean 0.35)
    rectified               Binomial per hazard, 65–90 % for department finds, +10 points
                            for enterprise finds (about 80 % overall)
    other indicators        Poisson around enterprises_i × activity_i × a per-indicator
                            rate, with month-to-month Gamma noise; persons = sessions +
                            Poisson(sessions × (class size − 1)), so every catalogue rule
                            holds in clean units

``python -m anquan_analysis.synth --output data/raw/synthetic_city`` writes the
bundled files (see that folder's README.md).  Everything is a function of the seed:
files are byte-identical across runs.

The modules:

============ ===================================================================
district     the district's units and the indicators they report (the catalogue's)
calibration  rates, noise and anomaly sizes, calibrated to the seed bulletins
figures      the clean figures, units × months × indicators
inject       the planted anomalies and their truth rows
hazards      the hazard ledger behind the major-hazard figures
city         ``make_city`` and ``SynthCity``
files        the bundled files (``write_city``) and ``python -m anquan_analysis.synth``
scale        ``make_panel`` and ``make_ledger``: province and national scale for benchmarks
============ ===================================================================
"""

from .city import SynthCity, make_city
from .district import (CITY_INDICATORS, DISTRICT, SOURCE_FILE, TRUTH_COLUMNS, UNIT_COLUMNS,
                       UNIT_TYPE_ZH)
from .files import clean_table, main, messy_workbook, write_city
from .scale import make_ledger, make_panel

__all__ = ["CITY_INDICATORS", "DISTRICT", "SOURCE_FILE", "TRUTH_COLUMNS", "UNIT_COLUMNS",
           "UNIT_TYPE_ZH", "SynthCity", "clean_table", "main", "make_city", "make_ledger",
           "make_panel", "messy_workbook", "write_city"]
