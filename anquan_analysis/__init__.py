"""anquan-analysis: indicators, anomaly checks and per-period assessments of
work-safety campaign reports (安全生产治本攻坚三年行动, 重大事故隐患专项排查整治).

In JupyterLab::

    import anquan_analysis as aq
    ds = aq.read("data/raw/synthetic_city")     # reports, exposure, ledger → Dataset
    aq.check(ds, period="2024-09")             # every check's findings
    aq.assess(ds, "2024Q3")                    # one period's assessment
    aq.funnel(ds), aq.plot_funnel(...)         # units against their peers
    aq.unit_history(ds, "花溪街道"), aq.peers(ds, "花溪街道"), aq.compare_years(ds, "2024-09")

The names are loaded on first use, so that ``import anquan_analysis`` (and the
``anquan`` command) stays quick.
"""

__version__ = "0.1.0"

_API = {
    "read": "api", "check": "api", "assess": "api", "funnel": "api", "totals": "api",
    "wide": "api", "findings_table": "api", "unit_history": "api", "peers": "api",
    "compare_years": "api", "plot_funnel": "api", "plot_heatmap": "api", "plot_unit": "api",
    "Dataset": "dataset", "Panel": "panel", "CHECKS": "checks",
}
__all__ = sorted(_API)


def __getattr__(name):
    if name in _API:
        import importlib

        value = getattr(importlib.import_module(f"{__name__}.{_API[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_API))
