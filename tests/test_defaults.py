"""One defaults object: every notebook parameters cell and module constant agrees with it.

Parameters cells must hold literals (papermill reads and overrides them), so they
repeat the values of :data:`helpers.defaults.DEFAULTS`; this test keeps them equal.
"""

from __future__ import annotations

import ast
from typing import Any

import nbformat
import pytest

from helpers import metrics, paths, roi, schema
from helpers.defaults import DEFAULTS

#: Notebook parameter -> the default it must equal.
PARAMETER_DEFAULTS = {
    "seed": "seed",
    "alpha": "alpha",
    "fdr": "fdr",
    "data": "data",
    "benchmark_site": "benchmark_site",
    "unit_cost_rate": "unit_cost_rate",
    "product_cost_rate": "unit_cost_rate",
    "refund_recovery": "refund_recovery",
    "post_rate": "post_rate",
    "stop_loss": "break_even_roi",
    "roi_threshold": "break_even_roi",
    "n_draws": "draws",
}

NOTEBOOKS = sorted(paths.NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def _parameters(path: Any) -> dict[str, Any]:
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    out = {}
    for node in ast.parse(cell.source).body:
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            try:
                out[node.target.id] = ast.literal_eval(node.value)
            except ValueError:  # a non-literal default (none today) is not compared
                continue
    return out


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_defaults_match_the_defaults_object(path: Any) -> None:
    params = _parameters(path)
    checked = {k: v for k, v in params.items() if k in PARAMETER_DEFAULTS}
    assert "seed" in checked  # every notebook has a seed parameter
    wrong = {
        k: (v, getattr(DEFAULTS, PARAMETER_DEFAULTS[k]))
        for k, v in checked.items()
        if v != getattr(DEFAULTS, PARAMETER_DEFAULTS[k])
    }
    assert not wrong, f"{path.name}: parameter (cell value, DEFAULTS) differ: {wrong}"


def test_module_constants_come_from_the_defaults_object() -> None:
    assert metrics.REFUND_RECOVERY == DEFAULTS.refund_recovery
    assert roi.POST_RATE == DEFAULTS.post_rate
    assert roi.CampaignPlan(site="US", category="beauty", commission_rate=0.1,
                            creators_per_tier={"micro": 1}).post_rate == DEFAULTS.post_rate  # fmt: skip
    assert (roi.MIN_CLICKS, roi.MIN_ORDERS) == (
        DEFAULTS.cold_start_min_clicks,
        DEFAULTS.cold_start_min_orders,
    )
    assert schema.DEFAULT_TIER_THRESHOLDS == dict(DEFAULTS.tier_thresholds)


def test_defaults_cannot_be_changed_by_accident() -> None:
    with pytest.raises(AttributeError):
        DEFAULTS.alpha = 0.1  # type: ignore[misc]
    with pytest.raises(TypeError):
        DEFAULTS.tier_thresholds["micro"] = 1  # type: ignore[index]
