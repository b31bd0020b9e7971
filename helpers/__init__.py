"""LinkStar affiliate analytics kit: tested helpers that the notebooks call.

Modules
-------
paths       repo-relative locations
schema      canonical columns, tiers, sites, header aliases (English and 中文)
errors      ExportError and friends
load        read_export / assemble: one export -> canonical frame + rejects
io          the data spec, readers behind limits, the dataset validated once per run
requirements which columns each analysis needs, and how to supply a missing one
health      data-health tables (row accounting, coverage, issues, supported analyses)
synth       seeded synthetic affiliate data with a known truth, and export writers
metrics     funnel metrics, intervals, ROI definitions
conversion  fit_conversion: binomial GLM on sufficient statistics
lift        CTR benchmarks, lift, empirical-Bayes shrinkage, FDR flags
roi         campaign ROI forecast with uncertainty, break-even commission, backtest
abtest      A/B comparison and sample-size planning
charts      seaborn/matplotlib figures (each returns a Figure)
outputs     how a notebook saves figures, tables and results for a report
report      papermill runner and HTML export (python -m helpers.report)
"""

__version__ = "0.1.0"

#: The few names a notebook or a user needs, imported on first use (a notebook that
#: only reads the primer does not pay for the loader).
_FACADE = {
    "load_dataset": "helpers.io.dataset",
    "DataSpec": "helpers.io.spec",
    "require": "helpers.requirements",
    "conversion_formula": "helpers.requirements",
    "read_export": "helpers.load",
    "fit_conversion": "helpers.conversion",
    "benchmark": "helpers.lift",
    "ctr_lift": "helpers.lift",
    "forecast_roi": "helpers.roi",
    "build_scorecard": "helpers.scorecard",
    "run_report": "helpers.report",
}

__all__ = sorted(_FACADE)


def __getattr__(name: str) -> object:
    if name not in _FACADE:
        raise AttributeError(f"module 'helpers' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_FACADE[name]), name)
