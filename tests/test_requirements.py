"""Which columns each analysis needs, and the sentences that say how to supply them."""

from __future__ import annotations

import re

import pytest

from helpers.errors import ExportError
from helpers.requirements import (
    ANALYSES,
    MissingColumns,
    conversion_formula,
    formula_columns,
    missing_columns,
    require,
    unmet,
)

# A Seller Center video export carries post dates.
# fmt: off
SELLER_CENTER = [
    "site", "creator_id", "tier", "category", "commission_rate",
    "impressions", "clicks", "orders", "gmv", "date",
]
# fmt: on
NO_PRODUCT_LIST = [c for c in SELLER_CENTER if c not in ("category", "commission_rate")]
FACEBOOK_ADS = [
    "site",
    "content_id",
    "age",
    "gender",
    "interest",
    "impressions",
    "clicks",
    "orders",
]


def test_full_export_supports_every_analysis() -> None:
    for analysis in ANALYSES:
        assert missing_columns(analysis, SELLER_CENTER) == [], analysis


def test_default_formula_keeps_the_terms_the_data_has() -> None:
    assert conversion_formula("", SELLER_CENTER) == "C(tier) + C(category) + commission_rate"
    assert conversion_formula("", NO_PRODUCT_LIST) == "C(tier)"
    assert conversion_formula(None, FACEBOOK_ADS) == "1"
    assert conversion_formula("C(age) + C(gender)", FACEBOOK_ADS) == "C(age) + C(gender)"


def test_formula_columns_reads_patsy_terms() -> None:
    cols = formula_columns("C(age) * C(gender) + bs(commission_rate, df=3) + Q('x y')", ["age"])
    assert cols == ["age", "gender", "commission_rate", "x y"]


def test_no_product_list_runs_health_lift_and_conversion_only() -> None:
    assert missing_columns("conversion", NO_PRODUCT_LIST) == []
    assert missing_columns("lift", NO_PRODUCT_LIST) == []
    assert missing_columns("roi", NO_PRODUCT_LIST) == ["category", "commission_rate"]
    message = unmet("scorecard", NO_PRODUCT_LIST)
    assert message is not None and "`category`" in message and "product list" in message


def test_facebook_export_needs_a_formula_for_conversion() -> None:
    assert missing_columns("conversion", FACEBOOK_ADS) == ["tier or category or commission_rate"]
    assert (
        missing_columns("conversion", FACEBOOK_ADS, formula="C(age) + C(gender) + C(interest)")
        == []
    )
    assert missing_columns("conversion", FACEBOOK_ADS, formula="C(age) + C(region)") == ["region"]
    assert missing_columns("lift", FACEBOOK_ADS) == []


def test_require_raises_an_export_error_with_the_fix() -> None:
    with pytest.raises(MissingColumns) as info:
        require("roi", NO_PRODUCT_LIST)
    assert isinstance(info.value, ExportError)
    assert info.value.missing == ["category", "commission_rate"]
    assert "column_map" in str(info.value)
    require("lift", NO_PRODUCT_LIST)  # no error


def test_unknown_analysis_lists_the_accepted_ones() -> None:
    with pytest.raises(ValueError, match="accepted"):
        missing_columns("forecast", SELLER_CENTER)


def test_unmet_speaks_the_report_language() -> None:
    """A Chinese report says in Chinese what is missing and how to supply it; the spec
    keys and column names it quotes stay as they must be written."""
    from helpers.requirements import _HOW_TO_SUPPLY, _HOW_TO_SUPPLY_ZH, _TITLES_ZH, unmet

    assert set(_HOW_TO_SUPPLY) == set(_HOW_TO_SUPPLY_ZH)
    assert set(ANALYSES) <= set(_TITLES_ZH)
    zh = unmet("roi", NO_PRODUCT_LIST, lang="zh")
    en = unmet("roi", NO_PRODUCT_LIST)
    assert en is not None and "needs" in en
    assert zh is not None and "数据中没有" in zh and "ROI 预估" in zh
    assert "`category`" in zh and "column_map" in zh
    assert not re.search(r"\b(needs|which the data lacks|To supply)\b", zh), zh
    assert unmet("lift", SELLER_CENTER, lang="zh") is None
