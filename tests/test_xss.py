"""Data never becomes live HTML, and report pages load nothing from the network.

The end-to-end test renames every creator, product id, product name and category of
``data/smoke`` to XSS payloads (tests/xss_payloads.py), runs the whole report and
parses every HTML page it wrote. The unit tests check the two escaping functions of
:mod:`helpers.outputs` and the offline nbconvert template without a kernel.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import nbformat
import pandas as pd
import pytest
from conftest import build_once
from xss_payloads import CATEGORY_FOR_PLAN, PAYLOAD_KINDS, Findings, scan_html, write_xss_dataset

from helpers import paths
from helpers.outputs import escape_markdown, escape_styler
from helpers.report import _export_html, discover_notebooks, run_report

PAYLOADS = [kind.format(tag=f"t{i}") for i, kind in enumerate(PAYLOAD_KINDS)]
NOTEBOOKS = [nb.stem for nb in discover_notebooks()]


def _assert_inert(found: Findings, page: str) -> None:
    assert not found.live_scripts, (
        f"{page}: script elements with data in them: {found.live_scripts}"
    )
    assert not found.event_handlers, f"{page}: event-handler attributes: {found.event_handlers}"
    assert not found.javascript_urls, f"{page}: javascript: URLs: {found.javascript_urls}"
    assert not found.external_urls, f"{page}: loads from the network: {found.external_urls}"


# ------------------------------------------------------------------ unit tests


@pytest.mark.parametrize("payload", PAYLOADS)
def test_escape_markdown_renders_the_value_as_text(payload: str) -> None:
    """Rendered as the report renders Markdown (nbconvert's mistune, raw HTML allowed)."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    html = markdown2html_mistune(f"Creator {escape_markdown(payload)} sold 3 items.")
    found = scan_html(html)
    _assert_inert(found, "markdown")
    assert found.scripts == 0
    assert f"Creator {payload} sold 3 items." in found.text
    assert "<a" not in html and "<strong" not in html and "<em" not in html


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("$1 of cost brings $2.50", "$1 of cost brings $2.50"),
        ("# heading\n- item | a | b |", "# heading - item | a | b |"),
        ("a_b*c*`d`~~e~~ https://x.example www.y.example", None),
        ("R&amp;D &lt;lab&gt;", "R&amp;D &lt;lab&gt;"),
    ],
)
def test_escape_markdown_keeps_markdown_syntax_literal(value: str, shown: str | None) -> None:
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    html = markdown2html_mistune(escape_markdown(value))
    assert html.startswith("<p>") and html.count("<") == 2, html  # one paragraph, no markup
    assert scan_html(html).text.strip() == (shown or value)


def test_escape_styler_escapes_cells_labels_and_explicit_formats() -> None:
    frame = pd.DataFrame(
        {"creator": PAYLOADS[:3], "ctr": [0.01, 0.02, None], PAYLOADS[3]: ["a", "b", "c"]},
        index=pd.Index(PAYLOADS[4:7], name=PAYLOADS[7]),
    )
    styler = frame.style.format({"ctr": "{:.1%}"}, na_rep="—").format("<{}>", subset=[PAYLOADS[3]])
    html = escape_styler(styler).to_html()
    assert escape_styler(styler) is styler  # idempotent: a second display escapes once
    found = scan_html(styler.to_html())
    _assert_inert(found, "styler")
    assert found.scripts == 0
    for payload in PAYLOADS:
        assert payload in found.text
    assert "1.0%" in found.text and "—" in found.text and "<a>" in found.text
    assert html == styler.to_html()


def test_styler_is_escaped_when_a_notebook_displays_it() -> None:
    """Importing helpers.outputs in IPython registers the escaping for every Styler."""
    from IPython.core.interactiveshell import InteractiveShell

    import helpers.outputs

    shell = InteractiveShell.instance()
    try:
        helpers.outputs._register_styler_escaping()
        styler = pd.DataFrame({"creator": PAYLOADS}).style.format({"creator": "{}"})
        data, _ = shell.display_formatter.format(styler)
    finally:
        InteractiveShell.clear_instance()
    found = scan_html(data["text/html"])
    _assert_inert(found, "displayed styler")
    assert found.scripts == 0
    assert all(p in found.text for p in PAYLOADS)


