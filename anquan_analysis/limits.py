"""The limits on what one input file may cost, in one place (README: "Limits").

Office reporting tables are small: a district sends tens of rows, a province a few
thousand.  Anything far past these limits is a broken or hostile file, and it is
refused in one line before it can take the machine's memory or time.  Every reader
looks these names up when it runs (``limits.MAX_ROWS``), so a test may lower one.

Memory: with these limits no input under 1 MB needs more than 1 GB, measured by
``benchmarks/hostile.py`` (peak resident memory per hostile case).
"""

from __future__ import annotations

# A sheet (or a CSV file): rows and columns that hold data.
MAX_ROWS = 100_000
MAX_COLUMNS = 1_000
# Cells of one file, all sheets together: each sheet's used range (rows x columns up
# to its last filled cell).  A province's year in one workbook, 1,500 units x 12 months
# x 45 columns, is 810,000; past this limit ingest would need more than 1 GB.
MAX_CELLS = 1_200_000
# Text and .xls files are read whole into memory.
MAX_FILE_BYTES = 64 * 2**20

# XLSX is a ZIP of XML parts.  A worksheet's XML normally deflates 5-20 times; a zip
# bomb, hundreds of times.  One part may not inflate more than MAX_INFLATION times past
# INFLATION_FLOOR bytes, and all parts together not past the budget
# min(MAX_XML_BYTES, max(INFLATION_FLOOR, MAX_INFLATION x the file's size)).
MAX_INFLATION = 100
INFLATION_FLOOR = 10 * 2**20
MAX_XML_BYTES = 256 * 2**20
MAX_ZIP_MEMBERS = 10_000
MAX_SHEETS = 1_000
# Shared strings and cell formats of a workbook (Excel's own limit on formats is 64,000).
MAX_SHARED_STRINGS = MAX_CELLS
MAX_CELL_FORMATS = 65_536
# XML structure: elements inside one cell or shared string, nesting depth, and quote
# characters inside one tag (a start tag with millions of attributes).
MAX_ELEMENTS_PER_RECORD = 1_000
MAX_XML_DEPTH = 32
MAX_QUOTES_PER_TAG = 20_000

# Alias suggestions (``aliases.likely_aliases``): names compared only within blocks of
# names that share all characters but one; a block larger than MAX_ALIAS_BLOCK is not
# paired out (its names are too alike to be told apart by one edit), comparisons stop
# at MAX_ALIAS_CANDIDATES, and the pairs listed are capped at MAX_ALIAS_PAIRS.  ``anquan ingest`` prints at most PRINTED_ALIASES of them.
MAX_ALIAS_BLOCK = 200
MAX_ALIAS_CANDIDATES = 200_000
MAX_ALIAS_PAIRS = 5_000
MAX_ALIAS_NAME = 64
PRINTED_ALIASES = 20

# Duplicates: a reason names the first rows of a group and the count.
NAMED_DUPLICATES = 5
