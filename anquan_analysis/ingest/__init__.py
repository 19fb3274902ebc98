"""Office tables (CSV/XLSX) → a validated ``Dataset``: ``anquan ingest PATH...``.

``ingest(paths)`` reads every file and sheet; nothing is dropped silently.  The
modules, one job each:

============== ==============================================================
reading        which files and sheets, classified by header: ledger, exposure, reports
headers        header labels → roles and catalogue indicators; unknown columns
sheets         a report sheet → rows (unit, period, 口径, totals), whole-row rejects
cells          its figures → parsed, plausible values in the catalogue unit
exposure       an exposure sheet → enterprises supervised per unit (and sector)
duplicates     a unit reported twice for one period, anywhere in the input
reconcile      totals rows (合计/小计) against the sum of their units
cumulative     累计 figures → in-period figures
summary        rows read / clean / rejected per sheet
core           ``ingest()``: the steps above in order, and the side tables
cli            ``anquan ingest``
============== ==============================================================

A unit reported twice for one period (anywhere in the input): identical figures keep
the first row and reject the later ones as "duplicate of row N (identical)"; different
figures reject every copy, each naming the others.  口径=累计 rows are converted to
in-period figures per unit and indicator (``cumulative_to_period``).  Totals rows are
reconciled against the sum of their units (``Dataset.reconciliation``); the units'
figures are kept either way.
"""

from .cli import summary_lines
from .cells import MAX_PLAUSIBLE, plausible
from .core import ingest
from .cumulative import cumulative_to_period
from .duplicates import flag_duplicates
from .headers import HEADER_ALIASES, UNKNOWN_COLUMNS, column_role, column_unit
from .reconcile import RECONCILIATION_COLUMNS
from .sheets import BASIS_VALUES, sheet_period
from .summary import SUMMARY_COLUMNS

__all__ = ["BASIS_VALUES", "HEADER_ALIASES", "MAX_PLAUSIBLE", "RECONCILIATION_COLUMNS",
           "SUMMARY_COLUMNS", "UNKNOWN_COLUMNS", "column_role", "column_unit",
           "cumulative_to_period", "flag_duplicates", "ingest", "plausible", "sheet_period",
           "summary_lines"]
