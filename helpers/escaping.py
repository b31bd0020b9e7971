"""Text from data made literal for Markdown: the one escaping rule every report uses.

It sits at the bottom of the package (no kit imports) because analyses that phrase
their own sentences (the weekly monitor's alerts) need it as much as the report
layer does; :mod:`helpers.outputs` re-exports it for notebooks.
"""

from __future__ import annotations

from typing import Any

__all__ = ["escape_markdown"]

_MD_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}
# CommonMark lets a backslash escape any ASCII punctuation; these are the characters
# that start emphasis, links, code, headings, lists, tables, math ($) or autolinks (:).
_MD_SPECIAL = frozenset("\\`*_{}[]()#+-.!|~^$:=\"'")


def escape_markdown(value: Any) -> str:
    """Text of ``value`` for a Markdown string that shows it literally.

    HTML is neutralised (``<``, ``>`` and ``&`` become entities), Markdown and math
    syntax is backslash-escaped (``*``, ``_``, ``[``, ``](``, backticks, ``#``, ``|``,
    ``$`` ...), so a data value never becomes a tag, link, heading, table cell or
    formula; ``\\$`` is also what JupyterLab reads as a literal dollar. Line breaks
    become spaces so a value cannot start a new block.

    Parameters
    ----------
    value : Any
        A data value (creator, category, site, product id, file name, reason ...);
        converted with ``str``.

    Returns
    -------
    str
        Markdown that renders as exactly ``str(value)``.

    Examples
    --------
    >>> print(escape_markdown("<b>$5</b> off"))
    &lt;b&gt;\\$5&lt;/b&gt; off
    """
    out = []
    for ch in str(value):
        if ch in _MD_ENTITIES:
            out.append(_MD_ENTITIES[ch])
        elif ch in _MD_SPECIAL:
            out.append("\\" + ch)
        elif ch in "\r\n":
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)
