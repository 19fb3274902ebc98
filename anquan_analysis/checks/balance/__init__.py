"""Data credibility ("balance") checks: figures that look arranged rather than counted.

巴南's bulletin notes towns asking one another what they reported in order to
"保持平衡", and units that "报小不报大、报少不报多".  Each check here looks for one
signature of figures that were written down rather than counted:

================= ===============================================================
underdispersion   a group drawn closer together than its members' own past allows
matching_series   groups of units whose figures agree period after period
identical_values  two units reporting the same vector of figures in one period
repeated_value    one unit reporting the same figure period after period
last_digit        heaping on final digits 0 and 5, per unit and per indicator
round_number      one indicator's figures heaped on multiples of 10, 50 or 100
benford           first digits far from Benford's law on figures spanning magnitudes
pinned_rate       hazards rectified at 100%, more often than the peers' rate allows
================= ===============================================================

Common conventions (docs/CONTRACTS.md): every check takes the panel (a long frame
or a ``panel.Panel``) and keyword thresholds, returns ``findings.make_findings``; ``period=P`` reports on P
using the history up to P; p-values are Benjamini–Hochberg adjusted within the
check before severity (alert q < 0.01, warning q < 0.05).  Only noteworthy rows are
returned: warnings, alerts, and ``info`` rows whose raw p-value is below ``info_p``.
Peers are units of the same ``unit_type``.  Inputs are never modified.
"""

from __future__ import annotations

from .digits import benford, first_digit, last_digit
from .dispersion import underdispersion
from .identical import identical_values
from .matching import matching_series
from .pinned import ALL_RECTIFICATION_PAIRS, MAJOR_PAIR, RECTIFICATION_PAIRS, pinned_rate
from .repeats import repeated_value
from .rounding import round_number

__all__ = ["underdispersion", "matching_series", "identical_values", "repeated_value",
           "last_digit", "round_number", "benford", "pinned_rate", "first_digit", "RECTIFICATION_PAIRS",
           "ALL_RECTIFICATION_PAIRS", "MAJOR_PAIR"]
