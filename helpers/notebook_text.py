"""Sentences the notebooks write from code (numbers filled in), in every report language.

The notebooks' prose lives in their Markdown cells (an English cell tagged ``lang-en``
followed by its Chinese twin tagged ``lang-zh``); the sentences a code cell builds
around computed numbers live here, keyed ``"<notebook number>.<name>"``, so that the
notebooks stay thin and a test checks that every sentence exists in every language.
"""

from __future__ import annotations

from typing import Any

from helpers.i18n import text

__all__ = ["say"]

_TEXT: dict[str, dict[str, str]] = {
    "en": {
        # 01 data health
        "01.kept": "{rows:,} content rows kept for site(s) {sites}",
        "01.coverage_title": "{site}: clicks by category and creator tier",
        "01.no_rejected": "No row was rejected.",
        "01.no_issues": "No issues found.",
    },
    "zh": {
        "01.kept": "保留 {rows:,} 行内容数据，站点：{sites}",
        "01.coverage_title": "{site}：按类目和达人等级的点击量",
        "01.no_rejected": "没有被剔除的行。",
        "01.no_issues": "没有发现问题。",
    },
}


def say(key: str, lang: str = "en", **fields: Any) -> str:
    """The notebook sentence ``key`` in ``lang`` with ``fields`` filled in (Markdown).

    Parameters
    ----------
    key : str
        ``"<notebook number>.<name>"``, e.g. ``"04.loaded"``.
    lang : {"en", "zh"}
        Report language.
    **fields
        Values for the sentence's ``{name}`` fields; strings from data must already be
        escaped (:func:`helpers.outputs.escape_markdown`).
    """
    return text(_TEXT, key, lang, **fields)
