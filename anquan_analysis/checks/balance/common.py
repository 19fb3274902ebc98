"""What every balance check does last: severity from q, the noteworthy rows, the schema."""

from __future__ import annotations

import pandas as pd

from ...findings import empty_findings, make_findings, severity_from_q


def finish(out: pd.DataFrame, check: str, *, info_p: float, alert: float,
            warning: float) -> pd.DataFrame:
    """Severity from q, keep the noteworthy rows, coerce to the findings schema."""
    out = out.assign(check=check, severity=severity_from_q(out["q_value"], alert=alert,
                                                           warning=warning))
    out = out[(out["severity"] != "info") | (out["p_value"] < info_p)]
    if out.empty:
        return empty_findings()
    out = out.sort_values(["q_value", "p_value", "unit", "period"], kind="stable")
    return make_findings(out)
