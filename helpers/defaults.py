"""The kit's defaults, in one place.

Every module and every notebook's parameters cell takes its default from here (the
cells spell the values out, as papermill needs literals; ``tests/test_defaults.py``
checks that they agree). Change a default here, then in the cells the test names.

Site facts (currency, platform fee, separators) are data about marketplaces, not
defaults, and live in :data:`helpers.schema.SITES`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = ["DEFAULTS", "KitDefaults"]


def _frozen(mapping: dict[str, Any]) -> Any:
    return field(default_factory=lambda: MappingProxyType(dict(mapping)))


@dataclass(frozen=True)
class KitDefaults:
    """What the kit assumes when the user says nothing."""

    #: Seed of every simulation, bootstrap and chart thinning.
    seed: int = 0
    #: One minus the confidence level of every interval and test.
    alpha: float = 0.05
    #: False-discovery rate of the CTR-lift flags.
    fdr: float = 0.05
    #: The data folder `make report` reads.
    data: str = "data/sample"
    #: Site whose pooled CTR per category is the benchmark (点击率提升对比美区).
    benchmark_site: str = "US"
    #: Product cost as a share of the selling price, for profit ROI (商品成本率).
    unit_cost_rate: float = 0.35
    #: Share of refunded units' product cost recovered (1: every refunded unit restocked;
    #: 0: refund-only, the buyer keeps the item).
    refund_recovery: float = 1.0
    #: Share of gifted creators who post (domain.md: 30-40 % of samples lead to a post).
    post_rate: float = 0.35
    #: Profit ROI at which a creator or campaign breaks even: the stop-loss line (止损线).
    break_even_roi: float = 1.0
    #: Monte Carlo draws of a ROI forecast and of a creator's profit-ROI interval.
    draws: int = 4000
    #: A category with fewer clicks or orders on a site is a cold start for the forecast.
    cold_start_min_clicks: int = 1000
    cold_start_min_orders: int = 30
    #: Plan verdicts on the probability of a loss: go at or below, no-go at or above.
    go_max_p_loss: float = 0.2
    no_go_min_p_loss: float = 0.5
    #: Lower follower bound of each tier above nano.
    tier_thresholds: Any = _frozen(
        {"micro": 10_000, "mid": 100_000, "macro": 500_000, "mega": 1_000_000}
    )


DEFAULTS = KitDefaults()
