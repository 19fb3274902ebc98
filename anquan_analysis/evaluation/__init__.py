"""How well the checks find what was planted in synthetic data.

* ``figures``: the methods notebook's tables and pictures on ``synth.make_city``;
* ``districts`` (with ``effects`` and ``inject``): benchmark districts written apart
  from ``synth`` and the checks, with knobs, ground truth and null twins;
* ``oracle``: tests with the true generating parameters, per kind;
* ``score``: the one scorer of detection (checks or oracle against the truth);
* ``grid``: the benchmark grid of ``benchmarks/detection.py``; ``grid_view``: its
  stored results as the methods notebook shows them.
"""

from .figures import check_figure, city_dataset, rates_figure, scores_zh
from .grid_view import grid_false_alarms, grid_figure, grid_summary, heldout_comparison
from .score import score_checks

__all__ = ["city_dataset", "score_checks", "scores_zh", "rates_figure", "check_figure",
           "grid_summary", "grid_false_alarms", "grid_figure", "heldout_comparison"]
