"""The clean figures of the demo district: units × months × ``CITY_INDICATORS``.

Per unit i and month t (see the package docstring for the model): major hazards
found are Poisson around enterprises_i × rate × effort_i × month_t with Gamma noise,
split by source and rectified binomially; the other indicators are Poisson around
the unit's activity, with persons ≥ sessions, so every catalogue rule holds in clean
units.
"""

from __future__ import annotations

import numpy as np

from .calibration import ACTIVITY_RATES, CLASS_SIZE, FINE_PER_PENALTY, MONTH_SHAPE, RATE_MAJOR
from .district import CITY_INDICATORS, ENFORCEMENT_INDICATORS
from .district import INDICATOR_POSITION as _IX


def _activity(rng, enterprises, n_months, shape=6.0):
    """Unit-level activity multiplier × month noise, units × months (mean 1 each)."""
    unit = np.clip(rng.gamma(4.0, 0.25, size=len(enterprises)), 0.3, 3.0)
    month = rng.gamma(shape, 1.0 / shape, size=(len(enterprises), n_months))
    return enterprises[:, None] * unit[:, None] * month


def _persons(rng, sessions, size):
    """Persons trained: every session has at least one person, classes of ~size."""
    return sessions + rng.poisson(sessions * np.maximum(size - 1.0, 0.0))


def clean_figures(rng, units, enterprises, enforces, n_months, month_factor, effort):
    """Wide array units × months × CITY_INDICATORS (NaN = not reported) and the major-hazard
    expectation per cell."""
    n = len(units)
    v = np.full((n, n_months, len(CITY_INDICATORS)), np.nan)
    lam = (enterprises[:, None] * RATE_MAJOR * effort[:, None] * month_factor[None, :]
           * rng.gamma(MONTH_SHAPE, 1.0 / MONTH_SHAPE, size=(n, n_months)))

    def act(code):
        return rng.poisson(ACTIVITY_RATES[code] * _activity(rng, enterprises, n_months))

    inspected = act("units_inspected")
    v[..., _IX["units_inspected"]] = inspected
    per_inspection = np.clip(rng.gamma(4.0, 0.25, size=n), 0.3, 3.0)[:, None] * 0.9
    general = rng.poisson(inspected * per_inspection * rng.gamma(6.0, 1 / 6.0, size=(n, n_months)))
    v[..., _IX["general_hazards_found"]] = general
    v[..., _IX["general_hazards_rectified"]] = rng.binomial(
        general, rng.uniform(0.88, 0.99, size=n)[:, None])
    for sessions_code, persons_code in (
            ("principal_training_sessions", "principal_training_persons"),
            ("standard_publicity_sessions", "standard_publicity_persons"),
            ("worker_training_sessions", "worker_training_persons")):
        sessions = act(sessions_code)
        size = CLASS_SIZE[persons_code] * rng.lognormal(0.0, 0.35, size=n)[:, None]
        v[..., _IX[sessions_code]] = sessions
        v[..., _IX[persons_code]] = _persons(rng, sessions, size * rng.gamma(5.0, 0.2, size=(n, n_months)))
    drill_ent = act("drill_enterprises")
    v[..., _IX["drill_enterprises"]] = drill_ent
    v[..., _IX["drills"]] = drill_ent + rng.poisson(0.3 * drill_ent)
    visits = act("assistance_visits")
    v[..., _IX["assistance_visits"]] = visits
    v[..., _IX["assisted_enterprises"]] = rng.binomial(visits, 0.85)
    penalties = act("penalties")
    v[..., _IX["penalties"]] = penalties
    # A fine per penalty ~ Exponential(0.7万元) summed: Gamma(penalties, 0.7); 2 decimals.
    fines = np.round(rng.gamma(np.maximum(penalties, 1), FINE_PER_PENALTY), 2)
    v[..., _IX["fines"]] = np.where(penalties > 0, np.maximum(fines, 0.01), 0.0)
    v[..., _IX["warning_letters"]] = act("warning_letters")
    accidents = rng.poisson(ACTIVITY_RATES["accidents"] * enterprises[:, None] * np.ones(n_months))
    v[..., _IX["accidents"]] = accidents
    v[..., _IX["deaths"]] = rng.binomial(accidents, 0.85) + rng.poisson(0.1 * accidents)
    no_enforcement = ~enforces
    for code in ENFORCEMENT_INDICATORS:
        v[no_enforcement, :, _IX[code]] = np.nan
    return v, lam


def major_split(rng, found, p_enterprise, r_dept):
    """found → (found_dept, found_ent, rect_dept, rect_ent), per cell."""
    ent = rng.binomial(found, p_enterprise[:, None])
    dept = found - ent
    rect_dept = rng.binomial(dept, r_dept[:, None])
    rect_ent = rng.binomial(ent, np.minimum(r_dept + 0.10, 0.97)[:, None])
    return dept, ent, rect_dept, rect_ent


def set_major(v, dept, ent, rect_dept, rect_ent):
    """In place: the six major-hazard columns of ``v`` from the split by source."""
    v[..., _IX["major_hazards_found_dept"]] = dept
    v[..., _IX["major_hazards_found_enterprise"]] = ent
    v[..., _IX["major_hazards_found"]] = dept + ent
    v[..., _IX["major_hazards_rectified_dept"]] = rect_dept
    v[..., _IX["major_hazards_rectified_enterprise"]] = rect_ent
    v[..., _IX["major_hazards_rectified"]] = rect_dept + rect_ent
