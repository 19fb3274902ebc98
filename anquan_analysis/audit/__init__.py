"""The audit of a bulletin: its figures as data, and the arithmetic of its own claims
(``anquan audit``).

Offices write their figures into prose (``排查整治重大事故隐患79项，其中部门检查发现72项，
企业自查发现7项，企业自查上报占比仅为8.86%``).  ``extract_figures`` finds every figure
with its unit word, span, sentence, the unit or sector it belongs to and, where the
wording allows, its catalogue indicator; ``audit`` checks the claims the text makes about
its own numbers, one module per kind of claim (see ``core.audit``); ``lists_to_table``
turns the units a bulletin lists into the ingest's wide table.

Spans index the NFKC-normalised text (``read_text`` returns it already normalised; the
functions normalise their input again, which changes nothing for such text).
"""

from .core import CLAIM_TYPES, audit
from .document import AUDIT_COLUMNS, STATUSES
from .extract import FIGURE_COLUMNS, extract_figures
from .panel import figures_to_panel, lists_to_table
from .reading import read_text

__all__ = ["AUDIT_COLUMNS", "CLAIM_TYPES", "FIGURE_COLUMNS", "STATUSES", "audit",
           "extract_figures", "figures_to_panel", "lists_to_table", "read_text"]
