"""What an assessment leaves behind besides its report: summary.json and findings.xlsx."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..findings import CHECK_FAMILIES
from ..periods import months_in
from .period import Assessment
from .sections import period_total, reporting_units


def summary(a: Assessment) -> dict:
    """The key figures of the assessment, as recorded in summary.json: period,
    level, units reporting, the key indicator and its sum over units in the period
    (``hazards_found``, None without one), the checks not judged and why, and per
    check the number of findings and of alerts."""
    f = a.findings
    checks = sorted(set(CHECK_FAMILIES) | set(f["check"].dropna()))
    per_check = f.groupby("check").size().reindex(checks, fill_value=0)
    alerts = f.loc[f["severity"] == "alert"].groupby("check").size().reindex(checks, fill_value=0)
    return {
        "period": a.period, "period_zh": a.period_zh, "level": a.level,
        "months": months_in(a.period),
        "units_reporting": int(reporting_units(a).sum()),
        "key_indicator": a.key_indicator,
        "hazards_found": (float(np.nan_to_num(period_total(a, a.key_indicator)))
                          if a.key_indicator else None),
        # what the data could not support, and why (checks.unmet_needs)
        "not_judged": ({str(c): str(m) for c, m in zip(a.unmet["check"], a.unmet["message"])}
                       if len(a.unmet) else {}),
        "findings_total": int(len(f)), "alerts_total": int(alerts.sum()),
        "findings_per_check": {k: int(v) for k, v in per_check.items()},
        "alerts_per_check": {k: int(v) for k, v in alerts.items()},
        "thresholds": a.thresholds,
    }


def save_outputs(a: Assessment, output_dir, *, draft: str | None = None) -> dict:
    """Write findings.xlsx (with the ingest rejects), bulletin.docx (the 通报 in the
    official layout, ``bulletin_docx.bulletin_from_assessment``) and summary.json
    (``summary`` plus the drafted paragraph) into ``output_dir``; returns the summary."""
    from ..bulletin_docx import bulletin_from_assessment
    from ..io import write_text_atomic
    from ..report import write_findings_xlsx

    out = Path(output_dir)
    write_findings_xlsx(a.findings, out / "findings.xlsx", rejects=a.dataset.rejects)
    bulletin_from_assessment(a, out / "bulletin.docx")
    record = summary(a)
    if draft is not None:
        record["draft"] = draft
    write_text_atomic(json.dumps(record, ensure_ascii=False, indent=2), out / "summary.json")
    return record