def _tiny_notebook(path: Path) -> None:
    from matplotlib.figure import Figure

    buffer = io.BytesIO()
    Figure(figsize=(1, 1)).savefig(buffer, format="png")
    png = base64.b64encode(buffer.getvalue()).decode()
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(
            "# Heading\n\n**bold** text; ROI 2.5 means $1 of cost brings $2.50.\n\n"
            "| a | b |\n|---|---|\n| 1 | 2 |\n"
        ),
        nbformat.v4.new_code_cell(
            "x",
            outputs=[
                nbformat.v4.new_output(
                    "display_data", data={"image/png": png, "text/plain": "<Figure>"}
                )
            ],
        ),
    ]
    nbformat.write(nb, path)


def test_html_export_is_self_contained(tmp_path: Path) -> None:
    """No CDN script (require.js, MathJax, Mermaid), figures embedded, Markdown rendered."""
    from bs4 import BeautifulSoup

    _tiny_notebook(tmp_path / "n.ipynb")
    html = _export_html(tmp_path / "n.ipynb", tmp_path / "n.html", "n").read_text(encoding="utf-8")
    found = scan_html(html)
    _assert_inert(found, "n.html")
    assert found.scripts == 0
    for cdn in ("cdnjs", "mathjax", "require.js", "mermaid", "unpkg"):
        assert cdn not in html.lower()
    soup = BeautifulSoup(html, "html.parser")
    assert soup.find("h1") is not None and "Heading" in soup.find("h1").get_text()
    assert soup.find("strong").get_text() == "bold"
    assert soup.find("table") is not None
    assert "ROI 2.5 means $1 of cost brings $2.50." in soup.get_text()
    imgs = soup.find_all("img")
    assert imgs and all(img["src"].startswith("data:image/png;base64,") for img in imgs)
    assert not soup.find_all("link", href=True)


# ------------------------------------------------------------------ end to end


def _build_xss_report(root: Path) -> dict[str, Any]:
    payloads = write_xss_dataset(root / "data")
    result = run_report(
        paths.PARAMS / "smoke.yaml",
        data=str(root / "data"),
        out=root / "reports",
        overrides={"category": CATEGORY_FOR_PLAN, "n_draws": 500},
        jobs=2,
        progress=False,
    )
    return {
        "ok": result.ok,
        "failures": list(result.failure_messages()),
        "folder": str(result.reports[0].folder) if result.reports else "",
        "payloads": payloads,
    }


@pytest.fixture(scope="module")
def xss_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[str]]]:
    """The whole report on the renamed smoke data (notebook 03 plans a payload category).

    Built once per test session and shared by the xdist workers (conftest.build_once).
    """
    _, built = build_once(tmp_path_factory, "xss_report", _build_xss_report)
    if not built["ok"]:
        pytest.fail("\n".join(built["failures"]), pytrace=False)
    return Path(built["folder"]), built["payloads"]


@pytest.mark.notebook
@pytest.mark.parametrize("page", [*NOTEBOOKS, "index"])
def test_no_data_value_is_live_html(
    xss_report: tuple[Path, dict[str, list[str]]], page: str
) -> None:
    folder, _ = xss_report
    html = (folder / f"{page}.html").read_text(encoding="utf-8")
    found = scan_html(html)
    _assert_inert(found, page)
    if page != "index":
        assert found.scripts == 0, f"{page}: {found.scripts} script elements"


@pytest.mark.notebook
def test_data_values_are_shown_as_text(xss_report: tuple[Path, dict[str, list[str]]]) -> None:
    """Escaped, not dropped: the pages show creators and categories by their names."""
    folder, payloads = xss_report
    text = {
        page: scan_html((folder / f"{page}.html").read_text(encoding="utf-8")).text
        for page in NOTEBOOKS
    }
    shown = "\n".join(text.values())
    for kind in ("creator", "category"):
        missing = [p for p in payloads[kind] if p not in shown]
        assert len(missing) < len(payloads[kind]), f"no {kind} shown as text"
    # every kind of payload, including the Markdown kind, reaches some page as text
    for i, template in enumerate(PAYLOAD_KINDS):
        assert any(p in shown for p in payloads["creator"][i :: len(PAYLOAD_KINDS)]), template
    assert CATEGORY_FOR_PLAN in text["03_roi_estimate"]  # Markdown built from data
    for page in ("04_ctr_lift", "05_creator_scorecard"):  # Styler tables
        assert any(p in text[page] for p in payloads["creator"]), page
