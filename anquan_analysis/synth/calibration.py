"""The calibration of the demo district's figures to the seed bulletins (see
data/raw/synthetic_city/README.md): rates, noise and the size of injected anomalies."""

RATE_MAJOR = 0.0020        # effective major hazards per enterprise per month, before the step
EFFORT_SHAPE = 6.0         # Gamma shape of the unit effort multiplier (CV 0.41)
EFFORT_CLIP = (0.35, 2.2)  # clean units: never near an injected low outlier (0.05)
LEAD_EFFORT = 1.8          # 区应急局 leads the campaign (领导小组办公室): at least this effort
# A kind is testable only where many hazards are expected: units chosen for it
# supervise enough enterprises (raised if needed) to expect at least this many
# effective hazards a year at their own effort (at normal effort for low/zero).
MIN_YEARLY = {"low_outlier": 30.0, "zero_report": 30.0, "pinned_rate": 50.0,
              "low_self_report": 40.0}
# A surge unit expects at least this many hazards in each month before the step (a
# spike from 1 to 5 is Poisson noise; 巴南's top units found 4–8 a month), and
# reports SURGE_FACTOR × its own earlier monthly mean in the surge month.
SURGE_BASELINE = 3.0
SURGE_FACTOR = 5.0
MONTH_SHAPE = 8.0          # month-to-month Gamma noise on the hazard rate (CV 0.35)
STEP = 2.5                 # district-wide step after the district head's meeting (group_shift)
# Other indicators: rate per enterprise per month (× the unit's activity multiplier).
ACTIVITY_RATES = {
    "units_inspected": 0.15, "principal_training_sessions": 0.006,
    "standard_publicity_sessions": 0.004, "worker_training_sessions": 0.008,
    "drill_enterprises": 0.012, "assistance_visits": 0.02, "penalties": 0.003,
    "warning_letters": 0.0015, "accidents": 0.00015,
}
CLASS_SIZE = {"principal_training_persons": 60.0, "standard_publicity_persons": 45.0,
              "worker_training_persons": 70.0}
FINE_PER_PENALTY = 0.7     # 万元 (桂林: 300 penalties, 210万元)
