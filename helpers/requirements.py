"""Which columns each analysis needs, and how a user supplies a missing one.

The loader requires almost nothing (a site and one measure), so that any export loads;
each analysis states here what it needs. The report runner checks a notebook's
requirement before running it and shows one line for an analysis the data cannot
support; the notebook calls :func:`require` itself, so the same message appears in
JupyterLab.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import patsy

from helpers.errors import ExportError, ParameterError
from helpers.i18n import check_lang

__all__ = [
    "ANALYSES",
    "DEFAULT_CONVERSION_TERMS",
    "MissingColumns",
    "Requirement",
    "conversion_formula",
    "formula_columns",
    "missing_columns",
    "require",
    "unmet",
]

DEFAULT_CONVERSION_TERMS: tuple[tuple[str, str], ...] = (
    ("tier", "C(tier)"),
    ("category", "C(category)"),
    ("commission_rate", "commission_rate"),
)
"""The default conversion formula, term by term, with the column each term needs."""

#: How to supply each column the analyses ask for (data.yaml keys a user can write).
_HOW_TO_SUPPLY: dict[str, str] = {
    "site": "add a site column, or set `site: US` in data.yaml",
    "creator_id": "map your creator (or ad set, account) column: `column_map: {'Your header': creator_id}`",
    "tier": (
        "add a follower count (tiers come from `tiers: {thresholds: [...]}`) or a tier column; "
        "for other ordered groups (age bands) use `tiers: {labels: [...]}` with "
        "`column_map: {'Age': tier}`"
    ),
    "category": (
        "put the product list export (product ID and category) in the data folder, or map a "
        "column: `column_map: {'Your header': category}`"
    ),
    "commission_rate": (
        "put the product list export (product ID and commission rate) in the data folder, or "
        "map a column: `column_map: {'Your header': commission_rate}`"
    ),
    "impressions": "map your impressions column: `column_map: {'Your header': impressions}`",
    "clicks": "map your clicks column: `column_map: {'Your header': clicks}`",
    "orders": "map your orders or conversions column: `column_map: {'Your header': orders}`",
    "gmv": "map your sales (GMV, revenue) column: `column_map: {'Your header': gmv}`",
    "date": (
        "map your post date (or day) column: `column_map: {'Your header': date}`; an export "
        "without dates is one period, with nothing to compare it to"
    ),
}


@dataclass(frozen=True)
class Requirement:
    """What one analysis needs from the dataset.

    Attributes
    ----------
    title : str
        The analysis's name for people.
    columns : tuple of str
        Columns that must all be present.
    any_of : tuple of tuple of str
        Groups of which at least one column must be present.
    """

    title: str
    columns: tuple[str, ...] = ()
    any_of: tuple[tuple[str, ...], ...] = ()


#: What a full Seller Center folder (videos, creators, products) gives, and what the
#: ROI forecast and the scorecard both need.
_SELLER_CENTER: tuple[str, ...] = (
    "site",
    "creator_id",
    "tier",
    "category",
    "commission_rate",
    "impressions",
    "clicks",
    "orders",
    "gmv",
)

ANALYSES: dict[str, Requirement] = {
    "primer": Requirement("Metrics primer"),
    "health": Requirement("Data health"),
    "conversion": Requirement("Conversion drivers", ("clicks", "orders")),
    "roi": Requirement("ROI estimate", _SELLER_CENTER),
    "lift": Requirement(
        "CTR lift vs the US benchmark",
        ("site", "impressions", "clicks"),
        (("creator_id", "content_id", "category", "tier"),),
    ),
    "scorecard": Requirement("Creator scorecard", _SELLER_CENTER),
    "monitor": Requirement("Weekly monitor", ("date", *_SELLER_CENTER)),
}
"""Every analysis and its requirement, keyed by the name notebooks declare in their
metadata (``metadata.linkstar.analysis``)."""


class MissingColumns(ExportError):
    """The data lacks a column an analysis needs (the message says how to supply it)."""

    def __init__(self, analysis: str, missing: Sequence[str], message: str) -> None:
        super().__init__(message)
        self.analysis = analysis
        self.missing = list(missing)


def formula_columns(formula: str, columns: Iterable[str]) -> list[str]:
    """Names a patsy right-hand side uses that look like data columns.

    Parameters
    ----------
    formula : str
        A right-hand side such as ``"C(tier) + commission_rate"``.
    columns : iterable of str
        The data's columns (names used inside ``Q("...")`` are always columns).

    Returns
    -------
    list of str
        Column names in order of first use, whether present in ``columns`` or not
        (patsy's own functions such as ``C``, ``bs`` and ``np`` are left out).
    """
    known = set(columns)
    names: list[str] = []
    for term in patsy.ModelDesc.from_formula(formula).rhs_termlist:
        for factor in term.factors:
            for node in ast.walk(ast.parse(factor.code, mode="eval")):
                name = _column_name(node, known)
                if name and name not in names:
                    names.append(name)
    return names


def _column_name(node: ast.AST, known: set[str]) -> str | None:
    if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Q" and node.args:
        arg = node.args[0]
        return arg.value if isinstance(arg, ast.Constant) else None
    if not isinstance(node, ast.Name):
        return None
    if node.id in known:
        return node.id
    return None if node.id in _PATSY_NAMES or not node.id.isidentifier() else node.id


_PATSY_NAMES = frozenset(
    {"C", "Q", "I", "np", "bs", "cr", "cc", "te", "center", "standardize", "scale", "log"}
    | {"exp", "sqrt", "Treatment", "Sum", "Diff", "Poly", "Helmert", "True", "False", "None"}
)


def conversion_formula(formula: str | None, columns: Iterable[str]) -> str:
    """The conversion formula to fit: the user's, or the default terms the data supports.

    Parameters
    ----------
    formula : str or None
        The user's right-hand side; empty or None means the default
        ``C(tier) + C(category) + commission_rate`` less the terms whose column is absent.
    columns : iterable of str
        The data's columns.

    Returns
    -------
    str
        A right-hand side; ``"1"`` when no default term is available.
    """
    if formula and formula.strip():
        return formula
    have = set(columns)
    terms = [term for column, term in DEFAULT_CONVERSION_TERMS if column in have]
    return " + ".join(terms) or "1"


def missing_columns(analysis: str, columns: Iterable[str], **params: Any) -> list[str]:
    """Columns ``analysis`` needs that ``columns`` lacks (empty when it can run).

    Parameters
    ----------
    analysis : str
        A key of :data:`ANALYSES`.
    columns : iterable of str
        The dataset's columns.
    **params
        The notebook's parameters; ``formula`` adds the formula's columns for
        ``"conversion"`` (an empty formula needs one of tier, category or commission rate).

    Returns
    -------
    list of str
        Missing columns; a group of alternatives is written ``"a or b"``.
    """
    if analysis not in ANALYSES:
        raise ParameterError(f"unknown analysis {analysis!r}; accepted: {sorted(ANALYSES)}")
    have = set(columns)
    need = ANALYSES[analysis]
    missing = [c for c in need.columns if c not in have]
    missing += [" or ".join(group) for group in need.any_of if not have.intersection(group)]
    if analysis == "conversion":
        missing += _formula_missing(params.get("formula"), have)
    return missing


def _formula_missing(formula: str | None, have: set[str]) -> list[str]:
    if not (formula and formula.strip()):
        defaults = [column for column, _ in DEFAULT_CONVERSION_TERMS]
        return [] if have.intersection(defaults) else [" or ".join(defaults)]
    return [c for c in formula_columns(formula, have) if c not in have]


def unmet(analysis: str, columns: Iterable[str], *, lang: str = "en", **params: Any) -> str | None:
    """One sentence saying what ``analysis`` misses and how to supply it, or None.

    Parameters
    ----------
    analysis, columns, **params
        As in :func:`missing_columns`.
    lang : {"en", "zh"}
        Language of the sentence (the spec keys and column names it quotes stay as
        they must be written).

    Returns
    -------
    str or None
        ``None`` when the analysis can run.
    """
    missing = missing_columns(analysis, columns, **params)
    if not missing:
        return None
    code = check_lang(lang)
    if code == "zh":
        title = _TITLES_ZH.get(analysis, ANALYSES[analysis].title)
        hints = "；".join(f"补充 `{m}`：{_hint(m, code)}" for m in missing)
        return f"{title}需要 {'、'.join(f'`{m}`' for m in missing)}，数据中没有。{hints}。"
    title = ANALYSES[analysis].title
    hints = [f"`{m}`: {_hint(m)}" for m in missing]
    return f"{title} needs {', '.join(f'`{m}`' for m in missing)}, which the data lacks. " + (
        " ".join(f"To supply {h}." for h in hints)
    )


def _hint(missing: str, lang: str = "en") -> str:
    options = missing.split(" or ")
    if lang == "zh":
        return "；或".join(
            _HOW_TO_SUPPLY_ZH.get(o, f"在 column_map 中把一列映射为 `{o}`") for o in options
        )
    return "; or ".join(
        _HOW_TO_SUPPLY.get(o, f"map a column to `{o}` in column_map") for o in options
    )


_TITLES_ZH = {
    "primer": "指标入门",
    "health": "数据健康",
    "conversion": "转化驱动因素",
    "roi": "ROI 预估",
    "lift": "点击率提升对比美区",
    "scorecard": "达人记分卡",
    "monitor": "周度监控",
}

_HOW_TO_SUPPLY_ZH: dict[str, str] = {
    "site": "加一列站点，或在 data.yaml 中写 `site: US`",
    "creator_id": "映射达人（或广告组、账号）列：`column_map: {'你的表头': creator_id}`",
    "tier": (
        "加一列粉丝数（等级按 `tiers: {thresholds: [...]}` 划分）或一列达人等级；其他有序分组"
        "（如年龄段）用 `tiers: {labels: [...]}` 并写 `column_map: {'Age': tier}`"
    ),
    "category": (
        "把商品列表导出（商品 ID 和类目）放进数据文件夹，或映射一列："
        "`column_map: {'你的表头': category}`"
    ),
    "commission_rate": (
        "把商品列表导出（商品 ID 和佣金率）放进数据文件夹，或映射一列："
        "`column_map: {'你的表头': commission_rate}`"
    ),
    "impressions": "映射曝光列：`column_map: {'你的表头': impressions}`",
    "clicks": "映射点击列：`column_map: {'你的表头': clicks}`",
    "orders": "映射订单（或转化）列：`column_map: {'你的表头': orders}`",
    "gmv": "映射销售额（GMV、收入）列：`column_map: {'你的表头': gmv}`",
    "date": (
        "映射发布日期（或日期）列：`column_map: {'你的表头': date}`；没有日期的导出只算一个"
        "时期，没有可比的时期"
    ),
}


def require(analysis: str, data: Any, **params: Any) -> None:
    """Raise :class:`MissingColumns` when ``data`` cannot support ``analysis``.

    Parameters
    ----------
    analysis : str
        A key of :data:`ANALYSES`.
    data : DataFrame or column names
        The dataset (or its columns).
    **params
        As in :func:`missing_columns`.

    Raises
    ------
    MissingColumns
        With the sentence of :func:`unmet`.
    """
    columns = list(getattr(data, "columns", data))
    message = unmet(analysis, columns, **params)
    if message:
        raise MissingColumns(analysis, missing_columns(analysis, columns, **params), message)


def analysis_of(metadata: Mapping[str, Any]) -> str | None:
    """The analysis a notebook declares in ``metadata.linkstar.analysis`` (or None)."""
    value = metadata.get("linkstar", {}).get("analysis")
    return str(value) if value else None
