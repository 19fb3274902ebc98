"""What an assessment leaves behind besides its report: summary.json, findings.xlsx and
问题清单/ (one workbook per unit with a problem, to send back to the units), each with
the provenance of the data (``provenance``)."""

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
    (``hazards_found``, None without one), the checks not judged and why, per check
    the number of findings and of alerts, the provenance of the data (folder, files
    with SHA-256 and rows, package version, when read) and when this summary was
    generated (``provenance.run_time``)."""
    from ..provenance import run_time

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
        "key_indicator_total": (float(np.nan_to_num(period_total(a, a.key_indicator)))
                                if a.key_indicator else None),
        "bundled_data": bool(a.provenance and a.provenance.get("bundled")),
        # what the checks judged (period.judged_span): alert counts compare across
        # periods whose look-back is full
        "judged": a.judged,
        "provenance": a.provenance,
        "generated": run_time(),
    }


def save_outputs(a: Assessment, output_dir, *, draft: str | None = None) -> dict:
    """Write findings.xlsx (with the ingest rejects and the provenance), 问题清单/
    (``report.write_unit_workbooks``: one workbook per unit with a 预警 or 关注
    finding, with a 核实反馈 column), bulletin.docx (the 通报 in the official layout,
    ``bulletin_docx.bulletin_from_assessment``) and summary.json (``summary`` plus the
    drafted paragraph) into ``output_dir``; returns the summary."""
    from ..bulletin_docx import bulletin_from_assessment
    from ..io import write_text_atomic
    from ..report import PROBLEM_FOLDER, start_unit_workbooks, write_findings_xlsx

    out = Path(output_dir)
    # A province's hundreds of per-unit workbooks are started first, in a forked
    # process (report.start_unit_workbooks), and shared with this one once the other
    # files are written: on two cores the lists no longer follow everything else.
    unit_books = start_unit_workbooks(a.findings, out / PROBLEM_FOLDER, period=a.period,
                                      issuer=getattr(a.settings, "issuer", "") or "",
                                      provenance=a.provenance)
    try:
        write_findings_xlsx(a.findings, out / "findings.xlsx", rejects=a.dataset.rejects,
                            period=a.period, provenance=a.provenance)
        bulletin_from_assessment(a, out / "bulletin.docx")
        record = summary(a)
        if draft is not None:
            record["draft"] = draft
        write_text_atomic(json.dumps(record, ensure_ascii=False, indent=2),
                          out / "summary.json")
    finally:
        unit_books()
    return record
