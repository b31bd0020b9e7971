"""Warnings never reach a report as raw text: :func:`helpers.outputs.collect_warnings`
collects them and shows one escaped, styled HTML note."""

from __future__ import annotations

import logging
import warnings
from html.parser import HTMLParser

import pytest

from helpers.outputs import WarningCollector, collect_warnings

PAYLOAD = "<script>alert(1)</script> & <img src=x onerror=alert(1)>"


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(name for name, _ in attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(note: str) -> _Tags:
    parser = _Tags()
    parser.feed(note)
    return parser


def test_warning_inside_the_context_becomes_an_escaped_note(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with WarningCollector() as caught:
        warnings.warn(PAYLOAD, UserWarning, stacklevel=1)
    assert capsys.readouterr().err == ""
    note = caught.note_html()
    parsed = _parse(note)
    assert "script" not in parsed.tags and "img" not in parsed.tags
    assert not [a for a in parsed.attrs if a.startswith("on")]
    assert PAYLOAD in "".join(parsed.text)  # shown as text, whole
    assert "UserWarning" in note and "1 warning came up" in note
    assert "(tests/test_warnings_note.py:" in note  # project-relative location
    assert "/work/" not in note and "/home/" not in note  # no local paths


def test_logged_warnings_are_collected_too(capsys: pytest.CaptureFixture[str]) -> None:
    with WarningCollector(lang="zh") as caught:
        logging.getLogger("matplotlib.font_manager").warning("findfont: %s", PAYLOAD)
    assert capsys.readouterr().err == ""
    note = caught.note_html()
    assert "本报告运行时出现 1 条警告" in note
    assert "img" not in _parse(note).tags and "&lt;img src=x" in note


def test_repeats_are_counted_once_and_long_lists_are_cut() -> None:
    with WarningCollector() as caught:
        for i in range(40):
            for _ in range(3):
                warnings.warn_explicit(f"Glyph {i} missing", UserWarning, "x.py", i)
    note = caught.note_html()
    assert note.count("<li>") == 31 and "and 10 more" in note
    assert "×3" in note and "120 warnings came up" in note
    assert caught.summary()[0] == {
        "kind": "UserWarning",
        "message": "Glyph 0 missing",
        "location": "x.py:0",
        "count": 3,
    }


def test_no_warning_no_note() -> None:
    with WarningCollector() as caught:
        pass
    assert caught.note_html() == "" and caught.summary() == []


def test_stop_restores_printing_and_a_second_call_replaces_the_first() -> None:
    before = warnings.showwarning
    first = collect_warnings()
    second = collect_warnings()
    try:
        warnings.warn("to the second", UserWarning, stacklevel=1)
        assert first.counts == {} and len(second.counts) == 1
    finally:
        second.stop()
    assert warnings.showwarning == before
    with pytest.warns(UserWarning, match="handled the usual way again"):
        warnings.warn("handled the usual way again", UserWarning, stacklevel=1)
    assert len(second.counts) == 1


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="accepted: \\['en', 'zh'\\]"):
        WarningCollector(lang="fr")


@pytest.mark.notebook
def test_in_a_kernel_no_warning_reaches_the_notebook_as_text() -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    from helpers.report import KERNEL_NAME

    cells = [
        "from helpers.outputs import collect_warnings\ncaught = collect_warnings()",
        f"import warnings, logging\nwarnings.warn({PAYLOAD!r})\n"
        "logging.getLogger('x').warning('logged <b>bold</b>')",
        "import matplotlib.pyplot as plt\nfrom helpers import charts\n"
        "fig, ax = plt.subplots(); ax.set_title('美妆 \N{LOTION BOTTLE}'); fig.canvas.draw()",
        "caught.show()",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbclient.NotebookClient(nb, kernel_name=KERNEL_NAME, timeout=120).execute()
    outputs = [o for cell in nb.cells for o in cell.outputs]
    assert [o for o in outputs if o.output_type == "stream" and o.name == "stderr"] == []
    notes = [o.data["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert len(notes) == 1
    parsed = _parse(notes[0])
    assert not {"script", "img", "b"} & set(parsed.tags)
    text = "".join(parsed.text)
    assert PAYLOAD in text and "logged <b>bold</b>" in text and "missing from font" in text
