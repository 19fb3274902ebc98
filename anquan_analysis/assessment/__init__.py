"""One period's assessment, as the notebook ``period_assessment.ipynb`` shows it.

==============  ===========================================================
folder          which files of a data folder are inputs; reading them
period          the period model: levels, ``Assessment``, ``assess_dataset``
sections        the table of each section of the report, and its headline
record          summary.json, findings.xlsx, 问题清单/ (one workbook per unit)
quality         the 数据质量 tables: coverage (indicator × month), unknown headers, corrections
display         tables and paragraphs in a notebook, the plot style
==============  ===========================================================

The notebook only calls these and shows the results (``anquan assess`` runs it for
each period: ``notebook_runs``).
"""

from .display import close_figures, notebook_setup, show, show_section, show_text, text_html
from .folder import data_files, read_data_dir, read_periods, resolve_path, skipped_files
from .period import (KEY_INDICATOR, Assessment, PeriodNotFound, assess_dataset,
                     available_periods, key_indicator, ledger_counts_to_level, merge_thresholds,
                     period_label,
                     require_period, run_assessment)
from .record import save_outputs, summary
from .sections import (district_rates, district_totals, findings_table, headline,
                       heatmap_units, history, period_note, progress_table, ranking_intro,
                       ranking_table, ranking_title, reconciliation_table, rejects_table,
                       section_note, sector_summary, sector_table, source_table, top_finding,
                       top_unit)

__all__ = [
    "close_figures", "notebook_setup", "show", "show_section", "show_text", "text_html",
    "data_files", "read_data_dir", "read_periods", "resolve_path", "skipped_files",
    "KEY_INDICATOR", "Assessment", "PeriodNotFound", "assess_dataset", "available_periods",
    "key_indicator", "ledger_counts_to_level", "merge_thresholds", "period_label",
    "require_period", "run_assessment",
    "save_outputs", "summary",
    "district_rates", "district_totals", "findings_table", "headline", "heatmap_units",
    "history", "period_note", "progress_table", "ranking_intro", "ranking_table",
    "ranking_title", "reconciliation_table", "rejects_table", "section_note", "sector_summary",
    "sector_table", "source_table", "top_finding", "top_unit",
]
