"""LinkStar affiliate analytics kit: tested helpers that the notebooks call.

Modules
-------
paths       repo-relative locations
schema      canonical columns, tiers, sites, header aliases (English and 中文)
errors      ExportError and friends
load        read_export / assemble / load_dataset: exports -> canonical frame + rejects
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
