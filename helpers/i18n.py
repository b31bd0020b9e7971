"""Report languages: one check and one lookup shared by every module that writes text.

Each module keeps its own sentences next to the code that uses them, as a table
``{"en": {...}, "zh": {...}}``; :func:`text` picks the entry for a language and fills
its fields. Keeping the tables beside their code (rather than one global catalogue)
keeps a sentence and the numbers it talks about in one place.

The Chinese wording follows how sellers talk in the seed articles: 达人 (creator),
佣金 (commission), 点击率 (CTR), 转化率 (CVR), 客单价 (AOV), 退货率 (refund rate),
ROI 预估 (ROI forecast), 止损线 (stop-loss line).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["LANGS", "check_lang", "text"]

LANGS: tuple[str, ...] = ("en", "zh")


def check_lang(lang: str) -> str:
    """Return ``lang`` if the kit can write it, else raise a ValueError listing the choices.

    Parameters
    ----------
    lang : str
        Language code, ``"en"`` or ``"zh"`` (case and surrounding spaces are ignored).
    """
    code = str(lang).strip().lower()
    if code in ("zh-cn", "zh_cn", "zh-hans", "cn"):
        code = "zh"
    if code not in LANGS:
        raise ValueError(f"lang={lang!r} is not a report language; accepted: {', '.join(LANGS)}")
    return code


def text(table: Mapping[str, Mapping[str, str]], key: str, lang: str = "en", **fields: Any) -> str:
    """The sentence ``key`` of ``table`` in ``lang``, with ``fields`` filled in.

    Falls back to English when a language lacks the key, so a missing translation
    shows English text rather than failing a report (tests check full coverage).

    Parameters
    ----------
    table : mapping
        ``{"en": {key: template}, "zh": {key: template}}``.
    key : str
        Which sentence.
    lang : str
        Report language (see :func:`check_lang`).
    **fields
        Values for the template's ``{name}`` fields (already formatted for people).
    """
    code = check_lang(lang)
    template = table.get(code, {}).get(key)
    if template is None:
        template = table["en"][key]
    return template.format(**fields) if fields else template


def missing_keys(table: Mapping[str, Mapping[str, str]]) -> dict[str, list[str]]:
    """Keys present in English but absent in another language (for coverage tests)."""
    english = set(table["en"])
    return {code: sorted(english - set(table.get(code, {}))) for code in LANGS if code != "en"}
