"""Paths and defaults in one place (cookiecutter-data-science style).

The project root is the folder holding ``pyproject.toml`` above this package; set
``ANQUAN_ROOT`` to point elsewhere (for example when the package is installed
non-editable and run from a copy of the repository).
"""

from __future__ import annotations

import os
from pathlib import Path


def _find_root() -> Path:
    env = os.environ.get("ANQUAN_ROOT")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve().parent
    for candidate in (here.parent, Path.cwd()):
        if (candidate / "pyproject.toml").exists() and (candidate / "data").exists():
            return candidate
    return Path.cwd()


ROOT = _find_root()
DATA_RAW = ROOT / "data" / "raw"
DATA_PROCESSED = ROOT / "data" / "processed"
NOTEBOOKS = ROOT / "notebooks"
REPORTS = ROOT / "reports"

# Bundled inputs (see data/raw/README.md).
SEED_FIGURES = DATA_RAW / "seed_figures.csv"
SYNTH_DIR = DATA_RAW / "synthetic_city"
# the detection grid's stored results (benchmarks/detection.py --output)
DETECTION_GRID = ROOT / "benchmarks" / "results" / "detection_grid.csv"
# its strong cells on district seeds nobody read while writing the checks
DETECTION_HELDOUT = ROOT / "benchmarks" / "results" / "detection_heldout_strong.csv"
# the same districts with the single-unit checks held to one error rate (suite_level)
DETECTION_HELDOUT_SUITE = ROOT / "benchmarks" / "results" / "detection_heldout_strong_suite.csv"

# 巴南's bulletin: hazards must reach the direct-report system before the 24th.
DEFAULT_REPORT_DEADLINE_DAY = 24
