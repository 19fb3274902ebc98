"""anquan-analysis: indicators, anomaly checks and per-period assessments of
work-safety campaign reports (安全生产治本攻坚三年行动, 重大事故隐患专项排查整治)."""

__version__ = "0.1.0"
